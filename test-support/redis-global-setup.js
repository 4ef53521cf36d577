// Jest global setup: the tests need a real Redis. Use the one at REDIS_URL (default 127.0.0.1:6379) when it
// answers; otherwise start a private, non-persistent redis-server there and stop it after the run.
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

async function answers() {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export default async function setup() {
  if (await answers()) return;
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(hostname)) throw new Error(`tests need Redis at ${url}, and none answers`);
  const child = spawn(
    'redis-server',
    ['--port', port || '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', (err) => console.error(`cannot start redis-server: ${err.message}`));
  for (let i = 0; i < 100 && !(await answers()); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers())) throw new Error(`tests need Redis at ${url}: none answers and redis-server did not start`);
  globalThis.__TRIAD_TEST_REDIS__ = child;
}
