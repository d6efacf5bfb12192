/**
 * @module app
 * The public entry point: register routes, then listen.  Work is done at
 * registration and listen time (routes compiled, static ones handed to the
 * addon), not per request.
 */
import dns from 'node:dns';
import net from 'node:net';
import { Dispatcher, type Handler, type Route } from './dispatcher';
import { SalvoError } from './errors';
import { METHOD_ID } from './layout';
import { binding, type NativeServer, type NativeServerOptions } from './native';
import type { Request } from './request';
import { DateCache } from './response';
import { Router, isStaticPath, type Params } from './router';

export interface AppOptions {
  /** Put stack traces in 500 bodies (never in production). Default false. */
  debug?: boolean;
  /** Largest request head in bytes (431 past it). Default 16384. */
  maxHeaderBytes?: number;
  /** Most header fields in one request (431 past it). Default 100. */
  maxHeaders?: number;
  /** Largest request body in bytes (413 past it). Default 1 MiB. */
  maxBodySize?: number;
  /** Unsent response bytes per connection before it stops reading. Default 1 MiB. */
  highWaterMark?: number;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
}

export interface CloseOptions {
  /** Milliseconds to let in-flight requests finish before connections are cut. Default 5000. */
  timeout?: number;
}

/** Route parameters named in a path string: '/users/:id' gives { id: string }. */
export type PathParams<P extends string> = string extends P
  ? Params
  : P extends `${string}:${infer Name}/${infer Rest}`
    ? { [K in Name | keyof PathParams<`/${Rest}`>]: string }
    : P extends `${string}:${infer Name}`
      ? { [K in Name]: string }
      : P extends `${string}*`
        ? { '*': string }
        : Record<string, never>;

export type RouteHandler<P extends string> = (req: Request<PathParams<P> & Params>) => unknown;

const METHOD_NAMES = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

function positiveInt(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 0x7fffffff) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

export class Server {
  private closing: Promise<void> | undefined;
  /** @internal */
  constructor(
    private readonly native: NativeServer,
    readonly host: string,
    readonly port: number,
    private readonly closed: Promise<void>,
    private readonly date: DateCache,
  ) {}

  /** The parser path in use: 'sse42' or 'scalar' (SALVO_PARSER=scalar forces it). */
  get parser(): 'sse42' | 'scalar' {
    return this.native.parser;
  }

  /** Counters of the native side: reads, writes, batches, requests, connections. */
  stats() {
    return this.native.stats();
  }

  /**
   * Stops accepting; connections close once their in-flight responses are
   * flushed; past `timeout` ms the rest are cut.  Resolves when all are closed.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout = options.timeout === undefined ? 5000 : options.timeout;
    if (typeof timeout !== 'number' || timeout < 0) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `timeout must be a number >= 0, got ${String(timeout)}`);
    }
    this.native.close(false);
    const timer = setTimeout(() => this.native.close(true), timeout);
    this.closing = this.closed.then(() => {
      clearTimeout(timer);
      this.date.stop();
    });
    return this.closing;
  }
}

export class App {
  private readonly routes: Route[] = [];
  private readonly router = new Router<Route>();
  private readonly opts: Required<AppOptions>;
  private readonly date = new DateCache();

  constructor(options: AppOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', 'options must be an object');
    }
    this.opts = {
      debug: options.debug === true,
      maxHeaderBytes: positiveInt('maxHeaderBytes', options.maxHeaderBytes, 16 * 1024),
      maxHeaders: positiveInt('maxHeaders', options.maxHeaders, 100),
      maxBodySize: positiveInt('maxBodySize', options.maxBodySize, 1024 * 1024),
      highWaterMark: positiveInt('highWaterMark', options.highWaterMark, 1024 * 1024),
    };
  }

  get<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('GET', path, handler);
  }
  head<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('HEAD', path, handler);
  }
  post<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('POST', path, handler);
  }
  put<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('PUT', path, handler);
  }
  patch<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('PATCH', path, handler);
  }
  delete<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('DELETE', path, handler);
  }
  options<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('OPTIONS', path, handler);
  }
  /** Every method, including ones salvo has no name for. */
  all<P extends string>(path: P, handler: RouteHandler<P>): this {
    return this.add('*', path, handler);
  }

  route<P extends string>(def: { method: string | string[]; url: P; handler: RouteHandler<P> }): this {
    if (def === null || typeof def !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'route() takes an object');
    const methods = Array.isArray(def.method) ? def.method : [def.method];
    for (const m of methods) {
      if (typeof m !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) {
        throw new SalvoError('SALVO_ERR_INVALID_ARG', `invalid method: ${String(m)}`);
      }
      this.add(m === '*' ? '*' : m.toUpperCase(), def.url, def.handler);
    }
    return this;
  }

  private add(method: string, path: string, handler: unknown): this {
    if (typeof path !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'path must be a string');
    if (typeof handler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `handler for ${method} ${path} must be a function`);
    const route: Route = {
      id: this.routes.length, method, path, handler: handler as Handler,
      cacheBody: undefined, cacheBytes: undefined, cacheGen: -1,
    };
    this.router.add(route); // validates and throws on duplicates
    this.routes.push(route);
    return this;
  }

  /** Starts a server; `port: 0` picks a free port (see `server.port`). */
  async listen(options: ListenOptions = {}): Promise<Server> {
    if (options === null || typeof options !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'listen() takes an object');
    const port = options.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `port must be an integer 0-65535, got ${String(port)}`);
    }
    let host = options.host ?? '127.0.0.1';
    if (typeof host !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'host must be a string');
    if (!net.isIP(host)) host = (await dns.promises.lookup(host)).address;
    const backlog = positiveInt('backlog', options.backlog, 511);
    const o = this.opts;
    const nativeOptions: NativeServerOptions = {
      maxHeaderBytes: o.maxHeaderBytes, maxHeaders: o.maxHeaders, maxBody: o.maxBodySize,
      highWater: o.highWaterMark, outSize: 4 * 1024 * 1024,
    };
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    let dispatcher: Dispatcher | undefined;
    const native: NativeServer = new binding.Server(
      {
        dispatch: (id, n, slab) => dispatcher!.dispatch(id, n, slab),
        onClose: (id) => dispatcher!.onClose(id),
        onClosed: () => resolveClosed(),
      },
      nativeOptions,
    );
    dispatcher = new Dispatcher(native, this.routes, this.router, this.date, { debug: o.debug });
    this.registerStatic(native);
    let bound: number;
    try {
      bound = native.listen(host, port, backlog);
    } catch (err) {
      throw new SalvoError('SALVO_ERR_LISTEN', `${host}:${port} (${(err as { code?: string }).code})`, { cause: err });
    }
    this.date.start();
    return new Server(native, host, bound, closed, this.date);
  }

  /** Static routes are matched by the addon while it parses. */
  private registerStatic(native: NativeServer): void {
    const has = new Set(this.routes.map((r) => `${r.method} ${r.path}`));
    for (const r of this.routes) {
      if (!isStaticPath(r.path)) continue;
      const methods = r.method === '*' ? METHOD_NAMES.filter((m) => !has.has(`${m} ${r.path}`)) : [r.method];
      for (const m of methods) {
        const id = METHOD_ID[m];
        if (id !== undefined) native.addRoute(id, r.path, r.id);
      }
      // HEAD is answered by the GET route unless one of its own exists.
      if (r.method === 'GET' && !has.has(`HEAD ${r.path}`)) native.addRoute(METHOD_ID.HEAD, r.path, r.id);
    }
  }
}
