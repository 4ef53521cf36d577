import type { Redis } from 'ioredis';

/** A Lua script bound to a connection: call it with its keys, then its arguments. */
export type LuaCommand = (...keysThenArgs: string[]) => Promise<unknown>;

/**
 * Registers a Lua script on the connection with ioredis' defineCommand, so each call sends its SHA (EVALSHA)
 * instead of the script text; ioredis loads the script again when Redis answers NOSCRIPT (after a restart).
 */
export function luaCommand(redis: Redis, name: string, numberOfKeys: number, lua: string): LuaCommand {
  if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, LuaCommand>)[name];
  return (...args) => command.apply(redis, args);
}
