import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@triad/shared';
import { ApiKeys, hasRole } from './api-keys.js';

describe('API keys', () => {
  it('parse name:key:roles entries, keys with ":" included, in the default tenant', () => {
    const { apiKeys } = loadConfig({ TRIAD_API_KEYS: 'ops:secret1:admin, ci:a:b:c:submit+read' }).gateway;
    expect(apiKeys).toEqual([
      { name: 'ops', key: 'secret1', roles: ['admin'], tenant: 'default' },
      { name: 'ci', key: 'a:b:c', roles: ['submit', 'read'], tenant: 'default' },
    ]);
  });

  it('parse name:key:roles:tenant entries', () => {
    const { apiKeys } = loadConfig({ TRIAD_API_KEYS: 'a:k1:read:acme, b:x:y:submit+read:globex' }).gateway;
    expect(apiKeys).toEqual([
      { name: 'a', key: 'k1', roles: ['read'], tenant: 'acme' },
      { name: 'b', key: 'x:y', roles: ['submit', 'read'], tenant: 'globex' },
    ]);
    // Not a tenant id (upper case): the last part is then read as the roles, which it is not.
    expect(() => loadConfig({ TRIAD_API_KEYS: 'c:k3:read:Acme' })).toThrow(ConfigError);
  });

  it('refuse unknown roles, empty keys and duplicate names at boot', () => {
    for (const bad of ['ops:k:root', 'ops::admin', 'a:k1:read,a:k2:read', 'nokey']) {
      expect(() => loadConfig({ TRIAD_API_KEYS: bad })).toThrow(ConfigError);
    }
  });

  it('match a presented key to its caller, and nothing else', () => {
    const keys = new ApiKeys(
      loadConfig({ TRIAD_API_KEYS: 'ops:secret1:admin,ci:secret2:submit+read' }).gateway.apiKeys,
    );
    expect(keys.match('secret2')).toEqual({ name: 'ci', roles: ['submit', 'read'], tenant: 'default' });
    expect(keys.match('secret')).toBeNull();
    expect(keys.match('')).toBeNull();
    expect(ApiKeys.fromHeaders({ authorization: 'Bearer secret1' })).toBe('secret1');
    expect(ApiKeys.fromHeaders({ 'x-api-key': 'secret2' })).toBe('secret2');
    expect(ApiKeys.fromHeaders({ authorization: 'Basic xyz' })).toBeNull();
  });

  it('let admin stand for every role', () => {
    expect(hasRole({ name: 'a', roles: ['admin'], tenant: 'default' }, ['approve'])).toBe(true);
    expect(hasRole({ name: 'r', roles: ['read'], tenant: 'default' }, ['submit'])).toBe(false);
    expect(hasRole({ name: 'r', roles: ['read'], tenant: 'default' }, ['read', 'approve'])).toBe(true);
  });
});
