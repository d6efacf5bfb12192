/**
 * @module request
 * A request is a view of the slab its bytes arrived in: method, target,
 * headers and body are offsets, and each is turned into a JS value only when
 * a handler reads it (then cached).  Objects are reused by the dispatcher
 * while handlers answer synchronously; an async handler keeps its own.
 */
import {
  HDR_STRIDE, METHODS, R_BODY_LEN, R_BODY_OFF, R_FLAGS, R_HDR_COUNT, R_HDR_START, R_METHOD,
  R_METHOD_LEN, R_METHOD_OFF, R_PARAM_COUNT, R_PARAMS, R_MINOR, R_PATH_LEN, R_PATH_OFF, R_TARGET_LEN, R_TARGET_OFF, F_KEEP_ALIVE,
} from './layout';
import { parseCookies } from './cookies';
import { SalvoError } from './errors';
import { NullObject, parseQuery, percentDecode, type Query } from './query';
import type { Params } from './router';

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;
const EMPTY = Buffer.alloc(0);
const NO_NAMES: readonly string[] = [];
const NO_PARAMS = Object.freeze({});

export type Headers = Record<string, string | string[]>;

export class Request<P extends Params = Params> {
  /** @internal */ _slab: Uint8Array = EMPTY;
  /** @internal */ _slabId = -1;
  /** @internal */ _hdrs: Int32Array = new Int32Array(0);
  /** @internal */ _hdrStart = 0;
  /** @internal */ _hdrCount = 0;
  /** @internal */ _methodId = 0;
  /** @internal */ _methodOff = 0;
  /** @internal */ _methodLen = 0;
  /** @internal */ _targetOff = 0;
  /** @internal */ _targetLen = 0;
  /** @internal */ _pathOff = 0;
  /** @internal */ _pathLen = 0;
  /** @internal */ _minor = 1;
  /** @internal */ _bodyOff = 0;
  /** @internal */ _bodyLen = 0;
  /** @internal */ _flags = 0;
  /** @internal Parameter spans from the addon: (offset, length) pairs. */
  _pv: Int32Array | null = null;
  /** @internal */ _np = 0;
  /** @internal Names of the matched route's parameters, in path order. */
  _paramNames: readonly string[] = NO_NAMES;
  private _params: P | undefined = undefined;
  private _url: string | undefined = undefined;
  private _path: string | undefined = undefined;
  private _headers: Headers | undefined = undefined;
  private _body: Buffer | undefined = undefined;
  private _query: Query | undefined = undefined;
  private _cookies: Record<string, string> | undefined = undefined;
  /** @internal The peer address, asked from the addon on first use. */
  _connId = -1;
  /** @internal */ _ipOf: ((connId: number) => string) | null = null;
  private _ip: string | undefined = undefined;
  /** @internal The Allow value when this request is answered 405. */
  _allow = '';
  /** @internal Created when a handler asks for `signal`. */
  _abort: AbortController | undefined = undefined;

  /** @internal Points this object at row `base` of the batch. */
  _reset(slab: Uint8Array, slabId: number, rows: Int32Array, base: number, hdrs: Int32Array): void {
    this._slab = slab;
    this._slabId = slabId;
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
    if (np !== 0) {
      const pv = (this._pv ??= new Int32Array(16));
      for (let i = 0; i < 2 * np; i++) pv[i] = rows[base + R_PARAMS + i];
    }
    this._params = undefined;
    this._url = undefined;
    this._path = undefined;
    this._headers = undefined;
    this._body = undefined;
    this._query = undefined;
    this._cookies = undefined;
    this._ip = undefined;
    this._abort = undefined;
    this._allow = '';
  }

  /**
   * @internal The shared header table is overwritten by the next batch: a
   * request that outlives its batch (async handler) copies its entries.  The
   * slab itself stays pinned until the request is answered.
   */
  _detach(): void {
    const s = this._hdrStart * HDR_STRIDE;
    this._hdrs = this._hdrs.slice(s, s + this._hdrCount * HDR_STRIDE);
    this._hdrStart = 0;
  }

  /** Route parameters (`/users/:id` gives `{ id }`), percent-decoded; `*` holds the wildcard tail. */
  get params(): P {
    if (this._params === undefined) {
      if (this._np === 0) return NO_PARAMS as P;
      const p: Record<string, string> = {};
      const pv = this._pv as Int32Array;
      for (let i = 0; i < this._np; i++) {
        p[this._paramNames[i]] = percentDecode(latin1Slice.call(this._slab, pv[2 * i], pv[2 * i] + pv[2 * i + 1]));
      }
      this._params = p as P;
    }
    return this._params;
  }

  set params(v: P) {
    this._params = v;
  }

  get method(): string {
    return this._methodId !== 0
      ? METHODS[this._methodId]
      : latin1Slice.call(this._slab, this._methodOff, this._methodOff + this._methodLen);
  }

  /** The raw request-target, as sent. */
  get url(): string {
    return (this._url ??= latin1Slice.call(this._slab, this._targetOff, this._targetOff + this._targetLen));
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
    return this._pathLen === 0 ? '/' : latin1Slice.call(this._slab, this._pathOff, this._pathOff + this._pathLen);
  }

  /** The query string as an object; a repeated key gives an array. */
  get query(): Query {
    if (this._query === undefined) {
      const q = this._pathOff + this._pathLen + 1; // past '?'
      const end = this._targetOff + this._targetLen;
      this._query = q < end ? parseQuery(latin1Slice.call(this._slab, q, end)) : new NullObject();
    }
    return this._query as Query;
  }

  get httpVersion(): string {
    return this._minor === 1 ? '1.1' : '1.0';
  }

  get keepAlive(): boolean {
    return (this._flags & F_KEEP_ALIVE) !== 0;
  }

  /** All header fields, names in lower case; repeated fields joined with ', ' (set-cookie: an array). */
  get headers(): Headers {
    if (this._headers === undefined) {
      const h: Headers = {};
      const t = this._hdrs;
      for (let i = 0, e = this._hdrStart * HDR_STRIDE; i < this._hdrCount; i++, e += HDR_STRIDE) {
        const name = latin1Slice.call(this._slab, t[e], t[e] + t[e + 1]).toLowerCase();
        const value = latin1Slice.call(this._slab, t[e + 2], t[e + 2] + t[e + 3]);
        const prev = h[name];
        if (prev === undefined) h[name] = name === 'set-cookie' ? [value] : value;
        else if (Array.isArray(prev)) prev.push(value);
        else h[name] = prev + ', ' + value;
      }
      this._headers = h;
    }
    return this._headers;
  }

  /** One header's value (its first occurrence), without building `headers`. */
  header(name: string): string | undefined {
    const want = name.toLowerCase();
    const t = this._hdrs;
    for (let i = 0, e = this._hdrStart * HDR_STRIDE; i < this._hdrCount; i++, e += HDR_STRIDE) {
      if (t[e + 1] !== want.length) continue;
      if (latin1Slice.call(this._slab, t[e], t[e] + t[e + 1]).toLowerCase() === want) {
        return latin1Slice.call(this._slab, t[e + 2], t[e + 2] + t[e + 3]);
      }
    }
    return undefined;
  }

  /** Aborted when the client goes away before this request is answered. */
  get signal(): AbortSignal {
    return (this._abort ??= new AbortController()).signal;
  }

  /** Cookies from the Cookie header (RFC 6265 5.4). */
  get cookies(): Record<string, string> {
    return (this._cookies ??= parseCookies(this.header('cookie')));
  }

  /** The peer's IP address. */
  get ip(): string {
    if (this._ip === undefined) this._ip = this._ipOf !== null ? this._ipOf(this._connId) : '';
    return this._ip;
  }

  /** The body decoded as UTF-8. */
  async text(): Promise<string> {
    return this.body.toString('utf8');
  }

  /** The body parsed as JSON; invalid JSON rejects with SALVO_ERR_INVALID_JSON (400). */
  async json<T = unknown>(): Promise<T> {
    try {
      return JSON.parse(this.body.toString('utf8')) as T;
    } catch (err) {
      throw new SalvoError('SALVO_ERR_INVALID_JSON', (err as Error).message, { cause: err });
    }
  }

  /** An application/x-www-form-urlencoded body as an object (a repeated key gives an array). */
  async form(): Promise<Query> {
    const type = (this.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new SalvoError('SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', type || '(none)');
    }
    return parseQuery(this.body.toString('utf8'));
  }

  /** The body as a Buffer over the slab (no copy); valid until the request is answered. */
  get body(): Buffer {
    if (this._body === undefined) {
      this._body =
        this._bodyLen === 0
          ? EMPTY
          : Buffer.from(this._slab.buffer, this._slab.byteOffset + this._bodyOff, this._bodyLen);
    }
    return this._body;
  }
}
