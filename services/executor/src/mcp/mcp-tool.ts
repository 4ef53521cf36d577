import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, ErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { defineTool, type ToolDefinition, ToolFailure } from '../tools/tool.js';
import { jsonSchemaInput } from './json-schema-input.js';
import { mcpToolRisk } from './mcp-risk.js';

/** What an MCP tool returns to the model: its text content, and its structured content when it gave one. */
export const McpToolOutput = z.object({
  content: z.string(),
  structured: z.record(z.string(), z.unknown()).nullable(),
});
export type McpToolOutput = z.infer<typeof McpToolOutput>;

// The runner's signal enforces the tool timeout; the SDK's own default (60 s) would cut longer tool timeouts short.
const NO_SDK_TIMEOUT_MS = 2_147_483_647;

/** The Triad name of an MCP tool: `mcp_<server>_<tool>`, lowercased, other characters as '_', at most 64 long. */
export function mcpToolName(server: string, tool: string): string {
  return `mcp_${server}_${tool}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 64);
}

/** Wraps one tool of a connected MCP server as a Triad tool; throws if its input schema cannot be used. */
export function mcpTool(server: string, client: Client, tool: Tool): ToolDefinition {
  const summary = tool.description ?? tool.annotations?.title ?? tool.title ?? '';
  return defineTool({
    name: mcpToolName(server, tool.name),
    description: `[MCP ${server}] ${summary}`.trim(),
    input: jsonSchemaInput(tool.inputSchema),
    inputSchema: tool.inputSchema,
    output: McpToolOutput,
    risk: mcpToolRisk(tool.annotations),
    async run(args, ctx): Promise<McpToolOutput> {
      let result: CallToolResult;
      try {
        const params = { name: tool.name, arguments: args };
        const options = { signal: ctx.signal, timeout: NO_SDK_TIMEOUT_MS };
        // Without a result schema the SDK parses the current result shape; its type also admits a legacy one.
        result = (await client.callTool(params, undefined, options)) as CallToolResult;
      } catch (err) {
        throw callFailure(server, tool.name, err);
      }
      const content = renderContent(result.content);
      if (result.isError) {
        throw new ToolFailure(content || `MCP tool "${tool.name}" reported an error without a message`);
      }
      return { content, structured: result.structuredContent ?? null };
    },
  });
}

// An error the server sent is its answer and will not change on retry; anything else means the connection broke.
function callFailure(server: string, tool: string, err: unknown): ToolFailure {
  const answered =
    err instanceof McpError && err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.RequestTimeout;
  const message = err instanceof Error ? err.message : String(err);
  return new ToolFailure(`MCP server "${server}" could not run "${tool}": ${message}`, {
    retryable: !answered,
    cause: err,
  });
}

// Text goes to the model as is; binary parts are only named, as their base64 would flood its context.
function renderContent(blocks: CallToolResult['content']): string {
  return blocks
    .map((block) => {
      switch (block.type) {
        case 'text':
          return block.text;
        case 'image':
        case 'audio':
          return `[${block.type} ${block.mimeType}, ${block.data.length} base64 characters omitted]`;
        case 'resource':
          return 'text' in block.resource ? block.resource.text : `[resource ${block.resource.uri}, binary omitted]`;
        case 'resource_link':
          return `[resource link ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
        default:
          return '[unsupported content omitted]';
      }
    })
    .join('\n');
}
