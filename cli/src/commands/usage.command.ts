import { usageTable } from '../render/run-view.js';
import { type Command, intOption, printJson, UsageError } from './command.js';

/** `triad usage`: the tenant's model spend, tokens and runs per UTC day. */
export const usageCommand: Command = {
  name: 'usage',
  summary: "show the tenant's spend, tokens and runs per day",
  help: `usage [--days <n>]

Shows the tenant's model spend (USD), tokens, model calls and runs started per UTC day, today first; a figure with a
daily cap (TRIAD_TENANT_LIMITS) shows it after a slash.

Options:
  --days <n>      the last n days (default 7, at most 7)
With --json: the API's answer, { tenant, days: [{ day, costUsd, tokens, modelCalls, runs, limits }] }.`,
  options: { days: { type: 'string' } },
  async run(ctx) {
    if (ctx.args.length) throw new UsageError(`unexpected argument ${ctx.args[0]}`);
    const days = intOption(ctx.values, 'days');
    if (days !== undefined && days > 7) throw new UsageError('--days must be at most 7');
    const usage = await ctx.client.usage(days);
    if (ctx.json) printJson(ctx, usage);
    else {
      ctx.out(`tenant ${usage.tenant}`);
      for (const line of usageTable(usage)) ctx.out(line);
    }
    return 0;
  },
};
