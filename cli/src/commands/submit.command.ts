import { readFileSync } from 'node:fs';
import type { GoalRequestInput } from '@triad/shared';
import { runOutcome } from '../render/run-view.js';
import { type Command, type CommandContext, intOption, printJson, stringOption, UsageError } from './command.js';
import { followEvents } from './follow-events.js';

/** `triad submit`: send a goal; optionally wait for, or follow, its run. */
export const submitCommand: Command = {
  name: 'submit',
  summary: 'submit a goal (and wait for it, or follow it live)',
  help: `submit <goal...> [options]

Submits a goal to the gateway and prints the run id.

Options:
  --run-id <id>            your id for the run (the same id twice makes one run)
  --tools <a,b>            allow-list of tool names
  --max-iterations <n>     planner iterations before the run ends
  --idempotency-key <k>    sent as Idempotency-Key: a repeat returns the first run
  --output-schema <file>   a JSON Schema file: the result (output) is a typed object valid against it
  --wait                   wait silently for the end, then print the outcome
  --follow                 show the loop live until the end
With --wait or --follow the exit code is 0 when the run succeeded, 1 otherwise.
With --json: the submit answer; with --wait the run record; with --follow JSON lines of events, then the run record.`,
  options: {
    'run-id': { type: 'string' },
    tools: { type: 'string' },
    'max-iterations': { type: 'string' },
    'idempotency-key': { type: 'string' },
    'output-schema': { type: 'string' },
    wait: { type: 'boolean' },
    follow: { type: 'boolean' },
  },
  async run(ctx) {
    const request = goalRequest(ctx);
    const idempotencyKey = stringOption(ctx.values, 'idempotency-key');
    const submitted = await ctx.client.submit(request, { idempotencyKey });
    const wait = ctx.values.wait === true;
    const follow = ctx.values.follow === true;
    if (!wait && !follow) {
      if (ctx.json) printJson(ctx, submitted);
      else ctx.out(submitted.created ? `submitted run ${submitted.runId}` : `run ${submitted.runId} exists already`);
      return 0;
    }
    if (!ctx.json) ctx.note(`${submitted.created ? 'submitted' : 'following existing'} run ${submitted.runId}`);
    if (follow) await followEvents(ctx, submitted.runId);
    // After following, the run has ended: one read; else waitFor follows the events quietly.
    const run = follow
      ? await ctx.client.get(submitted.runId, ctx.signal)
      : await ctx.client.waitFor(submitted.runId, { signal: ctx.signal });
    if (ctx.json) ctx.out(follow ? JSON.stringify(run) : JSON.stringify(run, null, 2));
    else for (const line of runOutcome(run)) ctx.out(line);
    return run.status === 'succeeded' ? 0 : 1;
  },
};

function goalRequest(ctx: CommandContext): GoalRequestInput {
  const goal = ctx.args.join(' ').trim();
  if (!goal) throw new UsageError('missing <goal>');
  if (ctx.values.wait && ctx.values.follow) throw new UsageError('use --wait or --follow, not both');
  const request: GoalRequestInput = { goal };
  const runId = stringOption(ctx.values, 'run-id');
  if (runId !== undefined) request.runId = runId;
  const tools = stringOption(ctx.values, 'tools');
  if (tools !== undefined)
    request.tools = tools
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  const maxIterations = intOption(ctx.values, 'max-iterations');
  if (maxIterations !== undefined) request.budget = { maxIterations };
  const schemaFile = stringOption(ctx.values, 'output-schema');
  if (schemaFile !== undefined) request.outputSchema = readJsonFile(schemaFile, '--output-schema');
  return request;
}

function readJsonFile(path: string, option: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${option}: cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`${option}: ${path} is not JSON: ${(err as Error).message}`);
  }
}
