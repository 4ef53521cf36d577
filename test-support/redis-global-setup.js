// Jest global setup: the tests need a real Redis. Use the one at REDIS_URL (default 127.0.0.1:6379) when it answers;
// otherwise start a private, non-persistent redis-server there, and stop it after the run. `npm test` builds first,
// so the stack launcher's compiled helper is there to use.
import { ensureRedis } from '../cli/dist/stack/local-redis.js';

export default async function setup() {
  globalThis.__TRIAD_TEST_REDIS__ = await ensureRedis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
}
