import type { StoredRunEvent } from '@triad/shared';
import { lookUpTrace } from '../client/jaeger-lookup.js';
import { renderTraceTree, traceIdOf } from '../render/trace-tree.js';
import { type Command, positionals, printJson, stringOption } from './command.js';
import { followEvents } from './follow-events.js';

/** `triad trace`: the run's loop as a tree, with its trace id and a Jaeger link. */
export const traceCommand: Command = {
  name: 'trace',
  summary: "show a run's loop as a tree, with its trace id (and a Jaeger link when exported)",
  help: `trace <runId> [--jaeger <url>]

Shows the run's loop as a tree: each iteration's thought, tool calls with durations and results, the judge's
verdicts and tokens, headed by the run's OpenTelemetry trace id.

Options:
  --jaeger <url>   base URL of a Jaeger UI (env TRIAD_JAEGER_URL): prints a link to the trace when Jaeger
                   holds it, else says that nothing of the run was exported there
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
      const traceId = traceIdOf(run.traceparent);
      const jaeger = jaegerUrl && traceId ? await lookUpTrace(jaegerUrl, traceId, ctx.signal) : undefined;
      for (const line of renderTraceTree(run, events, { jaeger })) ctx.out(line);
    }
    return 0;
  },
};
