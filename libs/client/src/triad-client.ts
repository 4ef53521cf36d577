import {
  type ApprovalRecord,
  ApprovalResponse,
  ApprovalsResponse,
  CancelRunResponse,
  CreateMemoryResponse,
  DeleteMemoriesResponse,
  type ForkRunRequest,
  type GoalRequestInput,
  isTerminal,
  ListMemoriesResponse,
  ListRunsResponse,
  MemoryEntry,
  type MemoryKind,
  type MemorySearchInput,
  type MemoryWriteInput,
  type ReplayRunRequest,
  RunRecord,
  type RunStatus,
  SearchMemoriesResponse,
  type StoredRunEvent,
  SubmitRunResponse,
  UsageResponse,
} from '@triad/contracts';
import type { z } from 'zod';
import { TriadApiError, TriadConnectionError, TriadTimeoutError } from './client-errors.js';
import { type EventSource, type EventStreamOptions, runEvents } from './run-event-stream.js';

export type ForkRunRequestInput = z.input<typeof ForkRunRequest>;
export type ReplayRunRequestInput = z.input<typeof ReplayRunRequest>;

export interface TriadClientOptions {
  /** The gateway, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** For an admin key: the tenant to act for (`X-Triad-Tenant`); other keys act for their own. */
  tenant?: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
  /** Time limit of each plain request (not of event streams); default 30 s. */
  requestTimeoutMs?: number;
}

export interface ListOptions {
  status?: RunStatus;
  limit?: number;
  cursor?: string;
}

export interface ListMemoriesOptions {
  kind?: MemoryKind;
  /** Only entries carrying every one of these tags. */
  tags?: string[];
  /** Only entries this run wrote. */
  sourceRunId?: string;
  limit?: number;
  cursor?: string;
}

type Query = Record<string, string | number | undefined>;

/** A typed client of the Triad HTTP API (v1): every answer is parsed with the shared contract schemas. */
export class TriadClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: TriadClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
  }

  /** Submits a goal; `created` is false when the runId or idempotency key was seen before. */
  submit(request: GoalRequestInput, opts: { idempotencyKey?: string } = {}): Promise<SubmitRunResponse> {
    const headers = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : undefined;
    return this.call(SubmitRunResponse, 'POST', '/v1/runs', { body: request, headers });
  }

  /** The run record. */
  get(runId: string, signal?: AbortSignal): Promise<RunRecord> {
    return this.call(RunRecord, 'GET', `/v1/runs/${enc(runId)}`, { signal });
  }

  /** One page of runs, newest first; pass `nextCursor` back as `cursor` for the next. */
  list(opts: ListOptions = {}): Promise<ListRunsResponse> {
    return this.call(ListRunsResponse, 'GET', '/v1/runs', { query: { ...opts } });
  }

  /** Every page of runs, one after the other. */
  async *listAll(opts: Omit<ListOptions, 'cursor'> = {}): AsyncGenerator<ListRunsResponse> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...opts, cursor });
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /**
   * The run's events until the stream ends (after the run's end and its result webhook's outcome, when one is due),
   * resuming by itself after a dropped connection; never yields one twice.
   */
  events(runId: string, opts: EventStreamOptions = {}): AsyncGenerator<StoredRunEvent> {
    return runEvents(this.eventSource(), runId, opts);
  }

  /** Follows the run's events until it ends, then returns the run record. */
  async waitFor(runId: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
    const timeout = opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined;
    const signal = anySignal(opts.signal, timeout);
    try {
      for await (const e of this.events(runId, { signal })) {
        if (e.type === 'status.changed' && isTerminal(e.to)) break; // the webhook's outcome is not waited for
      }
    } catch (err) {
      if (timeout?.aborted && !opts.signal?.aborted) {
        throw new TriadTimeoutError(`run ${runId} did not end within ${opts.timeoutMs} ms`);
      }
      throw err;
    }
    return this.get(runId, opts.signal);
  }

  /** Asks the run to stop; `cancelled` is false when it had already ended. */
  cancel(runId: string, reason?: string): Promise<CancelRunResponse> {
    const body = reason === undefined ? {} : { reason };
    return this.call(CancelRunResponse, 'POST', `/v1/runs/${enc(runId)}/cancel`, { body });
  }

  /**
   * A new run from this run's history before `fromIteration` (copied, never executed again), live from there with
   * the given model, budget or goal; answers with the fork's run id.
   */
  fork(
    runId: string,
    request: ForkRunRequestInput,
    opts: { idempotencyKey?: string } = {},
  ): Promise<SubmitRunResponse> {
    const headers = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : undefined;
    return this.call(SubmitRunResponse, 'POST', `/v1/runs/${enc(runId)}/fork`, { body: request, headers });
  }

  /**
   * Plays an ended run's recording again (no model call, no tool run); with `liveModel`, asks the model again and
   * answers matching tool calls from the recording. Answers with the replay's run id.
   */
  replay(runId: string, request: ReplayRunRequestInput = {}, opts: { idempotencyKey?: string } = {}) {
    const headers = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : undefined;
    return this.call(SubmitRunResponse, 'POST', `/v1/runs/${enc(runId)}/replay`, { body: request, headers });
  }

  /** Pending approvals: of one run, or of every run. */
  async approvals(runId?: string): Promise<ApprovalRecord[]> {
    const path = runId === undefined ? '/v1/approvals' : `/v1/runs/${enc(runId)}/approvals`;
    return (await this.call(ApprovalsResponse, 'GET', path)).approvals;
  }

  /** Approves a gated call as asked, or with edited arguments (validated again by the tool). */
  async approve(runId: string, approvalId: string, args?: Record<string, unknown> | string): Promise<ApprovalRecord> {
    const path = `/v1/runs/${enc(runId)}/approvals/${enc(approvalId)}/approve`;
    const body = args === undefined ? {} : { arguments: args };
    return (await this.call(ApprovalResponse, 'POST', path, { body })).approval;
  }

  /** Rejects a gated call; the model sees the reason. */
  async reject(runId: string, approvalId: string, reason: string): Promise<ApprovalRecord> {
    const path = `/v1/runs/${enc(runId)}/approvals/${enc(approvalId)}/reject`;
    return (await this.call(ApprovalResponse, 'POST', path, { body: { reason } })).approval;
  }

  /** The tenant's model spend, tokens, model calls and runs started per UTC day, today first (1-7 days). */
  usage(days?: number): Promise<UsageResponse> {
    return this.call(UsageResponse, 'GET', '/v1/usage', { query: { days } });
  }

  /** One page of the tenant's memories, newest first; pass `nextCursor` back as `cursor` for the next. */
  listMemories(opts: ListMemoriesOptions = {}): Promise<ListMemoriesResponse> {
    const { tags, ...rest } = opts;
    return this.call(ListMemoriesResponse, 'GET', '/v1/memories', {
      query: { ...rest, tags: tags?.length ? tags.join(',') : undefined },
    });
  }

  /** The tenant's memories closest in meaning to `search.query`, closest first. */
  searchMemories(search: MemorySearchInput): Promise<SearchMemoriesResponse> {
    return this.call(SearchMemoriesResponse, 'POST', '/v1/memories/search', { body: search });
  }

  /** Stores a fact or lesson; `duplicate` when a near-identical one of the same kind was refreshed instead. */
  createMemory(memory: MemoryWriteInput): Promise<CreateMemoryResponse> {
    return this.call(CreateMemoryResponse, 'POST', '/v1/memories', { body: memory });
  }

  /** One memory of the tenant. */
  getMemory(id: string): Promise<MemoryEntry> {
    return this.call(MemoryEntry, 'GET', `/v1/memories/${enc(id)}`);
  }

  /** Removes one memory of the tenant (a TriadApiError 404 when there is none with this id). */
  async deleteMemory(id: string): Promise<void> {
    const res = await this.send('DELETE', `/v1/memories/${enc(id)}`, {});
    if (!res.ok) throw TriadApiError.fromBody(res.status, res.statusText, await res.text());
  }

  /** Removes every memory a run wrote (the lessons drawn from it, its memorize calls); answers how many. */
  async deleteMemoriesOfRun(runId: string): Promise<number> {
    const query = { sourceRunId: runId };
    return (await this.call(DeleteMemoriesResponse, 'DELETE', '/v1/memories', { query })).deleted;
  }

  private eventSource(): EventSource {
    return {
      open: (runId, lastEventId, signal) =>
        this.send('GET', `/v1/runs/${enc(runId)}/events`, {
          headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal,
          stream: true,
        }),
      isFinished: async (runId, signal) => {
        try {
          return isTerminal((await this.get(runId, signal)).status);
        } catch (err) {
          // A run just submitted has no record until a planner takes it in.
          if (err instanceof TriadApiError && err.status === 404) return false;
          throw err;
        }
      },
    };
  }

  private async call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    opts: { body?: unknown; query?: Query; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<z.infer<S>> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    if (!res.ok) throw TriadApiError.fromBody(res.status, res.statusText, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TriadApiError(res.status, 'invalid_response', `${method} ${path}: the answer is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
      throw new TriadApiError(res.status, 'invalid_response', `${method} ${path}: unexpected answer`, issues);
    }
    return parsed.data;
  }

  private async send(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Query; headers?: Record<string, string>; signal?: AbortSignal; stream?: boolean },
  ): Promise<Response> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    if (this.opts.tenant) headers['x-triad-tenant'] = this.opts.tenant;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = opts.stream ? undefined : AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000);
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: anySignal(opts.signal, timeout),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      const why = timeout?.aborted ? 'no answer in time' : cause;
      throw new TriadConnectionError(`cannot reach ${this.baseUrl} (${why})`, { cause: err });
    }
  }
}

const enc = encodeURIComponent;

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length > 1 ? AbortSignal.any(present) : present[0];
}
