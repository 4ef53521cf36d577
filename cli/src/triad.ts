#!/usr/bin/env node
// The `triad` command: a client of the HTTP gateway (and `triad up`, the local stack). See `triad --help`.
import { runCli } from './commands/cli-main.js';

// Every signal, at any time, stops the command and whatever it started (`triad up`: every service). Listeners
// stay on, so a second signal does not kill this process by default and leave its services running.
const interrupted = new AbortController();
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(name, () => interrupted.abort());
}
// A closed pipe (`triad events ... | head`) is not an error worth a stack trace.
process.stdout.on('error', () => process.exit(0));

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: interrupted.signal,
});
process.exitCode = code;
// Open sockets (a cancelled stream's keep-alive) must not hold the process once the command is done.
process.stdout.write('', () => process.exit(code));
