/**
 * @module request
 * A request is a view of the bytes it arrived in: method, target, headers
 * and body are offsets, and each is turned into a JS value only when a
 * handler reads it (then cached).
 *
 * Every request is its own object for its whole life (nothing a handler can
 * keep is pooled).  The bytes it views are the read slab of its batch, which
 * the next read overwrites, so:
 *  - a request answered inside its batch is *ended* with it: what was read
 *    before stays readable; reading an undecoded part afterwards throws
 *    SALVO_ERR_REQUEST_ENDED (never shows the bytes that replaced it);
 *  - a request that outlives its batch (async handler, deferred, onResponse
 *    hooks) is *detached*: its own bytes are copied out of the slab, once, as
 *    one latin1 string (offsets stay valid: one char per byte), so it holds
 *    exactly its own bytes and stays readable for as long as it is kept.
 * `req.body` is a copy in an ArrayBuffer of its own: a kept Buffer can never
 * alias memory that another request's bytes will reuse.
 */
import {
  HDR_STRIDE, METHODS, R_BODY_LEN, R_BODY_OFF, R_FLAGS, R_HDR_COUNT, R_HDR_START, R_METHOD,
  R_METHOD_LEN, R_METHOD_OFF, R_PARAM_COUNT, R_PARAMS, R_MINOR, R_PATH_LEN, R_PATH_OFF, R_TARGET_LEN, R_TARGET_OFF, F_KEEP_ALIVE,
} from './layout';
import type { Readable } from 'node:stream';
import { requestStream } from './body-stream';
import { parseCookies } from './cookies';
import { noSecret, type CookieSigner, type UnsignResult } from './cookie-signing';
import { SalvoError } from './errors';
import { parseJson, type PoisonPolicy } from './json-body';
import { NullObject, parseQuery, percentDecode, type Query } from './query';
import type { Params } from './router';
import { resolveForwarded, type CompiledTrust, type ForwardedView } from './trust-proxy';
import { NOOP_LOGGER, type Logger, type ReqLog, type RequestEnv } from './logger';

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;
const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;
const EMPTY = new Uint8Array(0);
const EMPTY_BODY = Buffer.alloc(0);
const NO_NAMES: readonly string[] = [];
const NO_PARAMS = Object.freeze({});

export type Headers = Record<string, string | string[]>;

/** A row's parameter offsets and lengths, copied (the row table is reused by the next batch). */
function copyParams(rows: Int32Array, base: number, np: number): number[] {
  const pv: number[] = new Array(2 * np);
  for (let i = 0; i < 2 * np; i++) pv[i] = rows[base + R_PARAMS + i];
  return pv;
}

/**
 * P, B, Q, H: the types of params, body, query and headers.  Plain routes get
 * the path's parameters, a Buffer, a Query and Headers; a route typed by a
 * type provider (src/type-provider.ts) gets what its schemas say.
 */
export class Request<P = Params, B = Buffer, Q = Query, H = Headers> {
  /** @internal The batch's slab, until the request is ended or detached. */
  _slab: Uint8Array;
  /** @internal Its own bytes once detached (latin1: one char per byte), else null. */
  _raw: string | null = null;
  /** @internal Answered inside its batch: the slab is no longer its. */
  _ended = false;
  /** @internal Header entries (nameOff, nameLen, valueOff, valueLen) from _hdrStart. */
  _hdrs: Int32Array | number[];
  /** @internal */ _hdrStart: number;
  /** @internal */ _hdrCount: number;
  /** @internal */ _methodId: number;
  /** @internal */ _methodOff: number;
  /** @internal */ _methodLen: number;
  /** @internal */ _targetOff: number;
  /** @internal */ _targetLen: number;
  /** @internal */ _pathOff: number;
  /** @internal */ _pathLen: number;
  /** @internal */ _minor: number;
  /** @internal */ _bodyOff: number;
  /** @internal */ _bodyLen: number;
  /** @internal */ _flags: number;
  /** @internal Parameter spans from the addon: (offset, length) pairs. */
  _pv: number[] | null = null;
  /** @internal */ _np: number;
  /** @internal Names of the matched route's parameters, in path order. */
  _paramNames: readonly string[] = NO_NAMES;
  private _params: P | undefined = undefined;
  private _url: string | undefined = undefined;
  private _method: string | undefined = undefined;
  private _path: string | undefined = undefined;
  private _headers: Headers | undefined = undefined;
  private _body: Buffer | undefined = undefined;
  /** @internal The body as parsed and validated for a route with schema.body (src/validation.ts). */
  _parsedBody: unknown = undefined;
  private _query: Query | undefined = undefined;
  private _cookies: Record<string, string> | undefined = undefined;
  /** @internal The connection, for the peer address (asked from the addon on first use). */
  _connId: number;
  /** @internal What the app's requests share: peer addresses, ids, the logger (null: none). */
  _env: RequestEnv | null;
  /** @internal The id and child logger, made when first read (src/logger.ts). */
  _lg: ReqLog | undefined = undefined;
  private _ip: string | undefined = undefined;
  /** @internal The Host field, cached (read without trustProxy). */
  private _host: string | undefined = undefined;
  /** @internal The forwarding chain walked on first read of ip/ips/protocol/host (trustProxy on). */
  private _fwd: ForwardedView | undefined = undefined;
  /** @internal The app's compiled trustProxy (on its request class's prototype), null when off. */
  declare _trust: CompiledTrust | null;
  /** @internal The Allow value when this request is answered 405. */
  _allow = '';
  /** @internal Created when a handler asks for `signal`. */
  _abort: AbortController | undefined = undefined;
  /** @internal req.json()'s policy for __proto__ / constructor.prototype keys (per app). */
  declare _poison: PoisonPolicy;
  /** @internal The app's cookieSecret keys (on its request class's prototype), null when not set. */
  declare _signer: CookieSigner | null;

  /** @internal Row `base` of the batch in `rows`, viewing `slab`. */
  constructor(slab: Uint8Array, rows: Int32Array, base: number, hdrs: Int32Array, connId: number, env: RequestEnv | null) {
    this._slab = slab;
    this._hdrs = hdrs;
    this._hdrStart = rows[base + R_HDR_START];
    this._hdrCount = rows[base + R_HDR_COUNT];
    this._methodId = rows[base + R_METHOD];
    this._methodOff = rows[base + R_METHOD_OFF];
    this._methodLen = rows[base + R_METHOD_LEN];
    this._targetOff = rows[base + R_TARGET_OFF];
    this._targetLen = rows[base + R_TARGET_LEN];
    this._pathOff = rows[base + R_PATH_OFF];
    this._pathLen = rows[base + R_PATH_LEN];
    this._minor = rows[base + R_MINOR];
    this._bodyOff = rows[base + R_BODY_OFF];
    this._bodyLen = rows[base + R_BODY_LEN];
    this._flags = rows[base + R_FLAGS];
    const np = (this._np = rows[base + R_PARAM_COUNT]);
    // Out of line: the constructor stays small enough to be inlined into Dispatcher.row.
    if (np !== 0) this._pv = copyParams(rows, base, np);
    this._connId = connId;
    this._env = env;
  }

  /** @internal Answered inside its batch: its bytes are about to be reused. */
  _end(): void {
    if (this._raw === null) {
      this._ended = true;
      this._slab = EMPTY;
    }
  }

  /**
   * @internal Copies this request's own bytes (request line through body) out
   * of the slab, and its header entries out of the shared table, rebased.
   */
  _detach(): void {
    if (this._raw !== null || this._ended) return;
    const start = this._methodOff;
    this._own(latin1Slice.call(this._slab, start, this._bodyOff + this._bodyLen), start);
  }

  /**
   * @internal The same as `_detach`, from `shared`: the latin1 copy of the
   * slab's bytes [sharedStart, ...) made once for every request of a batch
   * still pending at its checkpoint (Dispatcher.detachPending).  The request
   * keeps only its own substring: V8 gives no way from JS to reach the rest
   * of the string a slice was cut from, so no other request's bytes are
   * reachable from it; the shared copy lives as long as the longest-lived
   * of them (at most one slab's worth per batch).
   */
  _detachShared(shared: string, sharedStart: number): void {
    if (this._raw !== null || this._ended) return;
    const start = this._methodOff;
    const a = start - sharedStart;
    this._own(shared.slice(a, a + this._bodyOff + this._bodyLen - start), start);
  }

  /** Rebases every offset on the request's own copy `raw` of slab bytes [start, ...). */
  private _own(raw: string, start: number): void {
    this._raw = raw;
    this._slab = EMPTY;
    this._methodOff -= start;
    this._targetOff -= start;
    this._pathOff -= start;
    this._bodyOff -= start;
    const pv = this._pv;
    if (pv !== null) for (let i = 0; i < pv.length; i += 2) pv[i] -= start;
    // The header table is the addon's (reused by the next read): the entries are copied, the
    // first in an array literal (allocated inline; a sized Int32Array cost 213 instructions).
    const t = this._hdrs;
    const n = this._hdrCount;
    let e = this._hdrStart * HDR_STRIDE;
    const own: number[] = n === 0 ? [] : [t[e] - start, t[e + 1], t[e + 2] - start, t[e + 3]];
    for (let i = 1; i < n; i++) {
      e += HDR_STRIDE;
      own.push(t[e] - start, t[e + 1], t[e + 2] - start, t[e + 3]);
    }
    this._hdrs = own;
    this._hdrStart = 0;
  }

  /** Bytes [a, b) of the request as latin1. */
  private _s(a: number, b: number, what: string): string {
    if (this._raw !== null) return this._raw.slice(a, b);
    if (this._ended) throw new SalvoError('SALVO_ERR_REQUEST_ENDED', what);
    return latin1Slice.call(this._slab, a, b);
  }

  /** Route parameters (`/users/:id` gives `{ id }`), percent-decoded; `*` holds the wildcard tail. */
  get params(): P {
    if (this._params === undefined) {
      if (this._np === 0) return NO_PARAMS as P;
      const p: Record<string, string> = {};
      const pv = this._pv as number[];
      for (let i = 0; i < this._np; i++) {
        p[this._paramNames[i]] = percentDecode(this._s(pv[2 * i], pv[2 * i] + pv[2 * i + 1], 'params'));
      }
      this._params = p as P;
    }
    return this._params;
  }

  set params(v: P) {
    this._params = v;
  }

  get method(): string {
    return this._methodId !== 0 ? METHODS[this._methodId] : (this._method ??= this._s(this._methodOff, this._methodOff + this._methodLen, 'method'));
  }

  /** The raw request-target, as sent. */
  get url(): string {
    return (this._url ??= this._s(this._targetOff, this._targetOff + this._targetLen, 'url'));
  }

  /** The target up to '?', percent-decoded. */
  get path(): string {
    if (this._path === undefined) {
      this._path = percentDecode(this.rawPath());
    }
    return this._path;
  }

  /** @internal The target up to '?', undecoded (the router decodes per segment). */
  rawPath(): string {
    // An absolute-form target with an empty path ("http://h") means "/" (RFC 9112 3.2.2).
    return this._pathLen === 0 ? '/' : this._s(this._pathOff, this._pathOff + this._pathLen, 'path');
  }

  /** The query string as an object; a repeated key gives an array. */
  get query(): Q {
    if (this._query === undefined) {
      const q = this._pathOff + this._pathLen + 1; // past '?'
      const end = this._targetOff + this._targetLen;
      this._query = q < end ? parseQuery(this._s(q, end, 'query')) : new NullObject();
    }
    return this._query as Q;
  }

  get httpVersion(): string {
    return this._minor === 1 ? '1.1' : '1.0';
  }

  get keepAlive(): boolean {
    return (this._flags & F_KEEP_ALIVE) !== 0;
  }

  /**
   * All header fields, names in lower case; repeated fields joined with ', '
   * (set-cookie: an array).  A null-prototype object: a field named
   * `__proto__` or `constructor` is data.
   */
  get headers(): H {
    if (this._headers === undefined) {
      const h: Headers = Object.create(null);
      const t = this._hdrs;
      for (let i = 0, e = this._hdrStart * HDR_STRIDE; i < this._hdrCount; i++, e += HDR_STRIDE) {
        const name = this._s(t[e], t[e] + t[e + 1], 'headers').toLowerCase();
        const value = this._s(t[e + 2], t[e + 2] + t[e + 3], 'headers');
        const prev = h[name];
        if (prev === undefined) h[name] = name === 'set-cookie' ? [value] : value;
        else if (Array.isArray(prev)) prev.push(value);
        else h[name] = prev + ', ' + value;
      }
      this._headers = h;
    }
    return this._headers as H;
  }

  /** One header's value (its first occurrence), without building `headers`. */
  header(name: string): string | undefined {
    const want = name.toLowerCase();
    const t = this._hdrs;
    for (let i = 0, e = this._hdrStart * HDR_STRIDE; i < this._hdrCount; i++, e += HDR_STRIDE) {
      if (t[e + 1] === want.length && this._nameIs(t[e], want)) return this._s(t[e + 2], t[e + 2] + t[e + 3], 'headers');
    }
    return undefined;
  }

  /**
   * Whether the field name at `off` (as long as `want`) is `want`, compared
   * without case on the bytes themselves: no string is made for names that
   * do not match (a lookup used to decode and lower-case every name of the
   * same length).  `want` is lower case.
   */
  private _nameIs(off: number, want: string): boolean {
    const raw = this._raw;
    if (raw === null && this._ended) throw new SalvoError('SALVO_ERR_REQUEST_ENDED', 'headers');
    const slab = this._slab;
    for (let j = 0; j < want.length; j++) {
      const c = raw !== null ? raw.charCodeAt(off + j) : slab[off + j];
      const w = want.charCodeAt(j);
      if (c !== w && !(c >= 65 && c <= 90 && c + 32 === w)) return false;
    }
    return true;
  }

  /** Aborted when the client goes away (reset or FIN) before this request is answered, or at requestTimeout. */
  get signal(): AbortSignal {
    return (this._abort ??= new AbortController()).signal;
  }

  /** Cookies from the Cookie header (RFC 6265 5.4). */
  get cookies(): Record<string, string> {
    return (this._cookies ??= parseCookies(this.header('cookie')));
  }

  /**
   * Checks a signed cookie value (`req.unsignCookie(req.cookies.session)`) against
   * every cookieSecret; `renew` when an older secret matched.  Without a
   * cookieSecret: SALVO_ERR_NO_COOKIE_SECRET.
   */
  unsignCookie(value: string): UnsignResult {
    if (this._signer === null) throw noSecret('req.unsignCookie()');
    return this._signer.unsign(value);
  }

  /** @internal The socket peer's address ('' once the connection has closed). */
  _peer(): string {
    if (this._ip === undefined) this._ip = this._env !== null ? this._env.ip(this._connId) : '';
    return this._ip;
  }

  /** @internal All occurrences of a field joined with ', ' (a list field may be split over lines). */
  _field(name: string): string | undefined {
    const t = this._hdrs;
    let v: string | undefined;
    for (let i = 0, e = this._hdrStart * HDR_STRIDE; i < this._hdrCount; i++, e += HDR_STRIDE) {
      if (t[e + 1] === name.length && this._nameIs(t[e], name)) {
        const one = this._s(t[e + 2], t[e + 2] + t[e + 3], 'headers');
        v = v === undefined ? one : v + ', ' + one;
      }
    }
    return v;
  }

  private _forwarded(): ForwardedView {
    return (this._fwd ??= resolveForwarded(this._trust as CompiledTrust, this._peer(), this.header('host') ?? '', this));
  }

  /** The client's address: the socket peer, or with trustProxy the first untrusted hop of the forwarding chain. */
  get ip(): string {
    return this._trust === null ? this._peer() : this._forwarded().ip;
  }

  /** The chain walked, from the socket peer out to the client (without trustProxy: the peer alone). */
  get ips(): readonly string[] {
    return this._trust === null ? [this._peer()] : this._forwarded().ips;
  }

  /** 'http', or with trustProxy what the proxy that met the client says ('http' or 'https'). */
  get protocol(): 'http' | 'https' {
    return this._trust === null ? 'http' : this._forwarded().protocol;
  }

  /** hostname[:port] the client asked for: the Host field, or with trustProxy the forwarded host. */
  get host(): string {
    if (this._trust === null) return (this._host ??= this.header('host') ?? '');
    return this._forwarded().host;
  }

  /** `host` without its port (an IPv6 literal keeps its brackets). */
  get hostname(): string {
    const h = this.host;
    const end = h.startsWith('[') ? h.indexOf(']') + 1 : h.indexOf(':');
    return end <= 0 ? h : h.slice(0, end);
  }

  /** @internal The logging state, with the id made now if it was not yet. */
  _logState(): ReqLog {
    if (this._lg === undefined) {
      const env = this._env;
      // The id is made before the state is recorded: a throwing genReqId leaves none.
      const id = env !== null ? env.newId(this) : '';
      this._lg = { id, log: null, t0: -1 };
    }
    return this._lg;
  }

  /**
   * The request id: the trusted requestIdHeader's value, else genReqId's,
   * else the app's counter ('req-1', ...).  Made when first read (with
   * request logging on: when the request starts, so ids follow arrival).
   */
  get id(): string {
    return this._logState().id;
  }

  /** A child of the app's logger with the request id bound (made on first read; a no-op logger when logging is off). */
  get log(): Logger {
    const env = this._env;
    if (env === null || env.log === NOOP_LOGGER) return NOOP_LOGGER;
    const lg = this._logState();
    return (lg.log ??= env.log.child({ [env.label]: lg.id }));
  }

  /** @internal The body decoded as UTF-8 (no copy of the bytes is made for it). */
  _text(): string {
    if (this._body !== undefined) return this._body.toString('utf8');
    if (this._bodyLen === 0) return '';
    if (this._raw !== null) {
      return Buffer.from(this._raw.slice(this._bodyOff, this._bodyOff + this._bodyLen), 'latin1').toString('utf8');
    }
    if (this._ended) throw new SalvoError('SALVO_ERR_REQUEST_ENDED', 'body');
    return utf8Slice.call(this._slab, this._bodyOff, this._bodyOff + this._bodyLen);
  }

  /** The body decoded as UTF-8. */
  async text(): Promise<string> {
    return this._text();
  }

  /**
   * The body parsed as JSON; invalid JSON rejects with SALVO_ERR_INVALID_JSON
   * (400), a `__proto__` or `constructor.prototype` key with
   * SALVO_ERR_PROTO_POISONING (400) unless the app's onProtoPoisoning /
   * onConstructorPoisoning say otherwise.
   */
  async json<T = unknown>(): Promise<T> {
    return parseJson(this._text(), this._poison) as T;
  }

  /** An application/x-www-form-urlencoded body as an object (a repeated key gives an array). */
  async form(): Promise<Query> {
    const type = (this.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new SalvoError('SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', type || '(none)');
    }
    return parseQuery(this._text());
  }

  /**
   * The body as a Buffer of its own (copied once, on first access); on a
   * route with `schema.body`, the parsed and validated value.
   */
  get body(): B {
    if (this._parsedBody !== undefined) return this._parsedBody as B;
    return this._rawBody() as B;
  }

  set body(v: B) {
    this._parsedBody = v;
  }

  /**
   * The body as a Readable.  On a `bodyStream` route it yields the body as it
   * arrives (each chunk a copy of its own; the connection stops being read
   * while 64 KiB wait unread); it fails with SALVO_ERR_BODY_ABORTED when the
   * client goes away, SALVO_ERR_BODY_TOO_LARGE past bodyLimit.  Elsewhere it
   * yields the buffered body.  The same stream on every call.
   */
  stream(): Readable {
    return requestStream(this, () => this._rawBody());
  }

  /** @internal The body's bytes, whatever `body` holds. */
  _rawBody(): Buffer {
    if (this._body === undefined) {
      const n = this._bodyLen;
      if (n === 0) return EMPTY_BODY;
      const b = Buffer.allocUnsafeSlow(n);
      if (this._raw !== null) b.write(this._raw.slice(this._bodyOff, this._bodyOff + n), 0, n, 'latin1');
      else if (this._ended) throw new SalvoError('SALVO_ERR_REQUEST_ENDED', 'body');
      else b.set(this._slab.subarray(this._bodyOff, this._bodyOff + n));
      this._body = b;
    }
    return this._body;
  }
}

Request.prototype._poison = { proto: 'error', ctor: 'error' };
Request.prototype._trust = null;
Request.prototype._signer = null;
