import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '@triad/shared';
import { testContext } from '../tools/testing/test-context.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import { runTool } from '../tools/tool-runner.js';
import { connectMcpServers, type McpTools } from './mcp-tool-provider.js';
import { createFixtureServer } from './testing/fixture-mcp-server.mjs';
import { serveMcpOverHttp } from './testing/serve-mcp-over-http.js';

const FIXTURE = fileURLToPath(new URL('./testing/fixture-mcp-server.mjs', import.meta.url));

const stdioFixture = (pidFile?: string): McpServerConfig => ({
  name: 'fixture',
  command: process.execPath,
  args: [FIXTURE],
  env: pidFile === undefined ? {} : { FIXTURE_PID_FILE: pidFile },
});

const call = (mcp: McpTools, tool: string, args: unknown) =>
  runTool(new ToolRegistry(mcp.tools), { tool, arguments: JSON.stringify(args) }, testContext());

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dir: string;
let warn: jest.Spied<typeof console.warn>;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'triad-mcp-'));
  warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(async () => {
  warn.mockRestore();
  await rm(dir, { recursive: true, force: true });
});

describe('connectMcpServers over stdio', () => {
  let mcp: McpTools;
  beforeAll(async () => {
    mcp = await connectMcpServers([stdioFixture()]);
  });
  afterAll(() => mcp.close());

  it('offers every tool under its Triad name, with its risk and its schema as is', () => {
    expect(mcp.failures).toEqual([]);
    const specs = new ToolRegistry(mcp.tools).specs();
    expect(specs.map((s) => [s.name, s.risk, s.strict])).toEqual([
      ['mcp_fixture_add', 'read', false],
      ['mcp_fixture_delete_everything', 'irreversible', false],
      ['mcp_fixture_note', 'write', false],
      ['mcp_fixture_fail', 'irreversible', false],
    ]);
    expect(specs[0]).toMatchObject({
      description: '[MCP fixture] Adds two numbers.',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
    });
  });

  it('calls a tool and returns its text and structured content', async () => {
    expect(await call(mcp, 'mcp_fixture_add', { a: 2, b: 3 })).toEqual({
      ok: true,
      data: { content: '5', structured: { sum: 5 } },
    });
    expect(await call(mcp, 'mcp_fixture_note', { text: 'hello' })).toEqual({
      ok: true,
      data: { content: 'noted:\nhello', structured: null },
    });
  });

  it('refuses arguments that fail the tool schema before calling the server', async () => {
    const observation = await call(mcp, 'mcp_fixture_add', { a: 'two' });
    expect(observation).toMatchObject({ ok: false, error: { code: 'invalid_arguments', retryable: false } });
    const message = observation.ok ? '' : observation.error.message;
    expect(message).toContain('a: must be number');
    expect(message).toContain('b: required property is missing');
  });

  it('reports a tool result with isError as a tool error carrying its text', async () => {
    expect(await call(mcp, 'mcp_fixture_fail', {})).toEqual({
      ok: false,
      error: { code: 'tool_error', message: 'fixture failure: as requested', retryable: false },
    });
  });
});

describe('the stdio server process', () => {
  const start = async () => {
    const pidFile = path.join(dir, 'pid');
    const mcp = await connectMcpServers([stdioFixture(pidFile)]);
    return { mcp, pid: Number(await readFile(pidFile, 'utf8')) };
  };

  it('ends on close()', async () => {
    const { mcp, pid } = await start();
    expect(isAlive(pid)).toBe(true);
    await mcp.close();
    expect(isAlive(pid)).toBe(false);
  });

  it('turns calls into retryable tool errors once its connection drops', async () => {
    const { mcp, pid } = await start();
    try {
      process.kill(pid, 'SIGKILL');
      await waitFor(() => warn.mock.calls.length > 0);
      expect(String(warn.mock.calls[0][0])).toContain('server "fixture" closed the connection');
      expect(await call(mcp, 'mcp_fixture_add', { a: 1, b: 1 })).toMatchObject({
        ok: false,
        error: { code: 'tool_error', retryable: true, message: expect.stringContaining('MCP server "fixture"') },
      });
    } finally {
      await mcp.close();
    }
  });
});

describe('connectMcpServers over Streamable HTTP', () => {
  it('sends the configured headers and calls tools of an in-process server', async () => {
    const endpoint = await serveMcpOverHttp(createFixtureServer, { token: 'secret' });
    const mcp = await connectMcpServers([
      { name: 'remote', url: endpoint.url, headers: { Authorization: 'Bearer secret' } },
      { name: 'nokey', url: endpoint.url },
    ]);
    try {
      expect(mcp.tools.map((t) => t.name)).toContain('mcp_remote_add');
      expect(mcp.failures).toEqual([
        { server: 'nokey', message: expect.stringMatching(/could not connect: .*unauthorized/) },
      ]);
      expect(await call(mcp, 'mcp_remote_add', { a: 40, b: 2 })).toEqual({
        ok: true,
        data: { content: '42', structured: { sum: 42 } },
      });
    } finally {
      await mcp.close();
      await endpoint.close();
    }
  });

  it('follows pagination and leaves out tools whose names collide or whose schema does not compile', async () => {
    const endpoint = await serveMcpOverHttp(pagedServer);
    const mcp = await connectMcpServers([{ name: 'paged', url: endpoint.url }]);
    try {
      expect(mcp.tools.map((t) => t.name)).toEqual(['mcp_paged_get_item', 'mcp_paged_echo_upper']);
      expect(mcp.failures).toEqual([
        {
          server: 'paged',
          message: expect.stringMatching(/"Get\.Item" is left out.*"mcp_paged_get_item".*"get-item"/),
        },
        { server: 'paged', message: expect.stringMatching(/"broken" is left out/) },
      ]);
      // Properties the schema allows but does not list reach the server unchanged.
      const echoed = await call(mcp, 'mcp_paged_echo_upper', { x: 'a', extra: [1] });
      expect(echoed).toEqual({ ok: true, data: { content: '{"x":"a","extra":[1]}', structured: null } });
    } finally {
      await mcp.close();
      await endpoint.close();
    }
  });
});

describe('servers that cannot be used', () => {
  it('end in failures, without throwing, while the others still work', async () => {
    const silent: McpServerConfig = {
      name: 'silent',
      command: process.execPath,
      args: ['-e', 'process.stdin.resume()'],
    };
    const mcp = await connectMcpServers(
      [
        { name: 'missing', command: 'triad-no-such-command-for-mcp', args: [] },
        { name: 'down', url: `http://127.0.0.1:${await freePort()}/mcp` },
        silent,
        stdioFixture(),
        stdioFixture(),
      ],
      // Long enough for a node process to start on a busy machine; the silent server uses all of it.
      { timeoutMs: 5_000 },
    );
    try {
      expect(mcp.tools.map((t) => t.name)).toContain('mcp_fixture_add');
      expect(mcp.failures.map((f) => f.server)).toEqual(['fixture', 'missing', 'down', 'silent']);
      expect(mcp.failures[0].message).toMatch(/same name/);
      expect(mcp.failures[1].message).toMatch(/could not start: .*ENOENT/);
      expect(mcp.failures[2].message).toMatch(/could not connect/);
      expect(mcp.failures[3].message).toMatch(/could not start: .*timed out/i);
      expect(warn).toHaveBeenCalledTimes(4);
    } finally {
      await mcp.close();
    }
  });
});

function pagedServer(): Server {
  const tool = (name: string, inputSchema: Tool['inputSchema'] = { type: 'object' }): Tool => ({ name, inputSchema });
  const pages: Record<string, { tools: Tool[]; nextCursor?: string }> = {
    '': { tools: [tool('get-item')], nextCursor: 'two' },
    two: {
      tools: [
        tool('Get.Item'),
        tool('broken', { type: 'object', properties: { x: { type: 'no-such-type' } } }),
        tool('echo.Upper', { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] }),
      ],
    },
  };
  const server = new Server({ name: 'paged', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (req) => pages[req.params?.cursor ?? '']);
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({
    content: [{ type: 'text', text: JSON.stringify(req.params.arguments) }],
  }));
  return server;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
