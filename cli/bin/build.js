// Builds the project (`npm run build`: TypeScript and assets), saying so when it takes more than a moment: the
// first build takes about a minute, a later one with nothing changed a few seconds. Plain JavaScript that runs on
// any Node, so that it works before anything is built. Exits with the build's code.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `npm run build --silent` in the repository; resolves with its exit code. */
export function build({ say = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const started = Date.now();
  const npm = process.env.npm_execpath;
  // Under npm (npm start, npx) its own CLI script is known; elsewhere the npm on PATH.
  const [command, args] = npm?.endsWith('.js')
    ? [process.execPath, [npm, 'run', 'build', '--silent']]
    : ['npm', ['run', 'build', '--silent']];
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  const notice = setTimeout(
    () => say('building the project (TypeScript; the first build takes a minute or two, later ones seconds)…'),
    2_000,
  );
  return new Promise((resolve) => {
    child.once('error', (err) => {
      say(`could not run npm run build: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(notice);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      if (code === 0 && Date.now() - started > 2_000) say(`built in ${seconds} s`);
      if (code !== 0) say(`the build failed (${signal ?? `exit code ${code}`}); see above`);
      resolve(code ?? 1);
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await build();
