import type { TenantLimits } from '../config/triad-config.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { type LuaCommand, luaCommand } from './lua-scripts.js';
import { TriadKeys } from './triad-keys.js';

/** The spend caps of TenantLimits: what a tenant may use across its runs in one UTC day. */
export type SpendCaps = Pick<TenantLimits, 'maxCostUsdPerDay' | 'maxTokensPerDay'>;
export type SpendLimit = 'maxCostUsdPerDay' | 'maxTokensPerDay';

/** Whether a tenant has a spend cap at all (a tenant without one never pays a round trip for it). */
export const hasSpendCap = (caps: SpendCaps): boolean =>
  caps.maxCostUsdPerDay !== undefined || caps.maxTokensPerDay !== undefined;

/** Tokens and cost of one model call. */
export interface SpendAmount {
  tokens: number;
  costUsd: number;
}

export type Reservation =
  | { reserved: true; day: string; held: boolean }
  /** `exhausted`: what was spent today and this call alone would cross the cap; else calls in flight hold the rest. */
  | { reserved: false; limit: SpendLimit; message: string; exhausted: boolean };

/** One tenant's usage of one UTC day. */
export interface DayUsage {
  day: string;
  costUsd: number;
  tokens: number;
  runs: number;
  modelCalls: number;
}

/** Usage hashes live this long after their last write: a week of history, then Redis forgets them. */
export const USAGE_TTL_SECONDS = 8 * 24 * 3600;
const NANO = 1e9;
const DAY_MS = 24 * 3600 * 1000;

/** The UTC day of a time, as `YYYY-MM-DD`: the window of the daily caps. */
export const utcDay = (now: number): string => new Date(now).toISOString().slice(0, 10);
/** Seconds until the next UTC midnight, when the daily caps start again (at least 1). */
export const secondsToNextUtcDay = (now: number): number =>
  Math.max(1, Math.ceil((Math.floor(now / DAY_MS + 1) * DAY_MS - now) / 1000));

/** The caps in the units the usage hash counts in: tokens, and nano-USD. */
const capsInUnits = (caps: SpendCaps): Record<SpendLimit, number | undefined> => ({
  maxTokensPerDay: caps.maxTokensPerDay,
  maxCostUsdPerDay: caps.maxCostUsdPerDay === undefined ? undefined : Math.floor(caps.maxCostUsdPerDay * NANO),
});

const usd = (nano: number) => `$${(nano / NANO).toFixed(6).replace(/0{1,4}$/, '')}`;

/** How a refused reservation is reported (the run's error, the model's and the caller's): the tenant's limit first. */
export function spendLimitMessage(
  tenant: string,
  limit: SpendLimit,
  max: number,
  figures: { spent: number; reserved: number; call: number },
): string {
  const cost = limit === 'maxCostUsdPerDay';
  const show = (n: number) => (cost ? usd(n) : `${n} tokens`);
  const head = `tenant ${tenant}: ${limit} ${cost ? `$${max}` : max} reached (${show(figures.spent)} spent today`;
  const reserved = figures.reserved > 0 ? `, ${show(figures.reserved)} held by calls in flight` : '';
  return `${head}${reserved}, this model call may use up to ${show(figures.call)})`;
}

/**
 * Per tenant and UTC day, in one Redis hash (tokens, costNano, reservedTokens, reservedCostNano, runs, modelCalls,
 * exhausted): what the tenant's model calls used and hold, and how many runs it started. Cost is kept in integer
 * nano-USD so reservations and settlements add up exactly. Model calls under a cap reserve an upper bound first
 * (lua/reserve-spend.lua) and settle after (lua/settle-spend.lua).
 */
export class TenantUsageStore {
  readonly keys: TriadKeys;
  private readonly lua: Record<'reserve' | 'settle', LuaCommand>;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new TriadKeys(prefix);
    this.lua = { reserve: luaCommand(redis, 'reserve-spend'), settle: luaCommand(redis, 'settle-spend') };
  }

  /**
   * Reserves `bound` against the tenant's caps under `id` until `deadline` (then any later reservation releases it).
   * The same id again, while held, is not reserved twice.
   */
  async reserve(
    tenant: string,
    id: string,
    bound: SpendAmount,
    caps: SpendCaps,
    now: number,
    deadline: number,
  ): Promise<Reservation> {
    const day = utcDay(now);
    const max = capsInUnits(caps);
    const res = (await this.lua.reserve(
      this.keys.tenantUsage(tenant, day),
      this.keys.tenantReservations(tenant),
      this.keys.tenantReserved(tenant),
      id,
      String(now),
      String(deadline),
      day,
      String(Math.ceil(bound.tokens)),
      String(Math.ceil(bound.costUsd * NANO)),
      String(max.maxTokensPerDay ?? ''),
      String(max.maxCostUsdPerDay ?? ''),
      String(USAGE_TTL_SECONDS),
    )) as [number, string, string?, string?, string?, number?];
    if (res[0] === 1) return { reserved: true, day, held: res[1] === 'held' };
    const limit = res[1] as SpendLimit;
    const [spent, reserved, call] = res.slice(2, 5).map(Number) as [number, number, number];
    const message = spendLimitMessage(tenant, limit, caps[limit] as number, { spent, reserved, call });
    return { reserved: false, limit, message, exhausted: res[5] === 1 };
  }

  /** Releases reservation `id` (made on `day`) and adds what the call used; true if it was still held. */
  async settle(tenant: string, id: string, day: string, used: SpendAmount): Promise<boolean> {
    const res = await this.lua.settle(
      this.keys.tenantUsage(tenant, day),
      this.keys.tenantReservations(tenant),
      this.keys.tenantReserved(tenant),
      id,
      day,
      String(Math.max(0, Math.round(used.tokens))),
      String(Math.max(0, Math.round(used.costUsd * NANO))),
      String(USAGE_TTL_SECONDS),
    );
    return res === 1;
  }

  /** Counts a run started by the tenant today. */
  async countRun(tenant: string, now = Date.now()): Promise<void> {
    const key = this.keys.tenantUsage(tenant, utcDay(now));
    await this.redis.multi().hincrby(key, 'runs', 1).expire(key, USAGE_TTL_SECONDS).exec();
  }

  /**
   * Why a new goal of the tenant is refused today, or null: a cap is reached, or a model call was refused because what
   * was spent today and the call would have crossed it (the day is `exhausted`).
   */
  async refusal(tenant: string, caps: SpendCaps, now = Date.now()): Promise<string | null> {
    if (!hasSpendCap(caps)) return null;
    const [tokens, costNano, exhausted] = await this.redis.hmget(
      this.keys.tenantUsage(tenant, utcDay(now)),
      'tokens',
      'costNano',
      'exhausted',
    );
    const spent = { maxTokensPerDay: Number(tokens ?? 0), maxCostUsdPerDay: Number(costNano ?? 0) };
    const max = capsInUnits(caps);
    for (const limit of ['maxCostUsdPerDay', 'maxTokensPerDay'] as const) {
      const cap = max[limit];
      if (cap === undefined || (spent[limit] < cap && exhausted !== limit)) continue;
      const figure = limit === 'maxCostUsdPerDay' ? usd(spent[limit]) : `${spent[limit]} tokens`;
      return `tenant ${tenant}: ${limit} ${caps[limit]} reached (${figure} spent today); new goals are refused until 00:00 UTC`;
    }
    return null;
  }

  /** The tenant's usage of the last `days` UTC days, today first (days without usage count zero). */
  async usage(tenant: string, days: number, now = Date.now()): Promise<DayUsage[]> {
    const dayList = Array.from({ length: days }, (_, i) => utcDay(now - i * DAY_MS));
    const p = this.redis.pipeline();
    for (const day of dayList) p.hmget(this.keys.tenantUsage(tenant, day), 'costNano', 'tokens', 'runs', 'modelCalls');
    const replies = (await p.exec()) ?? [];
    return dayList.map((day, i) => {
      const [err, v] = replies[i] ?? [new Error('no reply')];
      if (err) throw err;
      const [costNano, tokens, runs, modelCalls] = (v as (string | null)[]).map((x) => Number(x ?? 0)) as number[];
      return {
        day,
        costUsd: (costNano ?? 0) / NANO,
        tokens: tokens ?? 0,
        runs: runs ?? 0,
        modelCalls: modelCalls ?? 0,
      };
    });
  }
}
