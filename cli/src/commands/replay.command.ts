import type { ReplayRunRequestInput } from '@triad/client';
import { type Command, positionals, stringOption } from './command.js';
import { startedRun } from './started-run.js';

/** `triad replay`: play an ended run's recording again. */
export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay a run from its recording (no model call, no tool run)',
  help: `replay <runId> [options]

Starts a new run that plays the run's recorded model replies and tool results: no model is asked and no tool
runs; its events, verdicts and status match the recording's.

Options:
  --live-model             ask the model again; tool calls matching the recording get its results
  --model <name>           with --live-model: the planner's model (default: the parent's)
  --no-live-tools          with --live-model: refuse a tool call the recording does not hold (else it runs live)
  --wait                   wait for the end, then print the outcome
With --wait the exit code is 0 when the replay succeeded, 1 otherwise.
With --json: the submit answer; with --wait the run record.`,
  options: {
    'live-model': { type: 'boolean' },
    model: { type: 'string' },
    'no-live-tools': { type: 'boolean' },
    wait: { type: 'boolean' },
  },
  async run(ctx) {
    const [runId] = positionals(ctx, ['<runId>']);
    const request: ReplayRunRequestInput = {};
    if (ctx.values['live-model'] === true) request.liveModel = true;
    if (ctx.values['no-live-tools'] === true) request.toolsLive = false;
    const model = stringOption(ctx.values, 'model');
    if (model !== undefined) request.model = model;
    const submitted = await ctx.client.replay(runId, request);
    return startedRun(ctx, submitted, 'replay');
  },
};
