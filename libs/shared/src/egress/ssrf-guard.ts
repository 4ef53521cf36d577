import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { EgressError } from './egress-error.js';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses; injectable so specs need no DNS. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** A URL that passed the guard, with the address the connection must use. */
export interface CheckedTarget extends ResolvedAddress {
  url: URL;
}

type Range = [network: string, prefix: number, label: string];

// Addresses an agent must not reach on its own: the executor's host, its network, cloud metadata endpoints.
// BlockList matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules by itself.
const BLOCKED_RANGES: Range[] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['fc00::', 7, 'private (unique local)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];
const RANGES = BLOCKED_RANGES.map(([network, prefix, label]) => ({ list: subnet(network, prefix), label }));
// NAT64 embeds an IPv4 address in the last 32 bits; on an IPv6-only network it may reach private IPv4 hosts.
const NAT64 = subnet('64:ff9b::', 96);

const systemResolver: Resolver = async (host) => {
  const found = await dnsLookup(host, { all: true, order: 'verbatim' });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * Decides which URLs a guarded client (the HTTP tools, result webhooks) may reach. Only http and https, no credentials, and no address in a
 * loopback, private, link-local, CGNAT, multicast or reserved range - unless allowHosts names the host, the
 * address or a CIDR holding it. The caller connects to the returned address, so a DNS answer that changes
 * between check and connect (rebinding) cannot redirect the request.
 */
export class SsrfGuard {
  private readonly hosts = new Set<string>();
  private readonly addresses = new BlockList();

  /**
   * Entries: host names ("api.example.com"), addresses ("10.0.0.5", "[::1]") or CIDRs ("10.1.0.0/16");
   * `allowListName` is the setting a refusal points the operator to.
   */
  constructor(
    allowHosts: readonly string[],
    private readonly resolve: Resolver = systemResolver,
    private readonly allowListName = 'TRIAD_HTTP_ALLOW_HOSTS',
  ) {
    for (const raw of allowHosts) {
      const entry = normalizeHost(raw);
      const [network, prefix] = entry.split('/');
      const family = isIP(network);
      if (prefix !== undefined) {
        const bits = Number(prefix);
        if (!family || !/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
          throw new Error(`Invalid CIDR in ${allowListName}: "${raw}"`);
        }
        this.addresses.addSubnet(network, bits, family === 4 ? 'ipv4' : 'ipv6');
      } else if (family) {
        this.addresses.addAddress(network, family === 4 ? 'ipv4' : 'ipv6');
      } else {
        this.hosts.add(entry);
      }
    }
  }

  /** Parses and checks a URL and picks the address to connect to; throws EgressError when it is refused. */
  async check(rawUrl: string, signal?: AbortSignal): Promise<CheckedTarget> {
    const url = parseUrl(rawUrl);
    const host = normalizeHost(url.hostname);
    const literal = isIP(host);
    const hostAllowed = this.hosts.has(host);
    // RFC 6761: these names are loopback by definition, whatever a resolver says.
    if (!literal && !hostAllowed && (host === 'localhost' || host.endsWith('.localhost'))) {
      throw this.refusal(host, '127.0.0.1', 'loopback');
    }
    const found = literal ? [{ address: host, family: literal as 4 | 6 }] : await this.lookup(host, signal);
    if (found.length === 0) throw new EgressError('unresolved', `Host "${host}" has no addresses`);
    if (!hostAllowed) {
      for (const { address, family } of found) {
        if (this.addresses.check(address, family === 4 ? 'ipv4' : 'ipv6')) continue;
        const reason = blockedReason(address, family);
        if (reason) throw this.refusal(host, address, reason);
      }
    }
    return { url, ...found[0] };
  }

  private refusal(host: string, address: string, reason: string): EgressError {
    const where = host === address ? `"${host}"` : `"${host}" (${address})`;
    return new EgressError(
      'blocked_address',
      `Refusing to connect to ${where}: ${reason} addresses are off limits. ` +
        `Only an operator can allow such hosts (${this.allowListName}).`,
    );
  }

  private async lookup(host: string, signal?: AbortSignal): Promise<ResolvedAddress[]> {
    signal?.throwIfAborted();
    try {
      const pending = this.resolve(host);
      if (!signal) return await pending;
      // dns.lookup cannot be cancelled; stop waiting for it instead.
      return await new Promise<ResolvedAddress[]>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA')
        throw new EgressError('unresolved', `Host "${host}" was not found`);
      throw new EgressError('unresolved', `Cannot resolve host "${host}" (${code ?? String(err)})`, {
        retryable: true,
        cause: err,
      });
    }
  }
}

/** The reason `address` is off limits (e.g. "loopback"), or undefined when it is a public address. */
export function blockedReason(address: string, family: 4 | 6): string | undefined {
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const range = RANGES.find((r) => r.list.check(address, type));
  if (range) return range.label;
  if (family === 6 && NAT64.check(address, 'ipv6')) {
    const embedded = lastIpv4(address);
    const inner = blockedReason(embedded, 4);
    return inner && `NAT64 of ${embedded}, ${inner}`;
  }
  return undefined;
}

/** A `lookup` for http.request that answers every query with the already-checked address. */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_host, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function parseUrl(raw: string): URL {
  const url = URL.parse(raw);
  if (!url) throw new EgressError('invalid_url', `"${raw}" is not a valid absolute URL`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressError('invalid_url', `Only http and https URLs are allowed, not "${url.protocol}"`);
  }
  if (url.username || url.password) {
    throw new EgressError('invalid_url', 'URLs must not contain credentials (user:password@)');
  }
  return url;
}

// Lower case, no IPv6 brackets, no trailing dot: "Example.COM." and "example.com" are the same host.
function normalizeHost(host: string): string {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

function subnet(network: string, prefix: number): BlockList {
  const list = new BlockList();
  list.addSubnet(network, prefix, isIP(network) === 4 ? 'ipv4' : 'ipv6');
  return list;
}

// The last 32 bits of an IPv6 address as dotted IPv4; the URL parser normalizes it to hex groups first.
function lastIpv4(address: string): string {
  const normal = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head, tail = ''] = normal.split('::');
  const groups = normal.includes('::')
    ? [...head.split(':').filter(Boolean), ...Array(8).fill('0'), ...tail.split(':').filter(Boolean)]
    : head.split(':');
  const [hi, lo] = groups.slice(-2).map((g) => Number.parseInt(g, 16));
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}
