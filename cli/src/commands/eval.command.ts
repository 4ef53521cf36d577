import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError, loadConfig, OpenAIReasoningModel } from '@triad/shared';
import { loadScenarioFile, type ScriptedModelServer, startScriptedModelServer } from '@triad/testing';
import { DatasetError, type EvalCase, parseDataset } from '../eval/eval-case.js';
import { type CaseResult, type Grader, runEval } from '../eval/eval-runner.js';
import { type EvalSummary, summarize } from '../eval/eval-summary.js';
import { junitReport } from '../eval/junit-report.js';
import { table } from '../render/run-view.js';
import { DEMO_SCENARIO } from '../stack/local-stack.js';
import {
  type Command,
  type CommandContext,
  intOption,
  positionals,
  printJson,
  stringOption,
  UsageError,
} from './command.js';

/** `triad eval`: run a dataset of goals with expected results through the gateway and grade them. */
export const evalCommand: Command = {
  name: 'eval',
  summary: 'run a JSONL dataset of goals with expected results; pass rate, cost, tokens, latency; JUnit report',
  help: `eval <file.jsonl> [options]

Runs each line's goal through the gateway (live) and checks its result against the line's expectation:
  {"name":"lisbon","goal":"...","outputSchema":{...},"expect":{"exact":{"city":"Lisbon"}}}
  "expect": {"exact": <the output object, or a string: the answer>} | {"subset": {<fields the output has>}}
          | {"rubric": "<what a good answer does>"}  (graded by the configured model), and optionally "status"
  (default "succeeded"). The other fields of a line are a GoalRequest's.
A line may instead replay a recorded run: {"replayOf":"<runId>","expect":{...}} plays its recorded model replies and
tool results (no model call, no tool run); with "replay":{"liveModel":true,"model":"..."} (or --live-model for every
such line) a live model answers and recorded tool results answer the calls that match: a model or prompt change
checked against yesterday's runs.
Prints each case and the overall pass rate, cost, tokens and latency.

Options:
  --threshold <0..1>       the least pass rate that exits 0 (default 1: every case must pass)
  --junit <path>           also write a JUnit XML report there (for CI)
  --concurrency <n>        cases run at once (default 4)
  --live-model             replay lines without their own "replay" options ask the live model
Rubrics are graded with TRIAD_JUDGE_MODEL (or TRIAD_MODEL) at OPENAI_BASE_URL / OPENAI_API_KEY; with neither set,
by the offline demo model. Exit code: 0 at or above the threshold, 1 below it, 2 wrong usage or a bad dataset.
With --json: the summary and every case as one JSON document.`,
  options: {
    threshold: { type: 'string' },
    junit: { type: 'string' },
    concurrency: { type: 'string' },
    'live-model': { type: 'boolean' },
  },
  async run(ctx) {
    const [file] = positionals(ctx, ['<file.jsonl>']);
    const threshold = thresholdOf(ctx);
    const concurrency = intOption(ctx.values, 'concurrency') ?? 4;
    const cases = await readDataset(file as string);
    const dataset = basename(file as string).replace(/\.jsonl$/, '');
    const grading = cases.some((c) => c.expect.rubric !== undefined) ? await startGrader(ctx) : null;
    const started = Date.now();
    let results: CaseResult[];
    try {
      results = await runEval(cases, {
        client: ctx.client,
        grader: grading?.grader ?? null,
        concurrency,
        signal: ctx.signal,
        dataset,
        liveModel: ctx.values['live-model'] === true,
        onResult: (r) => ctx.json || ctx.note(`${r.outcome.padEnd(6)} ${r.name}`),
      });
    } finally {
      await grading?.stop();
    }
    const summary = summarize(results, Date.now() - started);
    const junit = stringOption(ctx.values, 'junit');
    if (junit) await writeFile(junit, junitReport(dataset, results, summary, new Date(started)));
    if (ctx.json) printJson(ctx, { dataset, threshold, summary, cases: results });
    else for (const line of report(results, summary, threshold)) ctx.out(line);
    return summary.passRate >= threshold ? 0 : 1;
  },
};

function thresholdOf(ctx: CommandContext): number {
  const given = stringOption(ctx.values, 'threshold');
  if (given === undefined) return 1;
  const n = Number(given);
  if (!given.trim() || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError('--threshold must be between 0 and 1');
  return n;
}

async function readDataset(file: string): Promise<EvalCase[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseDataset(text, file);
  } catch (err) {
    if (err instanceof DatasetError) throw new UsageError(`bad dataset:\n${err.message}`);
    throw err;
  }
}

/** The configured model through the openai client; with no model configured, the offline demo model (as `npm start`). */
async function startGrader(ctx: CommandContext): Promise<{ grader: Grader; stop(): Promise<void> }> {
  let model: ReturnType<typeof loadConfig>['model'];
  try {
    model = loadConfig(ctx.env).model;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  let offline: ScriptedModelServer | null = null;
  if (!model.apiKey && !model.baseUrl) {
    offline = await startScriptedModelServer({ scenario: await loadScenarioFile(DEMO_SCENARIO) });
    model = { ...model, baseUrl: `${offline.url}/v1`, judgeModel: 'judge' };
    ctx.note('rubrics are graded by the offline demo model (no OPENAI_API_KEY or OPENAI_BASE_URL is set)');
  }
  const grader = { model: new OpenAIReasoningModel(model), modelName: model.judgeModel };
  return { grader, stop: async () => void (await offline?.close()) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const usd = (n: number) => `$${n.toFixed(4)}`;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The per-case table, then the overall line. */
function report(results: CaseResult[], s: EvalSummary, threshold: number): string[] {
  const rows = results.map((r) => [
    r.name,
    r.outcome.toUpperCase(),
    r.runStatus ?? '-',
    seconds(r.latencyMs),
    String(r.tokens),
    usd(r.costUsd),
    clip((r.message ?? '').replace(/\s+/g, ' '), 100),
  ]);
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const grading = s.gradingTokens ? ` (+${s.gradingTokens} grading)` : '';
  return [
    ...table(['CASE', 'RESULT', 'RUN', 'LATENCY', 'TOKENS', 'COST', 'DETAIL'], rows),
    '',
    `${s.passed}/${s.cases} passed (${pct(s.passRate)}; threshold ${pct(threshold)}) · ${s.failed} failed · ${s.errors} errors`,
    `tokens ${s.tokens}${grading} · cost ${usd(s.costUsd)} · latency p50 ${seconds(s.latencyMs.p50)}, p95 ${seconds(s.latencyMs.p95)}, max ${seconds(s.latencyMs.max)} · wall ${seconds(s.wallMs)}`,
  ];
}
