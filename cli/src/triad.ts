#!/usr/bin/env node
// The `triad` command: a client of the HTTP gateway (and `triad up`, the local stack). See `triad --help`.
import { runCli } from './commands/cli-main.js';

const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.once('SIGTERM', () => interrupted.abort());
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
