import type { RedisClient } from '../queue/redis-connection.js';
import { type LuaCommand, luaCommand } from './lua-scripts.js';
import { TriadKeys } from './triad-keys.js';

/** BullMQ's largest job priority. */
export const MAX_JOB_PRIORITY = 2 ** 21 - 1;
/** A backlog counter left alone this long (no goal enqueued) is forgotten, so drift after crashes does not last. */
const BACKLOG_TTL_S = 24 * 3600;

/**
 * Fair intake across tenants on the one `goals` queue. A goal job is enqueued with a BullMQ priority equal to its
 * tenant's backlog of goals not yet taken in (divided by the tenant's weight), so BullMQ hands intake the tenants'
 * goals interleaved: a tenant that just enqueued 2 000 goals has priorities 1 to 2 000, and another tenant's next goal
 * gets priority 1 and is taken in among the first. Intake gives the place back when it takes the goal in. The
 * gateway enqueues every goal this way; a producer on the queue may too (see the README), and a goal job without a
 * priority is taken before all of them, as BullMQ takes unprioritized jobs first.
 */
export class GoalBacklog {
  readonly keys: TriadKeys;
  private readonly taken: LuaCommand;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new TriadKeys(prefix);
    this.taken = luaCommand(redis, 'goal-taken');
  }

  /** The priorities of `count` goals of a tenant about to be enqueued, in order. */
  async priorities(tenant: string, count: number, weight = 1): Promise<number[]> {
    const key = this.keys.goalBacklog(tenant);
    const [[, last]] = (await this.redis.multi().incrby(key, count).expire(key, BACKLOG_TTL_S).exec()) as [
      [null, number],
      unknown,
    ];
    return Array.from({ length: count }, (_, i) => fairPriority(last - count + 1 + i, weight));
  }

  /** Intake took in one of the tenant's goals that had a fair priority. */
  async takenIn(tenant: string): Promise<void> {
    await this.taken(this.keys.goalBacklog(tenant));
  }
}

/** The BullMQ priority of a tenant's goal at `place` in its backlog. */
export const fairPriority = (place: number, weight: number) =>
  Math.max(1, Math.min(MAX_JOB_PRIORITY, Math.ceil(place / weight)));
