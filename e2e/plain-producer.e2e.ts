// Another system, with nothing of Triad but the public contract, submits a goal and gets the result back.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { RunFinished } from '@triad/shared';
import { WatchedChild } from './support/child-process.js';
import { ACCEPT, acceptedScript, calc } from './support/scripts.js';
import { REDIS_URL, TriadHarness } from './support/triad-harness.js';

let triad: TriadHarness;
beforeAll(async () => {
  triad = await TriadHarness.start({
    executors: 1,
    scenario: {
      scripts: [
        acceptedScript(
          'plain',
          [
            { content: 'Multiply.', toolCalls: [calc('m', '6 * 7')] },
            { content: '6 times 7 is {{tool:m.data.result}}.' },
          ],
          [ACCEPT],
        ),
      ],
    },
  });
});
afterAll(async () => {
  await triad?.stop();
});

it('completes a goal added by a plain BullMQ producer and delivers run.finished on results', async () => {
  const child = spawn(process.execPath, ['e2e/fixtures/plain-producer.mjs', REDIS_URL, triad.prefix, 'plain-1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The producer waits for run.finished itself: it ends when the run has.
  const {
    code,
    stdout: out,
    stderr,
  } = await new WatchedChild(child).exit({
    what: 'the plain producer to receive run.finished',
    context: () => triad.serviceLogs(),
  });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const finished = RunFinished.parse(JSON.parse(out.trim()));
  expect(finished).toMatchObject({
    runId: 'plain-1',
    status: 'succeeded',
    answer: '6 times 7 is 42.',
    error: null,
    iterations: 2,
    metadata: { origin: 'plain-producer' },
  });
  expect(finished.usage.toolCalls).toBe(1);
  expect(finished.durationMs).toBeGreaterThan(0);
});
