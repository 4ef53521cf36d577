import { describe, expect, it } from '@jest/globals';
import type { ActJob } from '@triad/contracts';
import { DelayedError, type Job } from 'bullmq';
import { loadConfig } from '../config/triad-config.js';
import type { RunFinisher } from '../runs/run-finisher.js';
import { type StageContext, StageProcessor } from './stage-processor.js';

// The one place that knows BullMQ's parking: a stage parks through its context, the processor moves the job to
// delayed with the job's own lock token, runs the after-park check, and ends the delivery with DelayedError.
class ParkingProcessor extends StageProcessor<'act'> {
  readonly seen: ActJob[] = [];
  constructor() {
    super('act', {} as RunFinisher, loadConfig({}));
  }
  protected stage(data: ActJob, ctx: StageContext): Promise<unknown> {
    this.seen.push(data);
    return ctx.park(1_234, 'waiting', async () => void order.push('after parked'));
  }
}
const order: string[] = [];

describe('StageProcessor', () => {
  it('parks a step with the job’s token, checks again once parked, and ends the delivery delayed', async () => {
    const job = {
      id: 'j1',
      name: 'act',
      data: { runId: 'r', iteration: 1, stepId: '1-0' },
      attemptsMade: 0,
      opts: { attempts: 3 },
      moveToDelayed: async (ts: number, token?: string) => void order.push(`delayed ${ts} ${token}`),
    } as unknown as Job;
    const processor = new ParkingProcessor();
    await expect(processor.process(job, 'token-1')).rejects.toBeInstanceOf(DelayedError);
    expect(order).toEqual(['delayed 1234 token-1', 'after parked']);
    expect(processor.seen).toEqual([{ runId: 'r', iteration: 1, stepId: '1-0' }]);
  });
});
