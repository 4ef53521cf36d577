import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type FakeHandler = (req: SeenRequest, res: ServerResponse) => unknown;

/** A stand-in gateway for client specs: records every request, answers with the handler of the test. */
export class FakeGateway {
  readonly requests: SeenRequest[] = [];
  handler: FakeHandler = (_req, res) => json(res, 404, { error: { code: 'not_found', message: 'no route' } });
  private server!: Server;

  static async start(): Promise<FakeGateway> {
    const fake = new FakeGateway();
    fake.server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const seen = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      fake.requests.push(seen);
      await fake.handler(seen, res);
    });
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** Answers with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Opens an SSE answer the way the gateway does. */
export function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('retry: 10\n\n');
}

/** Writes one event in the gateway's framing. */
export function sendEvent(res: ServerResponse, id: string, event: { type: string } & Record<string, unknown>): void {
  res.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}
