import { runDetails } from '../render/run-view.js';
import { type Command, positionals, printJson } from './command.js';

/** `triad status`: one run's record. */
export const statusCommand: Command = {
  name: 'status',
  summary: "show a run's status, usage and answer",
  help: `status <runId>

Shows a run: status, iteration, usage, answer or error.
With --json: the run record.`,
  options: {},
  async run(ctx) {
    const [runId] = positionals(ctx, ['<runId>']);
    const run = await ctx.client.get(runId, ctx.signal);
    if (ctx.json) printJson(ctx, run);
    else for (const line of runDetails(run)) ctx.out(line);
    return 0;
  },
};
