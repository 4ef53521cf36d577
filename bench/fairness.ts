// Fair scheduling across tenants: tenant A (maxRunsInFlight 10) adds 2000 goals at once to `goals` (each with its fair
// intake priority, as the gateway adds them), then tenant B adds 10. B's median time from enqueue to result, over the
// same 10 goals of B with no flood: fairnessDelayRatio.
// The model answers every request after 300 ms; each run makes 3 model calls. A's runs in flight are sampled (its
// slots) all along: aMaxInFlightObserved, against its cap.
import { GoalBacklog, QUEUES } from '@triad/shared';
import { Queue } from 'bullmq';
import {
  acceptingLoopScript,
  type BenchOptions,
  fmt,
  log,
  median,
  onCleanup,
  round,
  startModel,
  startTriad,
  type TriadStack,
} from './support.ts';

const MODEL_MS = 300;
const A_CAP = 10;
const GOAL = 'goal:fairness';

/**
 * B's goals at once, enqueued as the gateway enqueues them (with B's fair priority); each one's time from enqueue to
 * its result, and from enqueue to its run's creation (intake).
 */
async function bWave(
  triad: TriadStack,
  backlog: GoalBacklog,
  tag: string,
  n: number,
): Promise<{ total: number[]; intake: number[] }> {
  const priorities = await backlog.priorities('b', n);
  const rows = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const [t0, at0] = [performance.now(), Date.now()];
      await triad.run(`b-${tag}-${i}`, `${GOAL} b #${i}`, { tenant: 'b' }, { priority: priorities[i] });
      const createdAt = Number(await triad.redis.hget(`${triad.prefix}:run:{b~b-${tag}-${i}}`, 'createdAt'));
      return { total: performance.now() - t0, intake: createdAt - at0 };
    }),
  );
  return { total: rows.map((r) => r.total), intake: rows.map((r) => r.intake) };
}

export async function measureFairness(opts: BenchOptions) {
  const flood = opts.quick ? 500 : 2000;
  const bGoals = 10;
  const model = await startModel([acceptingLoopScript(GOAL, MODEL_MS)]);
  const limits = { a: { maxRunsInFlight: A_CAP } };
  const triad = await startTriad({
    model,
    defaults: true,
    env: { TRIAD_TENANT_LIMITS: JSON.stringify(limits) },
    runTimeoutMs: 600_000,
  });
  const goals = new Queue(QUEUES.goals, { connection: triad.redis, prefix: triad.prefix });
  const backlog = new GoalBacklog(triad.redis, triad.prefix);
  const closeGoals = onCleanup('fairness goals', () => goals.close());
  try {
    await triad.run('warm', `${GOAL} warm-up`, { tenant: 'b' });
    log(`fairness: ${bGoals} goals of tenant B alone`);
    const aloneWave = await bWave(triad, backlog, 'alone', bGoals);
    const alone = median(aloneWave.total);

    log(`fairness: ${flood} goals of tenant A (maxRunsInFlight ${A_CAP}), then ${bGoals} of tenant B`);
    const inFlightKey = `${triad.prefix}:tenant:a:{a}:inflight`;
    let aMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        aMax = Math.max(aMax, await triad.redis.zcard(inFlightKey));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const t0 = performance.now();
    // As the gateway enqueues them: each goal with its place in A's backlog as its priority.
    const aPriorities = await backlog.priorities('a', flood);
    const floodJobs = Array.from({ length: flood }, (_, i) => ({
      name: 'goal',
      data: { goal: `${GOAL} a #${i}`, runId: `a-${i}`, tenant: 'a' },
      opts: { priority: aPriorities[i] },
    }));
    for (let i = 0; i < floodJobs.length; i += 500) await goals.addBulk(floodJobs.slice(i, i + 500));
    const addMs = performance.now() - t0;
    const floodWave = await bWave(triad, backlog, 'flood', bGoals);
    const withFlood = median(floodWave.total);
    const intakeAlone = median(aloneWave.intake);
    const intakeFlood = median(floodWave.intake);
    // How far intake got through A's goals while B's ran (all of them had been taken in before B's).
    const aRuns = await triad.redis.zcard(`${triad.prefix}:tenant:a:runs`);
    sampling = false;
    await sampler;
    const ratio = withFlood / alone;
    const figures = {
      fairnessDelayRatio: round(ratio, 2),
      fairnessBAloneMedianMs: round(alone, 0),
      fairnessBFloodMedianMs: round(withFlood, 0),
      fairnessBIntakeAloneMedianMs: round(intakeAlone, 0),
      fairnessBIntakeFloodMedianMs: round(intakeFlood, 0),
      aMaxInFlightObserved: aMax,
      aMaxRunsInFlight: A_CAP,
    };
    const rows = [
      {
        measure: `fairness: B's median time, ${flood} goals of A ahead / none`,
        value: fmt(ratio, 2),
        note: `${fmt(withFlood, 0)} ms / ${fmt(alone, 0)} ms for ${bGoals} runs of 3 x ${MODEL_MS} ms model calls; target <= 1.5`,
      },
      {
        measure: "fairness: B's median wait for intake, flood / none",
        value: `${fmt(intakeFlood, 0)} / ${fmt(intakeAlone, 0)} ms`,
        note: `enqueue to run created: behind ${flood} goals of A in the one goals queue`,
      },
      {
        measure: "fairness: A's runs in flight, most seen",
        value: String(aMax),
        note: `cap ${A_CAP}; A's goals added in ${fmt(addMs, 0)} ms, ${aRuns} of them taken in when B's ended`,
      },
    ];
    return { figures, rows };
  } finally {
    await closeGoals();
    await triad.stop();
  }
}
