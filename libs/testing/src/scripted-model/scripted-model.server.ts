import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ChatBody } from './chat-request.js';
import { buildCompletion } from './completion.js';
import { EmbeddingsBody, embeddingsReply } from './hashing-embedding.js';
import { BodyTooLargeError, readBody, sendError, sendJson, sendRaw } from './http-io.js';
import { parseScenario, type Scenario } from './scenario.js';
import { type Pick, TurnBook } from './turn-book.js';

/** One chat completion request as the server saw it. */
export interface RecordedRequest {
  model: string;
  role: string;
  /** The script that answered, null when none matched. */
  script: string | null;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  /** When the request arrived (ms since the epoch), by the server's clock. */
  at: number;
}

/** One embeddings request as the server saw it. */
export interface RecordedEmbeddingRequest {
  model: string;
  /** The texts, in order (a string input is one text). */
  input: string[];
  /** The vectors' size: the request's `dimensions`, else DEFAULT_EMBEDDING_DIMENSIONS. */
  dimensions: number;
  /** The request's own `dimensions` (null when it sent none). */
  askedDimensions: number | null;
  at: number;
}

export interface ScriptedModelServerOptions {
  scenario: Scenario;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

/** A running scripted OpenAI-compatible server. */
export interface ScriptedModelServer {
  /** `http://host:port`, without `/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every chat completion request answered from a script (or refused for want of one), in arrival order. */
  readonly requests: RecordedRequest[];
  requestsFor(role: string): RecordedRequest[];
  /** Every embeddings request answered (POST /v1/embeddings: a deterministic hashing vectorizer), in arrival order. */
  readonly embeddingRequests: RecordedEmbeddingRequest[];
  /** Replaces the scenario and forgets which turns were played (recorded requests are kept). */
  setScenario(scenario: Scenario): void;
  /** Forgets which turns were played and the recorded requests (chat and embeddings). */
  reset(): void;
  /** Chat requests received and not yet answered (each one waiting out its turn's delay counts). */
  inFlight(): number;
  /** The most chat requests in flight at once since the last call (or the start); starts over from the current count. */
  takePeakInFlight(): number;
  close(): Promise<void>;
}

// Script errors are deterministic, so the openai client is told not to retry them (header `x-should-retry`).
const NO_RETRY = { 'x-should-retry': 'false' };

class ScriptedModel {
  readonly requests: RecordedRequest[] = [];
  readonly embeddingRequests: RecordedEmbeddingRequest[] = [];
  private book: TurnBook;
  private readonly timers = new Set<NodeJS.Timeout>();
  inFlight = 0;
  peakInFlight = 0;

  constructor(scenario: Scenario) {
    this.book = new TurnBook(parseScenario(scenario));
  }

  setScenario(scenario: Scenario): void {
    this.book = new TurnBook(parseScenario(scenario));
  }

  reset(): void {
    this.book.reset();
    this.requests.length = 0;
    this.embeddingRequests.length = 0;
  }

  cancelDelays(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `scripted model: internal error: ${String(err)}`, 'internal_error');
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (req.method === 'POST' && path === '/v1/chat/completions') return this.counted(res, () => this.chat(req, res));
    if (req.method === 'POST' && path === '/v1/embeddings') return this.embeddings(req, res);
    req.resume();
    if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, this.models());
    sendError(res, 404, `scripted model: no route ${req.method} ${path || '/'}`, 'not_found');
  }

  private models(): { object: 'list'; data: { id: string; object: 'model'; created: number; owned_by: string }[] } {
    const { scenario } = this.book;
    const names = new Set([
      ...Object.keys(scenario.roles ?? {}),
      ...scenario.scripts.flatMap((s) => Object.keys(s.turns)),
    ]);
    const data = [...names]
      .sort()
      .map((id) => ({ id, object: 'model' as const, created: 0, owned_by: 'scripted-model' }));
    return { object: 'list', data };
  }

  // Counted until the response is done or the connection drops, so a benchmark can see how many calls wait at once.
  private counted(res: ServerResponse, serve: () => Promise<void>): Promise<void> {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.once('close', () => this.inFlight--);
    return serve();
  }

  /** The request's JSON body, or undefined once an error has been answered. */
  private async json(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendError(res, 413, `scripted model: request ${err.message}`, 'too_large');
        return undefined;
      }
      throw err;
    }
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      sendError(res, 400, 'scripted model: request body is not valid JSON', 'invalid_json');
      return undefined;
    }
  }

  private async embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = await this.json(req, res);
    if (json === undefined) return;
    const parsed = EmbeddingsBody.safeParse(json);
    if (!parsed.success) {
      const message = `scripted model: bad embeddings request: ${z.prettifyError(parsed.error)}`;
      return sendError(res, 400, message, 'invalid_request', NO_RETRY);
    }
    const { reply, inputs, dimensions } = embeddingsReply(parsed.data);
    const askedDimensions = parsed.data.dimensions ?? null;
    this.embeddingRequests.push({
      model: parsed.data.model,
      input: inputs,
      dimensions,
      askedDimensions,
      at: Date.now(),
    });
    sendJson(res, 200, reply);
  }

  private async chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = await this.json(req, res);
    if (json === undefined) return;
    const parsed = ChatBody.safeParse(json);
    if (!parsed.success) {
      return sendError(
        res,
        400,
        `scripted model: bad request body: ${z.prettifyError(parsed.error)}`,
        'invalid_request',
      );
    }
    const body = parsed.data;
    if (body.stream === true) {
      return sendError(res, 400, 'scripted model: stream: true is not supported', 'unsupported_parameter');
    }
    const pick = this.book.pick(body);
    this.requests.push({ model: body.model, role: pick.role, script: pick.script, body, at: Date.now() });
    if (!pick.turn) return sendError(res, 500, pick.message, 'scripted_model_exhausted', NO_RETRY);
    if (pick.turn.delayMs) await this.delay(pick.turn.delayMs);
    const fault = pick.turn.fault;
    if (fault && 'kind' in fault && fault.kind === 'stall') {
      await this.delay(fault.ms);
      res.destroy();
      return;
    }
    this.play(pick, body, res);
  }

  private play(pick: Extract<Pick, { turn: object }>, body: ChatBody, res: ServerResponse): void {
    const { turn } = pick;
    const fault = turn.fault;
    if (fault && 'status' in fault) {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      sendError(res, fault.status, fault.message ?? `scripted fault: HTTP ${fault.status}`, 'scripted_fault', headers);
      return;
    }
    if (turn.output !== undefined && body.response_format?.type !== 'json_schema') {
      const message = `scripted model: turn ${pick.index} of role "${pick.role}" answers structured output, but the request has no response_format of type json_schema`;
      sendError(res, 400, message, 'invalid_request', NO_RETRY);
      return;
    }
    const completion = buildCompletion(turn, body, pick);
    const text = JSON.stringify(fault?.kind === 'empty-choices' ? { ...completion, choices: [] } : completion);
    sendRaw(res, 200, fault?.kind === 'truncated-json' ? text.slice(0, Math.floor(text.length / 2)) : text);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** Starts a scripted OpenAI-compatible model server on `host:port` (default 127.0.0.1, a free port). */
export async function startScriptedModelServer(opts: ScriptedModelServerOptions): Promise<ScriptedModelServer> {
  const model = new ScriptedModel(opts.scenario);
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => model.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests: model.requests,
    requestsFor: (role) => model.requests.filter((r) => r.role === role),
    embeddingRequests: model.embeddingRequests,
    setScenario: (scenario) => model.setScenario(scenario),
    reset: () => model.reset(),
    inFlight: () => model.inFlight,
    takePeakInFlight: () => {
      const peak = model.peakInFlight;
      model.peakInFlight = model.inFlight;
      return peak;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        model.cancelDelays();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
