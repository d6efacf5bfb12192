/**
 * @module app-engine
 * What an App becomes when it starts: the addon's server, the dispatcher
 * that answers its batches, and the route table handed to the addon.  App
 * (src/app.ts) owns registration; this module owns turning the frozen
 * registration into an engine, and the two ways an engine is driven: a
 * listening socket (`listen`) and a virtual connection (`inject`).
 */
import dns from 'node:dns';
import net from 'node:net';
import { BodyStreams } from './body-stream';
import { Dispatcher } from './dispatcher';
import { SalvoError } from './errors';
import { METHOD_ID } from './layout';
import type { ErrorHandler, Handler, Route } from './lifecycle';
import { errorLogger, type RequestEnv, type ResolvedLogging } from './logger';
import { binding, type NativeServer, type NativeServerOptions } from './native';
import { LISTEN_KEYS, checkKeys, objectArg, positiveInt, type ListenOptions, type ResolvedOptions } from './options';
import type { Request } from './request';
import type { DateCache } from './response';
import type { Router } from './router';

export interface Engine {
  native: NativeServer;
  dispatcher: Dispatcher;
  closed: Promise<void>;
  /** inject: bytes written to each virtual connection, and who waits for them. */
  injected: Map<number, { chunks: Buffer[]; done: (b: Buffer) => void }>;
}

/** A started app as the engine needs it: everything resolved, nothing left to register. */
export interface EngineSpec {
  opts: ResolvedOptions;
  routes: Route[];
  router: Router<Route>;
  date: DateCache;
  logging: ResolvedLogging;
  newId: (req: Request) => string;
  /** The app's not-found handler (notFoundFor), or null for the default 404. */
  notFound: Handler | null;
  /** Builds the synthetic 404 / 405 routes (the app's hooks and classes). */
  fallbackRoute: (id: number, path: string, handler: Handler) => Route;
  errorHandler: ErrorHandler | null;
  /** A route's bodyLimit when it streams its body (bodyStream), else -1. */
  streamLimit: (r: Route) => number;
}

const notFoundError: Handler = (req) => {
  throw new SalvoError('SALVO_ERR_NOT_FOUND', `${req.method} ${req.path}`);
};

/** The not-found handler: the one of the longest matching plugin prefix, else the app's. */
export function notFoundFor(own: Handler | null, prefixNotFound: readonly [string, Handler][]): Handler | null {
  if (prefixNotFound.length === 0) return own;
  const list = [...prefixNotFound].sort((a, b) => b[0].length - a[0].length);
  const fallback = own ?? notFoundError;
  return (req, res) => {
    const p = req.path;
    for (const [prefix, h] of list) if (p === prefix || p.startsWith(prefix + '/')) return h(req, res);
    return fallback(req, res);
  };
}

/** The addon's server and its dispatcher, wired to each other; routes compiled into the addon. */
export function createEngine(spec: EngineSpec, closedHook: () => void): Engine {
  const o = spec.opts;
  const nativeOptions: NativeServerOptions = {
    maxHeaderBytes: o.maxHeaderBytes, maxHeaders: o.maxHeaders, maxBody: o.maxBodySize,
    maxUrl: o.maxUrlLength, highWater: o.highWaterMark, sendTimeout: o.sendTimeout, outSize: 4 * 1024 * 1024,
    headersTimeout: o.headersTimeout, bodyTimeout: o.bodyTimeout, keepAliveTimeout: o.keepAliveTimeout,
    coalesceTurn: o.coalesceTurn,
  };
  let dispatcher: Dispatcher | undefined;
  const injected: Engine['injected'] = new Map();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const bodies = new BodyStreams();
  const native: NativeServer = new binding.Server(
    {
      dispatch: (id, n, slab) => dispatcher!.dispatch(id, n, slab),
      body: bodies.body,
      onClose: (id) => {
        bodies.onClose(id);
        dispatcher!.onClose(id);
        const inj = injected.get(id);
        if (inj !== undefined) {
          injected.delete(id);
          inj.done(Buffer.concat(inj.chunks));
        }
      },
      onDrain: (id) => dispatcher!.onDrain(id),
      onPeerEnd: (id) => dispatcher!.onPeerEnd(id),
      detachPending: (end: boolean) => dispatcher!.detachPending(end),
      onVirtualWrite: (id, bytes) => injected.get(id)?.chunks.push(Buffer.from(bytes)),
      onClosed: () => {
        dispatcher!.stop();
        closedHook();
        resolveClosed();
      },
    },
    nativeOptions,
  );
  const lg = spec.logging;
  bodies.native = native;
  const env: RequestEnv = {
    ip: (connId: number) => native.remoteAddress(connId),
    newId: spec.newId,
    log: lg.log,
    label: lg.label,
    bodies,
  };
  dispatcher = new Dispatcher(native, spec.routes, spec.router, spec.date, {
    debug: o.debug,
    highWaterMark: o.highWaterMark,
    coalesceTurn: o.coalesceTurn,
    maxPending: o.maxPendingResponses,
    requestTimeout: o.requestTimeout,
    countBytes: lg.requestLogging,
    logError: lg.on ? errorLogger() : null,
    notFound: spec.fallbackRoute(-1, '*', spec.notFound ?? notFoundError),
    methodNotAllowed: spec.fallbackRoute(-2, '*', (req) => {
      throw new SalvoError('SALVO_ERR_METHOD_NOT_ALLOWED', `${req.method} ${req.path}`);
    }),
    errorHandler: spec.errorHandler,
    env,
  });
  registerRoutes(native, spec.routes, spec.streamLimit);
  return { native, dispatcher, closed, injected };
}

/**
 * Routes are compiled into the addon's table and matched while it parses;
 * methods it has no id for (custom ones) stay with the JS router.
 */
function registerRoutes(native: NativeServer, routes: readonly Route[], streamLimit: (r: Route) => number): void {
  for (const r of routes) {
    const id = r.method === '*' ? -1 : METHOD_ID[r.method];
    if (id !== undefined) native.addRoute(id, r.path, r.id, streamLimit(r));
  }
}

/** listen()'s options checked, the host resolved to an address. */
export interface ListenTarget {
  host: string;
  port: number;
  backlog: number;
  reusePort: boolean;
}

export async function listenTarget(options: ListenOptions): Promise<ListenTarget> {
  const lo = objectArg('listen() options', options) as ListenOptions;
  checkKeys('listen()', lo, LISTEN_KEYS);
  const port = lo.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `port must be an integer 0-65535, got ${String(port)}`);
  }
  let host = lo.host ?? '127.0.0.1';
  if (typeof host !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'host must be a string');
  if (!net.isIP(host)) {
    try {
      host = (await dns.promises.lookup(host)).address;
    } catch (err) {
      throw new SalvoError('SALVO_ERR_LISTEN', `${host}:${port} (${(err as { code?: string }).code})`, { cause: err });
    }
  }
  const backlog = positiveInt('backlog', lo.backlog, 511);
  if (lo.reusePort !== undefined && typeof lo.reusePort !== 'boolean') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'reusePort must be a boolean');
  return { host, port, backlog, reusePort: lo.reusePort === true };
}

/** Binds the engine's listener; the bound port (the one picked for port 0). */
export function bind(eng: Engine, t: ListenTarget): number {
  try {
    return eng.native.listen(t.host, t.port, t.backlog, t.reusePort);
  } catch (err) {
    throw new SalvoError('SALVO_ERR_LISTEN', `${t.host}:${t.port} (${(err as { code?: string }).code})`, { cause: err });
  }
}

/** One request's bytes through a virtual connection of the engine: what the addon wrote back. */
export function injectBytes(eng: Engine, bytes: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve) => {
    const id = eng.native.inject(bytes);
    eng.injected.set(id, { chunks: [], done: resolve });
    // Never inside another batch of this engine (inject from a handler).
    setImmediate(() => eng.native.injectRun(id));
  });
}
