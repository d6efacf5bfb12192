/**
 * @module app
 * The public entry point: register routes, then listen.  Work is done at
 * registration and listen time (routes compiled, static ones handed to the
 * addon), not per request.
 */
import dns from 'node:dns';
import fastJson from 'fast-json-stringify';
import net from 'node:net';
import { Dispatcher, type Handler, type Route } from './dispatcher';
import { SalvoError } from './errors';
import { MAX_ROUTE_PARAMS, METHOD_ID } from './layout';
import { binding, type NativeServer, type NativeServerOptions } from './native';
import type { Request } from './request';
import { DateCache } from './response';
import { Router, type Params } from './router';

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

export interface RouteOptions {
  /** JSON Schemas; `response` maps a status code to the schema its JSON body is serialized with (fast-json-stringify, compiled once). */
  schema?: { response?: Record<number | string, object> };
}

function positiveInt(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 0x7fffffff) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Compiles one serializer per declared status at registration, never per request. */
function compileSerializers(method: string, path: string, response: unknown): Route['serializers'] {
  if (response === undefined) return null;
  if (response === null || typeof response !== 'object') {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response for ${method} ${path} must be an object`);
  }
  const out: Record<number, (v: unknown) => string> = {};
  for (const [code, schema] of Object.entries(response)) {
    const status = Number(code);
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response key must be a status code, got ${code}`);
    }
    try {
      out[status] = fastJson(schema as Parameters<typeof fastJson>[0]) as (v: unknown) => string;
    } catch (err) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response[${code}] for ${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
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

  get<P extends string>(path: P, handler: RouteHandler<P>): this;
  get<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  get(path: string, a: unknown, b?: unknown): this {
    return this.add('GET', path, a, b);
  }
  head<P extends string>(path: P, handler: RouteHandler<P>): this;
  head<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  head(path: string, a: unknown, b?: unknown): this {
    return this.add('HEAD', path, a, b);
  }
  post<P extends string>(path: P, handler: RouteHandler<P>): this;
  post<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  post(path: string, a: unknown, b?: unknown): this {
    return this.add('POST', path, a, b);
  }
  put<P extends string>(path: P, handler: RouteHandler<P>): this;
  put<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  put(path: string, a: unknown, b?: unknown): this {
    return this.add('PUT', path, a, b);
  }
  patch<P extends string>(path: P, handler: RouteHandler<P>): this;
  patch<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  patch(path: string, a: unknown, b?: unknown): this {
    return this.add('PATCH', path, a, b);
  }
  delete<P extends string>(path: P, handler: RouteHandler<P>): this;
  delete<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  delete(path: string, a: unknown, b?: unknown): this {
    return this.add('DELETE', path, a, b);
  }
  options<P extends string>(path: P, handler: RouteHandler<P>): this;
  options<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  options(path: string, a: unknown, b?: unknown): this {
    return this.add('OPTIONS', path, a, b);
  }
  /** Every method, including ones salvo has no name for. */
  all<P extends string>(path: P, handler: RouteHandler<P>): this;
  all<P extends string>(path: P, options: RouteOptions, handler: RouteHandler<P>): this;
  all(path: string, a: unknown, b?: unknown): this {
    return this.add('*', path, a, b);
  }

  route<P extends string>(def: RouteOptions & { method: string | string[]; url: P; handler: RouteHandler<P> }): this {
    if (def === null || typeof def !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'route() takes an object');
    const methods = Array.isArray(def.method) ? def.method : [def.method];
    for (const m of methods) {
      if (typeof m !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) {
        throw new SalvoError('SALVO_ERR_INVALID_ARG', `invalid method: ${String(m)}`);
      }
      this.add(m === '*' ? '*' : m.toUpperCase(), def.url, { schema: def.schema }, def.handler);
    }
    return this;
  }

  private add(method: string, path: string, a: unknown, b?: unknown): this {
    const [options, handler] = typeof a === 'function' && b === undefined ? [{}, a] : [a, b];
    if (typeof path !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'path must be a string');
    if (options === null || typeof options !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', `options for ${method} ${path} must be an object`);
    if (typeof handler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `handler for ${method} ${path} must be a function`);
    const paramNames = path.split('/').filter((s) => s[0] === ':' || s === '*').map((s) => (s === '*' ? '*' : s.slice(1)));
    if (paramNames.length > MAX_ROUTE_PARAMS) {
      throw new SalvoError('SALVO_ERR_ROUTE_INVALID', `${path} has more than ${MAX_ROUTE_PARAMS} parameters`);
    }
    const route: Route = {
      id: this.routes.length, method, path, handler: handler as Handler, paramNames,
      serializers: compileSerializers(method, path, (options as RouteOptions).schema?.response),
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
    this.registerRoutes(native);
    let bound: number;
    try {
      bound = native.listen(host, port, backlog);
    } catch (err) {
      throw new SalvoError('SALVO_ERR_LISTEN', `${host}:${port} (${(err as { code?: string }).code})`, { cause: err });
    }
    this.date.start();
    return new Server(native, host, bound, closed, this.date);
  }

  /**
   * Routes are compiled into the addon's table and matched while it parses;
   * methods it has no id for (custom ones) stay with the JS router.
   */
  private registerRoutes(native: NativeServer): void {
    for (const r of this.routes) {
      const id = r.method === '*' ? -1 : METHOD_ID[r.method];
      if (id !== undefined) native.addRoute(id, r.path, r.id);
    }
  }
}
