// `npm start`, run the way the README says: the offline demo from a terminal, to the printed answer.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { deleteKeys } from '@triad/testing';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { WatchedChild } from './support/child-process.js';
import { REDIS_URL } from './support/triad-harness.js';

it('npm start runs the offline demo to a verified answer and exits 0', async () => {
  const prefix = `start${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL, TRIAD_PREFIX: prefix };
  for (const k of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'TRIAD_MODEL', 'TRIAD_PLANNER_MODEL', 'TRIAD_JUDGE_MODEL'])
    delete env[k];
  // stderr into stdout, so that the output reads as it would in a terminal; a process group, so that a run that
  // has to be given up on is stopped with every service it started.
  const child = spawn('sh', ['-c', 'npm start --silent 2>&1'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    // A build, three services and a demo run, on a machine that may be busy.
    const started = new WatchedChild(child, { group: true });
    const { code, stdout: out } = await started.exit({ what: 'npm start to end', timeoutMs: 240_000 });
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toMatch(/offline demo model/);
    expect(out).toMatch(/iteration 2 · plan/);
    expect(out).toMatch(/observe {3}read_file \[2-2\]/);
    expect(out).toMatch(/judge {5}reject/);
    expect(out).toMatch(
      /Answer: Porto has the highest population density in the example data: about 5600 people per km²/,
    );
  } finally {
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
