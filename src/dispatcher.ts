/**
 * @module dispatcher
 * The batch loop: the addon calls `dispatch` once per read with the rows of
 * every complete request in it.  Each row gets its own request and reply
 * objects, is routed (the addon usually matched the route already) and run
 * through its lifecycle (src/lifecycle.ts); a reply decided now is written at
 * once (src/output.ts), one whose answer comes later joins its connection's
 * queue (src/conn-queue.ts) and reaches it through this dispatcher, its sink.
 *
 * Also here: what the addon reports about connections (closed, FIN, drained),
 * the output bound (invariant 4: past the high-water mark the rest of a batch
 * is deferred, in order, and runs when the client has drained); the
 * request-timeout sweep is src/timeout-sweep.ts.
 */
import type { NativeServer } from './native';
import {
  CTL_CLOSE, CTL_ERROR, CTL_OUT_LEN, CTL_PAUSE, CTL_PENDING, CTL_QUEUED, F_KEEP_ALIVE, ROW_STRIDE, R_FLAGS, R_ROUTE,
} from './layout';
import { ConnQueues, PAUSE_DEFER, PAUSE_PENDING, type ConnState } from './conn-queue';
import { isThenable, Lifecycle, type ErrorHandler, type Route } from './lifecycle';
import { Output } from './output';
import { isReadable, Reply } from './reply';
import { LateAnswers, SHAPED } from './late-answers';
import { BatchRequests } from './batch-requests';
import type { Request } from './request';
import type { RequestEnv } from './logger';
import { CONN_CLOSE, type DateCache } from './response';
import type { Router } from './router';
import { RowRouter } from './row-router';
import { Streams } from './streaming';
import { TimeoutSweep } from './timeout-sweep';

export type { Handler, Hook, SendHook, ErrorHook, ErrorHandler, Hooks, Route, RequestCtor } from './lifecycle';


export interface DispatcherOptions {
  debug: boolean;
  highWaterMark: number;
  /** AppOptions.coalesceTurn: a batch's arena cork joins the turn's flush (ConnQueues.endCheckpoint). */
  coalesceTurn: boolean;
  /** Answers pending on one connection before it stops reading. */
  maxPending: number;
  /** Milliseconds a request may wait for its answer (503 after; 0: no limit); a route's `timeout` overrides it. */
  requestTimeout: number;
  /** Logging is on: string bodies are counted for the request log. */
  countBytes: boolean;
  notFound: Route;
  methodNotAllowed: Route;
  errorHandler: ErrorHandler | null;
  /** What the app's requests share (peer addresses, ids, the logger). */
  env: RequestEnv;
  /** Logs a handler's error (null: logging off). */
  logError: ((req: Request, err: unknown) => void) | null;
}

/**
 * A handler's result that is the answer itself (not a promise, stream or
 * error to go through settle).  Small, so that it costs Dispatcher.row little
 * of V8's inlining budget (~920 bytecodes a function: what is left inlines
 * the request's constructor); objects are looked at out of line.
 */
function isAnswer(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return v !== undefined;
  return isObjectAnswer(v);
}

function isObjectAnswer(v: object): boolean {
  if (v instanceof Promise) return false; // before getPrototypeOf, which is slow on promises
  // The common JSON answer first: a plain object or an array is one (inherited) property load.
  // Object.getPrototypeOf went through V8's runtime here, 121 instructions a call (callgrind, salvo-json).
  const c = (v as { constructor?: unknown }).constructor;
  if ((c === Object || c === Array) && typeof (v as { then?: unknown }).then !== 'function') return true;
  const proto = Object.getPrototypeOf(v);
  if ((proto === Object.prototype || proto === null || proto === Array.prototype) && typeof (v as { then?: unknown }).then !== 'function') return true;
  return !isThenable(v) && !(v instanceof Error) && !isReadable(v);
}

export class Dispatcher {
  private readonly rows: Int32Array;
  private readonly hdrs: Int32Array;
  private readonly ctl: Int32Array;
  private readonly queues: ConnQueues;
  private readonly output: Output;
  private readonly lifecycle: Lifecycle;
  private readonly streams: Streams;
  /** The sink of replies that outlive their batch. */
  private readonly late: LateAnswers;
  /** The request-timeout sweep (src/timeout-sweep.ts); its tick stamps a reply going pending. */
  private readonly sweep: TimeoutSweep;
  /** Requests of the last batch that still view its slab (src/batch-requests.ts). */
  private readonly batch = new BatchRequests();
  /** Routes each row before its request is made (src/row-router.ts). */
  private readonly rowRouter: RowRouter;

  constructor(
    private readonly native: NativeServer,
    private readonly routes: Route[],
    router: Router<Route>,
    date: DateCache,
    private readonly options: DispatcherOptions,
  ) {
    this.rows = native.rows;
    this.hdrs = native.headers;
    this.ctl = native.ctl;
    this.rowRouter = new RowRouter(this.rows, routes, router, options.notFound, options.methodNotAllowed);
    this.queues = new ConnQueues(native, options.highWaterMark, options.coalesceTurn);
    this.output = new Output(native, this.queues, date, options.debug, options.countBytes);
    this.queues.output = this.output;
    this.queues.afterFlush = (cs) => this.afterFlush(cs);
    this.lifecycle = new Lifecycle({ debug: options.debug, errorHandler: options.errorHandler, logError: options.logError });
    this.lifecycle.afterSettle = (res) => this.endEarly(res);
    this.late = new LateAnswers(this.queues, this.output, this.lifecycle);
    this.streams = new Streams(this.queues, this.output, options.highWaterMark, (req, res, route) => this.late.afterResponse(req, res, route));
    this.late.streams = this.streams;
    this.sweep = new TimeoutSweep([...routes, options.notFound, options.methodNotAllowed], options.requestTimeout, this.queues, this.lifecycle, this.late, (cs) => {
      if (cs.deferred === 0 && (cs.pause & PAUSE_DEFER) !== 0) this.runDeferred(cs);
    });
  }

  /**
   * The batch's microtask checkpoint is over (the addon calls this before
   * the slab's bytes move or the tables are reused): a request answered in
   * it is ended; one still pending copies its own bytes out.
   */
  readonly detachPending = (end: boolean): void => {
    const open = this.batch.release();
    // The answers settled in the checkpoint leave now, after the detach (the requests stop viewing the slab first).
    if (end) this.queues.endCheckpoint();
    if (open > 0) this.queues.requeueFlush();
  };

  /**
   * An async handler's promise settled and answered: when that was the last
   * thing the checkpoint's batch owed and every handler of it has returned,
   * the batch ends now (its requests can no longer be read) and hands its
   * output back, so the addon needs no detachPending call after the
   * checkpoint (one crossing less per read: 1,600 instructions a request
   * without pipelining, callgrind).
   */
  private endEarly(res: Reply): void {
    const q = this.queues;
    const id = q.checkpoint;
    if (id < 0) return;
    const req = res._req;
    if (req === null || req._connId !== id || !q.canHandBack(id) || !this.batch.allSettled()) return;
    this.batch.release();
    q.handBackEarly();
  }

  /** The server closed: no more sweeps. */
  stop(): void {
    this.sweep.stop();
  }

  readonly dispatch = (connId: number, count: number, slab: Uint8Array): void => {
    // A batch inside another connection's checkpoint: that one's answers go with the turn's flush,
    // and what it handed back early leaves before the arena is reused.
    if (this.queues.checkpoint >= 0 && this.queues.checkpoint !== connId) this.queues.leaveCheckpoint();
    if (this.queues.handedPending) this.queues.sendHanded();
    const out = this.output;
    const ctl = this.ctl;
    const hwm = this.options.highWaterMark;
    out.batchConn = connId;
    out.cursor = ctl[CTL_OUT_LEN];
    out.closeAfter = false;
    out.written = 0;
    const queued = ctl[CTL_QUEUED];
    let pending = 0;
    let i = 0;
    for (let base = 0; i < count; i++, base += ROW_STRIDE) {
      // The output bound: past the high-water mark, the rest of the batch waits.
      const cs = this.queues.get(connId);
      if (queued + out.written + (cs === undefined ? 0 : cs.corkLen + cs.held) > hwm) break;
      try {
        const n = this.row(connId, slab, base);
        if (typeof n === 'number') pending += n;
        // An async handler's reply, made owed here: goAsync inlined into row leaves no room for the request's constructor.
        else pending += this.goAsync(connId, n._req as Request, n, n._route as Route, n._keep);
      } catch (err) {
        // Only a salvo bug gets here (the lifecycle catches what handlers do): answer 500 in order.
        this.rowFailed(connId, err);
      }
    }
    if (i < count) pending += this.defer(connId, slab, i, count);
    const error = ctl[CTL_ERROR];
    if (error !== 0) this.protocolError(connId, error);
    // Answers owed: the batch's bytes wait in the arena for those settling in its checkpoint (one write after it).
    if (pending > 0 && this.queues.adoptArena(connId, out.out, out.cursor)) out.cursor = 0;
    ctl[CTL_OUT_LEN] = out.cursor;
    ctl[CTL_CLOSE] = out.closeAfter ? 1 : 0;
    ctl[CTL_PENDING] = pending;
    const cs = this.queues.get(connId);
    if (cs !== undefined) {
      // Too many answers pending on this connection: stop reading from it (invariant 4).
      if ((cs.pause & PAUSE_PENDING) === 0 && cs.owed > this.options.maxPending) cs.pause |= PAUSE_PENDING;
      if (cs.pause !== 0) ctl[CTL_PAUSE] = 1;
    }
    out.batchConn = -1;
    // The addon runs the batch's microtask checkpoint next, then detachPending.
    if (pending > 0) this.queues.checkpoint = connId;
  };

  /**
   * One request of the batch; returns 1 when its answer is owed for later,
   * or the reply of an async handler's promise, which the batch loop makes owed.
   */
  private row(connId: number, slab: Uint8Array, base: number): number | Reply {
    const rows = this.rows;
    const o = this.options;
    // The addon matched most rows: those are routed and made here, without calls (V8 inlines
    // at most ~920 bytecodes into one function: a newRequest call inlined into row left no
    // room for the request's constructor; this order costs 2,752 instructions a request on
    // the hello against 2,943, callgrind).
    const rid = rows[base + R_ROUTE];
    const route = rid >= 0 ? this.routes[rid] : this.rowRouter.route(slab, base);
    const req = new route.RequestClass(slab, rows, base, this.hdrs, connId, o.env);
    if (route.decorate !== null) route.decorate(req);
    if (rid >= 0) req._paramNames = route.paramNames;
    else this.rowRouter.apply(req, route, base);
    const res = new route.ReplyClass(o.highWaterMark);
    if (route.decorateReply !== null) route.decorateReply(res);
    const keep = (rows[base + R_FLAGS] & F_KEEP_ALIVE) !== 0;
    const hooks = route.hooks;
    let p: PromiseLike<unknown> | undefined;
    let v: unknown;
    if (hooks === null) {
      // Fast path: no hooks, and (usually) a handler that returns its answer.
      try {
        const body = route.body;
        if (body !== null) {
          const b = body(req, res);
          // An async content-type parser: the handler runs once it settles.
          if (b !== undefined) {
            this.lifecycle.afterBody(req, res, route, b as PromiseLike<unknown>);
            return this.goAsync(connId, req, res, route, keep);
          }
        }
        v = route.handler(req, res);
      } catch (err) {
        v = undefined;
        p = this.lifecycle.fail(req, res, route, err);
        if (p !== undefined) return this.goAsync(connId, req, res, route, keep);
      }
      if (!res._sent) {
        if (v instanceof Promise && v.constructor === Promise) {
          // An async handler's promise: its reaction (Lifecycle.react) answers through the queue;
          // the batch loop makes the answer owed (goAsync), outside row's inlining budget.
          this.lifecycle.react(res, v);
          res._req = req;
          res._route = route;
          res._keep = keep;
          return res;
        } else if (isAnswer(v)) {
          res._sent = true;
          res._body = v;
        } else {
          p = this.lifecycle.settle(req, res, route, v);
        }
      } else if (res._streaming) {
        p = this.lifecycle.settle(req, res, route, v);
      }
    } else {
      p = this.lifecycle.run(req, res, route);
    }
    if (p !== undefined || !res._sent || res._streaming) return this.goAsync(connId, req, res, route, keep);
    let decided = ANSWER_VALUE;
    if (hooks !== null && hooks.onSend.length !== 0) {
      // onSend hooks run in the batch; one returning a thenable makes the answer a late one.
      const pending = this.late.onSendNow(res, hooks, true);
      if (pending === SHAPED) decided = ANSWER_SHAPED;
      else if (pending !== null) {
        const n = this.goAsync(connId, req, res, route, keep, false);
        void this.late.onSendLater(res, hooks, pending);
        return n;
      } else decided = ANSWER_DECIDED;
    }
    this.answerNow(connId, req, res, route, keep, decided);
    // Code of the handler may still run (it returned a promise): it keeps a readable request.
    if (isThenable(v) || (hooks !== null && hooks.onResponse.length !== 0)) req._detach();
    else req._end();
    if (hooks !== null && hooks.onResponse.length !== 0) this.late.afterResponse(req, res, route);
    return 0;
  }

  /**
   * The request of row `base`, of its route's class (a plugin that decorates
   * requests has its own subclass), with what routing found.
   */
  private newRequest(route: Route, connId: number, slab: Uint8Array, base: number): Request {
    const req = new route.RequestClass(slab, this.rows, base, this.hdrs, connId, this.options.env);
    if (route.decorate !== null) route.decorate(req);
    if (this.rows[base + R_ROUTE] >= 0) req._paramNames = route.paramNames;
    else this.rowRouter.apply(req, route, base);
    return req;
  }

  /** A reply decided inside its batch: to the arena, or in order behind what is queued. */
  private answerNow(connId: number, req: Request, res: Reply, route: Route, keep: boolean, decided: number): void {
    const cs = this.queues.get(connId);
    if (cs !== undefined && !cs.idle) {
      this.answerQueued(cs, req, res, route, keep, decided);
      return;
    }
    const out = this.output;
    out.toArena();
    if (decided === ANSWER_VALUE) out.respond(req, res, res._body, route, keep);
    else if (decided === ANSWER_DECIDED) out.respondDecided(req, res, keep);
    else out.respondShaped(req, res, route, keep);
  }

  /** answerNow behind answers still queued on the connection (out of line: row's inlining budget). */
  private answerQueued(cs: ConnState, req: Request, res: Reply, route: Route, keep: boolean, decided: number): void {
    const out = this.output;
    this.queues.enqueue(cs, res);
    out.toConn(cs, res);
    if (decided === ANSWER_VALUE) out.respond(req, res, res._body, route, keep);
    else if (decided === ANSWER_DECIDED) out.respondDecided(req, res, keep);
    else out.respondShaped(req, res, route, keep);
    res._done = true;
    this.queues.advance(cs);
  }

  /** The lifecycle threw (a salvo bug): a 500 for this request, in order. */
  private rowFailed(connId: number, err: unknown): void {
    const res = new Reply(this.options.highWaterMark);
    try {
      this.lifecycle.defaultError(res, err);
    } catch {
      res._sent = true;
      res._status = 500;
      res._body = { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' };
    }
    const cs = this.queues.get(connId);
    const out = this.output;
    const queued = cs !== undefined && !cs.idle;
    if (queued) {
      this.queues.enqueue(cs, res);
      out.toConn(cs, res);
    } else {
      out.toArena();
    }
    out.payload(res, res._body, this.options.notFound);
    // Close after it: the request's framing state is unknown.
    out.write(FAILED_REQUEST, out.pStatus, out.pType, out.pBody, '', CONN_CLOSE);
    if (queued) {
      res._done = true;
      this.queues.advance(cs);
    }
  }

  /**
   * The request's answer comes later: it keeps its own bytes (the slab is
   * reused by the next read) and joins its connection's queue.
   */
  /** `deliver` false: the caller finishes the reply itself (its onSend hooks went async). */
  private goAsync(connId: number, req: Request, res: Reply, route: Route, keep: boolean, deliver = true): number {
    // Still viewing the slab: the addon calls detachPending after the batch's microtasks.
    this.batch.add(res);
    const cs = this.queues.ensure(connId);
    res._req = req;
    res._route = route;
    res._keep = keep;
    res._owed = true;
    res._since = this.sweep.tick;
    this.queues.enqueue(cs, res);
    res._sink = this.late;
    // Decided already (a streaming start, or an answer that needs onSend hooks).
    if (deliver && res._sent) this.late.sent(res);
    return 1;
  }

  /** Past the high-water mark: rows [from, count) wait, in order, for the client to drain. */
  private defer(connId: number, slab: Uint8Array, from: number, count: number): number {
    const cs = this.queues.ensure(connId);
    const o = this.options;
    for (let i = from, base = from * ROW_STRIDE; i < count; i++, base += ROW_STRIDE) {
      const route = this.rowRouter.route(slab, base);
      const req = this.newRequest(route, connId, slab, base);
      req._detach();
      const res = new route.ReplyClass(o.highWaterMark);
      if (route.decorateReply !== null) route.decorateReply(res);
      res._req = req;
      res._route = route;
      res._keep = (this.rows[base + R_FLAGS] & F_KEEP_ALIVE) !== 0;
      res._owed = true;
      res._since = this.sweep.tick;
      res._deferred = true;
      this.queues.enqueue(cs, res);
      cs.deferred++;
    }
    cs.pause |= PAUSE_DEFER;
    this.queues.markDirty(cs); // after this turn's write: run them, or watch for the drain
    return count - from;
  }

  /** Runs deferred requests while the connection's output stays under the mark. */
  private runDeferred(cs: ConnState): void {
    const hwm = this.options.highWaterMark;
    for (let i = cs.head; i < cs.tail && cs.deferred > 0; i++) {
      const res = cs.queue[i] as Reply;
      if (!res._deferred) continue;
      if (this.queues.unsent(cs) > hwm) {
        this.queues.markDirty(cs); // after this turn's write, look again
        return;
      }
      res._deferred = false;
      cs.deferred--;
      const req = res._req as Request;
      const route = res._route as Route;
      res._sink = this.late;
      let p: PromiseLike<unknown> | undefined;
      try {
        p = route.hooks === null ? this.lifecycle.runBare(req, res, route) : this.lifecycle.run(req, res, route);
      } catch (err) {
        p = this.lifecycle.fail(req, res, route, err);
      }
      void p; // a decided reply reached its sink (sent) already; a later one will
    }
    if (cs.deferred === 0 && (cs.pause & PAUSE_DEFER) !== 0) {
      cs.pause &= ~PAUSE_DEFER;
      if (cs.pause === 0 && cs.alive) this.native.resume(cs.id);
    }
  }

  private protocolError(connId: number, status: number): void {
    const cs = this.queues.get(connId);
    const out = this.output;
    if (cs === undefined || cs.idle) {
      out.toArena();
      out.protocolError(status);
      return;
    }
    const res = new Reply(this.options.highWaterMark);
    res._sent = true;
    this.queues.enqueue(cs, res);
    out.toConn(cs, res);
    out.protocolError(status);
    res._done = true;
    this.queues.advance(cs);
  }

  // ---- what the addon reports ------------------------------------------------

  readonly onClose = (connId: number): void => {
    const cs = this.queues.remove(connId);
    if (cs === undefined) return;
    this.abortPending(cs);
    const ws = cs.drainWaiters;
    cs.drainWaiters = [];
    for (const w of ws) w();
  };

  /** The client sent FIN while answers were owed: it is gone, or at least done sending. */
  readonly onPeerEnd = (connId: number): void => {
    const cs = this.queues.get(connId);
    if (cs !== undefined) this.abortPending(cs);
  };

  readonly onDrain = (connId: number): void => {
    const cs = this.queues.get(connId);
    if (cs === undefined) return;
    cs.queued = this.native.watchDrain(connId);
    this.queues.settleDrain(cs, cs.queued);
    if (cs.deferred > 0) this.runDeferred(cs);
  };

  private abortPending(cs: ConnState): void {
    for (let i = cs.head; i < cs.tail; i++) {
      const r = cs.queue[i] as Reply;
      const req = r._req;
      if (req !== null && !r._done && req._abort !== undefined && !req._abort.signal.aborted) req._abort.abort();
    }
  }

  /** After this turn's write of a connection: deferred work, and reading resumed when owed answers are few. */
  private afterFlush(cs: ConnState): void {
    if (!cs.alive) return;
    if (cs.deferred > 0) {
      if (this.queues.unsent(cs) <= this.options.highWaterMark / 2) this.runDeferred(cs);
      else cs.queued = this.native.watchDrain(cs.id); // onDrain runs them
    }
    if ((cs.pause & PAUSE_PENDING) !== 0 && cs.owed <= this.options.maxPending / 2) {
      cs.pause &= ~PAUSE_PENDING;
      if (cs.pause === 0) this.native.resume(cs.id);
    }
  }

}

/** What `write` needs of a request whose own row could not be read (rowFailed). */
/** How answerNow writes a reply: its value (respond), what its onSend hooks decided, or by the byte writer that skipped them. */
const ANSWER_VALUE = 0;
const ANSWER_DECIDED = 1;
const ANSWER_SHAPED = 2;

const FAILED_REQUEST = { _methodId: 1, _allow: '', _minor: 1 } as unknown as Request;
