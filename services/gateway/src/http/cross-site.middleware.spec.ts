import { describe, expect, it } from '@jest/globals';
import { isLoopbackHost } from './cross-site.middleware.js';

describe('loopback Host headers', () => {
  it.each([
    'localhost',
    'localhost:8080',
    'LOCALHOST',
    'app.localhost:1',
    '127.0.0.1:80',
    '127.255.0.9',
    '[::1]:8080',
    '[::ffff:127.0.0.1]',
  ])('accepts %s', (host) => expect(isLoopbackHost(host)).toBe(true));
  it.each([
    undefined,
    '',
    'evil.example',
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    '10.0.0.1:8080',
    '[::2]',
    '0.0.0.0',
    '[::]',
  ])('refuses %s', (host) => expect(isLoopbackHost(host)).toBe(false));
});
