import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventuallyOptions, eventually } from './eventually.js';

/** A span as the receiver keeps it: OTLP/JSON flattened, attribute values decoded. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  /** The spans this one links to (another trace's, e.g. a fork's parent run). */
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  status: number | undefined;
  /** The span exactly as received, to search for leaked text. */
  raw: string;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
  links?: { traceId: string; spanId: string; attributes?: KeyValue[] }[];
  status?: { code?: number };
}
interface OtlpTraces {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const decode = (v: AnyValue): unknown => {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(decode);
  if (v.kvlistValue) return attrs(v.kvlistValue.values);
  return undefined;
};
const attrs = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, decode(kv.value)]));

/**
 * An OTLP/HTTP trace receiver on 127.0.0.1, standing in for Jaeger's port 4318: POST /v1/traces with OTLP/JSON
 * (exporters set OTEL_EXPORTER_OTLP_PROTOCOL=http/json). Protobuf bodies are refused with 415; metrics are accepted
 * and dropped.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const json = (req.headers['content-type'] ?? '').includes('json');
        if (req.method !== 'POST' || !req.url?.startsWith('/v1/')) return void res.writeHead(404).end();
        if (!json) return void res.writeHead(415).end('send OTLP/JSON');
        if (req.url === '/v1/traces') receiver?.accept(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  /**
   * Waits until `predicate` holds for the spans received so far; the error lists the spans that did arrive, then
   * `opts.context` (e.g. the services' output).
   */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, opts: EventuallyOptions): Promise<ReceivedSpan[]> {
    return eventually(() => predicate(this.spans) && this.spans, {
      ...opts,
      context: () => {
        const names = this.spans.map((s) => `${s.service}:${s.name}`).join(', ');
        return `received ${this.spans.length} spans: ${names}${opts.context ? `\n${opts.context()}` : ''}`;
      },
    });
  }

  close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections(); // exporters keep their connections alive
    return closed;
  }

  private accept(body: OtlpTraces): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            attributes: attrs(s.attributes),
            events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
            links: (s.links ?? []).map((l) => ({
              traceId: l.traceId,
              spanId: l.spanId,
              attributes: attrs(l.attributes),
            })),
            status: s.status?.code,
            raw: JSON.stringify(s),
          });
        }
      }
    }
  }
}
