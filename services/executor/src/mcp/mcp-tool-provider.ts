import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '@triad/shared';
import type { ToolDefinition } from '../tools/tool.js';
import { mcpTool, mcpToolName } from './mcp-tool.js';

/** A server, or one of its tools, left out, and why. */
export interface McpFailure {
  server: string;
  message: string;
}

/** The tools of the MCP servers that answered, what was left out, and how to disconnect. */
export interface McpTools {
  tools: ToolDefinition[];
  failures: McpFailure[];
  /** Disconnects every server; stdio servers are ended. */
  close(): Promise<void>;
}

/** Time a server gets to start and to answer each request while connecting. */
export const DEFAULT_MCP_CONNECT_TIMEOUT_MS = 15_000;

const CLIENT_INFO = { name: 'triad-executor', version: '0.1.0' };

type Opened = { config: McpServerConfig; client: Client; tools: Tool[] } | { config: McpServerConfig; error: string };

/**
 * Connects to every server and offers its tools as `mcp_<server>_<tool>`. Never throws for a server: one that fails
 * to start or to list its tools is logged and reported in `failures`, and the others go on.
 */
export async function connectMcpServers(
  servers: readonly McpServerConfig[],
  opts: { timeoutMs?: number } = {},
): Promise<McpTools> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MCP_CONNECT_TIMEOUT_MS;
  const failures: McpFailure[] = [];
  const fail = (server: string, message: string) => {
    failures.push({ server, message });
    console.warn(`[mcp] server "${server}": ${message}`);
  };

  const seen = new Set<string>();
  const unique = servers.filter((config) => {
    if (seen.has(config.name)) {
      fail(config.name, 'another server has the same name; this one is not started');
      return false;
    }
    seen.add(config.name);
    return true;
  });
  // In parallel, so a slow server delays the start by its own timeout only.
  const opened = await Promise.all(unique.map((config) => open(config, timeoutMs)));

  let closing = false;
  const clients: Client[] = [];
  const tools: ToolDefinition[] = [];
  const origins = new Map<string, string>();
  for (const server of opened) {
    const name = server.config.name;
    if ('error' in server) {
      fail(name, `${server.error}; its tools are left out`);
      continue;
    }
    clients.push(server.client);
    server.client.onclose = () => {
      if (!closing) console.warn(`[mcp] server "${name}" closed the connection; its tools fail from now on`);
    };
    for (const tool of server.tools) {
      const triadName = mcpToolName(name, tool.name);
      const taken = origins.get(triadName);
      if (taken !== undefined) {
        fail(name, `tool "${tool.name}" is left out: its name "${triadName}" is already taken by ${taken}`);
        continue;
      }
      try {
        tools.push(mcpTool(name, server.client, tool));
        origins.set(triadName, `tool "${tool.name}" of server "${name}"`);
      } catch (err) {
        fail(name, `tool "${tool.name}" is left out: ${describe(err)}`);
      }
    }
  }

  return {
    tools,
    failures,
    async close() {
      closing = true;
      await Promise.allSettled(clients.map((client) => client.close()));
    },
  };
}

async function open(config: McpServerConfig, timeoutMs: number): Promise<Opened> {
  const client = new Client(CLIENT_INFO);
  try {
    await client.connect(transport(config), { timeout: timeoutMs });
    return { config, client, tools: await listAllTools(client, timeoutMs) };
  } catch (err) {
    await client.close().catch(() => {}); // ends a stdio server that started but did not answer
    return { config, error: `${'command' in config ? 'could not start' : 'could not connect'}: ${describe(err)}` };
  }
}

function transport(config: McpServerConfig): Transport {
  if ('command' in config) {
    const { command, args, env, cwd } = config;
    return new StdioClientTransport({ command, args, env, cwd });
  }
  return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers } });
}

async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: timeoutMs });
    tools.push(...page.tools);
    cursor = page.nextCursor;
    // A server that hands out a cursor twice would otherwise keep us paging forever.
    if (cursor !== undefined && cursors.has(cursor)) throw new Error(`tools/list repeated the cursor "${cursor}"`);
    if (cursor !== undefined) cursors.add(cursor);
  } while (cursor !== undefined);
  return tools;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
