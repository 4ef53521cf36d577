import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig, ApiRole } from '@triad/shared';

/** Who is calling: the API key's name (recorded as the actor of cancels and decisions) and its roles. */
export interface Caller {
  name: string;
  roles: ApiRole[];
}

/** Every caller is this one when no API keys are configured (the gateway then listens on 127.0.0.1 only). */
export const ANONYMOUS_ADMIN: Caller = { name: 'anonymous', roles: ['admin'] };

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Looks up API keys in constant time: both sides are hashed, and every key is compared. */
export class ApiKeys {
  private readonly keys: { name: string; roles: ApiRole[]; hash: Buffer }[];

  constructor(keys: ApiKeyConfig[]) {
    this.keys = keys.map((k) => ({ name: k.name, roles: k.roles, hash: digest(k.key) }));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The caller a presented key belongs to, or null. */
  match(presented: string): Caller | null {
    const hash = digest(presented);
    let found: Caller | null = null;
    for (const k of this.keys) if (timingSafeEqual(hash, k.hash) && !found) found = { name: k.name, roles: k.roles };
    return found;
  }

  /** The key from `Authorization: Bearer <key>` or `X-API-Key`, or null. */
  static fromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
    const auth = headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m) return m[1];
    }
    const key = headers['x-api-key'];
    return typeof key === 'string' && key ? key : null;
  }
}

/** Whether a caller holds one of the roles (admin holds them all). */
export const hasRole = (caller: Caller, anyOf: ApiRole[]) =>
  caller.roles.includes('admin') || anyOf.some((r) => caller.roles.includes(r));
