import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server for specs, bound to 127.0.0.1 on a free port. */
export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  /** Requests received so far, as "METHOD /path". */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 that records every request and hands it to `handler`. */
export async function startTestServer(handler: RequestListener): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // hanging test routes would otherwise keep close() waiting
        server.close(() => resolve());
      }),
  };
}

/** The request body as text. */
export async function readBody(req: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
