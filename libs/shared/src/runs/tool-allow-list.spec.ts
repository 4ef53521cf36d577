import { describe, expect, it } from '@jest/globals';
import { GoalRequest } from '@triad/contracts';
import { toolAllowed } from './tool-allow-list.js';

describe('toolAllowed', () => {
  it('allows every tool when the goal gives no list, none when the list is empty, else only the listed', () => {
    const all = GoalRequest.parse({ goal: 'g' });
    const none = GoalRequest.parse({ goal: 'g', tools: [] });
    const calc = GoalRequest.parse({ goal: 'g', tools: ['calculator'] });
    expect(all.tools).toBeUndefined();
    expect(none.tools).toEqual([]);
    expect(['calculator', 'write_file', 'mcp_fixture_add'].map((t) => toolAllowed(all, t))).toEqual([true, true, true]);
    expect(['calculator', 'write_file', 'mcp_fixture_add'].map((t) => toolAllowed(none, t))).toEqual([
      false,
      false,
      false,
    ]);
    expect(['calculator', 'write_file', 'Calculator', 'calculator '].map((t) => toolAllowed(calc, t))).toEqual([
      true,
      false,
      false,
      false,
    ]);
    // A run with no request (a rejected goal) allows no tool.
    expect(toolAllowed(null, 'calculator')).toBe(false);
  });
});
