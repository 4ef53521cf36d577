// The same loop as Triad's, written with LangGraph.js in one process: planner node -> tool node -> judge node,
// back to the planner until the judge accepts an answer. Checkpointed to PostgreSQL after every step (durability
// "sync"); the planner calls the scripted model over HTTP with the openai client. Reads its job from the
// environment, prints one JSON line with the result, and exits.
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import OpenAI from 'openai';
import pg from 'pg';

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const total = Number(env('LG_RUNS'));
const inFlight = Number(env('LG_IN_FLIGHT'));
const warmup = Number(process.env.LG_WARMUP ?? 50);

const client = new OpenAI({ baseURL: env('LG_MODEL_URL'), apiKey: 'bench', maxRetries: 0 });
const pool = new pg.Pool({ connectionString: env('LG_PG_URL'), max: Number(process.env.LG_PG_POOL ?? 20) });
const checkpointer = new PostgresSaver(pool, undefined, { schema: env('LG_PG_SCHEMA') });
await checkpointer.setup();

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'calculator',
      description: 'Evaluate an arithmetic expression',
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string' } },
        required: ['expression'],
        additionalProperties: false,
      },
    },
  },
];

/** Sums and products of numbers: enough for the scripted calls. */
function calculate(expression: string): number {
  return expression
    .split('+')
    .map((term) => term.split('*').reduce((p, f) => p * Number(f.trim()), 1))
    .reduce((a, b) => a + b, 0);
}

const State = Annotation.Root({
  messages: Annotation<Message[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  iteration: Annotation<number>({ reducer: (_, b) => b, default: () => 0 }),
  verdict: Annotation<'continue' | 'accept' | null>({ reducer: (_, b) => b, default: () => null }),
});
type S = typeof State.State;

const lastAssistant = (s: S) =>
  [...s.messages].reverse().find((m) => m.role === 'assistant') as
    | OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam
    | undefined;

async function planner(s: S): Promise<Partial<S>> {
  const reply = await client.chat.completions.create({ model: 'planner', messages: s.messages, tools: TOOLS });
  const m = reply.choices[0].message;
  const message: Message = m.tool_calls?.length
    ? { role: 'assistant', content: m.content, tool_calls: m.tool_calls }
    : { role: 'assistant', content: m.content ?? '' };
  return { messages: [message], iteration: s.iteration + 1, verdict: null };
}

async function tools(s: S): Promise<Partial<S>> {
  const calls = lastAssistant(s)?.tool_calls ?? [];
  const results: Message[] = calls.map((c) => {
    const { expression } = JSON.parse(c.type === 'function' ? c.function.arguments : '{}') as { expression: string };
    return { role: 'tool', tool_call_id: c.id, content: JSON.stringify({ ok: true, data: calculate(expression) }) };
  });
  return { messages: results };
}

async function judge(s: S): Promise<Partial<S>> {
  const last = s.messages.at(-1);
  // As Triad's judge with policy "checks": after observations the loop goes on; a non-empty answer is accepted.
  if (last?.role === 'tool') return { verdict: 'continue' };
  return { verdict: typeof last?.content === 'string' && last.content.trim() ? 'accept' : 'continue' };
}

const graph = new StateGraph(State)
  .addNode('planner', planner)
  .addNode('tools', tools)
  .addNode('judge', judge)
  .addEdge(START, 'planner')
  .addConditionalEdges('planner', (s) => (lastAssistant(s)?.tool_calls?.length ? 'tools' : 'judge'), ['tools', 'judge'])
  .addEdge('tools', 'judge')
  .addConditionalEdges('judge', (s) => (s.verdict === 'accept' ? END : 'planner'), ['planner', END])
  .compile({ checkpointer });

let counter = 0;
async function runOne(tag: string): Promise<number> {
  const threadId = `${tag}-${++counter}`;
  const t0 = performance.now();
  const out = await graph.invoke(
    { messages: [{ role: 'user', content: `goal:loop ${threadId}` }] },
    { configurable: { thread_id: threadId }, durability: 'sync', recursionLimit: 25 },
  );
  if (out.verdict !== 'accept') throw new Error(`thread ${threadId} ended without an accepted answer`);
  return performance.now() - t0;
}

async function drive(n: number, lanes: number, tag: string) {
  let started = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(lanes, n) }, async () => {
      while (started < n) {
        started++;
        latencies.push(await runOne(tag));
      }
    }),
  );
  const wallMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { wallMs, perSec: n / (wallMs / 1000), p50: latencies[Math.floor(latencies.length / 2)] };
}

try {
  await drive(warmup, Math.min(inFlight, warmup), 'warm');
  const res = await drive(total, inFlight, 'run');
  const checkpoints = await pool.query(`select count(*)::int as n from "${env('LG_PG_SCHEMA')}".checkpoints`);
  console.log(
    JSON.stringify({ ...res, checkpoints: checkpoints.rows[0].n, rssMb: process.memoryUsage().rss / 2 ** 20 }),
  );
} finally {
  await pool.end();
}
