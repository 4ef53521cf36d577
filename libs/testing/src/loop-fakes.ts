import { randomBytes } from 'node:crypto';
import {
  type ChatReply,
  type ChatRequest,
  defaultJobOptions,
  LoopHandOff,
  QUEUES,
  type ReasoningModel,
  RunFinisher,
  RunLoop,
  type RunStore,
  type StageContext,
} from '@triad/shared';

/** A job a fake queue was given. */
export interface AddedJob {
  name: string;
  data: unknown;
  opts: { jobId?: string } & Record<string, unknown>;
}

/**
 * Stands in for a BullMQ Queue in unit specs of the loop's services: records what was added, keeps nothing.
 * Cast it to `Queue` where a service takes one.
 */
export class RecordingQueue {
  readonly jobs: AddedJob[] = [];
  private fault: Error | null = null;
  constructor(readonly name: string) {}

  /** The next add throws this and adds nothing, as if the process died before it reached Redis. */
  failNext(fault: Error): void {
    this.fault = fault;
  }

  async add(name: string, data: unknown, opts: AddedJob['opts'] = {}) {
    const fault = this.fault;
    this.fault = null;
    if (fault) throw fault;
    this.jobs.push({ name, data, opts });
    return { id: opts.jobId ?? String(this.jobs.length), name, data };
  }
}

/** Stands in for a BullMQ FlowProducer: records each flow (a parent job and its children). */
export class RecordingFlows {
  readonly flows: Array<AddedJob & { queueName: string; children: Array<AddedJob & { queueName: string }> }> = [];
  private fault: Error | null = null;

  /** The next add throws this and adds nothing, as if the process died before it reached Redis. */
  failNext(fault: Error): void {
    this.fault = fault;
  }

  async add(flow: RecordingFlows['flows'][number]) {
    const fault = this.fault;
    this.fault = null;
    if (fault) throw fault;
    this.flows.push(flow);
    return { job: { id: flow.opts.jobId } };
  }
}

/** A ReasoningModel that answers from a list of replies, in order, and records each request. */
export class ScriptedReasoningModel implements ReasoningModel {
  readonly requests: ChatRequest[] = [];
  private readonly replies: Array<Partial<ChatReply>>;
  constructor(replies: Array<Partial<ChatReply>> = []) {
    this.replies = [...replies]; // its own copy: a table's rows may share one list
  }

  async chat(request: ChatRequest): Promise<ChatReply> {
    this.requests.push(request);
    const reply = this.replies.shift();
    if (!reply) throw new Error(`the scripted model has no reply left for request ${this.requests.length}`);
    return {
      model: request.model,
      content: null,
      toolCalls: [],
      finishReason: reply.toolCalls?.length ? 'tool_calls' : 'stop',
      inputTokens: 10,
      outputTokens: 5,
      ...reply,
    };
  }
}

/** A fresh key prefix for one spec file on a shared Redis. */
export const specPrefix = (name: string) => `spec-${name}-${randomBytes(4).toString('hex')}`;

/** Thrown by RecordingStageContext.park where a processor throws BullMQ's DelayedError: the delivery ends parked. */
export class Parked extends Error {}

/** A StageContext for unit specs: a signal the spec may abort, and a `park` that records where the step parked. */
export class RecordingStageContext implements StageContext {
  readonly parked: Array<{ untilMs: number; reason: string }> = [];
  readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;

  park = async (untilMs: number, reason: string, afterParked?: () => Promise<void>): Promise<never> => {
    this.parked.push({ untilMs, reason });
    await afterParked?.();
    throw new Parked(reason);
  };
}

type HandOffArgs = ConstructorParameters<typeof LoopHandOff>;

/**
 * A RunLoop over a real RunStore whose queues and flow producer are recording fakes: what each stage handed off
 * (plan and judge jobs, flows) and published (results) can be read back.
 */
export function recordingLoop(store: RunStore, opts: { maxCallsPerReply?: number; jobAttempts?: number } = {}) {
  const plan = new RecordingQueue(QUEUES.plan);
  const judge = new RecordingQueue(QUEUES.judge);
  const results = new RecordingQueue(QUEUES.results);
  const flows = new RecordingFlows();
  const queues = { plan, judge } as unknown as HandOffArgs[0];
  const handOff = new LoopHandOff(
    queues,
    flows as unknown as HandOffArgs[1],
    defaultJobOptions(opts.jobAttempts ?? 3, 7 * 86_400_000),
  );
  const finisher = new RunFinisher(store, results as unknown as ConstructorParameters<typeof RunFinisher>[1]);
  const loop = new RunLoop(store, finisher, handOff, opts.maxCallsPerReply ?? 8);
  return { loop, finisher, plan, judge, results, flows };
}
