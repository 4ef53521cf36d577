import type { Command, CommandContext } from './command.js';
import { UsageError } from './command.js';
import { memoryAdd } from './memory/memory-add.js';
import { memoryLs } from './memory/memory-ls.js';
import { memoryRm } from './memory/memory-rm.js';
import { memorySearch } from './memory/memory-search.js';

const SUBCOMMANDS: Record<string, (ctx: CommandContext) => Promise<number>> = {
  ls: memoryLs,
  search: memorySearch,
  add: memoryAdd,
  rm: memoryRm,
};

/** `triad memory ls|search|add|rm`: the tenant's long-term memory. */
export const memoryCommand: Command = {
  name: 'memory',
  summary: "list, search, add and remove the tenant's memories",
  help: `memory <ls|search|add|rm> ...

The tenant's long-term memory: facts and lessons its runs share, found by meaning.

  memory ls [--kind <k>] [--tags <a,b>] [--run <runId>] [--limit <n>] [--cursor <c>]
                  newest first; --run: only those the run wrote
  memory search <query> [--k <n>] [--kind <k>] [--tags <a,b>] [--min-score <s>]
                  the closest in meaning, closest first (score: cosine similarity, -1..1)
  memory add <text> [--kind fact|lesson] [--tags <a,b>]
                  store a fact (default) or a lesson
  memory rm <id> | memory rm --run <runId>
                  remove one memory, or every memory a run wrote (its lessons, its memorize calls)

An [untrusted] entry may come from a tool output: models see it as data, never as instructions.
With --json: the API's answer ({ memories, nextCursor }, { matches }, { memory, duplicate }; rm: { deleted }).`,
  options: {
    kind: { type: 'string' },
    tags: { type: 'string' },
    run: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    k: { type: 'string' },
    'min-score': { type: 'string' },
  },
  async run(ctx) {
    const [sub, ...args] = ctx.args;
    const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!run)
      throw new UsageError(sub ? `unknown subcommand ${sub} (ls, search, add, rm)` : 'missing ls|search|add|rm');
    return run({ ...ctx, args });
  },
};
