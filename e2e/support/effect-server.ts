import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EffectRequest {
  path: string;
  method: string;
  idempotencyKey: string | null;
  authorization: string | null;
  body: string;
}

/**
 * A stand-in for a remote system with side effects: it records every request and applies each effect once per
 * Idempotency-Key (a repeat gets the first answer back), the way a well-behaved API does.
 */
export class EffectServer {
  readonly requests: EffectRequest[] = [];
  readonly effects = new Map<string, EffectRequest>();
  /** Called for each request before it is answered; may delay or never answer. */
  onRequest: (req: EffectRequest) => Promise<void> | void = () => {};
  private server!: Server;

  static async start(): Promise<EffectServer> {
    const s = new EffectServer();
    s.server = createServer((req, res) => {
      void s.handle(req).then(
        (status) => res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}'),
        () => res.destroy(),
      );
    });
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Distinct effects whose path starts with `path`. */
  effectsOn(path: string): EffectRequest[] {
    return [...this.effects.values()].filter((e) => e.path.startsWith(path));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage): Promise<number> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const key = req.headers['idempotency-key'];
    const r: EffectRequest = {
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      idempotencyKey: typeof key === 'string' ? key : null,
      authorization: req.headers.authorization ?? null,
      body,
    };
    this.requests.push(r);
    await this.onRequest(r);
    if (r.method !== 'GET') {
      const k = r.idempotencyKey ?? `no-key-${this.requests.length}`;
      if (!this.effects.has(k)) this.effects.set(k, r);
    }
    return 200;
  }
}
