// `triad up` as a user runs it, on real processes: the offline demo as often and as concurrently as asked, a
// signal at any time (even two, even while starting) stops every service, a service that cannot start is named
// with its last lines, and the launcher runs triad on the project's Node 24 whatever node started it.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { deleteKeys } from '@triad/testing';
import { Redis } from 'ioredis';
import { freePort } from '../cli/src/stack/local-redis.js';
import { REPO_ROOT, spawnService } from '../cli/src/stack/service-processes.js';
import { WatchedChild } from './support/child-process.js';
import { eventually } from './support/eventually.js';
import { REDIS_URL } from './support/triad-harness.js';

const DEMO_GOAL = 'Which city in the example data has the highest population density, and what is it?';

/** `triad up` on this test's own prefix and port, with the offline model (no model settings). */
function startUp(args: string[], prefix: string, more: NodeJS.ProcessEnv = {}): WatchedChild {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL,
    TRIAD_PREFIX: prefix,
    ...more,
  };
  const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, 'up', '--executors', '1', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new WatchedChild(child);
}

function submitDemo(port: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, 'submit', '--follow', DEMO_GOAL], {
    env: { PATH: process.env.PATH, TRIAD_URL: `http://127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new WatchedChild(child).exit({ what: 'the demo goal to be followed to its end', timeoutMs: 180_000 });
}

/** The first of `n` consecutive free ports on every interface. */
async function freePorts(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const servers: Server[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const srv = createServer();
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(base + i, '0.0.0.0', resolve);
        });
        servers.push(srv);
      }
      return base;
    } catch {
      // one of them is taken: another base
    } finally {
      await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
    }
  }
}

/** An IPv4 address of this machine other than loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** The ids of the processes whose parent is `pid` (Linux /proc). */
async function childPids(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (new RegExp(`^PPid:\\s+${pid}$`, 'm').test(status)) found.push(Number(entry));
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  await deleteKeys(redis, prefix);
  await redis.quit();
}

describe('triad up', () => {
  it('runs the stack until Ctrl-C; the demo goal succeeds every time it is run, concurrently too', async () => {
    const prefix = `up${randomBytes(3).toString('hex')}`;
    const port = await freePort();
    const metricsBase = await freePorts(4);
    const up = startUp(['--port', String(port)], prefix, { TRIAD_METRICS_PORT: String(metricsBase) });
    try {
      // Four services start on a machine that may be busy; triad up itself waits as long as they progress.
      await up.printed(new RegExp(`gateway: http://127\\.0\\.0\\.1:${port}`), {
        what: 'triad up to start its gateway',
        timeoutMs: 180_000,
      });
      // Three at once, then one more: the offline model's turns depend on each conversation only.
      const runs = [...(await Promise.all([1, 2, 3].map(() => submitDemo(port)))), await submitDemo(port)];
      for (const run of runs) {
        expect(run).toMatchObject({ code: 0, stderr: '' });
        expect(run.stdout).toMatch(/^answer: Porto has the highest population density .* about 5600 people per km²/m);
      }
      // Each service serves its metrics on a port of its own, on every interface (TRIAD_METRICS_HOST's default).
      const names = ['planner', 'executor-1', 'judge', 'gateway'];
      expect(up.stdout).toContain(
        `metrics (Prometheus text at /metrics on 0.0.0.0): ${names.map((n, i) => `${n} :${metricsBase + i}`).join(', ')}`,
      );
      const host = externalAddress() ?? '127.0.0.1';
      for (const [i, name] of names.entries()) {
        const text = await (await fetch(`http://${host}:${metricsBase + i}/metrics`)).text();
        expect([name, text]).toEqual([name, expect.stringContaining(`triad_role="${name.replace(/-\d+$/, '')}"`)]);
      }
    } finally {
      up.child.kill('SIGINT');
      await up.exit({ what: 'triad up to stop after Ctrl-C', timeoutMs: 60_000 });
      await dropPrefix(prefix);
    }
    const ended = await up.exit({ what: 'triad up to stop after Ctrl-C' });
    expect(ended.code).toBe(0);
    expect(ended.stdout).toMatch(/offline demo model/);
    expect(ended.stdout).toMatch(/started planner .*executor-1 .*judge .*gateway \(pid/);
    expect(ended.stdout).toMatch(/stopping…/);
  });

  it('stops every service it started when SIGTERM comes while starting, twice', async () => {
    const prefix = `upterm${randomBytes(3).toString('hex')}`;
    const up = startUp(['--port', String(await freePort())], prefix);
    const pid = up.child.pid as number;
    try {
      await up.printed(/starting planner/, { what: 'triad up to start its services' });
      // Signalled as soon as its services are processes, long before they are ready.
      const services = await eventually(async () => (await childPids(pid)).length >= 3 && childPids(pid), {
        what: 'the service processes to be spawned',
      });
      process.kill(pid, 'SIGTERM');
      process.kill(pid, 'SIGTERM');
      const ended = await up.exit({ what: 'triad up to stop after SIGTERM' });
      expect(ended.code).toBe(130);
      expect(ended.stdout).toMatch(/stopped while starting; everything it had started is stopped/);
      expect(ended.stdout).not.toMatch(/gateway: http/);
      expect(services.filter(alive)).toEqual([]);
    } finally {
      up.child.kill('SIGKILL');
      await dropPrefix(prefix);
    }
  });

  it('stops everything, naming the service with its last lines, when a service dies after the start', async () => {
    const prefix = `updied${randomBytes(3).toString('hex')}`;
    const up = startUp(['--port', String(await freePort())], prefix);
    try {
      const started = await up.printed(
        /started planner \(pid (\d+)\), executor-1 \(pid (\d+)\), judge \(pid (\d+)\), gateway \(pid (\d+)\)/,
        {
          what: 'triad up to start its services',
          timeoutMs: 180_000,
        },
      );
      const [planner, ...others] = started.slice(1).map(Number);
      process.kill(planner, 'SIGKILL');
      const ended = await up.exit({ what: 'triad up to stop after its planner died' });
      expect(ended.code).toBe(1);
      expect(ended.stdout).toMatch(/^stopping: planner exited with code null; its last lines:\n {2}\| info: /m);
      expect(others.filter(alive)).toEqual([]);
    } finally {
      up.child.kill('SIGKILL');
      await dropPrefix(prefix);
    }
  });

  it('names a service that cannot start and shows its last lines: the gateway port is in use', async () => {
    const prefix = `upbusy${randomBytes(3).toString('hex')}`;
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
    const up = startUp(['--port', String(port)], prefix);
    try {
      const pid = up.child.pid as number;
      const seen = new Set<number>();
      // Every service process it ever had, sampled until it ends.
      const ended = await eventually(
        async () => {
          for (const p of await childPids(pid)) seen.add(p);
          return up.child.exitCode !== null && up.exit({ what: 'triad up to end' });
        },
        { what: 'triad up to give up on the gateway', timeoutMs: 180_000, intervalMs: 100 },
      );
      expect(ended.code).toBe(1);
      expect(ended.stderr).toMatch(/^triad: gateway did not start: exited with code 1; its last lines:$/m);
      expect(ended.stderr).toMatch(
        new RegExp(`^ {2}\\| .*EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}`, 'm'),
      );
      expect(seen.size).toBeGreaterThanOrEqual(3);
      expect([...seen].filter(alive)).toEqual([]);
    } finally {
      up.child.kill('SIGKILL');
      busy.close();
      await dropPrefix(prefix);
    }
  });
});

describe('npm start', () => {
  it('leaves no service behind when its output pipe closes (npm start | head)', async () => {
    const prefix = `startpipe${randomBytes(3).toString('hex')}`;
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL, TRIAD_PREFIX: prefix };
    const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/start.js`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid as number;
    const seen = new Set<number>();
    try {
      let printed = '';
      child.stdout.on('data', (chunk) => {
        printed += chunk;
        // Like `head` once it has its lines: the reading end goes away while services start.
        if (/starting planner/.test(printed)) child.stdout.destroy();
      });
      const ended = new Promise((r) => child.once('exit', r));
      await eventually(
        async () => {
          for (const p of await childPids(pid)) seen.add(p);
          return child.exitCode !== null || child.signalCode !== null;
        },
        { what: 'npm start to end once its stdout is gone', timeoutMs: 180_000, intervalMs: 100 },
      );
      await ended;
      expect(seen.size).toBeGreaterThanOrEqual(3);
      await eventually(() => [...seen].every((p) => !alive(p)), {
        what: `the services it started (${[...seen].join(', ')}) to be gone`,
        timeoutMs: 10_000,
      });
    } finally {
      child.kill('SIGKILL');
      await dropPrefix(prefix);
    }
  });
});

describe('the triad launcher', () => {
  it('runs triad on Node 24 from the system node, and through npx', async () => {
    const run = promisify(execFile);
    // PATH without the project's node_modules/.bin: `node` is the machine's own, whatever version it is.
    const systemPath = (process.env.PATH ?? '')
      .split(':')
      .filter((d) => !d.includes('node_modules'))
      .join(':');
    const direct = await run('node', [`${REPO_ROOT}cli/bin/triad.js`, '--version'], { env: { PATH: systemPath } });
    expect(direct.stdout).toMatch(/^triad \d+\.\d+\.\d+ \(Node v24\./);
    const viaNpx = await run('npx', ['--no-install', 'triad', '--help'], { cwd: REPO_ROOT, env: { PATH: systemPath } });
    expect(viaNpx.stdout).toMatch(/^Usage: triad <command> \[options\]/);
    const version = await run('npx', ['--no-install', 'triad', '-v'], { cwd: REPO_ROOT, env: { PATH: systemPath } });
    expect(version.stdout).toMatch(/\(Node v24\./);
  });
});

describe('a metrics port in use', () => {
  it('is one clear line, and the service goes on working without serving metrics', async () => {
    const busy: Server = createServer();
    const port = await freePorts(1);
    await new Promise<void>((r) => busy.listen(port, '0.0.0.0', r));
    const env = { PATH: process.env.PATH, REDIS_URL, TRIAD_PREFIX: `metricsbusy${randomBytes(3).toString('hex')}` };
    const planner = await spawnService({ role: 'planner', env: { ...env, TRIAD_METRICS_PORT: String(port) } });
    try {
      const lines = planner.output().split('\n');
      expect(lines.filter((l) => /metrics are not served/.test(l))).toEqual([
        `metrics are not served: 0.0.0.0:${port} is in use by another process; give each process on one host its own TRIAD_METRICS_PORT`,
      ]);
      expect(planner.output()).not.toMatch(/EADDRINUSE|at Server\./);
      expect(planner.child.exitCode).toBeNull();
    } finally {
      await planner.stop();
      busy.close();
      await dropPrefix(env.TRIAD_PREFIX);
    }
  });
});
