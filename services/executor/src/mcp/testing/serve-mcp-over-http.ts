import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** What both McpServer and the low-level Server offer. */
interface Connectable {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** An MCP endpoint served by a spec. */
export interface HttpMcpEndpoint {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves MCP over Streamable HTTP on 127.0.0.1 at a random port, stateless: each request gets a fresh server from
 * `factory`. With a token, requests without `Authorization: Bearer <token>` get 401.
 */
export async function serveMcpOverHttp(
  factory: () => Connectable,
  opts: { token?: string } = {},
): Promise<HttpMcpEndpoint> {
  const http = createServer(async (req, res) => {
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    const server = factory();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void Promise.allSettled([transport.close(), server.close()]));
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
