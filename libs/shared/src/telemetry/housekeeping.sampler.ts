import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { ParentBasedSampler, type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace';

// BullMQ traces its workers' timers too: every few seconds, per queue, a new trace nobody wants to read in Jaeger.
const HOUSEKEEPING = /^(startStalledCheckTimer|moveStalledJobsToWait|getNextJob|extendLocks|close|rateLimit) /;

/** Samples everything except BullMQ's housekeeping traces; children follow their parent's decision. */
export class HousekeepingSampler implements Sampler {
  private readonly inner = new ParentBasedSampler({ root: new RootSampler() });

  shouldSample(
    ctx: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attrs: Attributes,
    links: Link[],
  ): SamplingResult {
    return this.inner.shouldSample(ctx, traceId, name, kind, attrs, links);
  }

  toString(): string {
    return 'HousekeepingSampler';
  }
}

class RootSampler implements Sampler {
  shouldSample(ctx: Context, _traceId: string, name: string): SamplingResult {
    if (!trace.getSpanContext(ctx) && HOUSEKEEPING.test(name)) return { decision: SamplingDecision.NOT_RECORD };
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return 'RootSampler';
  }
}
