import { describe, expect, it } from '@jest/globals';
import type { ToolRisk } from '@triad/shared';
import { type McpRiskHints, mcpToolRisk } from './mcp-risk.js';

describe('mcpToolRisk', () => {
  const table: [McpRiskHints | undefined, ToolRisk][] = [
    [undefined, 'irreversible'],
    [{}, 'irreversible'],
    [{ readOnlyHint: true }, 'read'],
    // destructiveHint means nothing on a read-only tool
    [{ readOnlyHint: true, destructiveHint: true }, 'read'],
    [{ readOnlyHint: false }, 'irreversible'],
    [{ destructiveHint: true }, 'irreversible'],
    [{ destructiveHint: false }, 'write'],
    [{ readOnlyHint: false, destructiveHint: false }, 'write'],
  ];

  it.each(table)('maps %j to %s', (hints, risk) => {
    expect(mcpToolRisk(hints)).toBe(risk);
  });

  it('ignores hints that are not booleans', () => {
    const junk = { readOnlyHint: 'yes', destructiveHint: 0 } as unknown as McpRiskHints;
    expect(mcpToolRisk(junk)).toBe('irreversible');
  });
});
