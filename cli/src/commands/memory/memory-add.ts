import { type CommandContext, printJson, UsageError } from '../command.js';
import { kindOption, tagsOption } from './memory-options.js';

/** `triad memory add <text>`: stores a fact or a lesson (trusted: a person wrote it). */
export async function memoryAdd(ctx: CommandContext): Promise<number> {
  const text = ctx.args.join(' ').trim();
  if (!text) throw new UsageError('missing <text>');
  const answer = await ctx.client.createMemory({
    text,
    kind: kindOption(ctx.values) ?? 'fact',
    tags: tagsOption(ctx.values) ?? [],
  });
  if (ctx.json) printJson(ctx, answer);
  else if (answer.duplicate) ctx.out(`already known as ${answer.memory.id} (refreshed)`);
  else ctx.out(`stored ${answer.memory.kind} ${answer.memory.id}`);
  return 0;
}
