import { type Command, positionals } from './command.js';
import { followEvents } from './follow-events.js';

/** `triad events`: the run's timeline. */
export const eventsCommand: Command = {
  name: 'events',
  summary: "show a run's timeline of thoughts, tool calls, observations and verdicts",
  help: `events <runId> [--follow]

Prints the run's events so far as a readable timeline.

Options:
  --follow    keep going, live, until the run ends
With --json: one JSON line per event (with its stream id).`,
  options: { follow: { type: 'boolean' } },
  async run(ctx) {
    const [runId] = positionals(ctx, ['<runId>']);
    if (ctx.values.follow) await followEvents(ctx, runId);
    else await followEvents(ctx, runId, { firstIdleMs: 3_000, idleMs: 500 });
    return 0;
  },
};
