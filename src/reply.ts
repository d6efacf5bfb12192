/**
 * @module reply
 * `res`: status, headers, cookies and the ways to answer (send, json,
 * redirect, write/end streaming, stream).  A reply records what to send; the
 * dispatcher serializes it, in request order.
 *
 * Every request gets its own reply, for its whole life: a reply kept past its
 * answer (by a timer, a closure) can never answer another request.  Writing
 * to it after the answer throws SALVO_ERR_ALREADY_SENT to the caller.
 *
 * A reply that outlives its batch is also its connection's queue slot: the
 * `_`-fields below `_cs` are the dispatcher's (src/conn-queue.ts), so an
 * async answer allocates no slot or pending object of its own.
 */
import { serializeCookie, type CookieOptions } from './cookies';
import { noSecret, type CookieSigner } from './cookie-signing';
import { SalvoError } from './errors';
import { checkHeaderName, checkHeaderValue, MANAGED } from './headers';
import type { FieldPreset } from './field-preset';
import type { ConnState } from './conn-queue';
import type { Request } from './request';
import type { Route } from './lifecycle';

/** What the dispatcher does for a reply that streams or finishes late. */
export interface ReplySink {
  /** The reply has been sent (send/json/redirect/end, or a first write). */
  sent(res: Reply): void;
  /** A streamed chunk; returns false past the connection's high-water mark. */
  write(res: Reply, chunk: Uint8Array, end: boolean): boolean;
  drained(res: Reply): Promise<void>;
  /** A started stream cannot be finished: close the connection. */
  abort(res: Reply): void;
  /** A body stream failed before anything was sent: answer it as an error. */
  error(res: Reply, err: unknown): void;
}

/** A readable stream (node's or any with pipe + async iteration): sent as a streamed body. */
export function isReadable(v: object): v is AsyncIterable<string | Uint8Array> {
  return typeof (v as { pipe?: unknown }).pipe === 'function' &&
    typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** `_lock`: who may answer.  onError hooks observe an error; they cannot answer. */
export const LOCK_NONE = 0;
export const LOCK_ON_ERROR = 1;
/** onSend hooks run after the answer was decided: they may still set headers and the status. */
export const LOCK_ON_SEND = 2;

/** `_since` of a reply salvo answered at its timeout. */
export const TIMED_OUT = -1;

export class Reply {
  /** @internal */ _status = 200;
  /** @internal */ _type: string | null = null;
  /** @internal Extra header lines, each "Name: value\r\n". */
  _headers = '';
  /** @internal The fields behind _headers, by lower-case name: [name as first set, values]. */
  _fields: Map<string, [string, string[]]> | null = null;
  /** @internal Fields shared with other replies (a plugin's constant lines) until this one reads or changes them. */
  _preset: FieldPreset | null = null;
  /** @internal */ _sent = false;
  /** @internal A value to send as JSON whatever its type (res.json). */
  _json = false;
  /** @internal */ _body: unknown = undefined;
  /** @internal Chunks written before the dispatcher attached a sink. */
  _early: Uint8Array[] | null = null;
  /** @internal */ _ended = false;
  /** @internal */ _streaming = false;
  /** @internal The stream failed: close instead of the final chunk. */
  _aborted = false;
  /** @internal Set by the dispatcher once this reply outlives its batch. */
  _sink: ReplySink | null = null;
  /** @internal Bytes waiting in _early; past the high-water mark write() says wait. */
  _earlyBytes = 0;
  /** @internal drained() callers waiting for the head to be written. */
  _waitHead: (() => void)[] | null = null;
  /** @internal LOCK_ON_ERROR while onError hooks run. */
  _lock = LOCK_NONE;

  // ---- the queue slot (src/conn-queue.ts), for a reply that outlives its batch ----
  /** @internal The connection whose queue holds this reply. */
  _cs: ConnState | null = null;
  /** @internal */ _req: Request | null = null;
  /** @internal */ _route: Route | null = null;
  /** @internal The request keeps its connection open. */
  _keep = true;
  /** @internal Bytes ready behind the head of the queue, in order. */
  _chunks: Uint8Array[] | null = null;
  /** @internal No more bytes will be added. */
  _done = false;
  /** @internal The connection ends after these bytes. */
  _close = false;
  /** @internal Counted in the addon's answers owed (reported once, when flushed). */
  _owed = false;
  /** @internal The sweep tick at which it went pending (requestTimeout); TIMED_OUT once salvo answered 503 for it. */
  _since = 0;
  /** @internal Its handler's promise settled (Lifecycle.valueSettled / valueFailed): the handler has returned. */
  _settled = false;
  /** @internal A request deferred past the high-water mark: its lifecycle has not run. */
  _deferred = false;
  /** @internal Bytes of the answer's body as written (-1: not counted; src/logger.ts). */
  _bytes = -1;
  /** @internal The streamed body uses the chunked coding (HTTP/1.1). */
  _chunked = true;
  /**
   * @internal The length of the streamed body when known before its first
   * byte (serveStatic: a file's size), else -1.  Known: the head carries
   * Content-Length instead of chunked (a HEAD answer gets the right length
   * without a body).  An onSend hook that replaces the stream voids it.
   */
  _length = -1;
  /** @internal Bytes of a known-length body still to send. */
  _left = 0;

  /** @internal The app's cookieSecret keys (on its reply class's prototype), null when not set. */
  declare _signer: CookieSigner | null;

  /** @param _hwm the connection high-water mark (AppOptions.highWaterMark) */
  constructor(private readonly _hwm = 1024 * 1024) {}

  /**
   * @internal Forgets what was chosen for an error answer.  Headers set
   * before the throw stay (fastify keeps them, so CORS and the like reach
   * error answers), except Content-Type, which the error answer chooses.
   */
  _reset(): void {
    this._status = 200;
    this._type = null;
    this._sent = false;
    this._json = false;
    this._body = undefined;
    this._length = -1;
  }

  /** True when nothing but the body was chosen (the dispatcher's fast path). */
  get _plain(): boolean {
    return this._status === 200 && this._type === null && this._headers === '' && !this._json;
  }

  get sent(): boolean {
    return this._sent;
  }

  get statusCode(): number {
    return this._status;
  }

  /**
   * False when the call is to be dropped: the request timed out and salvo
   * answered it (a handler that answers late cannot know; its answer is
   * ignored, not thrown from a timer).  Throws for any other closed reply.
   */
  private _assertOpen(): boolean {
    if (this._sent) {
      if (this._since === TIMED_OUT) return false;
      throw new SalvoError('SALVO_ERR_ALREADY_SENT');
    }
    if (this._lock !== LOCK_NONE) throw new SalvoError('SALVO_ERR_HOOK_REPLY');
    return true;
  }

  /** Headers and status: until the answer, and in onSend hooks (before its bytes exist). */
  private _assertHeadOpen(): boolean {
    if (this._lock === LOCK_ON_SEND) return true;
    return this._assertOpen();
  }

  status(code: number): this {
    if (!this._assertHeadOpen()) return this;
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      throw new SalvoError('SALVO_ERR_INVALID_STATUS', String(code));
    }
    this._status = code;
    return this;
  }

  /**
   * Sets a header, replacing any earlier value of that name (case-insensitive);
   * a list value sends one line per element.  `Set-Cookie` accumulates instead
   * (each call adds lines: RFC 6265 3 forbids folding cookies into one line).
   */
  header(name: string, value: string | number | readonly (string | number)[]): this {
    if (!this._assertHeadOpen()) return this;
    const lower = headerKey(name);
    if (Array.isArray(value)) {
      if (lower === 'content-type') throw new SalvoError('SALVO_ERR_INVALID_HEADER', 'Content-Type takes one value');
      const list: string[] = [];
      for (const one of value) list.push(checkHeaderValue(name, one));
      this._setField(lower, name, list);
      return this;
    }
    const v = typeof value === 'string' && KNOWN_VALUES.has(value) ? value : knownValue(checkHeaderValue(name, value));
    if (lower === 'content-type') this._type = v;
    else this._setField(lower, name, [v]);
    return this;
  }

  /** Sets each header of `fields` as `header(name, value)` does; all are checked before any is set. */
  headers(fields: Record<string, string | number | readonly (string | number)[]>): this {
    if (!this._assertHeadOpen()) return this;
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', 'headers() takes an object of name: value');
    }
    const entries = Object.entries(fields);
    for (const [name, value] of entries) {
      checkHeaderName(name);
      if (MANAGED.has(name.toLowerCase())) throw new SalvoError('SALVO_ERR_INVALID_HEADER', `${name} is managed by salvo`);
      for (const one of Array.isArray(value) ? value : [value]) checkHeaderValue(name, one);
    }
    for (const [name, value] of entries) this.header(name, value);
    return this;
  }

  /** The value set for `name` (case-insensitive): a string, a list for a repeated field (Set-Cookie), or undefined. */
  getHeader(name: string): string | string[] | undefined {
    if (typeof name !== 'string') return undefined;
    const lower = name.toLowerCase();
    if (lower === 'content-type') return this._type ?? undefined;
    const f = this._ownFields(false)?.get(lower);
    if (f === undefined) return undefined;
    return f[1].length === 1 && lower !== 'set-cookie' ? f[1][0] : f[1].slice();
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  /** Removes a header set earlier (no-op when there is none). */
  removeHeader(name: string): this {
    if (!this._assertHeadOpen()) return this;
    if (typeof name !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'removeHeader() takes a header name');
    const lower = name.toLowerCase();
    if (lower === 'content-type') this._type = null;
    else if (this._ownFields(false)?.delete(lower)) this._render();
    return this;
  }

  /** @internal Records a field and re-renders the header lines (only replies that set headers pay). */
  _setField(lower: string, name: string, values: string[]): void {
    const fields = this._ownFields(true) as Map<string, [string, string[]]>;
    const had = fields.get(lower);
    if (lower === 'set-cookie' && had !== undefined) {
      for (const v of values) had[1].push(v);
      this._headers += renderLines(had[0], values);
      return;
    }
    fields.set(lower, [had?.[0] ?? name, values]);
    if (had === undefined) this._headers += renderLines(name, values);
    else this._render();
  }

  /** @internal */
  _render(): void {
    let s = '';
    const fields = this._ownFields(false);
    if (fields !== null) for (const [name, values] of fields.values()) s += renderLines(name, values);
    this._headers = s;
  }

  /**
   * @internal Gives a reply that has no header fields yet the fields of `p`
   * (checked when `p` was made): its lines are shared, the fields copied
   * only if the reply reads or changes them.  False (nothing done) when the
   * reply has fields already.
   */
  _usePreset(p: FieldPreset): boolean {
    if (this._fields !== null || this._preset !== null || this._headers !== '') return false;
    this._preset = p;
    this._headers = p.lines;
    return true;
  }

  /** The reply's own field map: the preset's fields copied into it first; `make`: created when there is none. */
  private _ownFields(make: boolean): Map<string, [string, string[]]> | null {
    let f = this._fields;
    if (f !== null) return f;
    const p = this._preset;
    if (p === null && !make) return null;
    f = this._fields = new Map();
    if (p !== null) {
      this._preset = null;
      // Fresh lists: a reply's values are its own (Set-Cookie appends to them).
      for (const [lower, name, value] of p.fields) f.set(lower, [name, [value]]);
    }
    return f;
  }

  type(mime: string): this {
    return this.header('Content-Type', mime);
  }

  /** `{ signed: true }` signs the value with the app's first cookieSecret (src/cookie-signing.ts). */
  cookie(name: string, value: string, options?: CookieOptions): this {
    if (!this._assertHeadOpen()) return this;
    if (options?.signed === true) {
      const { signed: _s, ...rest } = options;
      return this.header('Set-Cookie', serializeCookie(name, this.signCookie(value), rest));
    }
    if (options?.signed !== undefined && options.signed !== false) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'signed must be a boolean');
    return this.header('Set-Cookie', serializeCookie(name, value, options));
  }

  /** `value.signature` with the app's first cookieSecret (SALVO_ERR_NO_COOKIE_SECRET without one). */
  signCookie(value: string): string {
    if (this._signer === null) throw noSecret('signing a cookie');
    return this._signer.sign(value);
  }

  clearCookie(name: string, options: Pick<CookieOptions, 'path' | 'domain'> = {}): this {
    if (!this._assertHeadOpen()) return this;
    return this.header('Set-Cookie', serializeCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) }));
  }

  send(body?: unknown): void {
    if (!this._assertOpen()) return;
    if (body !== null && typeof body === 'object' && isReadable(body)) {
      // A stream is streamed, not serialized.  One that fails before its first
      // chunk is answered as an error; after it, the connection closes.
      this.stream(body).catch((err) => {
        if (!this._sent && this._sink !== null) this._sink.error(this, err);
      });
      return;
    }
    this._sent = true;
    this._body = body;
    if (this._sink !== null) this._sink.sent(this);
  }

  json(value: unknown): void {
    if (!this._assertOpen()) return;
    this._json = true;
    this.send(value === undefined ? null : value);
  }

  redirect(url: string, code = 302): void {
    if (!this._assertOpen()) return;
    if (typeof url !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'redirect() takes a URL string');
    // Validated before anything is recorded: a bad URL leaves the reply as it was.
    const location = checkHeaderValue('Location', url);
    this.status(code);
    this._setField('location', 'Location', [location]);
    this.send('');
  }

  /**
   * Streams a chunk (chunked transfer coding on HTTP/1.1).  Returns false
   * when the connection has more unsent bytes than its high-water mark:
   * `await res.drained()` before writing more.
   */
  write(chunk: string | Uint8Array): boolean {
    if (this._since === TIMED_OUT) return true; // salvo answered (or cut) it at the timeout: dropped
    if (this._ended || (this._sent && !this._streaming)) throw new SalvoError('SALVO_ERR_ALREADY_SENT');
    if (this._lock !== LOCK_NONE) throw new SalvoError('SALVO_ERR_HOOK_REPLY');
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!(bytes instanceof Uint8Array)) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'write() takes a string or bytes');
    if (!this._streaming) {
      this._streaming = true;
      this._sent = true;
      this._early = [];
      if (this._sink !== null) this._sink.sent(this);
    }
    // Until the dispatcher has written the head, chunks wait here, in order.
    if (this._sink === null || this._early !== null) {
      (this._early as Uint8Array[]).push(bytes);
      this._earlyBytes += bytes.length;
      return this._earlyBytes <= this._hwm;
    }
    return this._sink.write(this, bytes, false);
  }

  end(chunk?: string | Uint8Array): void {
    if (this._since === TIMED_OUT) return;
    if (!this._streaming) {
      this.send(chunk === undefined ? '' : chunk);
      return;
    }
    if (this._ended) throw new SalvoError('SALVO_ERR_ALREADY_SENT');
    if (chunk !== undefined) this.write(chunk);
    this._ended = true;
    // Before the head is written, startStream sees _ended and finishes.
    if (this._sink !== null && this._early === null) this._sink.write(this, EMPTY, true);
  }

  /** Resolves when the connection has drained below half its high-water mark. */
  drained(): Promise<void> {
    if (this._sink === null || this._early !== null) {
      // The head is not out yet: wait for it, then for the connection.
      return new Promise((resolve) => (this._waitHead ??= []).push(resolve));
    }
    return this._sink.drained(this);
  }

  /**
   * Pipes a readable stream with backpressure, then ends the response.  If
   * the stream fails midway the response cannot be completed: the connection
   * is closed without the final chunk (the client sees a truncated body), and
   * the error is rethrown.
   */
  async stream(readable: AsyncIterable<string | Uint8Array>): Promise<void> {
    let src: AsyncIterable<string | Uint8Array> | string | Uint8Array = readable;
    const h = this._route === null ? null : this._route.hooks;
    if (h !== null && h.onSend.length !== 0 && !this._streaming) src = await this._streamSendHooks(h.onSend, readable);
    if (typeof src === 'string' || src instanceof Uint8Array) {
      // An onSend hook replaced the stream with a whole body: one chunk.
      if (src.length !== 0) this.write(src);
      else if (!this._streaming) this.write(EMPTY);
      this.end();
      return;
    }
    try {
      for await (const chunk of src) {
        if (this._since === TIMED_OUT) return; // cut at the timeout: stop reading the source
        if (!this.write(chunk)) await this.drained();
      }
    } catch (err) {
      this._abortStream();
      throw err;
    }
    if (!this._streaming) this.write(EMPTY); // an empty stream still sends its head
    this.end();
  }

  /**
   * @internal onSend hooks of a streamed answer (as in fastify): the stream
   * is the payload; a hook may set headers and the status, and may return a
   * stream (say, the stream compressed) or a whole body to send instead.
   */
  async _streamSendHooks(
    hooks: readonly ((req: Request, res: Reply, payload: any) => unknown)[],
    readable: AsyncIterable<string | Uint8Array>,
  ): Promise<AsyncIterable<string | Uint8Array> | string | Uint8Array> {
    let cur: AsyncIterable<string | Uint8Array> | string | Uint8Array = readable;
    this._lock = LOCK_ON_SEND;
    try {
      for (const hook of hooks) {
        const r = await hook(this._req as Request, this, cur);
        if (typeof r === 'string' || r instanceof Uint8Array || (r !== null && typeof r === 'object' && isReadable(r))) cur = r;
      }
      // A replaced payload (compressed, say) has a length nobody knows yet.
      if (cur !== readable) this._length = -1;
    } finally {
      this._lock = LOCK_NONE;
    }
    return cur;
  }

  /** @internal Ends a started stream by closing the connection. */
  _abortStream(): void {
    if (!this._streaming || this._ended) return;
    this._ended = true;
    this._aborted = true;
    if (this._sink !== null && this._early === null) this._sink.abort(this);
  }
}

const EMPTY = new Uint8Array(0);


/**
 * Names and values already checked, kept: handlers and plugins set the same
 * few fields with constant values on every request (cors: four names, two
 * or three values), and the token / value rules cost two RegExp runs, a
 * lower-casing and a Set lookup per call.  A string's hash is cached in the
 * string, so a constant name or value costs one Map lookup.  Bounded: past
 * KNOWN_MAX entries a table starts over (names and values of one client can
 * never be read back through it: it maps a string to its own lower case or
 * to nothing).
 */
const KNOWN_MAX = 512;
const KNOWN_NAMES = new Map<string, string>();
const KNOWN_VALUES = new Set<string>();

/** The lower-case key of a header name salvo lets a reply set; throws for a non-token or a managed field. */
function headerKey(name: string): string {
  const known = KNOWN_NAMES.get(name);
  if (known !== undefined) return known;
  checkHeaderName(name);
  const lower = name.toLowerCase();
  if (MANAGED.has(lower)) throw new SalvoError('SALVO_ERR_INVALID_HEADER', `${name} is managed by salvo`);
  if (KNOWN_NAMES.size >= KNOWN_MAX) KNOWN_NAMES.clear();
  KNOWN_NAMES.set(name, lower);
  return lower;
}

/** Records a checked value (short ones only: long values are rarely repeated). */
function knownValue(v: string): string {
  if (v.length <= 64) {
    if (KNOWN_VALUES.size >= KNOWN_MAX) KNOWN_VALUES.clear();
    KNOWN_VALUES.add(v);
  }
  return v;
}

function renderLines(name: string, values: readonly string[]): string {
  let s = '';
  for (const v of values) s += name + ': ' + v + '\r\n';
  return s;
}

Reply.prototype._signer = null;
