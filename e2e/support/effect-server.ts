import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EffectRequest {
  path: string;
  method: string;
  idempotencyKey: string | null;
  authorization: string | null;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The status it was answered with. */
  status: number;
}

/**
 * A stand-in for a remote system with side effects: it records every request and applies each effect once per
 * Idempotency-Key (a repeat gets the first answer back), the way a well-behaved API does. Requests that are
 * answered with an error apply nothing.
 */
export class EffectServer {
  readonly requests: EffectRequest[] = [];
  readonly effects = new Map<string, EffectRequest>();
  /** Statuses to answer per path, in turn, the last one repeating; 200 for a path not listed. */
  readonly answers = new Map<string, number[]>();
  /** Called for each request before it is answered; may delay or never answer. */
  onRequest: (req: EffectRequest) => Promise<void> | void = () => {};
  private server!: Server;

  static async start(): Promise<EffectServer> {
    const s = new EffectServer();
    s.server = createServer((req, res) => {
      void s.handle(req).then(
        (status) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status < 300 })),
        () => res.destroy(),
      );
    });
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every request to exactly `path`, in order. */
  requestsTo(path: string): EffectRequest[] {
    return this.requests.filter((r) => r.path === path);
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
    const path = req.url ?? '/';
    const plan = this.answers.get(path) ?? [200];
    const r: EffectRequest = {
      path,
      method: req.method ?? 'GET',
      idempotencyKey: typeof key === 'string' ? key : null,
      authorization: req.headers.authorization ?? null,
      headers: req.headers,
      body,
      status: plan.length > 1 ? (plan.shift() as number) : plan[0],
    };
    this.requests.push(r);
    await this.onRequest(r);
    if (r.method !== 'GET' && r.status < 300) {
      const k = r.idempotencyKey ?? `no-key-${this.requests.length}`;
      if (!this.effects.has(k)) this.effects.set(k, r);
    }
    return r.status;
  }
}
