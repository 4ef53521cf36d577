import { readFileSync } from 'node:fs';
import type { RedisClient } from '../queue/redis-connection.js';

/** The Lua scripts of the stores, one file each in ./lua (its header documents KEYS and ARGV). */
export type ScriptName =
  | 'create-run'
  | 'finish'
  | 'retire'
  | 'once'
  | 'advance'
  | 'admit'
  | 'request-approval'
  | 'decide-approval'
  | 'remember'
  | 'reserve-spend'
  | 'settle-spend'
  | 'slot-take'
  | 'slot-release'
  | 'unqueue'
  | 'seed'
  | 'goal-taken'
  | 'forget-results-queue'
  | 'memory-add'
  | 'memory-delete'
  | 'memory-delete-run'
  | 'memory-sweep'
  | 'memory-refresh'
  | 'memory-changes';

/** A Lua script bound to a connection: call it with its keys, then its arguments. */
export type LuaCommand = (...keysThenArgs: string[]) => Promise<unknown>;

const sources = new Map<ScriptName, { lua: string; numberOfKeys: number }>();

const read = (file: string) => readFileSync(new URL(`./lua/${file}.lua`, import.meta.url), 'utf8');

/** A script's text with its `-- @include <file>` lines replaced, and its key count, read from its header. */
function source(name: ScriptName): { lua: string; numberOfKeys: number } {
  let found = sources.get(name);
  if (!found) {
    const text = read(name);
    const lua = text.replace(/^-- @include (\S+)$/gm, (_, file: string) => read(file));
    const header = text.split('\n').filter((line) => line.startsWith('--'));
    const numberOfKeys = Math.max(
      0,
      ...header.flatMap((l) => [...l.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]))),
    );
    found = { lua, numberOfKeys };
    sources.set(name, found);
  }
  return found;
}

/**
 * Registers a script on the connection with ioredis' defineCommand, so each call sends its SHA (EVALSHA) instead of
 * its text; ioredis loads the script again when Redis answers NOSCRIPT (after a restart).
 */
export function luaCommand(redis: RedisClient, name: ScriptName): LuaCommand {
  const command = `triad_${name.replace(/-/g, '_')}`;
  if (!(command in redis)) redis.defineCommand(command, source(name));
  const fn = (redis as unknown as Record<string, LuaCommand>)[command];
  return (...args) => fn.apply(redis, args);
}
