import type { ToolRisk } from '@triad/shared';

/** The behaviour hints an MCP server may give for a tool; untrusted, as the MCP spec says. */
export interface McpRiskHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
}

/**
 * The risk of an MCP tool from its annotations. Absent hints take MCP's defaults (not read-only, destructive),
 * so a server that says nothing gets the most careful treatment.
 */
export function mcpToolRisk(annotations: McpRiskHints | undefined): ToolRisk {
  if (annotations?.readOnlyHint === true) return 'read';
  return annotations?.destructiveHint === false ? 'write' : 'irreversible';
}
