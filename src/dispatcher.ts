/**
 * @module dispatcher
 * The JS half of the data path.  The addon calls `dispatch` once per read
 * with the rows of every complete request in it; each is routed (the addon
 * already matched the route), run through its lifecycle and its response
 * written into the output arena at `cursor`.  When dispatch returns, the
 * addon sends out[0, cursor) with one write.
 *
 * Ordering (invariant 1): responses leave in request order.  A request whose
 * answer is not ready when its handler returns (a Promise, an async hook,
 * `res.send` later, streaming) gets a slot in its connection's queue; the
 * responses behind it wait there as bytes, and `flush` sends every ready
 * slot from the head of the queue.
 *
 * Lifecycle: onRequest hooks, preHandler hooks, handler, (onError hooks +
 * error handler), serialization, onSend hooks, write, onResponse hooks.  It
 * stays synchronous until something returns a thenable, so a route with only
 * sync hooks still answers inside the batch.
 */
import type { NativeServer } from './native';
import {
  CTL_CLOSE, CTL_ERROR, CTL_OUT_LEN, CTL_PAUSE, CTL_PENDING, CTL_SLAB_ID, F_KEEP_ALIVE, ROW_STRIDE,
  R_FLAGS, R_ROUTE, SEND_CLOSE, SEND_RELEASE, SEND_RESUME,
} from './layout';
import { codes, SalvoError, type ErrorCode } from './errors';
import { Reply, type ReplySink } from './reply';
import type { Request } from './request';
import {
  CONN_CLOSE, CONN_DEFAULT, CONN_KEEP_ALIVE, DateCache, JSON_TYPE, OCTETS, TEXT, headBound,
  statusText, writeBytes, writeHead, writeText,
} from './response';
import type { Router } from './router';

export type Handler = (req: Request<any>, res: Reply) => unknown;
export type Hook = (req: Request<any>, res: Reply) => unknown;
export type SendHook = (req: Request<any>, res: Reply, payload: string | Uint8Array) => unknown;
export type ErrorHook = (req: Request<any>, res: Reply, err: unknown) => unknown;
export type ErrorHandler = (err: unknown, req: Request<any>, res: Reply) => unknown;

export interface Hooks {
  onRequest: Hook[];
  preHandler: Hook[];
  onSend: SendHook[];
  onResponse: Hook[];
  onError: ErrorHook[];
}

export interface Route {
  readonly id: number;
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
  /** Parameter names in path order ('*' for the wildcard), for req.params. */
  readonly paramNames: readonly string[];
  /** Response serializers compiled from the route's schema, by status. */
  readonly serializers: Record<number, (v: unknown) => string> | null;
  /** Resolved when the app starts; null when the route has none (the fast path). */
  hooks: Hooks | null;
  /** The last constant string answer and its bytes, valid for one Date value. */
  cacheBody: string | undefined;
  cacheBytes: Buffer | undefined;
  cacheGen: number;
}

interface Slot {
  /** Bytes ready to go, in order. */
  chunks: Uint8Array[];
  /** No more bytes will be added. */
  done: boolean;
  close: boolean;
  /** The slab an async request pins, released when its bytes are flushed. */
  slabId: number;
  /** The async request this slot answers (to abort it if the client leaves). */
  req: Request | null;
}

class ConnState {
  alive = true;
  readonly queue: Slot[] = [];
  head = 0;
  /** Unsent bytes in the addon for this connection, as of the last send. */
  queued = 0;
  drainWaiters: (() => void)[] = [];
  /** Reading was paused because too many answers are pending. */
  paused = false;
  constructor(readonly id: number) {}
  get busy(): boolean {
    return this.head < this.queue.length;
  }
}

/** One request answered after its batch: the reply's sink. */
class Pending implements ReplySink {
  constructor(
    readonly d: Dispatcher,
    readonly cs: ConnState,
    readonly slot: Slot,
    readonly req: Request,
    readonly route: Route,
    readonly keep: boolean,
  ) {}
  sent(res: Reply): void {
    this.d.deliver(this, res);
  }
  write(res: Reply, chunk: Uint8Array, end: boolean): boolean {
    return this.d.streamChunk(this, res, chunk, end);
  }
  drained(): Promise<void> {
    return this.d.drained(this.cs);
  }
  abort(): void {
    this.d.abortStream(this);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v instanceof Promise || (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function');
}

export interface DispatcherOptions {
  debug: boolean;
  highWaterMark: number;
  /** Answers pending on one connection before it stops reading. */
  maxPending: number;
  notFound: Route;
  methodNotAllowed: Route;
  errorHandler: ErrorHandler | null;
  newRequest: () => Request;
  /** Resets decorated properties on a reused request (null: no decorators). */
  decorate: ((req: Request) => void) | null;
}

const HEAD_ID = 2;
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

export class Dispatcher {
  private readonly rows: Int32Array;
  private readonly hdrs: Int32Array;
  private readonly ctl: Int32Array;
  private readonly out: Buffer;
  private readonly conns: (ConnState | undefined)[] = [];
  private req: Request;
  private res: Reply;
  /** Where the response being written goes: straight to the connection (null), or a queued slot. */
  private sink: Slot | null = null;
  private cursor = 0;
  private connId = -1;
  /** The response just written directly ends the connection. */
  private closeAfter = false;
  /** True while a batch occupies the output arena. */
  private inBatch = false;

  constructor(
    private readonly native: NativeServer,
    private readonly routes: Route[],
    private readonly router: Router<Route>,
    private readonly date: DateCache,
    private readonly options: DispatcherOptions,
  ) {
    this.rows = native.rows;
    this.hdrs = native.headers;
    this.ctl = native.ctl;
    this.out = Buffer.from(native.out.buffer, native.out.byteOffset, native.out.byteLength);
    this.req = options.newRequest();
    this.res = new Reply(options.highWaterMark);
  }

  readonly dispatch = (connId: number, count: number, slab: Uint8Array): void => {
    const rows = this.rows;
    const ctl = this.ctl;
    const slabId = ctl[CTL_SLAB_ID];
    this.connId = connId;
    this.cursor = ctl[CTL_OUT_LEN];
    this.closeAfter = false;
    this.inBatch = true;
    for (let i = 0, base = 0; i < count; i++, base += ROW_STRIDE) {
      const req = this.req;
      const res = this.res;
      req._reset(slab, slabId, rows, base, this.hdrs);
      req._connId = connId;
      if (this.options.decorate !== null) this.options.decorate(req);
      res._reset();
      const keep = (rows[base + R_FLAGS] & F_KEEP_ALIVE) !== 0;
      const routeId = rows[base + R_ROUTE];
      let route: Route;
      if (routeId >= 0) {
        route = this.routes[routeId];
        req._paramNames = route.paramNames;
      } else {
        route = this.lookup(req);
      }
      const cs = this.conns[connId];
      this.sink = cs !== undefined && cs.busy ? this.newSlot(cs, -1) : null;
      if (route.hooks === null) {
        // Fast path: no hooks, and (usually) a handler that returns its answer.
        let v: unknown;
        try {
          v = route.handler(req, res);
        } catch (err) {
          v = undefined;
          if (this.fail(req, res, route, err) !== undefined) {
            this.goAsync(connId, slabId, req, route, keep, this.failAsync(req, res, route, err));
            continue;
          }
        }
        if (!res._sent && v !== undefined && !isThenable(v)) {
          this.respond(req, res, v, route, keep);
          if (this.sink !== null) this.sink.done = true;
          continue;
        }
        if (res._sent && !res._streaming) {
          this.respond(req, res, res._body, route, keep);
          if (this.sink !== null) this.sink.done = true;
          continue;
        }
        this.goAsync(connId, slabId, req, route, keep, this.settle(req, res, route, v));
        continue;
      }
      const p = this.run(req, res, route);
      if (p === undefined && res._sent && !res._streaming && route.hooks.onSend.length === 0) {
        this.respond(req, res, res._body, route, keep);
        if (this.sink !== null) this.sink.done = true;
        if (route.hooks.onResponse.length) this.afterResponse(req, res, route);
        continue;
      }
      this.goAsync(connId, slabId, req, route, keep, p);
    }
    const error = ctl[CTL_ERROR];
    if (error !== 0) {
      const cs = this.conns[connId];
      this.sink = cs !== undefined && cs.busy ? this.newSlot(cs, -1) : null;
      this.respondProtocolError(error);
      if (this.sink !== null) this.sink.done = true;
    }
    ctl[CTL_OUT_LEN] = this.cursor;
    ctl[CTL_CLOSE] = this.closeAfter ? 1 : 0;
    // Too many answers pending on this connection: stop reading from it (invariant 4).
    const cs = this.conns[connId];
    if (cs !== undefined && !cs.paused && cs.queue.length - cs.head > this.options.maxPending) {
      cs.paused = true;
      ctl[CTL_PAUSE] = 1;
    }
    this.sink = null;
    this.inBatch = false;
  };

  readonly onClose = (connId: number): void => {
    const cs = this.conns[connId];
    if (cs !== undefined) {
      cs.alive = false;
      this.conns[connId] = undefined;
      for (let i = cs.head; i < cs.queue.length; i++) {
        const r = cs.queue[i].req;
        if (r !== null && !cs.queue[i].done && r._abort !== undefined) r._abort.abort();
      }
      for (const w of cs.drainWaiters) w();
      cs.drainWaiters = [];
    }
  };

  readonly onDrain = (connId: number): void => {
    const cs = this.conns[connId];
    if (cs === undefined) return;
    cs.queued = 0;
    const ws = cs.drainWaiters;
    cs.drainWaiters = [];
    for (const w of ws) w();
  };

  // ---- routing ---------------------------------------------------------------

  /** The JS router: %-escaped paths and custom methods; else 404 / 405. */
  private lookup(req: Request): Route {
    const allowed: string[] = [];
    const m = this.router.find(req.method, req.rawPath(), allowed);
    if (m !== null) {
      req.params = m.params;
      return m.route;
    }
    if (allowed.length === 0) return this.options.notFound;
    const set = new Set(allowed);
    if (set.has('GET')) set.add('HEAD');
    req._allow = [...set].join(', ');
    return this.options.methodNotAllowed;
  }

  // ---- the lifecycle ---------------------------------------------------------

  /**
   * Runs hooks and handler; undefined when the reply is decided now, else a
   * promise of it.  The sync case allocates nothing; the first thenable a
   * hook returns hands the rest to `resume`.
   */
  private run(req: Request, res: Reply, route: Route): PromiseLike<unknown> | undefined {
    const h = route.hooks as Hooks;
    try {
      for (let stage = 0; stage < 2; stage++) {
        const list = stage === 0 ? h.onRequest : h.preHandler;
        for (let i = 0; i < list.length; i++) {
          const r = list[i](req, res);
          if (isThenable(r)) {
            return this.resume(req, res, route, stage, i + 1, r).catch((err) => this.failAsync(req, res, route, err));
          }
          if (res._sent) return undefined; // a hook answered: the handler is skipped
        }
      }
      const p = this.callHandler(req, res, route);
      return p === undefined ? undefined : Promise.resolve(p).catch((err) => this.failAsync(req, res, route, err));
    } catch (err) {
      return this.fail(req, res, route, err);
    }
  }

  /** The rest of the hooks and the handler, after a hook returned a thenable. */
  private async resume(req: Request, res: Reply, route: Route, stage: number, i: number, pending: PromiseLike<unknown>): Promise<unknown> {
    await pending;
    const h = route.hooks as Hooks;
    for (; stage < 2; stage++, i = 0) {
      const list = stage === 0 ? h.onRequest : h.preHandler;
      for (; i < list.length; i++) {
        if (res._sent) return undefined;
        await list[i](req, res);
      }
    }
    if (res._sent) return undefined;
    return this.callHandler(req, res, route);
  }

  private callHandler(req: Request, res: Reply, route: Route): PromiseLike<unknown> | undefined {
    const v = route.handler(req, res);
    return this.settle(req, res, route, v);
  }

  /** Turns a handler's result into a decided reply (or a promise of one). */
  private settle(req: Request, res: Reply, route: Route, v: unknown): PromiseLike<unknown> | undefined {
    if (isThenable(v)) {
      return Promise.resolve(v).then(
        (x) => this.settle(req, res, route, x),
        (err) => this.failAsync(req, res, route, err),
      );
    }
    // LATER: the answer comes through res (the Pending sink delivers it).
    if (res._sent) return res._streaming && !res._ended ? LATER : undefined;
    if (v !== undefined) {
      res.send(v);
      return undefined;
    }
    // Nothing returned and nothing sent: the handler answers later through res.
    return LATER;
  }

  /** A handler or hook threw: onError hooks, then the error handler. */
  private fail(req: Request, res: Reply, route: Route, err: unknown): PromiseLike<unknown> | undefined {
    const h = route.hooks;
    if (h !== null && h.onError.length) {
      return this.failAsync(req, res, route, err);
    }
    return this.handleError(req, res, route, err);
  }

  private async failAsync(req: Request, res: Reply, route: Route, err: unknown): Promise<unknown> {
    const h = route.hooks;
    if (h !== null) {
      // onError hooks observe; they cannot answer (a reply they send is undone).
      const sent = res._sent;
      for (const hook of h.onError) {
        try {
          await hook(req, res, err);
        } catch {
          // an onError hook cannot change the response
        }
      }
      if (!sent && res._sent) {
        res._reset();
        res._streaming = false;
        res._early = null;
        res._ended = false;
      }
    }
    return this.handleError(req, res, route, err);
  }

  private handleError(req: Request, res: Reply, route: Route, err: unknown): PromiseLike<unknown> | undefined {
    if (res._sent) {
      // Too late for an error response: a started stream is cut instead.
      if (res._streaming && !res._ended) res._abortStream();
      return undefined;
    }
    res._reset();
    const eh = this.options.errorHandler;
    if (eh !== null) {
      try {
        const v = eh(err, req, res);
        if (isThenable(v)) {
          return Promise.resolve(v).then(
            (x) => this.settleError(res, x, err),
            (e2) => this.settleError(res, undefined, e2),
          );
        }
        return this.settleError(res, v, err);
      } catch (e2) {
        return this.settleError(res, undefined, e2);
      }
    }
    this.defaultError(res, err);
    return undefined;
  }

  private settleError(res: Reply, v: unknown, err: unknown): undefined {
    if (res._sent) return undefined;
    if (v !== undefined) res.send(v);
    else this.defaultError(res, err);
    return undefined;
  }

  /** JSON { statusCode, code, error, message }; no internals for 5xx unless debug. */
  defaultError(res: Reply, err: unknown): void {
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; stack?: unknown } | null;
    const s = typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode <= 599 ? e.statusCode : 500;
    const body: Record<string, unknown> = { statusCode: s };
    if (e !== null && typeof e === 'object' && typeof e.code === 'string') body.code = e.code;
    body.error = statusText(s);
    const show = s < 500 || this.options.debug;
    body.message = show && typeof e?.message === 'string' ? e.message : statusText(s);
    if (this.options.debug && typeof e?.stack === 'string') body.stack = e.stack;
    res._reset();
    res.status(s);
    res._json = true;
    res.send(body);
  }

  // ---- async requests --------------------------------------------------------

  private newSlot(cs: ConnState, slabId: number): Slot {
    const slot: Slot = { chunks: [], done: false, close: false, slabId, req: null };
    cs.queue.push(slot);
    return slot;
  }

  /**
   * The request's answer comes later: it keeps its request and reply objects
   * (the dispatcher takes fresh ones) and its slab stays pinned.
   */
  private goAsync(connId: number, slabId: number, req: Request, route: Route, keep: boolean, p: PromiseLike<unknown> | undefined): void {
    const res = this.res;
    req._detach();
    this.ctl[CTL_PENDING]++;
    let cs = this.conns[connId];
    if (cs === undefined) this.conns[connId] = cs = new ConnState(connId);
    let slot = this.sink;
    if (slot === null) slot = this.newSlot(cs, slabId);
    else slot.slabId = slabId;
    slot.req = req;
    this.sink = null;
    this.req = this.options.newRequest();
    this.res = new Reply(this.options.highWaterMark);
    const pend = new Pending(this, cs, slot, req, route, keep);
    res._sink = pend;
    if (res._sent) {
      // Decided already (a streaming start, or an answer that needs onSend hooks).
      queueMicrotask(() => this.deliver(pend, res));
    } else if (p !== undefined) {
      // Errors inside p were turned into replies; this only guards bugs.
      Promise.resolve(p).catch((err) => {
        if (!res._sent) this.defaultError(res, err);
      });
    }
  }

  /** @internal A late reply was sent (or started streaming). */
  deliver(pend: Pending, res: Reply): void {
    if (this.inBatch) {
      // The output arena holds another batch right now: go after it.
      queueMicrotask(() => this.deliver(pend, res));
      return;
    }
    const { cs, slot } = pend;
    if (!cs.alive) {
      if (!slot.done) this.settleDead(pend);
      // A writer waiting for the head must not wait forever: the client is gone.
      const waiting = res._waitHead;
      res._waitHead = null;
      if (waiting !== null) for (const w of waiting) w();
      return;
    }
    if (res._streaming) {
      this.startStream(pend, res);
      return;
    }
    const h = pend.route.hooks;
    if (h !== null && h.onSend.length) {
      this.payload(res, res._body, pend.route);
      const status = this.pStatus;
      const type = this.pType;
      let p: Promise<string | Uint8Array | null> = Promise.resolve(this.pBody);
      for (const hook of h.onSend) {
        p = p.then(async (cur) => {
          const r = await hook(pend.req, res, cur ?? '');
          return typeof r === 'string' || r instanceof Uint8Array ? r : cur;
        });
      }
      p.then(
        (final) => this.finishSlot(pend, res, status, type, final),
        (err) => {
          const r = new Reply();
          this.defaultError(r, err);
          this.payload(r, r._body, pend.route);
          this.finishSlot(pend, r, this.pStatus, this.pType, this.pBody);
        },
      );
      return;
    }
    this.payload(res, res._body, pend.route);
    this.finishSlot(pend, res, this.pStatus, this.pType, this.pBody);
  }

  private settleDead(pend: Pending): void {
    pend.slot.done = true;
    this.native.send(-1, 0, undefined, SEND_RELEASE, pend.slot.slabId);
  }

  /** Serializes a late answer into its slot, then flushes what is ready. */
  private finishSlot(pend: Pending, res: Reply, status: number, type: string | null, payload: string | Uint8Array | null): void {
    const { cs, slot, req, keep } = pend;
    if (!cs.alive) {
      this.settleDead(pend);
      return;
    }
    this.connId = cs.id;
    this.cursor = 0;
    this.closeAfter = false;
    this.sink = slot;
    this.write(req, status, type, payload, res._headers, this.connMode(req, keep));
    this.sink = null;
    if (!keep) slot.close = true;
    slot.done = true;
    this.flush(cs);
    const h = pend.route.hooks;
    if (h !== null && h.onResponse.length) this.afterResponse(req, res, pend.route);
  }

  /** Sends every ready slot from the head of the queue, in order. */
  private flush(cs: ConnState): void {
    const out = this.out;
    let cursor = 0;
    const releases: number[] = [];
    let close = false;
    while (cs.head < cs.queue.length) {
      const s = cs.queue[cs.head];
      for (const c of s.chunks) {
        if (cursor + c.length > out.length) {
          cs.queued = this.native.send(cs.id, cursor, c, 0, -1);
          cursor = 0;
          continue;
        }
        out.set(c, cursor);
        cursor += c.length;
      }
      s.chunks.length = 0;
      if (!s.done) break;
      cs.head++;
      if (s.slabId >= 0) releases.push(s.slabId);
      if (s.close) close = true;
    }
    if (cursor > 0) cs.queued = this.native.send(cs.id, cursor, undefined, 0, -1);
    for (const id of releases) this.native.send(cs.id, 0, undefined, SEND_RELEASE, id);
    if (close) this.native.send(cs.id, 0, undefined, SEND_CLOSE, -1);
    if (cs.head === cs.queue.length) {
      cs.queue.length = 0;
      cs.head = 0;
    }
    if (cs.paused && cs.queue.length - cs.head <= this.options.maxPending / 2) {
      cs.paused = false;
      this.native.send(cs.id, 0, undefined, SEND_RESUME, -1);
    }
  }

  // ---- streaming -------------------------------------------------------------

  private startStream(pend: Pending, res: Reply): void {
    const { req, keep, slot, cs } = pend;
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    const chunked = req._minor >= 1;
    const conn = chunked ? this.connMode(req, keep) : CONN_CLOSE;
    if (!chunked || !keep) slot.close = true;
    const head = Buffer.allocUnsafe(headBound(res._type ?? TEXT, res._headers.length + 64));
    const extra = res._headers + (chunked ? 'Transfer-Encoding: chunked\r\n' : '');
    const end = writeHead(head, 0, res._status, res._type ?? TEXT, -1, conn, this.date, extra);
    slot.chunks.push(head.subarray(0, end));
    const early = res._early ?? [];
    res._early = null;
    res._earlyBytes = 0;
    (pend as { chunked?: boolean }).chunked = chunked;
    for (const c of early) this.streamChunk(pend, res, c, false);
    if (res._aborted) this.abortStream(pend);
    else if (res._ended) this.streamChunk(pend, res, new Uint8Array(0), true);
    else this.flush(cs);
    const waiting = res._waitHead;
    res._waitHead = null;
    if (waiting !== null) for (const w of waiting) void this.drained(cs).then(w);
  }

  /** @internal */
  streamChunk(pend: Pending, res: Reply, chunk: Uint8Array, end: boolean): boolean {
    const { cs, slot, req } = pend;
    if (!cs.alive) {
      if (end && !slot.done) this.settleDead(pend);
      return true;
    }
    if (slot.done) return true;
    if (res._early !== null) return true; // the head is not written yet: startStream replays
    const chunked = (pend as { chunked?: boolean }).chunked !== false;
    if (req._methodId !== HEAD_ID && chunk.length > 0) {
      if (chunked) slot.chunks.push(Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, CRLF);
      else slot.chunks.push(chunk);
    }
    if (end) {
      if (chunked && req._methodId !== HEAD_ID) slot.chunks.push(LAST_CHUNK);
      slot.done = true;
      }
    this.flush(cs);
    if (end) {
      const h = pend.route.hooks;
      if (h !== null && h.onResponse.length) this.afterResponse(req, res, pend.route);
    }
    let buffered = 0;
    for (const c of slot.chunks) buffered += c.length;
    return cs.queued + buffered <= this.options.highWaterMark;
  }

  /** @internal A stream failed after its head went out: end it by closing. */
  abortStream(pend: Pending): void {
    const { cs, slot } = pend;
    if (slot.done) return;
    if (!cs.alive) {
      this.settleDead(pend);
      return;
    }
    slot.close = true;
    slot.done = true;
    this.flush(cs);
  }

  /** @internal */
  drained(cs: ConnState): Promise<void> {
    if (!cs.alive || cs.queued <= this.options.highWaterMark / 2) return Promise.resolve();
    return new Promise((resolve) => cs.drainWaiters.push(resolve));
  }

  private afterResponse(req: Request, res: Reply, route: Route): void {
    const list = (route.hooks as Hooks).onResponse;
    queueMicrotask(() => {
      for (const hook of list) {
        try {
          const r = hook(req, res);
          if (isThenable(r)) Promise.resolve(r).catch(() => {});
        } catch {
          // onResponse cannot change anything any more
        }
      }
    });
  }

  // ---- serialization ---------------------------------------------------------

  private connMode(req: Request, keep: boolean): number {
    return keep ? (req._minor === 0 ? CONN_KEEP_ALIVE : CONN_DEFAULT) : CONN_CLOSE;
  }

  /** What `payload` decided, kept in fields so a response allocates no tuple. */
  private pStatus = 200;
  private pType: string | null = null;
  private pBody: string | Uint8Array | null = null;

  /** Sets pStatus, pType and pBody (null: no body) for a reply's value. */
  private payload(res: Reply, value: unknown, route: Route): void {
    const status = res._status;
    this.pStatus = status;
    this.pType = res._type;
    if (res._json || (value !== null && typeof value === 'object' && !(value instanceof Uint8Array))) {
      if (value === null && !res._json) {
        if (status === 200) this.pStatus = 204;
        this.pBody = null;
        return;
      }
      try {
        const ser = route.serializers !== null ? route.serializers[status] : undefined;
        this.pBody = ser !== undefined ? ser(value) : JSON.stringify(value) ?? 'null';
        this.pType = res._type ?? JSON_TYPE;
      } catch (err) {
        this.internalError(this.options.debug ? String(err) : statusText(500));
      }
      return;
    }
    if (typeof value === 'string') {
      this.pType = res._type ?? TEXT;
      this.pBody = value;
    } else if (value instanceof Uint8Array) {
      this.pType = res._type ?? OCTETS;
      this.pBody = value;
    } else if (value === null) {
      if (status === 200) this.pStatus = 204;
      this.pBody = null;
    } else if (value === undefined) {
      this.pType = res._type ?? TEXT;
      this.pBody = '';
    } else {
      // number, boolean, bigint, symbol, function: not a body
      const err = new SalvoError('SALVO_ERR_RESPONSE_TYPE', typeof value);
      this.internalError(this.options.debug ? err.message : statusText(500));
    }
  }

  private internalError(message: string): void {
    this.pStatus = 500;
    this.pType = JSON_TYPE;
    this.pBody = JSON.stringify({ statusCode: 500, code: 'SALVO_ERR_RESPONSE_TYPE', error: statusText(500), message });
  }

  /** Writes a decided reply of the current batch (sync path). */
  private respond(req: Request, res: Reply, value: unknown, route: Route, keep: boolean): void {
    if (typeof value === 'string' && keep && res._plain && req._minor === 1 && req._methodId !== HEAD_ID) {
      // Hot path: the same string as last time (hello world) is copied as bytes.
      if (route.cacheBody === value && route.cacheGen === this.date.gen && route.cacheBytes !== undefined) {
        this.place(route.cacheBytes);
        return;
      }
      const start = this.reserve(headBound(TEXT, 0) + 3 * value.length);
      const t = this.target;
      const end = writeText(t, start, 200, TEXT, value, CONN_DEFAULT, this.date, false, '');
      this.commit(start, end);
      route.cacheBody = value;
      route.cacheBytes = Buffer.from(t.subarray(start, end));
      route.cacheGen = this.date.gen;
      return;
    }
    this.payload(res, value, route);
    this.write(req, this.pStatus, this.pType, this.pBody, res._headers, this.connMode(req, keep));
    if (!keep) this.markClose();
  }

  private write(req: Request, status: number, type: string | null, payload: string | Uint8Array | null, extra: string, conn: number): void {
    const head = req._methodId === HEAD_ID;
    if (status === 405 && req._allow !== '') extra += 'Allow: ' + req._allow + '\r\n';
    // 1xx, 204 and 304 carry no body, and 1xx/204 no Content-Length (RFC 9110 8.6, 15.3.5, 15.4.5).
    if (payload === null || status < 200 || status === 204 || status === 304) {
      const start = this.reserve(headBound(type ?? '', extra.length));
      this.commit(start, writeHead(this.target, start, status, type, -1, conn, this.date, extra));
    } else if (typeof payload === 'string') {
      const start = this.reserve(headBound(type ?? '', extra.length) + 3 * payload.length);
      this.commit(start, writeText(this.target, start, status, type ?? TEXT, payload, conn, this.date, head, extra));
    } else {
      const start = this.reserve(headBound(type ?? '', extra.length) + payload.length);
      this.commit(start, writeBytes(this.target, start, status, type ?? OCTETS, payload, conn, this.date, head, extra));
    }
  }

  /** A canned answer for a protocol error found by the parser: then the connection closes. */
  private respondProtocolError(status: number): void {
    const code = PROTOCOL_CODES[status] ?? 'SALVO_ERR_BAD_REQUEST';
    const body = JSON.stringify({ statusCode: status, code, error: statusText(status), message: codes[code].message.replace('%s', '').trim() });
    const start = this.reserve(headBound(JSON_TYPE, 0) + body.length);
    this.commit(start, writeText(this.target, start, status, JSON_TYPE, body, CONN_CLOSE, this.date, false, ''));
    this.markClose();
  }

  private markClose(): void {
    if (this.sink !== null) this.sink.close = true;
    else this.closeAfter = true;
  }

  /**
   * Where the next response is serialized: the output arena, or a private
   * buffer when it does not fit.  `reserve` returns the start offset in
   * `target`; `commit` hands the bytes to the sink.
   */
  private target: Buffer = Buffer.alloc(0);

  private reserve(bound: number): number {
    const out = this.out;
    if (this.sink === null && this.cursor + bound <= out.length) {
      this.target = out;
      return this.cursor;
    }
    if (this.sink === null && this.cursor > 0 && bound <= out.length) {
      // The arena is full: send what the batch has so far, in order, and reuse it.
      this.native.send(this.connId, this.cursor, undefined, 0, -1);
      this.cursor = 0;
      this.target = out;
      return 0;
    }
    if (this.sink !== null && bound <= out.length - this.cursor) {
      this.target = out; // scratch: commit copies it into the slot
      return this.cursor;
    }
    this.target = Buffer.allocUnsafe(bound);
    return 0;
  }

  private commit(start: number, end: number): void {
    const t = this.target;
    if (this.sink !== null) {
      this.sink.chunks.push(t === this.out ? Buffer.from(t.subarray(start, end)) : t.subarray(start, end));
      return;
    }
    if (t === this.out) {
      this.cursor = end;
      return;
    }
    this.native.send(this.connId, this.cursor, t.subarray(0, end), 0, -1);
    this.cursor = 0;
  }

  /** Appends ready-made bytes (a cached answer) in order. */
  private place(bytes: Buffer): void {
    if (this.sink !== null) {
      this.sink.chunks.push(bytes);
      return;
    }
    const out = this.out;
    if (this.cursor + bytes.length > out.length) {
      this.native.send(this.connId, this.cursor, bytes, 0, -1);
      this.cursor = 0;
      return;
    }
    out.set(bytes, this.cursor);
    this.cursor += bytes.length;
  }
}

/**
 * Marks a request whose answer comes through `res` later (the Pending sink
 * delivers it).  A settled promise, not a never-settling one, which would keep
 * every reaction attached to it forever.
 */
const LATER: PromiseLike<unknown> = Promise.resolve();

const PROTOCOL_CODES: Record<number, ErrorCode> = {
  400: 'SALVO_ERR_BAD_REQUEST',
  413: 'SALVO_ERR_BODY_TOO_LARGE',
  414: 'SALVO_ERR_URI_TOO_LONG',
  417: 'SALVO_ERR_EXPECTATION_FAILED',
  431: 'SALVO_ERR_HEADERS_TOO_LARGE',
  501: 'SALVO_ERR_NOT_IMPLEMENTED',
  505: 'SALVO_ERR_HTTP_VERSION',
};
