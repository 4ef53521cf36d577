import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runCli } from './cli-main.js';

async function triad(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

describe('triad argument handling', () => {
  it('prints the command list for --help (exit 0) and without a command (exit 2)', async () => {
    const help = await triad(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}submit +submit a goal/m);
    expect(help.stdout).toMatch(/^ {2}up +start the local stack/m);
    const none = await triad([]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/Usage: triad <command>/);
  });

  it("prints a command's help with its options", async () => {
    for (const argv of [
      ['reject', '--help'],
      ['help', 'reject'],
      ['--url', 'http://x', 'reject', '-h'],
    ]) {
      const r = await triad(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: triad reject <runId> <approvalId> --reason <text>/);
    }
  });

  it('answers wrong usage with one line and exit 2', async () => {
    expect(await triad(['frobnicate'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'triad: unknown command frobnicate (see triad --help)\n',
    });
    expect((await triad(['status'])).stderr).toBe('triad: missing <runId> (see triad status --help)\n');
    expect((await triad(['status', 'a', 'b'])).stderr).toBe('triad: unexpected argument b (see triad status --help)\n');
    expect((await triad(['submit', 'x', '--max-iterations', 'lots'])).code).toBe(2);
    expect((await triad(['approve', 'r', 'a', '--args', '[1]'])).stderr).toMatch(/--args must be a JSON object/);
    const unknown = await triad(['list', '--colour']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')).toHaveLength(2);
  });

  it('answers a wrong memory subcommand or option with one line and exit 2, before any request', async () => {
    const env = { TRIAD_URL: 'http://127.0.0.1:9' }; // nothing listens: a request would fail with exit 1
    const cases: [string[], RegExp][] = [
      [['memory'], /missing ls\|search\|add\|rm/],
      [['memory', 'frobnicate'], /unknown subcommand frobnicate/],
      [['memory', 'ls', '--kind', 'opinion'], /--kind must be one of fact, lesson/],
      [['memory', 'ls', 'extra'], /unexpected argument extra/],
      [['memory', 'search'], /missing <query>/],
      [['memory', 'search', 'x', '--min-score', '2'], /--min-score must be a number from -1 to 1/],
      [['memory', 'add'], /missing <text>/],
      [['memory', 'rm'], /missing <id>/],
      [['memory', 'rm', 'm1', '--run', 'r1'], /either <id> or --run/],
    ];
    for (const [argv, message] of cases) {
      const r = await triad(argv, env);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/\(see triad memory --help\)\n$/);
    }
    expect((await triad(['memory', '--help'])).stdout).toMatch(/^Usage: triad memory <ls\|search\|add\|rm>/);
  });

  it('takes the gateway and key from options before or after the command, else from the environment', async () => {
    const seen: { url?: string; auth?: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"not_found","message":"no run r9"}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const r = await triad(['--url', url, 'status', 'r9', '--key', 'k1']);
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'triad: no run r9\n' });
      await triad(['status', 'r9'], { TRIAD_URL: url, TRIAD_API_KEY: 'k2' });
      expect(seen).toEqual([
        { url: '/v1/runs/r9', auth: 'Bearer k1' },
        { url: '/v1/runs/r9', auth: 'Bearer k2' },
      ]);
    } finally {
      server.close();
    }
  });

  it('forks and replays with the bodies their options make, and prints the new run id', async () => {
    const seen: { url?: string; body: string }[] = [];
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ url: req.url, body });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ runId: 'child-1', created: true, url: '/v1/runs/child-1' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const forked = await triad(['--url', url, 'fork', 'p1', '--from', '2', '--model', 'm2', '--max-iterations', '4']);
      expect(forked).toEqual({ code: 0, stdout: 'started fork child-1\n', stderr: '' });
      expect((await triad(['--url', url, 'replay', 'p1'])).stdout).toBe('started replay child-1\n');
      await triad(['--url', url, 'replay', 'p1', '--live-model', '--no-live-tools', '--json']);
      expect(seen).toEqual([
        { url: '/v1/runs/p1/fork', body: '{"fromIteration":2,"model":"m2","budget":{"maxIterations":4}}' },
        { url: '/v1/runs/p1/replay', body: '{}' },
        { url: '/v1/runs/p1/replay', body: '{"liveModel":true,"toolsLive":false}' },
      ]);
      expect((await triad(['--url', url, 'fork', 'p1'])).stderr).toBe(
        'triad: missing --from <iteration> (see triad fork --help)\n',
      );
    } finally {
      server.close();
    }
  });

  it("submit --output-schema sends the file as the goal's outputSchema; an unreadable or non-JSON file is wrong usage", async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"runId":"r1","created":true,"url":"/v1/runs/r1"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = await mkdtemp(join(tmpdir(), 'triad-cli-'));
    try {
      const schema = { type: 'object', properties: {}, required: [], additionalProperties: false };
      await writeFile(join(dir, 's.json'), JSON.stringify(schema));
      await writeFile(join(dir, 'bad.json'), '{');
      const ok = await triad(['submit', 'g', '--output-schema', join(dir, 's.json'), '--url', url]);
      expect(ok).toEqual({ code: 0, stdout: 'submitted run r1\n', stderr: '' });
      expect(bodies).toEqual([{ goal: 'g', outputSchema: schema }]);
      const bad = await triad(['submit', 'g', '--output-schema', join(dir, 'bad.json'), '--url', url]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--output-schema: .*bad\.json is not JSON/);
      expect((await triad(['submit', 'g', '--output-schema', join(dir, 'none.json'), '--url', url])).code).toBe(2);
      expect(bodies).toHaveLength(1);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
