import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';

/** One HTTP request as it crossed the proxy: the request line and its headers (names lower-cased). */
export interface ProxiedRequest {
  line: string;
  headers: Record<string, string>;
}

/**
 * A TCP proxy in front of a local HTTP server, to break connections the way a network does: `dropAll()` destroys
 * every open connection at once, mid-response. It notes the head of each HTTP/1.1 request it forwards.
 */
export class TcpProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly open = new Set<Socket>();
  private server!: Server;

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy();
    proxy.server = createServer((client) => proxy.forward(client, targetPort, targetHost));
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Breaks every connection now open (both sides), as a lost network would. */
  dropAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((r) => this.server.close(r));
  }

  private forward(client: Socket, port: number, host: string): void {
    const upstream = new Socket();
    for (const s of [client, upstream]) {
      this.open.add(s);
      s.on('close', () => {
        this.open.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => {}); // a drop is the point; close does the cleanup
    }
    client.on('data', (chunk: Buffer) => this.note(chunk.toString('latin1')));
    // A socket queues writes until it has connected, so nothing the client sends early is lost.
    upstream.connect(port, host);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  // Request heads start a chunk in practice (small GETs); bodies that happen to look like one are not expected here.
  private note(text: string): void {
    const head = text.split('\r\n\r\n')[0] ?? '';
    const [line = '', ...rest] = head.split('\r\n');
    if (!/^[A-Z]+ \S+ HTTP\/1\.1$/.test(line)) return;
    const headers = Object.fromEntries(
      rest.map((h) => {
        const cut = h.indexOf(':');
        return [h.slice(0, cut).trim().toLowerCase(), h.slice(cut + 1).trim()];
      }),
    );
    this.requests.push({ line, headers });
  }
}
