/**
 * @module lifecycle
 * One request's way from hooks to a decided reply: onRequest hooks,
 * preHandler hooks, handler, (on a throw: onError hooks, then the error
 * handler or the default JSON error).  It stays synchronous until something
 * returns a thenable: `run` returns undefined when the reply is decided now,
 * else a promise that settles once it is (the reply then reaches its
 * connection through its sink, src/dispatcher.ts).
 *
 * Nothing a handler or hook does can throw out of here: a failure in the
 * error path itself (an error object whose getters throw, a revoked Proxy)
 * still ends in a 500.
 */
import { codes } from './errors';
import { isReadable, LOCK_NONE, LOCK_ON_ERROR, type Reply } from './reply';
import type { Request } from './request';
import type { RequestEnv } from './logger';
import { statusText } from './response';
import type { ShapeWriter } from './shape-writer';

export type Handler = (req: Request<any>, res: Reply) => unknown;
export type Hook = (req: Request<any>, res: Reply) => unknown;
export type SendHook = (req: Request<any>, res: Reply, payload: string | Uint8Array) => unknown;
export type ErrorHook = (req: Request<any>, res: Reply, err: unknown) => unknown;
export type ErrorHandler = (err: unknown, req: Request<any>, res: Reply) => unknown;

/** A request class: `Request` itself, the app's subclass, or a plugin context's (src/app.ts requestClassOf). */
export type RequestCtor = new (
  slab: Uint8Array, rows: Int32Array, base: number, hdrs: Int32Array, connId: number, env: RequestEnv | null,
) => Request;

/** A reply class: `Reply`, the app's subclass, or a plugin context's. */
export type ReplyCtor = new (hwm?: number) => Reply;

export interface Hooks {
  onRequest: Hook[];
  preHandler: Hook[];
  onSend: SendHook[];
  onResponse: Hook[];
  onError: ErrorHook[];
  /**
   * When every onSend hook carries SEND_GATE: the smallest (a payload shorter than it passes
   * them all unchanged, so an answer the byte writer makes need not become a string for them:
   * src/shape-writer.ts); else 0.
   */
  sendGate: number;
}

/**
 * On an onSend hook of salvo's own (compress's): the hook returns undefined and does nothing
 * for a string or byte payload shorter than this many (UTF-16 units, or bytes).
 */
export const SEND_GATE = Symbol('salvo.sendGate');

/** Hooks.sendGate of an onSend list. */
export function sendGateOf(list: readonly SendHook[]): number {
  let gate = Infinity;
  for (const h of list) {
    const g = (h as unknown as Record<symbol, unknown>)[SEND_GATE];
    if (typeof g !== 'number' || !(g > 0)) return 0;
    gate = Math.min(gate, g);
  }
  return list.length === 0 ? 0 : gate;
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
  /** Byte writers of the statuses whose schema is a flat object (src/shape-writer.ts), or null. */
  readonly writers: Record<number, ShapeWriter> | null;
  /** The route's own `timeout` in ms (-1: the app's requestTimeout; 0: none). */
  readonly timeout: number;
  /** Its timeout in sweep ticks (0: none), set by the dispatcher. */
  timeoutTicks: number;
  /** Resolved when the app starts; null when the route has none (the fast path). */
  hooks: Hooks | null;
  /**
   * The body step (src/body-prelude.ts) of a route without hooks, run by the
   * dispatcher's fast path before the handler; null when the route has hooks
   * (the step is then the first preHandler) or needs none.
   */
  body: Hook | null;
  /** The error handler of the route's plugin context (resolved at start; null: the default JSON error). */
  errorHandler: ErrorHandler | null;
  /**
   * The class of this route's requests: the nearest plugin context's that
   * decorated requests (resolved at start).  Known before the request is
   * made: the dispatcher routes from the row, then constructs.
   */
  RequestClass: RequestCtor;
  /** Sets the decorated defaults of the route's context chain on a new request (null: none). */
  decorate: ((req: Request) => void) | null;
  /** The class of this route's replies, as RequestClass (decorateReply). */
  ReplyClass: ReplyCtor;
  decorateReply: ((res: Reply) => void) | null;
  /** The last constant string answer and its bytes, valid for one Date value. */
  cacheBody: string | undefined;
  cacheBytes: Buffer | undefined;
  cacheGen: number;
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v instanceof Promise || (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function');
}


/**
 * Marks a request whose answer comes through `res` later (the sink delivers
 * it).  A settled promise, not a never-settling one, which would keep every
 * reaction attached to it forever.
 */
export const LATER: PromiseLike<unknown> = Promise.resolve();

/** Promise.prototype.then, called on native promises only (an own `then` is never user code here). */
const promiseThen = Promise.prototype.then;

/** The reaction to a handler's native promise (bound to the lifecycle and the reply in `react`). */
function onFulfilled(this: Lifecycle, res: Reply, x: unknown): void {
  this.valueSettled(res, x);
}

function onRejected(this: Lifecycle, res: Reply, err: unknown): void {
  this.valueFailed(res, err);
}

export interface LifecycleOptions {
  debug: boolean;
  errorHandler: ErrorHandler | null;
  /** Logs an error thrown by a handler or hook (null: logging off). */
  logError: ((req: Request, err: unknown) => void) | null;
}

export class Lifecycle {
  /** Told after an async handler's promise settled and its answer was given (Dispatcher.endEarly). */
  afterSettle: (res: Reply) => void = () => {};

  constructor(private readonly options: LifecycleOptions) {}

  /**
   * Runs hooks and handler; undefined when the reply is decided now, else a
   * promise of it.  The sync case allocates nothing; the first thenable a
   * hook returns hands the rest to `resume`.
   */
  run(req: Request, res: Reply, route: Route): PromiseLike<unknown> | undefined {
    const h = route.hooks as Hooks;
    // A streamed answer runs the route's onSend hooks itself (Reply.stream).
    res._req = req;
    res._route = route;
    try {
      // Two loops, not one over both stages: the list is not picked per hook.
      const onRequest = h.onRequest;
      for (let i = 0; i < onRequest.length; i++) {
        const r = onRequest[i](req, res);
        if (r !== undefined && isThenable(r)) return this.resumeAt(req, res, route, 0, i + 1, r);
        if (res._sent) return undefined; // a hook answered: the handler is skipped
      }
      const preHandler = h.preHandler;
      for (let i = 0; i < preHandler.length; i++) {
        const r = preHandler[i](req, res);
        if (r !== undefined && isThenable(r)) return this.resumeAt(req, res, route, 1, i + 1, r);
        if (res._sent) return undefined;
      }
      const v = route.handler(req, res);
      // A string answer of a reply nobody else answers through (no sink: not a deferred request):
      // what settle and send would decide, without their checks for promises, errors and streams.
      if (typeof v === 'string' && !res._sent && res._sink === null && res._lock === LOCK_NONE) {
        res._sent = true;
        res._body = v;
        return undefined;
      }
      return this.settle(req, res, route, v);
    } catch (err) {
      return this.fail(req, res, route, err);
    }
  }

  /** A hook-free route off the fast path (a deferred request): its body step, then the handler; throws go to the caller. */
  runBare(req: Request, res: Reply, route: Route): PromiseLike<unknown> | undefined {
    const body = route.body;
    if (body !== null) {
      const b = body(req, res);
      if (b !== undefined) return this.afterBody(req, res, route, b as PromiseLike<unknown>);
    }
    return this.settle(req, res, route, route.handler(req, res));
  }

  /** The handler of a hook-free route after its body step returned a thenable (an async content-type parser). */
  afterBody(req: Request, res: Reply, route: Route, pending: PromiseLike<unknown>): Promise<unknown> {
    res._req = req;
    res._route = route;
    return this.resume(req, res, route, 2, 0, pending).catch((err) => this.failAsync(req, res, route, err));
  }

  /** `resume` with its failure answered (out of line: the closure exists only on this path). */
  private resumeAt(req: Request, res: Reply, route: Route, stage: number, i: number, pending: PromiseLike<unknown>): Promise<unknown> {
    return this.resume(req, res, route, stage, i, pending).catch((err) => this.failAsync(req, res, route, err));
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
    return this.settle(req, res, route, route.handler(req, res));
  }

  /**
   * A native promise (an async handler's): one reaction, its two callbacks
   * bound to the reply.  Bound functions, not closures: a new closure's first
   * call goes through CompileLazy, a bound one calls compiled code (637
   * against 720 instructions a request for the reaction, callgrind); an async
   * function awaiting it costs more (1,248: its generator and outer promise).
   * res._req and res._route are set before it can run (run, afterBody, goAsync, Dispatcher.row).
   */
  react(res: Reply, v: Promise<unknown>): void {
    promiseThen.call(v, onFulfilled.bind(this, res), onRejected.bind(this, res));
  }

  /** Turns a handler's result into a decided reply (or a promise of one). */
  settle(req: Request, res: Reply, route: Route, v: unknown): PromiseLike<unknown> | undefined {
    if (v instanceof Promise && v.constructor === Promise) {
      this.react(res, v);
      return LATER;
    }
    if (isThenable(v)) return this.awaitValue(req, res, route, v);
    if (res._sent) return res._streaming && !res._ended ? LATER : undefined;
    if (v === undefined) return LATER; // nothing returned, nothing sent: the answer comes through res
    if (v !== null && typeof v === 'object') {
      // A returned Error is a thrown one; a returned stream is streamed.
      if (v instanceof Error) return this.fail(req, res, route, v);
      if (isReadable(v)) return this.streamValue(req, res, route, v);
    }
    res.send(v);
    return undefined;
  }

  /** @internal A handler's native promise fulfilled: its value settles the reply. */
  valueSettled(res: Reply, x: unknown): void {
    const req = res._req as Request;
    const route = res._route as Route;
    res._settled = true;
    try {
      // A string answer of a reply nobody answered or locked (what settle and send would decide, as in run).
      if (typeof x === 'string' && !res._sent && res._lock === LOCK_NONE && res._sink !== null) {
        res._sent = true;
        res._body = x;
        res._sink.sent(res);
      } else {
        void this.settle(req, res, route, x);
      }
    } catch (err) {
      // settle's own send failed (a value the reply refuses): answer it as an error
      void this.failAsync(req, res, route, err);
    }
    this.afterSettle(res);
  }

  /** @internal A handler's native promise rejected: the error path, as a throw. */
  valueFailed(res: Reply, err: unknown): void {
    res._settled = true;
    void this.failAsync(res._req as Request, res, res._route as Route, err);
    this.afterSettle(res);
  }

  /** Another thenable, awaited in an async function (it is assimilated the way await does it). */
  private async awaitValue(req: Request, res: Reply, route: Route, v: PromiseLike<unknown>): Promise<unknown> {
    let x: unknown;
    try {
      x = await v;
    } catch (err) {
      return this.failAsync(req, res, route, err);
    }
    try {
      return this.settle(req, res, route, x);
    } catch (err) {
      // settle's own send failed (a value the reply refuses): answer it as an error
      return this.failAsync(req, res, route, err);
    }
  }

  /** A returned stream: streamed; one that fails before its first chunk is answered as an error. */
  private async streamValue(req: Request, res: Reply, route: Route, v: AsyncIterable<string | Uint8Array>): Promise<unknown> {
    try {
      await res.stream(v);
    } catch (err) {
      if (!res._sent) return this.failAsync(req, res, route, err);
      // after the head: reply.ts closed the connection without the final chunk
    }
    return undefined;
  }

  /** A handler or hook threw: onError hooks, then the error handler. */
  fail(req: Request, res: Reply, route: Route, err: unknown): PromiseLike<unknown> | undefined {
    const h = route.hooks;
    if (h !== null && h.onError.length) return this.failAsync(req, res, route, err);
    return this.handleError(req, res, route, err);
  }

  async failAsync(req: Request, res: Reply, route: Route, err: unknown): Promise<unknown> {
    const h = route.hooks;
    if (h !== null && h.onError.length) {
      // onError hooks observe; they cannot answer (the reply is locked while they run).
      const lock = res._lock;
      res._lock = LOCK_ON_ERROR;
      try {
        for (const hook of h.onError) {
          try {
            await hook(req, res, err);
          } catch {
            // an onError hook cannot change the response
          }
        }
      } finally {
        res._lock = lock;
      }
    }
    return this.handleError(req, res, route, err);
  }

  private handleError(req: Request, res: Reply, route: Route, err: unknown): PromiseLike<unknown> | undefined {
    const logError = this.options.logError;
    if (logError !== null) {
      try {
        logError(req, err);
      } catch {
        // a logger that throws (or a throwing genReqId) must not stop the error answer
      }
    }
    if (res._sent) {
      // Too late for an error response: a started stream is cut instead.
      if (res._streaming && !res._ended) res._abortStream();
      return undefined;
    }
    res._reset();
    const eh = route.errorHandler ?? this.options.errorHandler;
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
    if (v !== undefined && !(v instanceof Error)) {
      try {
        res.send(v);
        return undefined;
      } catch {
        // fall through to the default answer
      }
    }
    this.defaultError(res, v instanceof Error ? v : err);
    return undefined;
  }

  /**
   * JSON { statusCode, code?, error, message }.  `code` only when it is
   * salvo's (from the registry) or the error chose a 4xx status: an
   * arbitrary code (ENOENT, a database's 23505) says how the service is
   * built, and 5xx internals stay hidden unless debug.
   */
  defaultError(res: Reply, err: unknown): void {
    const info = readError(err);
    const s = info.status;
    const body: Record<string, unknown> = { statusCode: s };
    if (info.code !== undefined && (s < 500 || Object.prototype.hasOwnProperty.call(codes, info.code) || this.options.debug)) body.code = info.code;
    body.error = statusText(s);
    body.message = (s < 500 || this.options.debug) && info.message !== undefined ? info.message : statusText(s);
    if (info.code === 'SALVO_ERR_VALIDATION') {
      const e = err as { validation?: unknown; validationContext?: unknown };
      body.validation = e.validation;
      body.validationContext = e.validationContext;
    }
    if (this.options.debug && info.stack !== undefined) body.stack = info.stack;
    res._reset();
    res._lock = LOCK_NONE;
    res._status = s;
    res._json = true;
    res.send(body);
  }
}

interface ErrorInfo {
  status: number;
  code: string | undefined;
  message: string | undefined;
  stack: string | undefined;
}

/** The parts of a thrown value the answer may use; a hostile value gives a plain 500. */
function readError(err: unknown): ErrorInfo {
  const info: ErrorInfo = { status: 500, code: undefined, message: undefined, stack: undefined };
  if (err === null || (typeof err !== 'object' && typeof err !== 'function')) return info;
  try {
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; stack?: unknown };
    const sc = e.statusCode;
    if (typeof sc === 'number' && Number.isInteger(sc) && sc >= 400 && sc <= 599) info.status = sc;
    const code = e.code;
    if (typeof code === 'string') info.code = code;
    const message = e.message;
    if (typeof message === 'string') info.message = message;
    const stack = e.stack;
    if (typeof stack === 'string') info.stack = stack;
  } catch {
    return { status: 500, code: undefined, message: undefined, stack: undefined };
  }
  return info;
}

