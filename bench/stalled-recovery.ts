// Recovery from a crashed executor: an executor holding a step (a tool call to a server that does not answer) is
// killed with SIGKILL just after it renewed the step's lock - the worst moment, since the lock then lives longest -
// and we time how long until another executor starts the step again (its request reaches the server).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jobIds, LOCK_DURATION_MS, QUEUES, STALLED_INTERVAL_MS } from '@triad/shared';
import type { ServiceProcess } from '../cli/dist/stack/service-processes.js';
import {
  type BenchOptions,
  fmt,
  log,
  median,
  nextRunId,
  onCleanup,
  round,
  sleep,
  startModel,
  startTriad,
} from './support.ts';

/** Holds the first request after `arm()` without answering (until the bench ends); answers the others at once. */
async function startHoldServer() {
  const arrivals: number[] = [];
  const held = new Set<ServerResponse>();
  let armed = false;
  const server = createServer((req, res) => {
    req.resume();
    arrivals.push(performance.now());
    if (armed) {
      armed = false;
      held.add(res);
    } else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup('hold server', async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    arm: () => {
      armed = true;
    },
  };
}

const alive = (s: ServiceProcess) => s.child.exitCode === null && s.child.signalCode === null;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export async function measureStalledRecovery(opts: BenchOptions) {
  const trials = opts.quick ? 1 : 3;
  const hold = await startHoldServer();
  const model = await startModel([
    {
      name: 'hold',
      match: 'goal:hold',
      turnBy: { planner: 'assistantMessages' },
      turns: {
        planner: [
          {
            content: 'Ask the slow system.',
            toolCalls: [{ id: 'h1', name: 'http_get', arguments: { url: `${hold.url}/hold`, bearerToken: null } }],
          },
          { content: 'It answered.' },
        ],
      },
    },
  ]);
  const triad = await startTriad({
    model,
    executors: 1,
    env: { TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1', TRIAD_HTTP_TIMEOUT_MS: '120000', TRIAD_TOOL_TIMEOUT_MS: '120000' },
  });
  try {
    const recoveries: number[] = [];
    for (let i = 0; i < trials; i++) {
      const holder = triad.services.find((s) => s.role === 'executor' && alive(s)) as ServiceProcess;
      const runId = nextRunId('stall');
      const before = hold.arrivals.length;
      hold.arm();
      log(`stalled recovery ${i + 1}/${trials}: ${holder.name} takes the step of ${runId}`);
      const done = triad.run(runId, `goal:hold ${runId}`);
      done.catch(() => {});
      await waitFor('the tool request', 30_000, () => (hold.arrivals.length > before ? true : undefined));
      // Another executor, up and idle, to take the step over.
      await triad.spawnExecutor(`executor-${i + 2}`);
      const lockKey = `${triad.prefix}:${QUEUES.act}:${jobIds.act(runId, '1-0')}:lock`;
      let last = await triad.redis.pttl(lockKey);
      await waitFor('a lock renewal', LOCK_DURATION_MS, async () => {
        const ttl = await triad.redis.pttl(lockKey);
        const renewed = ttl > last + 100;
        last = ttl;
        return renewed ? true : undefined;
      });
      const t0 = performance.now();
      await holder.kill();
      const t1 = await waitFor('the step to be taken over', 60_000, () => hold.arrivals[before + 1]);
      recoveries.push((t1 - t0) / 1000);
      log(`stalled recovery ${i + 1}/${trials}: ${fmt((t1 - t0) / 1000, 2)} s`);
      await Promise.race([done, sleep(30_000).then(() => Promise.reject(new Error(`run ${runId} did not end`)))]);
    }
    const worst = Math.max(...recoveries);
    return {
      figures: { stalledRecoveryS: round(worst, 2), stalledRecoveryMedianS: round(median(recoveries), 2) },
      rows: [
        {
          measure: 'stalled step recovery (worst)',
          value: `${fmt(worst, 2)} s`,
          note: `${trials} kill(s) right after a lock renewal: ${recoveries.map((r) => fmt(r, 2)).join(', ')} s; lock ${LOCK_DURATION_MS / 1000} s, stalled check ${STALLED_INTERVAL_MS / 1000} s; target <= 15`,
        },
      ],
    };
  } finally {
    await triad.stop();
  }
}
