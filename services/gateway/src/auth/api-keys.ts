import { createHash, timingSafeEqual } from 'node:crypto';
import { type ApiKeyConfig, type ApiRole, DEFAULT_TENANT } from '@triad/shared';

/**
 * Who is calling: the API key's name (recorded as the actor of cancels and decisions), its roles, and the tenant
 * whose runs it sees and starts (an admin key's own, or the one it names in `X-Triad-Tenant`).
 */
export interface Caller {
  name: string;
  roles: ApiRole[];
  tenant: string;
}

/** Every caller is this one when no API keys are configured (the gateway then listens on 127.0.0.1 only). */
export const ANONYMOUS_ADMIN: Caller = { name: 'anonymous', roles: ['admin'], tenant: DEFAULT_TENANT };

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Looks up API keys in constant time: both sides are hashed, and every key is compared. */
export class ApiKeys {
  private readonly keys: (Caller & { hash: Buffer })[];

  constructor(keys: ApiKeyConfig[]) {
    this.keys = keys.map((k) => ({ name: k.name, roles: k.roles, tenant: k.tenant, hash: digest(k.key) }));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The caller a presented key belongs to, or null. */
  match(presented: string): Caller | null {
    const hash = digest(presented);
    let found: Caller | null = null;
    for (const k of this.keys) {
      if (timingSafeEqual(hash, k.hash) && !found) found = { name: k.name, roles: k.roles, tenant: k.tenant };
    }
    return found;
  }

  /** The caller of the key named `name`, or null (the console's sessions name their key). */
  byName(name: string): Caller | null {
    const k = this.keys.find((k) => k.name === name);
    return k ? { name: k.name, roles: k.roles, tenant: k.tenant } : null;
  }

  /** A secret only the holder of the key named `name` could derive (its hash), or null: signs console sessions. */
  secretOf(name: string): Buffer | null {
    return this.keys.find((k) => k.name === name)?.hash ?? null;
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
