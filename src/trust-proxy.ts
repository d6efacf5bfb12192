/**
 * @module trust-proxy
 * Who the client is behind reverse proxies: the `trustProxy` option compiled
 * once (at `new App()`) into a predicate `(addr, hop) => boolean`, and the
 * walk of the forwarding chain that `req.ip`, `req.ips`, `req.protocol` and
 * `req.host` run on first read (nothing here runs for a request that does
 * not read them).
 *
 * The walk is proxy-addr's (express, fastify): hop 0 is the socket peer,
 * hop 1 the address it reports (the last X-Forwarded-For entry, or the
 * `for=` of the last Forwarded element), and so on outward; the first hop
 * that is not trusted is the client (every hop trusted: the farthest one).
 * Proxies append, so everything beyond the first untrusted hop was written
 * by someone untrusted and is never looked at; an untrusted socket peer's
 * forwarding headers are ignored entirely.
 *
 * Only one header family is read (`proxyHeader`: X-Forwarded-* by default,
 * or RFC 7239 Forwarded), never both: a proxy that sets one family passes
 * the other through from the client untouched, so reading both would let a
 * client choose its own address.
 *
 * A header this module cannot read (an address that is not an IP address,
 * 'unknown', an obfuscated `_node`, a Forwarded value that does not parse)
 * never throws: the forwarding headers are then ignored and the request
 * looks as if it came straight from its socket peer.
 */
import { SalvoError } from './errors';

/** A user predicate, as proxy-addr's: `hop` 0 is the socket peer. */
export type TrustFunction = (addr: string, hop: number) => boolean;
/** `true`, a hop count, addresses/CIDRs/names (a list or a comma-separated string), or a predicate. */
export type TrustProxy = boolean | number | string | readonly string[] | TrustFunction;
export type ProxyHeader = 'x-forwarded' | 'forwarded';
export const PROXY_HEADERS: readonly ProxyHeader[] = ['x-forwarded', 'forwarded'];

/** The option compiled: null means off (the request is its socket peer). */
export interface CompiledTrust {
  readonly trust: TrustFunction;
  readonly header: ProxyHeader;
}

/** What the walk found: `ips` runs from the socket peer to the client. */
export interface ForwardedView {
  readonly ip: string;
  readonly ips: readonly string[];
  readonly protocol: 'http' | 'https';
  readonly host: string;
}

// ---------------------------------------------------------------------------
// Addresses: every address is 8 groups of 16 bits, IPv4 as IPv4-mapped IPv6
// (::ffff:a.b.c.d), so '127.0.0.1' and '::ffff:127.0.0.1' are one address and
// a v4 CIDR is the mapped range with 96 more prefix bits (proxy-addr compares
// a mapped address with v4 ranges the same way).

type Groups = number[];

const DEC_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/; // no leading zeros: '010' is not 8 or 10
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseV4(s: string): number[] | null {
  const p = s.split('.');
  if (p.length !== 4) return null;
  for (const o of p) if (!DEC_OCTET.test(o)) return null;
  return [(Number(p[0]) << 8) | Number(p[1]), (Number(p[2]) << 8) | Number(p[3])];
}

function parseV6(s: string): Groups | null {
  const zone = s.indexOf('%');
  if (zone === 0 || zone === s.length - 1) return null;
  if (zone > 0) s = s.slice(0, zone); // a zone id (fe80::1%eth0) names an interface, not an address
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const side = (part: string, last: boolean): Groups | null => {
    if (part === '') return [];
    const out: Groups = [];
    const g = part.split(':');
    for (let i = 0; i < g.length; i++) {
      if (last && i === g.length - 1 && g[i].includes('.')) {
        const v4 = parseV4(g[i]);
        if (v4 === null) return null;
        out.push(v4[0], v4[1]);
      } else if (HEX_GROUP.test(g[i])) out.push(parseInt(g[i], 16));
      else return null;
    }
    return out;
  };
  if (halves.length === 1) {
    const all = side(halves[0], true);
    return all !== null && all.length === 8 ? all : null;
  }
  const head = side(halves[0], false);
  const tail = side(halves[1], true);
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** An IPv4 or IPv6 address (no brackets, no port) as 8 groups, or null. */
export function parseIp(s: string): Groups | null {
  if (s.includes(':')) return parseV6(s);
  const v4 = parseV4(s);
  return v4 === null ? null : [0, 0, 0, 0, 0, 0xffff, v4[0], v4[1]];
}

interface Range {
  readonly net: Groups;
  readonly bits: number;
}

function inRange(a: Groups, r: Range): boolean {
  for (let g = 0, left = r.bits; left > 0; g++, left -= 16) {
    const mask = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff;
    if (((a[g] ^ r.net[g]) & mask) !== 0) return false;
  }
  return true;
}

/** proxy-addr's names for ranges. */
const NAMED: Record<string, readonly string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function bad(detail: string): never {
  throw new SalvoError('SALVO_ERR_INVALID_ARG', `trustProxy: ${detail}`);
}

/** Bits of a contiguous IPv4 netmask ('255.255.0.0' = 16), or -1. */
function maskBits(s: string): number {
  const v4 = parseV4(s);
  if (v4 === null) return -1;
  const inv = ~((v4[0] << 16) | v4[1]) >>> 0; // the host bits: contiguous iff 2^k - 1
  return (inv & (inv + 1)) === 0 ? Math.clz32(inv) : -1;
}

/** One entry of a trustProxy list: an address, a CIDR (v4 bits, v4 netmask, v6 bits). */
function parseRange(entry: string): Range {
  const slash = entry.indexOf('/');
  const addr = slash < 0 ? entry : entry.slice(0, slash);
  const net = parseIp(addr);
  if (net === null) bad(`${JSON.stringify(entry)} is not an IP address, a CIDR range or one of ${Object.keys(NAMED).join(', ')}`);
  const v4 = !addr.includes(':');
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const p = entry.slice(slash + 1);
    if (/^\d{1,3}$/.test(p)) bits = Number(p);
    else if (v4 && p.includes('.')) bits = maskBits(p);
    else bits = -1;
    if (!(bits >= 0 && bits <= max)) bad(`${JSON.stringify(entry)} has a bad prefix length or netmask`);
  }
  // A v4 range, and a v6 range written as a mapped address (::ffff:10.0.0.0/104), cover mapped addresses.
  return { net, bits: v4 ? bits + 96 : bits };
}

function compileList(entries: readonly string[]): TrustFunction {
  const ranges: Range[] = [];
  for (const raw of entries) {
    if (typeof raw !== 'string') bad(`a list entry must be a string, got ${typeof raw}`);
    const e = raw.trim();
    const named = NAMED[e];
    if (Object.prototype.hasOwnProperty.call(NAMED, e)) for (const r of named) ranges.push(parseRange(r));
    else ranges.push(parseRange(e));
  }
  if (ranges.length === 0) return () => false;
  return (addr) => {
    const a = parseIp(addr);
    if (a === null) return false;
    for (const r of ranges) if (inRange(a, r)) return true;
    return false;
  };
}

/**
 * The trustProxy option as a predicate, or null when it is off (undefined,
 * false, 0, an empty list).  Throws SALVO_ERR_INVALID_ARG for anything else
 * that is not one of the documented forms.
 */
export function compileTrustProxy(value: unknown, header: unknown): CompiledTrust | null {
  if (header !== undefined && !PROXY_HEADERS.includes(header as ProxyHeader)) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `proxyHeader must be one of ${PROXY_HEADERS.join(', ')}, got ${String(header)}`);
  }
  const h = (header ?? 'x-forwarded') as ProxyHeader;
  let trust: TrustFunction;
  if (value === undefined || value === false || value === 0) return null;
  if (value === true) trust = () => true;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) bad(`a hop count must be an integer 0 to 2^31 - 1, got ${value}`);
    const n = value;
    trust = (_addr, hop) => hop < n;
  } else if (typeof value === 'string') {
    const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length === 0) bad('an empty string trusts nothing (use false)');
    trust = compileList(list);
  } else if (Array.isArray(value)) {
    if (value.length === 0) return null;
    trust = compileList(value as string[]);
  } else if (typeof value === 'function') trust = value as TrustFunction;
  else bad(`must be a boolean, a hop count, an address list or a function, got ${value === null ? 'null' : typeof value}`);
  return { trust, header: h };
}

// ---------------------------------------------------------------------------
// Header values.

/**
 * A node as a forwarding header names it: 'a.b.c.d', 'a.b.c.d:port', an
 * IPv6 address bare or in brackets, '[v6]:port'.  Returns the address text
 * (no brackets, no port), or null ('unknown', '_hidden', garbage).
 */
export function parseNode(raw: string): string | null {
  const s = raw.trim();
  let addr = s;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    const rest = s.slice(close + 1);
    if (rest !== '' && !/^:(\d{1,5}|_[A-Za-z0-9._-]+)$/.test(rest)) return null;
    addr = s.slice(1, close);
    return addr.includes(':') && parseV6(addr) !== null ? addr : null;
  }
  const colon = s.indexOf(':');
  if (colon >= 0 && s.indexOf(':', colon + 1) < 0) {
    // exactly one colon: IPv4 with a port (an IPv6 address has at least two)
    if (!/^(\d{1,5}|_[A-Za-z0-9._-]+)$/.test(s.slice(colon + 1))) return null;
    addr = s.slice(0, colon);
    return parseV4(addr) !== null ? addr : null;
  }
  return parseIp(addr) !== null ? addr : null;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** One element of a Forwarded header: its for=, proto=, host= (unquoted). */
export interface ForwardedElement {
  for?: string;
  proto?: string;
  host?: string;
}

/**
 * RFC 7239 section 4: `Forwarded = 1#forwarded-element`, an element is
 * `forwarded-pair *( ";" forwarded-pair )`, a pair `token "=" ( token /
 * quoted-string )`.  Returns the elements in header order, or null when the
 * value does not parse (then it is ignored as a whole: a half-read header
 * could shift which element names which hop).  A parameter twice in one
 * element is an error (7239 section 4: "MUST NOT occur more than once").
 */
export function parseForwarded(v: string): ForwardedElement[] | null {
  const out: ForwardedElement[] = [];
  let el: ForwardedElement & Record<string, string | undefined> = {};
  let seen = new Set<string>();
  let empty = true; // the current element has no pair yet
  let i = 0;
  const n = v.length;
  const ws = () => {
    while (i < n && (v[i] === ' ' || v[i] === '\t')) i++;
  };
  for (;;) {
    ws();
    if (i >= n) break;
    if (v[i] === ',') {
      // empty list elements are allowed and ignored (RFC 9110 5.6.1)
      if (!empty) out.push(el);
      el = {};
      seen = new Set();
      empty = true;
      i++;
      continue;
    }
    if (v[i] === ';') {
      i++;
      continue;
    }
    const ks = i;
    while (i < n && TCHAR.test(v[i])) i++;
    if (i === ks || v[i] !== '=') return null;
    const key = v.slice(ks, i).toLowerCase();
    i++; // '='
    let value = '';
    if (v[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return null; // unterminated
        const c = v[i];
        if (c === '"') break;
        if (c === '\\') {
          i++;
          if (i >= n) return null;
        }
        value += v[i];
        i++;
      }
      i++; // closing quote
    } else {
      const vs = i;
      while (i < n && TCHAR.test(v[i])) i++;
      if (i === vs) return null;
      value = v.slice(vs, i);
    }
    if (seen.has(key)) return null;
    seen.add(key);
    if (key === 'for' || key === 'proto' || key === 'host') el[key] = value;
    empty = false;
    ws();
    if (i < n && v[i] !== ';' && v[i] !== ',') return null;
  }
  if (!empty) out.push(el);
  return out;
}

// host = IP-literal / IPv4address / reg-name, then an optional port (RFC 3986 3.2.2)
const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|[A-Za-z0-9\-._~!$&'()*+;=%]+)(?::\d{0,5})?$/;

/** A host[:port] value, or null if it is not one. */
function validHost(s: string | undefined): string | null {
  if (s === undefined) return null;
  const h = s.trim();
  const m = HOST.exec(h);
  if (m === null) return null;
  if (m[1] !== undefined && parseV6(m[1]) === null) return null;
  return h;
}

function validProto(s: string | undefined): 'http' | 'https' | null {
  if (s === undefined) return null;
  const p = s.trim().toLowerCase();
  return p === 'http' || p === 'https' ? p : null;
}

/** The fields of the request the walk reads (all occurrences of a field joined with ', '). */
export interface FieldSource {
  _field(name: string): string | undefined;
}

function splitList(v: string | undefined): string[] {
  if (v === undefined) return [];
  // nginx and others write 'a, b'; empty entries (',,') carry nothing
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Walks the chain for one request.  `peer` is the socket peer's address,
 * `hostHeader` the Host field ('' if none).  Never throws for any header
 * value; a user predicate that throws does (that is the app's own bug, and
 * the lifecycle answers it 500).
 */
export function resolveForwarded(c: CompiledTrust, peer: string, hostHeader: string, req: FieldSource): ForwardedView {
  const direct: ForwardedView = { ip: peer, ips: [peer], protocol: 'http', host: hostHeader };
  if (!c.trust(peer, 0)) return direct;
  const ips = [peer];
  if (c.header === 'forwarded') {
    const raw = req._field('forwarded');
    const els = raw === undefined ? [] : parseForwarded(raw);
    if (els === null) return direct;
    // element j from the end (hop j + 1) was appended by hop j about the one before it
    let hop = 0;
    for (let j = els.length - 1; j >= 0; j--) {
      const addr = els[j].for === undefined ? null : parseNode(els[j].for as string);
      if (addr === null) return direct;
      ips.push(addr);
      hop++;
      if (j === 0 || !c.trust(addr, hop)) {
        // the client: its element says how it reached the proxy that met it
        const e = els[j];
        return { ip: addr, ips, protocol: validProto(e.proto) ?? 'http', host: validHost(e.host) ?? hostHeader };
      }
    }
    return direct; // no elements: the trusted peer forwarded nothing
  }
  const xff = splitList(req._field('x-forwarded-for'));
  let client = -1; // index in xff of the client's entry; -1: the peer itself
  for (let j = xff.length - 1, hop = 1; j >= 0; j--, hop++) {
    const addr = parseNode(xff[j]);
    if (addr === null) return direct;
    ips.push(addr);
    client = j;
    if (!c.trust(addr, hop)) break;
  }
  // X-Forwarded-Proto/Host: proxies usually overwrite them (one entry, from the
  // proxy nearest to salvo, which is trusted); when every proxy appended (as
  // many entries as X-Forwarded-For) the entry beside the client's is the one
  // written by the proxy that met the client.
  const pick = (name: string): string | undefined => {
    const list = splitList(req._field(name));
    if (list.length === 0) return undefined;
    return client >= 0 && list.length === xff.length ? list[client] : list[list.length - 1];
  };
  return {
    ip: ips[ips.length - 1],
    ips,
    protocol: validProto(pick('x-forwarded-proto')) ?? 'http',
    host: validHost(pick('x-forwarded-host')) ?? hostHeader,
  };
}
