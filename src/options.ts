/**
 * @module options
 * Every option salvo takes, with its one default, validated once: an unknown
 * key is an error naming it (a misspelt `maxbodysize` must not silently
 * leave the 1 MiB default in force), and so is a value of the wrong shape.
 */
import { SalvoError } from './errors';
import { POISON_ACTIONS, type PoisonAction } from './json-body';
import { MAX_HEADER_ENTRIES } from './layout';
import { compileTrustProxy, type CompiledTrust, type ProxyHeader, type TrustProxy } from './trust-proxy';
import { LOGGER_KEYS, type LoggerOptions } from './logger';
import { resolveCookieSecret, type CookieSecret, type CookieSigner } from './cookie-signing';

export interface AppOptions extends LoggerOptions {
  /** Put error messages and stack traces in 5xx bodies (never in production). Default false. */
  debug?: boolean;
  /** Largest request head in bytes (431 past it). Default 16384. */
  maxHeaderBytes?: number;
  /** Most header fields in one request (431 past it). Default 2000 (node:http's maxHeadersCount); at most 32768. */
  maxHeaders?: number;
  /** Largest request body in bytes (413 past it). Default 1 MiB. */
  maxBodySize?: number;
  /** Longest request-target in bytes (414 past it). Default 8192. */
  maxUrlLength?: number;
  /** Unsent response bytes per connection before salvo stops answering and reading it. Default 1 MiB. */
  highWaterMark?: number;
  /** Milliseconds unsent output may wait without the client taking any of it; then the connection closes. Default 30000. */
  sendTimeout?: number;
  /** Answers pending on one connection (async handlers) before it stops reading. Default 1024. */
  maxPendingResponses?: number;
  /** Milliseconds a request may wait for its answer; then 503 and req.signal aborts; 0: no limit. A route's `timeout` overrides it. Default 300000 (node:http's requestTimeout). */
  requestTimeout?: number;
  /** Milliseconds for a request head to arrive once its first byte has (408). Default 10000. */
  headersTimeout?: number;
  /** Milliseconds for a whole request with a body (head and body) to arrive once its first byte has (408). Default 30000. */
  bodyTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open. Default 5000. */
  keepAliveTimeout?: number;
  /**
   * Dispatch the reads of one event-loop turn together, after the poll phase, in one
   * callback scope (docs/API.md): a client that batches on process.nextTick (postgres.js)
   * then gets the requests of every connection of the turn in one go. Answers that settle
   * in microtasks leave with the turn's flush instead of their batch's write. Default false.
   */
  coalesceTurn?: boolean;
  /** req.json() and an own `__proto__` key: 'error' (400, the default, as fastify), 'remove' or 'ignore'. */
  onProtoPoisoning?: PoisonAction;
  /** req.json() and a `constructor.prototype` key: 'error' (400, the default), 'remove' or 'ignore'. */
  onConstructorPoisoning?: PoisonAction;
  /**
   * Which peers' forwarding headers decide req.ip, req.protocol and req.host
   * (src/trust-proxy.ts): true, a hop count, addresses/CIDRs, or a predicate.
   * Default off: the socket peer is the client.
   */
  trustProxy?: TrustProxy;
  /** The header family trusted proxies write: 'x-forwarded' (X-Forwarded-For/-Proto/-Host, the default) or 'forwarded' (RFC 7239). */
  proxyHeader?: ProxyHeader;
  /**
   * Signs cookies (`res.cookie(name, value, { signed: true })`, `req.unsignCookie()`),
   * src/cookie-signing.ts: a secret of at least 16 bytes, or a list of them (the first
   * signs, all verify: key rotation).
   */
  cookieSecret?: CookieSecret | CookieSecret[];
}

/** The options resolved here (trustProxy compiled); the logging ones are resolved by src/logger.ts. */
export type ResolvedOptions = Omit<Required<Omit<AppOptions, keyof LoggerOptions>>, 'trustProxy' | 'proxyHeader' | 'cookieSecret'> & {
  /** Compiled once here; null when off. */
  trustProxy: CompiledTrust | null;
  /** The cookieSecret keys, imported once; null when not set. */
  cookieSecret: CookieSigner | null;
};

const INT_OPTIONS: Record<string, number> = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 2000,
  maxBodySize: 1024 * 1024,
  maxUrlLength: 8192,
  highWaterMark: 1024 * 1024,
  sendTimeout: 30_000,
  maxPendingResponses: 1024,
  requestTimeout: 300_000,
  headersTimeout: 10_000,
  bodyTimeout: 30_000,
  keepAliveTimeout: 5_000,
};
const OTHER_OPTIONS = ['debug', 'coalesceTurn', 'onProtoPoisoning', 'onConstructorPoisoning', 'trustProxy', 'proxyHeader', 'cookieSecret', ...LOGGER_KEYS];
/** Options where 0 means "no limit". */
const ZERO_OFF = ['requestTimeout'];

/** A timeout in ms: 0 (none) or a positive integer. */
export function timeoutMs(name: string, v: unknown, def: number): number {
  if (v === 0) return 0;
  return positiveInt(name, v, def);
}

export function positiveInt(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 0x7fffffff) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Throws SALVO_ERR_INVALID_ARG for the first key of `o` not in `known`. */
export function checkKeys(what: string, o: object, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `unknown ${what} option: ${k}`);
  }
}

export function objectArg(what: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `${what} must be an object`);
  return v as Record<string, unknown>;
}

function poison(name: string, v: unknown): PoisonAction {
  if (v === undefined) return 'error';
  if (!POISON_ACTIONS.includes(v as PoisonAction)) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} must be one of ${POISON_ACTIONS.join(', ')}, got ${String(v)}`);
  }
  return v as PoisonAction;
}

export function resolveAppOptions(options: unknown): ResolvedOptions {
  const o = objectArg('options', options);
  checkKeys('App', o, [...Object.keys(INT_OPTIONS), ...OTHER_OPTIONS]);
  for (const k of ['debug', 'coalesceTurn']) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new SalvoError('SALVO_ERR_INVALID_ARG', `${k} must be a boolean`);
  }
  const r: Record<string, unknown> = {
    debug: o.debug === true,
    coalesceTurn: o.coalesceTurn === true,
    onProtoPoisoning: poison('onProtoPoisoning', o.onProtoPoisoning),
    onConstructorPoisoning: poison('onConstructorPoisoning', o.onConstructorPoisoning),
    trustProxy: compileTrustProxy(o.trustProxy, o.proxyHeader),
    cookieSecret: resolveCookieSecret(o.cookieSecret),
  };
  for (const [k, def] of Object.entries(INT_OPTIONS)) r[k] = ZERO_OFF.includes(k) ? timeoutMs(k, o[k], def) : positiveInt(k, o[k], def);
  // The addon's header table holds MAX_HEADER_ENTRIES fields per batch: one request must fit.
  if ((r.maxHeaders as number) > MAX_HEADER_ENTRIES) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `maxHeaders must be at most ${MAX_HEADER_ENTRIES}, got ${String(r.maxHeaders)}`);
  }
  return r as unknown as ResolvedOptions;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
  /** SO_REUSEPORT (Linux): several servers (threads, processes) share the port; default false (exclusive). */
  reusePort?: boolean;
}

export const LISTEN_KEYS = ['port', 'host', 'backlog', 'reusePort'];

export const ROUTE_KEYS = ['schema', 'bodyLimit', 'bodyStream', 'onRequest', 'preHandler', 'onSend', 'onResponse', 'onError', 'timeout'];

/** The schema keys of a route: the request parts validated (src/validation.ts) and the response serializers. */
const SCHEMA_KEYS = ['body', 'querystring', 'params', 'headers', 'response'];

export function checkSchema(method: string, path: string, schema: unknown): Record<string, unknown> | undefined {
  if (schema === undefined) return undefined;
  const s = objectArg(`schema for ${method} ${path}`, schema);
  for (const k of Object.keys(s)) {
    if (!SCHEMA_KEYS.includes(k)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `unknown schema option: ${k} (for ${method} ${path})`);
  }
  return s;
}
