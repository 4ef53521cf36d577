import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@triad/shared';
import { ApiKeys, hasRole } from './api-keys.js';

describe('API keys', () => {
  it('parse name:key:roles entries, keys with ":" included', () => {
    const { apiKeys } = loadConfig({ TRIAD_API_KEYS: 'ops:secret1:admin, ci:a:b:c:submit+read' }).gateway;
    expect(apiKeys).toEqual([
      { name: 'ops', key: 'secret1', roles: ['admin'] },
      { name: 'ci', key: 'a:b:c', roles: ['submit', 'read'] },
    ]);
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
    expect(keys.match('secret2')).toEqual({ name: 'ci', roles: ['submit', 'read'] });
    expect(keys.match('secret')).toBeNull();
    expect(keys.match('')).toBeNull();
    expect(ApiKeys.fromHeaders({ authorization: 'Bearer secret1' })).toBe('secret1');
    expect(ApiKeys.fromHeaders({ 'x-api-key': 'secret2' })).toBe('secret2');
    expect(ApiKeys.fromHeaders({ authorization: 'Basic xyz' })).toBeNull();
  });

  it('let admin stand for every role', () => {
    expect(hasRole({ name: 'a', roles: ['admin'] }, ['approve'])).toBe(true);
    expect(hasRole({ name: 'r', roles: ['read'] }, ['submit'])).toBe(false);
    expect(hasRole({ name: 'r', roles: ['read'] }, ['read', 'approve'])).toBe(true);
  });
});
