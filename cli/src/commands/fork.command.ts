import type { ForkRunRequestInput } from '@triad/client';
import { type Command, type CommandContext, intOption, positionals, stringOption, UsageError } from './command.js';
import { startedRun } from './started-run.js';

/** `triad fork`: a new run from a run's history before an iteration, live from there. */
export const forkCommand: Command = {
  name: 'fork',
  summary: 'fork a run from an iteration (its history is copied, never run again)',
  help: `fork <runId> --from <iteration> [options]

Starts a new run with the run's decisions, tool results and verdicts of the iterations before <iteration>
(no model call and no tool call is made again for them); from <iteration> on it runs live.

Options:
  --from <n>               the first iteration the fork runs live (required)
  --model <name>           the fork planner's model (default: the parent's)
  --goal <text>            the fork's goal (default: the parent's)
  --max-iterations <n>     the fork's maxIterations (the rest of the budget is the parent's)
  --wait                   wait for the end, then print the outcome
With --wait the exit code is 0 when the fork succeeded, 1 otherwise.
With --json: the submit answer; with --wait the run record.`,
  options: {
    from: { type: 'string' },
    model: { type: 'string' },
    goal: { type: 'string' },
    'max-iterations': { type: 'string' },
    wait: { type: 'boolean' },
  },
  async run(ctx) {
    const [runId] = positionals(ctx, ['<runId>']);
    const submitted = await ctx.client.fork(runId, forkRequest(ctx));
    return startedRun(ctx, submitted, 'fork');
  },
};

function forkRequest(ctx: CommandContext): ForkRunRequestInput {
  const fromIteration = intOption(ctx.values, 'from');
  if (fromIteration === undefined) throw new UsageError('missing --from <iteration>');
  const request: ForkRunRequestInput = { fromIteration };
  const model = stringOption(ctx.values, 'model');
  if (model !== undefined) request.model = model;
  const goal = stringOption(ctx.values, 'goal');
  if (goal !== undefined) request.goal = goal;
  const maxIterations = intOption(ctx.values, 'max-iterations');
  if (maxIterations !== undefined) request.budget = { maxIterations };
  return request;
}
