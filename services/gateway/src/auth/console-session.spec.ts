import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { ApiException } from '../http/api-exception.js';
import { authenticate } from './api-key.guard.js';
import { ApiKeys } from './api-keys.js';
import { ConsoleSessions, SESSION_COOKIE, sessionCookieOf } from './console-session.js';

const keys = new ApiKeys([
  { name: 'ops', key: 'ops-secret', roles: ['submit', 'read', 'approve'], tenant: 'default' },
  { name: 'viewer', key: 'viewer-secret', roles: ['read'], tenant: 'acme' },
]);
const sessions = new ConsoleSessions(keys);
const ops = { name: 'ops', roles: ['submit', 'read', 'approve'] as const, tenant: 'default' };

const request = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as Request;
const statusOf = (fn: () => unknown) => {
  try {
    fn();
    return 200;
  } catch (e) {
    return (e as ApiException).getStatus();
  }
};

describe('console sessions', () => {
  it('stand for the key that signed in, without carrying it', () => {
    const value = sessions.issue({ ...ops, roles: [...ops.roles] });
    expect(value).not.toContain('ops-secret');
    expect(sessions.verify(value)).toEqual({ ...ops, roles: [...ops.roles] });
  });

  it('refuse a forged name, a changed mac, a session signed with another key, garbage and an old session', () => {
    const now = Date.now();
    const value = sessions.issue({ ...ops, roles: [...ops.roles] }, now);
    const [, issued, mac] = value.split('.');
    const asViewer = `${Buffer.from('viewer').toString('base64url')}.${issued}.${mac}`;
    expect(sessions.verify(asViewer, now)).toBeNull();
    expect(sessions.verify(`${value.slice(0, -2)}xx`, now)).toBeNull();
    const other = new ConsoleSessions(
      new ApiKeys([{ name: 'ops', key: 'another', roles: ['admin'], tenant: 'default' }]),
    );
    expect(other.verify(value, now)).toBeNull(); // the key was replaced: its sessions end
    for (const bad of ['', 'a.b', 'a.b.c.d', '...', `${value}.x`]) expect(sessions.verify(bad, now)).toBeNull();
    expect(sessions.verify(value, now + 13 * 3_600_000)).toBeNull();
  });

  it('are read from the Cookie header among others', () => {
    expect(sessionCookieOf(request('GET', { cookie: `a=1; ${SESSION_COOKIE}=v.1.m; b=2` }))).toBe('v.1.m');
    expect(sessionCookieOf(request('GET', { cookie: 'a=1' }))).toBeNull();
    expect(sessionCookieOf(request('GET', {}))).toBeNull();
  });

  it('authenticate reads, and changes only from a page of the gateway, with the roles of the key', () => {
    const cookie = `${SESSION_COOKIE}=${sessions.issue({ ...ops, roles: [...ops.roles] })}`;
    expect(statusOf(() => authenticate(keys, request('GET', { cookie }), ['read']))).toBe(200);
    expect(statusOf(() => authenticate(keys, request('GET', { cookie }), ['admin']))).toBe(403);
    // A state-changing request on the cookie alone: refused, unless the browser marks it same-origin ...
    expect(statusOf(() => authenticate(keys, request('POST', { cookie }), ['submit']))).toBe(403);
    const sameOrigin = { cookie, 'sec-fetch-site': 'same-origin' };
    expect(statusOf(() => authenticate(keys, request('POST', sameOrigin), ['submit']))).toBe(200);
    // ... or it carries an Origin (checked by the cross-site guard) and is JSON.
    const origin = { cookie, origin: 'http://gw', 'content-type': 'application/json' };
    expect(statusOf(() => authenticate(keys, request('POST', origin), ['submit']))).toBe(200);
    const form = { cookie, origin: 'http://gw', 'content-type': 'text/plain' };
    expect(statusOf(() => authenticate(keys, request('POST', form), ['submit']))).toBe(403);
    expect(statusOf(() => authenticate(keys, request('GET', { cookie: `${SESSION_COOKIE}=x.y.z` }), ['read']))).toBe(
      401,
    );
    // A key in a header wins over a session: it is what the caller chose to present.
    const both = { cookie, authorization: 'Bearer viewer-secret' };
    expect(authenticate(keys, request('GET', both), ['read']).name).toBe('viewer');
  });
});
