// The publishable packages as a stranger gets them: `npm pack` @triad/contracts and @triad/client, install the two
// tarballs into a fresh folder outside the workspace (zod comes from the registry), import them from ESM, and
// type-check a consumer file against the packed declarations.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { COMMAND_WAIT_MS, WatchedChild } from './support/child-process.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['libs/contracts', 'libs/client'];
let dir: string;
let consumer: string;

/** Runs a command to its end; a non-zero exit fails with what it printed. */
async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const child = new WatchedChild(spawn(cmd, args, { cwd, env: { ...process.env, npm_config_loglevel: 'error' } }));
  const r = await child.exit({ what: `${cmd} ${args.join(' ')}`, timeoutMs: COMMAND_WAIT_MS * 2 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'triad-packages-'));
  consumer = join(dir, 'consumer');
  const packed = JSON.parse(
    await run('npm', ['pack', '--json', '--pack-destination', dir, ...PACKAGES.flatMap((p) => ['-w', p])], REPO_ROOT),
  ) as { filename: string; files: { path: string }[] }[];
  await run('mkdir', ['-p', consumer], dir);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const tarballs = packed.map((p) => join(dir, p.filename));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], consumer);
  packedFiles = packed.map((p) => p.files.map((f) => f.path));
}, COMMAND_WAIT_MS * 5);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
let packedFiles: string[][] = [];

describe('publishable packages', () => {
  it('pack only what a consumer needs: compiled code and declarations, no specs, fixtures or build info', () => {
    for (const files of packedFiles) {
      expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
      expect(files.filter((f) => /\.spec\.|\.fixture\.|tsbuildinfo|^src\//.test(f))).toEqual([]);
    }
  });

  it('install from the tarballs alone: the client depends on @triad/contracts and zod, nothing of the workspace', async () => {
    const lock = JSON.parse(await readFile(join(consumer, 'package-lock.json'), 'utf8'));
    const installed = Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/'));
    expect(installed.sort()).toEqual([
      'node_modules/@triad/client',
      'node_modules/@triad/contracts',
      'node_modules/zod',
    ]);
    for (const p of ['@triad/client', '@triad/contracts']) {
      const manifest = JSON.parse(await readFile(join(consumer, 'node_modules', p, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({ license: 'Apache-2.0', type: 'module' });
      expect(manifest.private).toBeUndefined();
    }
  });

  it('import from ESM: parse a goal, verify a signed webhook, and call a gateway through the client', async () => {
    const script = `
      import { createServer } from 'node:http';
      import { GoalRequest, signWebhook, verifyWebhook } from '@triad/contracts';
      import { TriadApiError, TriadClient } from '@triad/client';
      const goal = GoalRequest.parse({ goal: 'Which city is densest?' });
      const body = '{"runId":"r1"}';
      const signature = signWebhook('s3cret', 1700000000, body);
      const server = createServer((req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: 'no run ' + req.url } }));
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const client = new TriadClient({ baseUrl: 'http://127.0.0.1:' + server.address().port });
      const error = await client.get('nope').catch((e) => e);
      server.close();
      console.log(JSON.stringify({
        budget: goal.budget.maxIterations,
        verified: verifyWebhook('s3cret', '1700000000', body, signature, 0, 1700000000),
        forged: verifyWebhook('s3cret', '1700000000', body + ' ', signature, 0, 1700000000),
        apiError: error instanceof TriadApiError ? [error.status, error.code] : String(error),
      }));`;
    await writeFile(join(consumer, 'use.mjs'), script);
    const out = JSON.parse(await run(process.execPath, ['use.mjs'], consumer));
    expect(out).toEqual({ budget: 8, verified: true, forged: false, apiError: [404, 'not_found'] });
  });

  it("resolve the packed declarations from TypeScript, and they are the contracts' real types", async () => {
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2024',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(REPO_ROOT, 'node_modules/@types')],
        },
        files: ['use.ts'],
      }),
    );
    await writeFile(
      join(consumer, 'use.ts'),
      `import { type GoalRequestInput, type RunRecord, verifyWebhook } from '@triad/contracts';
       import { TriadClient } from '@triad/client';
       const client = new TriadClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: 'k' });
       const request: GoalRequestInput = { goal: 'g', budget: { maxIterations: 3 } };
       export async function main(): Promise<string> {
         const { runId } = await client.submit(request, { idempotencyKey: 'order-1' });
         const run: RunRecord = await client.get(runId);
         // @ts-expect-error a goal is text: the declarations must say so, not 'any'
         await client.submit({ goal: 42 });
         const ok: boolean = verifyWebhook('s', '1', '{}', 'v1=00', 300);
         return run.status + String(ok);
       }
`,
    );
    await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
  });
});
