import { type Command, positionals, printJson, stringOption } from './command.js';

/** `triad cancel`: stop a run. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a run',
  help: `cancel <runId> [--reason <text>]

Cancels a running run; its tools in flight are aborted.
With --json: { runId, cancelled, status }.`,
  options: { reason: { type: 'string' } },
  async run(ctx) {
    const [runId] = positionals(ctx, ['<runId>']);
    const answer = await ctx.client.cancel(runId, stringOption(ctx.values, 'reason'));
    if (ctx.json) printJson(ctx, answer);
    else if (answer.cancelled) ctx.out(`cancelled run ${runId} (status ${answer.status})`);
    else ctx.out(`run ${runId} had already ended (status ${answer.status})`);
    return 0;
  },
};
