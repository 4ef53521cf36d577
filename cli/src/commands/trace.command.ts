import type { StoredRunEvent } from '@triad/shared';
import { renderTraceTree } from '../render/trace-tree.js';
import { type Command, positionals, printJson, stringOption } from './command.js';
import { followEvents } from './follow-events.js';

/** `triad trace`: the run's loop as a tree, with its trace id and a Jaeger link. */
export const traceCommand: Command = {
  name: 'trace',
  summary: "show a run's loop as a tree, with its trace id and a Jaeger link",
  help: `trace <runId> [--jaeger <url>]

Shows the run's loop as a tree: each iteration's thought, tool calls with durations and results, the judge's
verdicts and tokens, headed by the run's OpenTelemetry trace id.

Options:
  --jaeger <url>   base URL of a Jaeger UI (env TRIAD_JAEGER_URL), to print a link to the trace
With --json: { run, events }.`,
  options: { jaeger: { type: 'string' } },
  async run(ctx) {
    const [runId] = positionals(ctx, ['<runId>']);
    const run = await ctx.client.get(runId, ctx.signal);
    const events: StoredRunEvent[] = [];
    await followEvents(ctx, runId, { firstIdleMs: 3_000, idleMs: 500, onEvent: (e) => events.push(e) });
    if (ctx.json) printJson(ctx, { run, events });
    else {
      const jaegerUrl = stringOption(ctx.values, 'jaeger') ?? ctx.env.TRIAD_JAEGER_URL;
      for (const line of renderTraceTree(run, events, { jaegerUrl })) ctx.out(line);
    }
    return 0;
  },
};
