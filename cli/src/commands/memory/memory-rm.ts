import { type CommandContext, printJson, stringOption, UsageError } from '../command.js';

/** `triad memory rm <id>` removes one memory; `triad memory rm --run <runId>` every memory the run wrote. */
export async function memoryRm(ctx: CommandContext): Promise<number> {
  const runId = stringOption(ctx.values, 'run');
  if (runId !== undefined) {
    if (ctx.args.length) throw new UsageError('give either <id> or --run <runId>, not both');
    const deleted = await ctx.client.deleteMemoriesOfRun(runId);
    if (ctx.json) printJson(ctx, { sourceRunId: runId, deleted });
    else ctx.out(`deleted ${deleted} memor${deleted === 1 ? 'y' : 'ies'} of run ${runId}`);
    return 0;
  }
  if (ctx.args.length !== 1)
    throw new UsageError(ctx.args.length ? `unexpected argument ${ctx.args[1]}` : 'missing <id>');
  const [id] = ctx.args;
  await ctx.client.deleteMemory(id);
  if (ctx.json) printJson(ctx, { id, deleted: 1 });
  else ctx.out(`deleted memory ${id}`);
  return 0;
}
