import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Scenario } from './scenario.js';
import { type ScriptedModelServer, startScriptedModelServer } from './scripted-model.server.js';

let server: ScriptedModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(scenario: Scenario, maxRetries = 0): Promise<{ s: ScriptedModelServer; client: OpenAI }> {
  server = await startScriptedModelServer({ scenario });
  return { s: server, client: new OpenAI({ apiKey: 'x', baseURL: `${server.url}/v1`, maxRetries }) };
}

const user = (content: string): ChatCompletionMessageParam => ({ role: 'user', content });

function ask(client: OpenAI, model: string, messages: ChatCompletionMessageParam[]): Promise<ChatCompletion> {
  return client.chat.completions.create({ model, messages });
}

function functionCalls(c: ChatCompletion): { id: string; name: string; arguments: string }[] {
  return (c.choices[0].message.tool_calls ?? []).flatMap((t) =>
    t.type === 'function' ? [{ id: t.id, ...t.function }] : [],
  );
}

describe('scripted model server through the openai client', () => {
  it("answers structured output with a turn's `output`, and only to a request that asks for it", async () => {
    const { client } = await serve({
      scripts: [{ name: 'typed', turns: { planner: [{ output: { n: 42, ok: true } }, { output: { n: 1 } }] } }],
    });
    const schema = {
      type: 'object',
      properties: { n: { type: 'number' } },
      required: ['n'],
      additionalProperties: false,
    };
    const reply = await client.chat.completions.create({
      model: 'planner',
      messages: [user('as data')],
      response_format: { type: 'json_schema', json_schema: { name: 'final_answer', schema, strict: true } },
    });
    expect(JSON.parse(reply.choices[0].message.content ?? '')).toEqual({ n: 42, ok: true });
    await expect(ask(client, 'planner', [user('as data')])).rejects.toThrow(/no response_format of type json_schema/);
  });

  it('returns scripted tool calls with deterministic ids, stringified arguments and a usage estimate', async () => {
    const { client } = await serve({
      scripts: [
        {
          name: 'demo',
          turns: {
            planner: [
              {
                toolCalls: [
                  { name: 'calculator', arguments: { expression: '2+2' } },
                  { name: 'echo', arguments: '{"a":' },
                ],
              },
            ],
          },
        },
      ],
    });
    const reply = await ask(client, 'planner', [user('add numbers')]);
    expect(functionCalls(reply)).toEqual([
      { id: 'call_demo_planner_0_0', name: 'calculator', arguments: '{"expression":"2+2"}' },
      { id: 'call_demo_planner_0_1', name: 'echo', arguments: '{"a":' },
    ]);
    expect(reply.choices[0].finish_reason).toBe('tool_calls');
    expect(reply.choices[0].message.content).toBeNull();
    expect(reply.model).toBe('planner');
    expect(reply.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(reply.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('plays content turns in order per role, mapping model names to roles', async () => {
    const { client } = await serve({
      roles: { 'gpt-judge': 'judge' },
      scripts: [
        {
          turns: {
            judge: [
              { content: 'first', usage: { prompt_tokens: 7, completion_tokens: 3 } },
              { content: 'second', finishReason: 'length' },
            ],
            planner: [{ content: 'plan' }],
          },
        },
      ],
    });
    const first = await ask(client, 'gpt-judge', [user('x')]);
    expect(await ask(client, 'planner', [user('x')]).then((r) => r.choices[0].message.content)).toBe('plan');
    const second = await ask(client, 'judge', [user('x')]);
    expect(first.choices[0].message.content).toBe('first');
    expect(first.choices[0].finish_reason).toBe('stop');
    expect(first.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(second.choices[0]).toMatchObject({ message: { content: 'second' }, finish_reason: 'length' });
  });

  it("indexes by assistant messages under 'assistantMessages', so a redelivered request gets the same turn", async () => {
    const { client } = await serve({
      scripts: [
        {
          turnBy: { planner: 'assistantMessages' },
          turns: { planner: [{ content: 'zero' }, { fault: { status: 500 } }, { content: 'one' }] },
        },
      ],
    });
    const start = [user('goal')];
    expect((await ask(client, 'planner', start)).choices[0].message.content).toBe('zero');
    expect((await ask(client, 'planner', start)).choices[0].message.content).toBe('zero');
    const next = [...start, { role: 'assistant' as const, content: 'zero' }, user('go on')];
    // The fault before position 1 is played once; the retry then gets the turn for position 1.
    await expect(ask(client, 'planner', next)).rejects.toMatchObject({ status: 500 });
    expect((await ask(client, 'planner', next)).choices[0].message.content).toBe('one');
    expect((await ask(client, 'planner', next)).choices[0].message.content).toBe('one');
  });

  it("chooses by the last message under 'lastMessage', the same for every conversation however many run", async () => {
    const { client } = await serve({
      scripts: [
        {
          turnBy: { judge: 'lastMessage' },
          turns: { judge: [{ when: 'PER KM²', content: 'accept' }, { content: 'revise' }] },
        },
      ],
    });
    const vague = [user('goal'), user('Proposed answer: Porto')];
    const precise = [user('goal'), user('Proposed answer: Porto, 5600 people per km²')];
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ask(client, 'judge', i % 2 ? precise : vague)),
    );
    expect(replies.map((r) => r.choices[0].message.content)).toEqual(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? 'accept' : 'revise')),
    );
  });

  it("answers 'lastMessage' with an error naming the role when no turn fits", async () => {
    const { client } = await serve({
      scripts: [{ name: 's', turnBy: { judge: 'lastMessage' }, turns: { judge: [{ when: 'x-y-z', content: 'a' }] } }],
    });
    await expect(ask(client, 'judge', [user('goal')])).rejects.toMatchObject({
      message: expect.stringContaining('no turn of role "judge" in script "s" fits the last message'),
    });
  });

  it('picks the first script whose match occurs in the first user message, ignoring case', async () => {
    const { client, s } = await serve({
      scripts: [
        { name: 'weather', match: 'WEATHER in', turns: { planner: [{ content: 'sunny' }] } },
        { name: 'math', match: 'compute', turns: { planner: [{ content: '42' }] } },
        { name: 'fallback', turns: { planner: [{ content: 'dunno' }] } },
      ],
    });
    const reply = (text: string) => ask(client, 'planner', [user(text)]).then((r) => r.choices[0].message.content);
    expect(await reply('Please compute 6*7')).toBe('42');
    expect(await reply('What is the weather in Oslo?')).toBe('sunny');
    expect(await reply('something else')).toBe('dunno');
    expect(s.requests.map((r) => r.script)).toEqual(['math', 'weather', 'fallback']);
  });

  it('picks a script with `contains` only for a request that holds that text in some message', async () => {
    const { client, s } = await serve({
      scripts: [
        { name: 'told', match: 'book', contains: 'YYYY-mm-dd', turns: { planner: [{ content: 'iso' }] } },
        { name: 'untold', match: 'book', turns: { planner: [{ content: 'guess' }] } },
      ],
    });
    const reply = (...texts: string[]) =>
      ask(client, 'planner', texts.map(user)).then((r) => r.choices[0].message.content);
    expect(await reply('Book a room')).toBe('guess');
    expect(await reply('Book a room', 'Notes from past runs: dates are YYYY-MM-DD')).toBe('iso');
    expect(s.requests.map((r) => r.script)).toEqual(['untold', 'told']);
  });

  it('fails loudly with a 500 APIError when the turns are exhausted or no script matches', async () => {
    const { client, s } = await serve({
      scripts: [{ name: 'demo', match: 'demo', turns: { planner: [{ content: 'only' }] } }],
    });
    await ask(client, 'planner', [user('demo')]);
    const exhausted = await ask(client, 'planner', [user('demo')]).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(OpenAI.APIError);
    expect(exhausted).toMatchObject({ status: 500 });
    expect((exhausted as Error).message).toContain('scripted model: no turn 1 for role "planner" in script "demo"');
    const noMatch = await ask(client, 'planner', [user('other')]).catch((e: unknown) => e);
    expect(noMatch).toBeInstanceOf(OpenAI.APIError);
    expect((noMatch as Error).message).toContain('no script matches the first user message "other"');
    // Script errors carry x-should-retry: false, so even a retrying client asks only once.
    const retrying = new OpenAI({ apiKey: 'x', baseURL: `${s.url}/v1`, maxRetries: 2 });
    await expect(ask(retrying, 'planner', [user('demo')])).rejects.toMatchObject({ status: 500 });
    expect(s.requests).toHaveLength(4);
  });

  it('answers a 429 with retry-after, which the client retries into the next turn', async () => {
    const { client, s } = await serve(
      {
        scripts: [
          {
            turns: {
              planner: [{ fault: { status: 429, message: 'slow down', retryAfterSeconds: 0.05 } }, { content: 'ok' }],
            },
          },
        ],
      },
      1,
    );
    const raw = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'planner', messages: [user('x')] }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('0.05');
    expect(await raw.json()).toEqual({
      error: { message: 'slow down', type: 'rate_limit_error', code: 'scripted_fault', param: null },
    });
    s.reset();
    expect((await ask(client, 'planner', [user('x')])).choices[0].message.content).toBe('ok');
    expect(s.requests).toHaveLength(2);
  });

  it('serves truncated JSON and empty choices as 200s', async () => {
    const { client } = await serve({
      scripts: [
        {
          turns: {
            planner: [{ content: 'cut', fault: { kind: 'truncated-json' } }, { fault: { kind: 'empty-choices' } }],
          },
        },
      ],
    });
    await expect(ask(client, 'planner', [user('x')])).rejects.toBeInstanceOf(SyntaxError);
    const empty = await ask(client, 'planner', [user('x')]);
    expect(empty.choices).toEqual([]);
    expect(empty.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('fills {{tool:...}} templates from the tool messages of the request', async () => {
    const { client } = await serve({
      scripts: [
        {
          turns: {
            judge: [
              {
                content: 'raw={{tool:c1}} result={{tool:c1.data.result}} list={{tool:c1.data.list}} gone={{tool:c9}}',
                toolCalls: [
                  { name: 'finish', arguments: '{"answer":{{tool:c1.data.result}}}' },
                  { name: 'note', arguments: { text: 'got {{tool:c1.data.name}} {{tool:c1.nope}}' } },
                ],
              },
            ],
          },
        },
      ],
    });
    const output = JSON.stringify({ data: { result: 4, list: [1, 2], name: 'four "4"' } });
    const reply = await ask(client, 'judge', [
      user('x'),
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calc', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: output },
    ]);
    expect(reply.choices[0].message.content).toBe(`raw=${output} result=4 list=[1,2] gone=<missing>`);
    const [finish, note] = functionCalls(reply);
    expect(JSON.parse(finish.arguments)).toEqual({ answer: 4 });
    expect(JSON.parse(note.arguments)).toEqual({ text: 'got four "4" <missing>' });
  });

  it('records every request, by role, and can swap the scenario', async () => {
    const { client, s } = await serve({
      scripts: [{ name: 'a', turns: { planner: [{ content: 'a' }], judge: [{ content: 'j' }] } }],
    });
    await ask(client, 'planner', [user('p1')]);
    await ask(client, 'judge', [user('j1')]);
    expect(s.requests).toHaveLength(2);
    expect(s.requestsFor('judge')).toEqual([
      {
        model: 'judge',
        role: 'judge',
        script: 'a',
        body: { model: 'judge', messages: [user('j1')] },
        at: expect.any(Number),
      },
    ]);
    s.setScenario({ scripts: [{ name: 'b', turns: { planner: [{ content: 'b' }] } }] });
    expect((await ask(client, 'planner', [user('p2')])).choices[0].message.content).toBe('b');
    expect(s.requestsFor('planner').map((r) => r.script)).toEqual(['a', 'b']);
    s.reset();
    expect(s.requests).toEqual([]);
    expect((await ask(client, 'planner', [user('p3')])).choices[0].message.content).toBe('b');
  });

  it('counts the chat requests in flight and keeps their peak until it is taken', async () => {
    const { client, s } = await serve({
      scripts: [{ turnBy: { planner: 'assistantMessages' }, turns: { planner: [{ content: 'slow', delayMs: 50 }] } }],
    });
    const calls = [1, 2, 3].map(() => ask(client, 'planner', [user('x')]));
    expect(s.inFlight()).toBe(0); // the requests are not sent until the event loop turns
    await Promise.all(calls);
    expect(s.inFlight()).toBe(0);
    expect(s.takePeakInFlight()).toBe(3);
    expect(s.takePeakInFlight()).toBe(0);
  });

  it('lists the models the scenario knows', async () => {
    const { client } = await serve({
      roles: { 'big-model': 'planner' },
      scripts: [{ turns: { planner: [] } }, { turns: { judge: [] } }],
    });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(['big-model', 'judge', 'planner']);
  });
});
