import type { ParseArgsOptionsConfig } from 'node:util';
import type { TriadClient } from '@triad/client';

export type OptionValues = Record<string, string | boolean | undefined>;

/** What a command gets: its parsed arguments, a client of the gateway, and where to write. */
export interface CommandContext {
  args: string[];
  values: OptionValues;
  /** Machine output: one JSON document, or JSON lines for streams. */
  json: boolean;
  url: string;
  env: NodeJS.ProcessEnv;
  client: TriadClient;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  out(line: string): void;
  /** Progress and notes that are not the command's result. */
  note(line: string): void;
}

/** One `triad <name>` command. */
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text after the usage line's `triad ` prefix. */
  help: string;
  options: ParseArgsOptionsConfig;
  /** Resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Wrong arguments: reported as one line and exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A string option, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A positive integer option, or undefined; anything else is a usage error. */
export function intOption(values: OptionValues, name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new UsageError(`--${name} must be a positive whole number`);
  return Number(v);
}

/** Exactly the named positional arguments, or a usage error. */
export function positionals(ctx: CommandContext, names: string[], optional = 0): string[] {
  const required = names.length - optional;
  if (ctx.args.length < required) throw new UsageError(`missing ${names.slice(ctx.args.length).join(' ')}`);
  if (ctx.args.length > names.length) throw new UsageError(`unexpected argument ${ctx.args[names.length]}`);
  return ctx.args;
}

/** Writes a value as one JSON document. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}
