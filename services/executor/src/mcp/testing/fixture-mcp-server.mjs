// A small MCP server built with the SDK, for the executor's MCP specs. Imported, it only builds the server (the
// Streamable HTTP spec runs it in-process); run as a script, it serves over stdio, as a configured MCP server would.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const text = (value) => ({ type: 'text', text: value });

/** A fresh fixture server offering add, delete_everything, note and fail. */
export function createFixtureServer() {
  const server = new McpServer({ name: 'triad-fixture', version: '1.0.0' });
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
      annotations: { readOnlyHint: true },
    },
    async ({ a, b }) => ({ content: [text(String(a + b))], structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    'delete_everything',
    { description: 'Deletes everything.', annotations: { destructiveHint: true } },
    async () => ({ content: [text('nothing was deleted: this is a fixture')] }),
  );
  server.registerTool(
    'note',
    { description: 'Keeps a note.', inputSchema: { text: z.string() }, annotations: { destructiveHint: false } },
    async (args) => ({ content: [text('noted:'), text(args.text)] }),
  );
  server.registerTool('fail', { description: 'Always fails.' }, async () => ({
    isError: true,
    content: [text('fixture failure: as requested')],
  }));
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Lets a spec find the process it did not spawn itself, to check that it ends or to kill it.
  if (process.env.FIXTURE_PID_FILE) writeFileSync(process.env.FIXTURE_PID_FILE, String(process.pid));
  await createFixtureServer().connect(new StdioServerTransport());
}
