import { memoriesTable } from '../../render/memory-view.js';
import { type CommandContext, intOption, printJson, stringOption, UsageError } from '../command.js';
import { kindOption, tagsOption } from './memory-options.js';

/** `triad memory ls`: the tenant's memories, newest first. */
export async function memoryLs(ctx: CommandContext): Promise<number> {
  if (ctx.args.length) throw new UsageError(`unexpected argument ${ctx.args[0]}`);
  const page = await ctx.client.listMemories({
    kind: kindOption(ctx.values),
    tags: tagsOption(ctx.values),
    sourceRunId: stringOption(ctx.values, 'run'),
    limit: intOption(ctx.values, 'limit') ?? 20,
    cursor: stringOption(ctx.values, 'cursor'),
  });
  if (ctx.json) printJson(ctx, page);
  else if (!page.memories.length) ctx.out('no memories');
  else {
    for (const line of memoriesTable(page.memories)) ctx.out(line);
    if (page.nextCursor) ctx.note(`more: triad memory ls --cursor ${page.nextCursor}`);
  }
  return 0;
}
