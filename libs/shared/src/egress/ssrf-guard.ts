import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
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

// Labels of ipaddr.js's ranges (the IANA special-purpose registries, multicast and more): every range but
// `unicast` is off limits, as the executor's host, its network or some non-public service may answer there.
const LABELS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  deprecatedSiteLocal: 'site-local (deprecated)',
  reserved: 'reserved',
  benchmarking: 'benchmarking',
  discard: 'discard-only',
  teredo: 'Teredo',
  '6to4': '6to4',
  segmentRouting: 'segment routing',
};
// IPv6 ranges ipaddr.js does not name (yet), or names with a range that must not pass (NAT64 local-use).
const EXTRA = [
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['100:0:0:1::/64', 'dummy prefix'],
  ['64:ff9b:1::/48', 'NAT64 local-use'],
].map(([cidr, label]) => ({ range: ipaddr.IPv6.parseCIDR(cidr), label }));

const systemResolver: Resolver = async (host) => {
  const found = await dnsLookup(host, { all: true, order: 'verbatim' });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * Decides which URLs a guarded client (the HTTP tools, result webhooks) may reach. Only http and https, no
 * credentials, and no address in a loopback, private, link-local, CGNAT, multicast or other special-purpose range -
 * unless allowHosts names the host, the address or a CIDR holding it. The caller connects to the returned address, so a DNS answer that changes
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
  if (family === 4) {
    const range = ipaddr.IPv4.parse(address).range();
    if (range === 'unspecified') return 'unspecified ("this network")';
    return range === 'unicast' ? undefined : (LABELS[range] ?? `special-purpose (${range})`);
  }
  const ip = ipaddr.IPv6.parse(address);
  const range = ip.range();
  const extra = (range === 'unicast' || range === 'rfc6052') && EXTRA.find((e) => ip.match(e.range));
  if (extra) return extra.label;
  // Forms that carry an IPv4 address reach that IPv4 host: mapped ones directly, NAT64 through a translator.
  if (range === 'ipv4Mapped' || range === 'rfc6052') {
    const embedded = embeddedIpv4(ip);
    const inner = blockedReason(embedded, 4);
    return inner && (range === 'ipv4Mapped' ? inner : `NAT64 of ${embedded}, ${inner}`);
  }
  if (range === 'rfc6145') return `IPv4-translated (${embeddedIpv4(ip)})`;
  return range === 'unicast' ? undefined : (LABELS[range] ?? `special-purpose (${range})`);
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

// The last 32 bits of an IPv6 address as dotted IPv4.
function embeddedIpv4(ip: ipaddr.IPv6): string {
  const [hi, lo] = ip.parts.slice(-2);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}
