import { RunStatus } from '@triad/shared/contracts';
import { runsTable } from '../render/run-view.js';
import { type Command, intOption, printJson, stringOption, UsageError } from './command.js';

/** `triad list`: recent runs as a table. */
export const listCommand: Command = {
  name: 'list',
  summary: 'list recent runs',
  help: `list [--status <status>] [--limit <n>]

Lists runs, newest first.

Options:
  --status <s>    only runs with this status (${RunStatus.options.join(', ')})
  --limit <n>     at most n runs (default 20, at most 200)
With --json: the API's page, { runs, nextCursor }.`,
  options: { status: { type: 'string' }, limit: { type: 'string' } },
  async run(ctx) {
    if (ctx.args.length) throw new UsageError(`unexpected argument ${ctx.args[0]}`);
    const status = stringOption(ctx.values, 'status');
    const parsed = RunStatus.safeParse(status);
    if (status !== undefined && !parsed.success) {
      throw new UsageError(`--status must be one of ${RunStatus.options.join(', ')}`);
    }
    const page = await ctx.client.list({
      status: parsed.success ? parsed.data : undefined,
      limit: intOption(ctx.values, 'limit') ?? 20,
    });
    if (ctx.json) printJson(ctx, page);
    else if (!page.runs.length) ctx.out('no runs');
    else for (const line of runsTable(page.runs)) ctx.out(line);
    return 0;
  },
};
