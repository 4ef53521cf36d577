import { createRequire } from 'node:module';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { TriadApiError, TriadClient } from '@triad/client';
import { ServiceStartError } from '../stack/service-readiness.js';
import { type Command, type CommandContext, UsageError } from './command.js';
import { COMMANDS } from './index.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';
// cli/package.json, the same from src/commands (tests) and dist/commands (built).
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  url: { type: 'string' },
  key: { type: 'string' },
  tenant: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

const GLOBAL_HELP = `Global options:
  --url <url>    the gateway (env TRIAD_URL, default ${DEFAULT_URL})
  --key <key>    API key (env TRIAD_API_KEY)
  --tenant <id>  with an admin key: the tenant to act for (env TRIAD_TENANT)
  --json         machine output: one JSON document, or JSON lines for streams
  -v, --version  triad's version and the Node it runs on
  -h, --help     this help`;

/** The process's surroundings, so the entry point stays the only place that touches `process`. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  signal: AbortSignal;
}

/**
 * Runs `triad <command> ...` and resolves to the exit code: 0 success, 1 failure (one `triad: <message>` line on
 * stderr), 2 wrong usage, 130 interrupted.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const at = commandIndex(argv);
  const name = argv[at];
  const command = COMMANDS.find((c) => c.name === name);
  const rest = at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
  if (name === 'help') {
    const topic = COMMANDS.find((c) => c.name === argv[at + 1]);
    io.stdout(`${topic ? commandHelp(topic) : mainHelp()}\n`);
    return 0;
  }
  if (at < 0 && argv.some((a) => a === '--version' || a === '-v')) {
    io.stdout(`triad ${VERSION} (Node ${process.version})\n`);
    return 0;
  }
  if (at < 0) {
    const asked = argv.some((a) => a === '--help' || a === '-h');
    (asked ? io.stdout : io.stderr)(`${mainHelp()}\n`);
    return asked ? 0 : 2;
  }
  if (!command) return usage(io, `unknown command ${name} (see triad --help)`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, `${(err as Error).message.split('\n')[0]} (see triad ${command.name} --help)`);
  }
  const values = parsed.values as CommandContext['values'];
  if (values.help) {
    io.stdout(`${commandHelp(command)}\n`);
    return 0;
  }
  const url = (values.url as string | undefined) ?? (io.env.TRIAD_URL || DEFAULT_URL);
  const apiKey = (values.key as string | undefined) ?? (io.env.TRIAD_API_KEY || undefined);
  const tenant = (values.tenant as string | undefined) ?? (io.env.TRIAD_TENANT || undefined);
  const ctx: CommandContext = {
    args: parsed.positionals,
    values,
    json: values.json === true,
    url,
    env: io.env,
    client: new TriadClient({ baseUrl: url, apiKey, tenant }),
    signal: io.signal,
    out: (line) => io.stdout(`${line}\n`),
    note: (line) => (values.json ? io.stderr(`${line}\n`) : io.stdout(`${line}\n`)),
  };
  try {
    return await command.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) return usage(io, `${err.message} (see triad ${command.name} --help)`);
    if (io.signal.aborted) return 130;
    io.stderr(`triad: ${describe(err)}\n`);
    return 1;
  }
}

// The command is the first argument that is neither an option nor the value of one.
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--url' || a === '--key' || a === '--tenant') i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

function describe(err: unknown): string {
  if (err instanceof TriadApiError) return err.describe();
  // A service of `triad up` that did not start: the reason is in its own last lines.
  if (err instanceof ServiceStartError) return err.describe();
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] || 'unknown error';
}

function usage(io: CliIo, message: string): number {
  io.stderr(`triad: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return 2;
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `Usage: triad <command> [options]

Submit goals to Triad, follow their runs live and answer approval gates, through the HTTP gateway.

Commands:
${list}

${GLOBAL_HELP}

Run \`triad <command> --help\` for a command's options.`;
}

function commandHelp(c: Command): string {
  return `Usage: triad ${c.help}\n\n${GLOBAL_HELP}`;
}
