import type { SubmitRunResponse } from '@triad/shared';
import { runOutcome } from '../render/run-view.js';
import { type CommandContext, printJson } from './command.js';

/** Prints a fork's or replay's run id, or with --wait waits for its end and prints the outcome (exit 0 on success). */
export async function startedRun(ctx: CommandContext, submitted: SubmitRunResponse, what: string): Promise<number> {
  if (ctx.values.wait !== true) {
    if (ctx.json) printJson(ctx, submitted);
    else ctx.out(`started ${what} ${submitted.runId}`);
    return 0;
  }
  if (!ctx.json) ctx.note(`started ${what} ${submitted.runId}`);
  const run = await ctx.client.waitFor(submitted.runId, { signal: ctx.signal });
  if (ctx.json) ctx.out(JSON.stringify(run, null, 2));
  else for (const line of runOutcome(run)) ctx.out(line);
  return run.status === 'succeeded' ? 0 : 1;
}
