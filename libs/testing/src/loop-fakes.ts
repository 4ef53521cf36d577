import { randomBytes } from 'node:crypto';
import type { ChatReply, ChatRequest, ReasoningModel } from '@triad/shared';

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
  constructor(readonly name: string) {}

  async add(name: string, data: unknown, opts: AddedJob['opts'] = {}) {
    this.jobs.push({ name, data, opts });
    return { id: opts.jobId ?? String(this.jobs.length), name, data };
  }
}

/** Stands in for a BullMQ FlowProducer: records each flow (a parent job and its children). */
export class RecordingFlows {
  readonly flows: Array<AddedJob & { queueName: string; children: Array<AddedJob & { queueName: string }> }> = [];

  async add(flow: RecordingFlows['flows'][number]) {
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
