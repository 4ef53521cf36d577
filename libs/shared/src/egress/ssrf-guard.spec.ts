import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EgressError } from './egress-error.js';
import { guardedRequest } from './guarded-request.js';
import { blockedReason, pinnedLookup, type ResolvedAddress, type Resolver, SsrfGuard } from './ssrf-guard.js';

// A resolver that answers from a table and counts its calls, so no spec depends on (or reaches) real DNS.
function fakeResolver(table: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const resolve: Resolver = async (host) => {
    calls.push(host);
    const entry = table[host];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    const addresses = typeof entry === 'function' ? entry() : entry;
    return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

const refusedMessage = async (guard: SsrfGuard, url: string): Promise<string> => {
  const err = await guard.check(url).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EgressError);
  return (err as EgressError).message;
};

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 4, 'loopback'],
    ['127.255.0.9', 4, 'loopback'],
    ['10.1.2.3', 4, 'private'],
    ['172.16.0.1', 4, 'private'],
    ['172.31.255.255', 4, 'private'],
    ['192.168.1.1', 4, 'private'],
    ['169.254.169.254', 4, 'link-local'],
    ['100.64.0.1', 4, 'carrier-grade NAT'],
    ['100.127.255.255', 4, 'carrier-grade NAT'],
    ['0.0.0.0', 4, 'unspecified ("this network")'],
    ['224.0.0.1', 4, 'multicast'],
    ['255.255.255.255', 4, 'broadcast'],
    ['::1', 6, 'loopback'],
    ['::', 6, 'unspecified'],
    ['fc00::1', 6, 'private (unique local)'],
    ['fd12:3456::1', 6, 'private (unique local)'],
    ['fe80::1', 6, 'link-local'],
    ['ff02::1', 6, 'multicast'],
    ['::ffff:127.0.0.1', 6, 'loopback'],
    ['::ffff:7f00:1', 6, 'loopback'],
    ['::ffff:169.254.169.254', 6, 'link-local'],
    ['::ffff:10.0.0.1', 6, 'private'],
    ['64:ff9b::a9fe:a9fe', 6, 'NAT64 of 169.254.169.254, link-local'],
    ['64:ff9b::', 6, 'NAT64 of 0.0.0.0, unspecified ("this network")'],
  ] as const)('refuses %s as %s', (address, family, reason) => {
    expect(blockedReason(address, family)).toBe(reason);
  });

  it.each([
    ['8.8.8.8', 4],
    ['172.32.0.1', 4],
    ['100.128.0.1', 4],
    ['192.169.0.1', 4],
    ['2606:4700:4700::1111', 6],
    ['::ffff:8.8.8.8', 6],
    ['64:ff9b::808:808', 6],
  ] as const)('lets the public address %s through', (address, family) => {
    expect(blockedReason(address, family)).toBeUndefined();
  });
});

// Every entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries (plus multicast, the deprecated
// site-local and IPv4-compatible ranges), by its first and last address or, for IPv6, addresses inside it.
const SPECIAL_PURPOSE: [range: string, addresses: string[]][] = [
  ['0.0.0.0/8', ['0.0.0.0', '0.255.255.255']],
  ['10.0.0.0/8', ['10.0.0.0', '10.255.255.255']],
  ['100.64.0.0/10', ['100.64.0.0', '100.127.255.255']],
  ['127.0.0.0/8', ['127.0.0.0', '127.255.255.255']],
  ['169.254.0.0/16', ['169.254.0.0', '169.254.255.255']],
  ['172.16.0.0/12', ['172.16.0.0', '172.31.255.255']],
  ['192.0.0.0/24', ['192.0.0.0', '192.0.0.8', '192.0.0.9', '192.0.0.10', '192.0.0.170', '192.0.0.255']],
  ['192.0.2.0/24', ['192.0.2.0', '192.0.2.255']],
  ['192.31.196.0/24', ['192.31.196.0', '192.31.196.255']],
  ['192.52.193.0/24', ['192.52.193.0', '192.52.193.255']],
  ['192.88.99.0/24', ['192.88.99.0', '192.88.99.255']],
  ['192.168.0.0/16', ['192.168.0.0', '192.168.255.255']],
  ['192.175.48.0/24', ['192.175.48.0', '192.175.48.255']],
  ['198.18.0.0/15', ['198.18.0.0', '198.19.255.255']],
  ['198.51.100.0/24', ['198.51.100.0', '198.51.100.255']],
  ['203.0.113.0/24', ['203.0.113.0', '203.0.113.255']],
  ['224.0.0.0/4', ['224.0.0.0', '239.255.255.255']],
  ['240.0.0.0/4', ['240.0.0.0', '255.255.255.254']],
  ['255.255.255.255/32', ['255.255.255.255']],
  ['::/128', ['::']],
  ['::1/128', ['::1']],
  ['::/96 (IPv4-compatible)', ['::7f00:1', '::808:808']],
  ['::ffff:0:0/96 (IPv4-mapped, internal)', ['::ffff:7f00:1', '::ffff:192.0.2.1', '::ffff:198.18.0.1']],
  ['::ffff:0:0:0/96 (IPv4-translated)', ['::ffff:0:7f00:1', '::ffff:0:a00:1', '::ffff:0:a9fe:a9fe']],
  ['64:ff9b::/96 (NAT64, internal)', ['64:ff9b::7f00:1', '64:ff9b::c000:201']],
  ['64:ff9b:1::/48', ['64:ff9b:1::', '64:ff9b:1:ffff::808:808']],
  ['100::/64', ['100::', '100::ffff:ffff:ffff:ffff']],
  ['100:0:0:1::/64', ['100:0:0:1::', '100:0:0:1:ffff::1']],
  ['2001::/23', ['2001::1', '2001:1::1', '2001:1::2', '2001:1::3', '2001:1ff::1']],
  ['2001::/32 (Teredo)', ['2001:0:4136:e378::1']],
  ['2001:2::/48', ['2001:2::1']],
  ['2001:3::/32', ['2001:3::1']],
  ['2001:4:112::/48', ['2001:4:112::1']],
  ['2001:10::/28', ['2001:10::1']],
  ['2001:20::/28', ['2001:20::1', '2001:2f::1']],
  ['2001:30::/28', ['2001:30::1']],
  ['2001:db8::/32', ['2001:db8::', '2001:db8:ffff::1']],
  ['2002::/16 (6to4)', ['2002:7f00:1::', '2002:808:808::1']],
  ['2620:4f:8000::/48', ['2620:4f:8000::1']],
  ['3fff::/20', ['3fff::1', '3fff:fff::1']],
  ['5f00::/16', ['5f00::1']],
  ['fc00::/7', ['fc00::', 'fdff:ffff::1']],
  ['fe80::/10', ['fe80::', 'febf::1']],
  ['fec0::/10', ['fec0::1']],
  ['ff00::/8', ['ff00::', 'ff02::1']],
];

describe('special-purpose addresses', () => {
  const guard = new SsrfGuard([], fakeResolver({}).resolve);

  it.each(SPECIAL_PURPOSE)('refuses every address of %s', async (_range, addresses) => {
    for (const address of addresses) {
      const host = address.includes(':') ? `[${address}]` : address;
      expect(await refusedMessage(guard, `http://${host}/`)).toMatch(/^Refusing to connect to .*off limits/);
      expect(blockedReason(address, address.includes(':') ? 6 : 4)).toEqual(expect.any(String));
    }
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '192.0.1.255',
    '192.0.3.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::1',
    '::ffff:808:808',
    '64:ff9b::808:808',
  ])('lets the public address %s through', async (address) => {
    const host = address.includes(':') ? `[${address}]` : address;
    await expect(guard.check(`http://${host}/`)).resolves.toMatchObject({ address });
  });
});

describe('SsrfGuard.check', () => {
  it('returns the first resolved address of a public host, to connect to', async () => {
    const dnsFake = fakeResolver({ 'api.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    const guard = new SsrfGuard([], dnsFake.resolve);
    const target = await guard.check('https://API.example.com./v1?q=1');
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(target.url.href).toBe('https://api.example.com./v1?q=1');
    expect(dnsFake.calls).toEqual(['api.example.com']);
  });

  it('refuses a host when any of its addresses is internal', async () => {
    const guard = new SsrfGuard([], fakeResolver({ 'mixed.example': ['93.184.216.34', '10.0.0.7'] }).resolve);
    expect(await refusedMessage(guard, 'http://mixed.example/')).toMatch(/"mixed.example" \(10.0.0.7\): private/);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /"169.254.169.254": link-local/],
    ['http://127.0.0.1:8080/', /loopback/],
    ['http://2130706433/', /"127.0.0.1": loopback/],
    ['http://0x7f.1/', /"127.0.0.1": loopback/],
    ['http://[::1]/', /"::1": loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://[::ffff:a9fe:a9fe]/', /link-local/],
    ['http://0.0.0.0:22/', /unspecified/],
    ['http://localhost/', /"localhost" \(127.0.0.1\): loopback/],
    ['http://LOCALHOST./', /loopback/],
    ['http://db.localhost/', /loopback/],
    ['file:///etc/passwd', /Only http and https URLs are allowed, not "file:"/],
    ['ftp://example.com/x', /Only http and https/],
    ['http://user:secret@example.com/', /must not contain credentials/],
    ['http://user@example.com/', /must not contain credentials/],
    ['not a url', /is not a valid absolute URL/],
  ])('refuses %s before any connection or DNS query', async (url, message) => {
    const dnsFake = fakeResolver({});
    expect(await refusedMessage(new SsrfGuard([], dnsFake.resolve), url)).toMatch(message);
    expect(dnsFake.calls).toEqual([]);
  });

  it('lets allowHosts open a host name, an address (in any form) or a CIDR', async () => {
    const dnsFake = fakeResolver({ 'intranet.corp': ['10.1.2.3'], 'other.corp': ['10.9.9.9'], localhost: ['::1'] });
    const guard = new SsrfGuard(
      ['Intranet.Corp', '127.0.0.1', '192.168.0.0/16', '[::1]', 'localhost'],
      dnsFake.resolve,
    );
    await expect(guard.check('http://intranet.corp/')).resolves.toMatchObject({ address: '10.1.2.3' });
    await expect(guard.check('http://127.0.0.1:9/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(guard.check('http://[::ffff:127.0.0.1]/')).resolves.toMatchObject({ family: 6 });
    await expect(guard.check('http://192.168.44.5/')).resolves.toMatchObject({ address: '192.168.44.5' });
    await expect(guard.check('http://[::1]/')).resolves.toMatchObject({ address: '::1' });
    await expect(guard.check('http://localhost/')).resolves.toMatchObject({ address: '::1' });
    // Allowing one internal address or name opens nothing next to it.
    expect(await refusedMessage(guard, 'http://127.0.0.2/')).toMatch(/loopback/);
    expect(await refusedMessage(guard, 'http://other.corp/')).toMatch(/private/);
    expect(await refusedMessage(guard, 'http://10.1.2.3/')).toMatch(/private/);
  });

  it('refuses an allow-list entry that looks like a CIDR but is not one', () => {
    expect(() => new SsrfGuard(['10.0.0.0/33'])).toThrow('Invalid CIDR');
    expect(() => new SsrfGuard(['example.com/8'])).toThrow('Invalid CIDR');
  });

  it('reports unknown hosts as not found, and resolver hiccups as retryable', async () => {
    const flaky: Resolver = async () => {
      throw Object.assign(new Error('temporary failure'), { code: 'EAI_AGAIN' });
    };
    expect(await refusedMessage(new SsrfGuard([], fakeResolver({}).resolve), 'http://nope.example/')).toMatch(
      /"nope.example" was not found/,
    );
    await expect(new SsrfGuard([], flaky).check('http://x.example/')).rejects.toMatchObject({ retryable: true });
  });
});

describe('pinning the connection to the checked address', () => {
  let server: http.Server;
  let port: number;
  const hosts: string[] = [];
  const realLookup = dns.lookup;
  let systemLookups: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.end('pinned');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    // Node's own resolver, trapped: it must never be asked, and must never reach the network if it is.
    const trap = (host: string, ...rest: unknown[]) => {
      systemLookups.push(host);
      const callback = rest.at(-1) as (err: Error) => void;
      callback(Object.assign(new Error(`trapped lookup of ${host}`), { code: 'ENOTFOUND' }));
    };
    dns.lookup = trap as typeof dns.lookup;
  });
  afterAll(async () => {
    dns.lookup = realLookup;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers every lookup with the checked address, whatever shape the caller asks for', () => {
    const lookup = pinnedLookup('203.0.113.9', 4);
    const results: unknown[] = [];
    lookup('any.host', { all: true }, (_err, address) => results.push(address));
    lookup('any.host', {}, (_err, address, family) => results.push([address, family]));
    expect(results).toEqual([[{ address: '203.0.113.9', family: 4 }], ['203.0.113.9', 4]]);
  });

  it('connects to the address the guard checked, so a later DNS answer (a rebind) is never used', async () => {
    systemLookups = [];
    // Control: without pinning, Node asks its resolver (the trap) for the name.
    const unpinned = await new Promise<string>((resolve) => {
      http.get(`http://rebind.test:${port}/`, { agent: false }).once('error', (e) => resolve(e.message));
    });
    expect(unpinned).toBe('trapped lookup of rebind.test');
    expect(systemLookups).toEqual(['rebind.test']);

    systemLookups = [];
    let answers = 0;
    const dnsFake = fakeResolver({ 'rebind.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['169.254.169.254']) });
    const guard = new SsrfGuard(['127.0.0.1'], dnsFake.resolve);
    const policy = { allowHosts: ['127.0.0.1'], timeoutMs: 5_000, maxBytes: 1_000 };
    const init = { method: 'GET' as const, headers: {}, maxRedirects: 0, readBody: true };
    const res = await guardedRequest(
      guard,
      policy,
      { ...init, url: `http://rebind.test:${port}/` },
      new AbortController().signal,
    );
    expect(res.body.toString()).toBe('pinned');
    expect(hosts.at(-1)).toBe(`rebind.test:${port}`);
    expect(dnsFake.calls).toEqual(['rebind.test']);
    expect(systemLookups).toEqual([]);
    // The next call checks afresh and meets the rebound answer.
    await expect(
      guardedRequest(guard, policy, { ...init, url: `http://rebind.test:${port}/` }, new AbortController().signal),
    ).rejects.toThrow(/link-local/);
  });
});
