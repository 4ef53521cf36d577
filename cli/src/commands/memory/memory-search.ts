import { matchesTable } from '../../render/memory-view.js';
import { type CommandContext, intOption, printJson, stringOption, UsageError } from '../command.js';
import { kindOption, tagsOption } from './memory-options.js';

/** `triad memory search <query>`: the tenant's memories closest in meaning, closest first. */
export async function memorySearch(ctx: CommandContext): Promise<number> {
  const query = ctx.args.join(' ').trim();
  if (!query) throw new UsageError('missing <query>');
  const minScore = stringOption(ctx.values, 'min-score');
  if (minScore !== undefined && !(Number(minScore) >= -1 && Number(minScore) <= 1)) {
    throw new UsageError('--min-score must be a number from -1 to 1');
  }
  const { matches } = await ctx.client.searchMemories({
    query,
    k: intOption(ctx.values, 'k'),
    kind: kindOption(ctx.values),
    tags: tagsOption(ctx.values),
    minScore: minScore === undefined ? undefined : Number(minScore),
  });
  if (ctx.json) printJson(ctx, { matches });
  else if (!matches.length) ctx.out('nothing close');
  else for (const line of matchesTable(matches)) ctx.out(line);
  return 0;
}
