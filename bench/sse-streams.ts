// Open event streams against one gateway process on a private redis-server (so CLIENT LIST counts only ours): Redis
// clients and the gateway's resident memory with no stream open and with N streams open on one running run, each
// stream having waited in Redis at least once (it has sent a keep-alive). The run is written straight into the run
// store: no planner is needed for a run that only has to stay open.
import { request } from 'node:http';
import { createRedisConnection, GoalRequest, RunStore } from '@triad/shared';
import type { Redis } from 'ioredis';
import {
  type BenchOptions,
  deleteKeys,
  log,
  onCleanup,
  randomPrefix,
  round,
  rssMb,
  sleep,
  startGateway,
  startPrivateRedis,
} from './support.ts';

const KEEPALIVE_MS = 1_000;

/** Clients connected to Redis: all of them, and those the gateway named. */
async function clients(redis: Redis): Promise<{ all: number; gateway: number }> {
  const lines = ((await redis.client('LIST')) as string).split('\n').filter(Boolean);
  return { all: lines.length, gateway: lines.filter((l) => / name=triad-gateway/.test(l)).length };
}

/** Opens one SSE stream and resolves once it has sent a keep-alive; the returned function hangs up. */
function openStream(url: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
      let seen = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        seen += c;
        if (seen.includes(': keep-alive')) resolve(() => req.destroy());
        if (seen.length > 4096) seen = seen.slice(-64);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function measureSseStreams(opts: BenchOptions) {
  const streams = opts.quick ? 500 : 2_000;
  const server = await startPrivateRedis();
  const prefix = randomPrefix('s');
  const redis = createRedisConnection(server.url, 'bench');
  const { gateway, port } = await startGateway(server.url, prefix, {
    TRIAD_SSE_KEEPALIVE_MS: String(KEEPALIVE_MS),
    TRIAD_SSE_MAX: String(streams),
    TRIAD_SSE_MAX_PER_KEY: String(streams),
  });
  const hangUps: (() => void)[] = [];
  const stop = onCleanup('sse bench', async () => {
    for (const h of hangUps) h();
    await gateway.stop(5_000);
    await deleteKeys(redis, prefix);
    await redis.quit();
    await server.stop();
  });
  try {
    await new RunStore(redis, prefix).create('sse-bench', GoalRequest.parse({ goal: 'stay open' }));
    const url = `http://127.0.0.1:${port}/v1/runs/sse-bench/events`;
    await sleep(500);
    const pid = gateway.child.pid as number;
    const before = { ...(await clients(redis)), rss: await rssMb(pid) };
    log(`sse streams: opening ${streams} event streams on one gateway`);
    for (let i = 0; i < streams; i += 100) {
      hangUps.push(...(await Promise.all(Array.from({ length: Math.min(100, streams - i) }, () => openStream(url)))));
    }
    await sleep(2 * KEEPALIVE_MS); // every stream is in its steady state: waiting in Redis between keep-alives
    const open = { ...(await clients(redis)), rss: await rssMb(pid) };
    log(
      `sse streams: Redis clients ${before.all} -> ${open.all} (gateway's ${before.gateway} -> ${open.gateway}), ` +
        `gateway RSS ${before.rss.toFixed(0)} -> ${open.rss.toFixed(0)} MB`,
    );
    return {
      figures: {
        sseStreams: streams,
        sseRedisClientsIdle: before.all,
        sseRedisClientsOpen: open.all,
        sseGatewayRedisClientsOpen: open.gateway,
        sseGatewayRssIdleMb: round(before.rss, 1),
        sseGatewayRssOpenMb: round(open.rss, 1),
      },
      rows: [
        {
          measure: `Redis clients, no stream / ${streams} open streams`,
          value: `${before.all} / ${open.all}`,
          note: `the gateway's own: ${before.gateway} / ${open.gateway} (CLIENT LIST on a private redis-server)`,
        },
        {
          measure: `Gateway RSS, no stream / ${streams} open streams`,
          value: `${before.rss.toFixed(0)} / ${open.rss.toFixed(0)} MB`,
          note: 'one gateway process, every stream on one running run, each past a keep-alive',
        },
      ],
    };
  } finally {
    await stop();
  }
}
