/**
 * @module app
 * The public entry point: register routes, then listen.  Work is done at
 * registration and listen time (routes compiled, static ones handed to the
 * addon), not per request.
 */
import { declareRoute, type RouteCtx } from './route-declaration';
import { bind, createEngine, injectBytes, listenTarget, notFoundFor, type Engine } from './app-engine';
import { SalvoError } from './errors';
import { injectRequest, parseInjected, type InjectOptions, type InjectResponse } from './inject';
import type { ErrorHandler, ErrorHook, Handler, Hook, Hooks, ReplyCtor, RequestCtor, Route, SendHook } from './lifecycle';
import { addDecorator, defaultsSetter, resolveClass } from './decorators';
import {
  ROUTE_KEYS, checkKeys, objectArg, resolveAppOptions,
  type AppOptions, type ListenOptions, type ResolvedOptions,
} from './options';
import { Reply } from './reply';
import type { UnsignResult } from './cookie-signing';
import { Request } from './request';
import { DateCache } from './response';
import { Router } from './router';
import { Server } from './server';
import type { RouteHandler, RouteOptions } from './route';
import type { DefaultTypeProvider, RouteSchema, TypedHandler, TypedRouteOptions, TypeProvider } from './type-provider';
import type { SerializerCompiler } from './serialization';
import { HOOK_NAMES, PluginContext, checkPrefix, type HookName } from './plugin-context';
import type { ValidatorCompiler } from './validation';
import { makeBodyPrelude } from './body-prelude';
import { bindBodyStream } from './body-stream';
import type { ContentTypeParserFn, ContentTypeParserOptions } from './content-type-parser';
import { idSource, requestLoggingHooks, resolveLogging, type Logger, type ResolvedLogging } from './logger';
import { enqueueAfter, enqueuePlugin, load, newLoader, pluginFunction, type Loadable, type Plugin, type PluginModule } from './plugin-loader';

export type { AppOptions, ListenOptions } from './options';
export type { InjectOptions, InjectResponse } from './inject';

export { Server, type CloseOptions } from './server';
export type { PathParams, RouteHandler, RouteOptions } from './route';
export type { HookName } from './plugin-context';
export type { Plugin } from './plugin-loader';

/**
 * TP: the type provider that types routes from their schemas
 * (src/type-provider.ts); set with withTypeProvider(), none by default.
 */
export class App<TP extends TypeProvider = DefaultTypeProvider> {
  private readonly routes: Route[] = [];
  private readonly router = new Router<Route>();
  private readonly opts: ResolvedOptions;
  private readonly date = new DateCache();
  /** A route's own hooks and the context it was added in, resolved at start. */
  private readonly routeCtx = new Map<Route, RouteCtx>();
  private notFoundHandler: Handler | null = null;
  /** Not-found handlers set inside prefixed plugins: the longest matching prefix answers. */
  private readonly prefixNotFound: [string, Handler][] = [];
  /** @internal This instance's encapsulation context (a plugin's instance has its own). */
  _ctx: PluginContext = new PluginContext(null, '');
  /** @internal The app itself (a plugin's instance is an object whose prototype chain leads to it). */
  _root: App<any> = this;
  /** @internal Plugins registered on this instance, not loaded yet. */
  _loader: Loadable<App> = newLoader<App>((opts, skip) => this.childInstance(opts, skip));
  private started = false;
  private injector: Engine | undefined;
  /** Requests of this app: a subclass so decorators stay per app (a plugin that decorates has a subclass of it). */
  private readonly RequestClass = class AppRequest extends Request {};
  /** The app changed requests (decorators, a json() policy): they are AppRequests (or a plugin's), else plain ones (no derived constructor per request). */
  private customRequests = false;
  /** Replies of this app once one is decorated (else plain `Reply`). */
  private readonly ReplyClass = class AppReply extends Reply {};
  private customReplies = false;

  /** @internal The logging options, resolved (src/logger.ts). */
  private readonly logging: ResolvedLogging;
  /** The app's logger: pino when `logger` is set, else a logger whose methods do nothing. */
  readonly log: Logger;
  /** @internal The request id source (a counter per app unless genReqId / requestIdHeader). */
  private readonly newId: (req: Request) => string;

  constructor(options: AppOptions = {}) {
    this.opts = resolveAppOptions(options);
    this.logging = resolveLogging(options as AppOptions);
    this.log = this.logging.log;
    this.newId = idSource(this.logging);
    const o = this.opts;
    if (o.onProtoPoisoning !== 'error' || o.onConstructorPoisoning !== 'error') {
      (this.RequestClass.prototype as Request)._poison = { proto: o.onProtoPoisoning, ctor: o.onConstructorPoisoning };
      this.customRequests = true;
    }
    if (o.trustProxy !== null) {
      (this.RequestClass.prototype as Request)._trust = o.trustProxy;
      this.customRequests = true;
    }
    if (o.cookieSecret !== null) {
      // On prototypes, as _trust: no per-request field, and apps without a secret keep the plain classes.
      (this.RequestClass.prototype as Request)._signer = o.cookieSecret;
      this.customRequests = true;
      this.ReplyClass.prototype._signer = o.cookieSecret;
      this.customReplies = true;
    }
  }

  get<P extends string>(path: P, handler: RouteHandler<P>): this;
  get<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  get(path: string, a: unknown, b?: unknown): this {
    return this.add('GET', path, a, b);
  }
  head<P extends string>(path: P, handler: RouteHandler<P>): this;
  head<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  head(path: string, a: unknown, b?: unknown): this {
    return this.add('HEAD', path, a, b);
  }
  post<P extends string>(path: P, handler: RouteHandler<P>): this;
  post<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  post(path: string, a: unknown, b?: unknown): this {
    return this.add('POST', path, a, b);
  }
  put<P extends string>(path: P, handler: RouteHandler<P>): this;
  put<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  put(path: string, a: unknown, b?: unknown): this {
    return this.add('PUT', path, a, b);
  }
  patch<P extends string>(path: P, handler: RouteHandler<P>): this;
  patch<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  patch(path: string, a: unknown, b?: unknown): this {
    return this.add('PATCH', path, a, b);
  }
  delete<P extends string>(path: P, handler: RouteHandler<P>): this;
  delete<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  delete(path: string, a: unknown, b?: unknown): this {
    return this.add('DELETE', path, a, b);
  }
  options<P extends string>(path: P, handler: RouteHandler<P>): this;
  options<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  options(path: string, a: unknown, b?: unknown): this {
    return this.add('OPTIONS', path, a, b);
  }
  /** Every method, including ones salvo has no name for. */
  all<P extends string>(path: P, handler: RouteHandler<P>): this;
  all<P extends string, const S extends RouteSchema = {}>(path: P, options: TypedRouteOptions<TP, P, S>, handler: TypedHandler<TP, P, S>): this;
  all(path: string, a: unknown, b?: unknown): this {
    return this.add('*', path, a, b);
  }

  route<P extends string, const S extends RouteSchema = {}>(def: TypedRouteOptions<TP, P, S> & { method: string | string[]; url: P; handler: TypedHandler<TP, P, S> }): this {
    if (def === null || typeof def !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'route() takes an object');
    const methods = Array.isArray(def.method) ? def.method : [def.method];
    const { method: _m, url: _u, handler, ...options } = def;
    checkKeys('route()', options, ROUTE_KEYS);
    for (const m of methods) {
      if (typeof m !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) {
        throw new SalvoError('SALVO_ERR_INVALID_ARG', `invalid method: ${String(m)}`);
      }
      this.add(m === '*' ? '*' : m.toUpperCase(), def.url, options, handler);
    }
    return this;
  }

  /** Adds a hook for every route (see docs/API.md for when each runs). */
  addHook(name: 'onRequest' | 'preHandler' | 'onResponse', fn: Hook): this;
  addHook(name: 'onSend', fn: SendHook): this;
  addHook(name: 'onError', fn: ErrorHook): this;
  addHook(name: HookName, fn: unknown): this {
    this.assertNotStarted('hooks');
    if (!HOOK_NAMES.includes(name)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `unknown hook: ${String(name)}`);
    if (typeof fn !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} hook must be a function`);
    (this._ctx.hooks[name] as unknown[]).push(fn);
    return this;
  }

  /** Answers requests no route matches (default: 404 JSON with SALVO_ERR_NOT_FOUND). */
  setNotFoundHandler(handler: (req: Request, res: Reply) => unknown): this {
    this.assertNotStarted('a not-found handler');
    if (typeof handler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'the not-found handler must be a function');
    if (this._ctx.prefix !== '') this._root.prefixNotFound.push([this._ctx.prefix, handler as Handler]);
    else this._root.notFoundHandler = handler as Handler;
    return this;
  }

  /** Answers errors thrown by handlers and hooks (default: JSON with the error's statusCode, else 500). */
  setErrorHandler(handler: (err: any, req: Request, res: Reply) => unknown): this {
    this.assertNotStarted('an error handler');
    if (typeof handler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'the error handler must be a function');
    this._ctx.errorHandler = handler as ErrorHandler;
    return this;
  }

  /**
   * Adds a property to the requests of this instance's routes and its
   * plugins' (encapsulated; an fp() plugin's go to the instance it is
   * registered on): a function becomes a method (this = req), `{ getter(req) }`
   * a computed property, a primitive a default.
   */
  decorateRequest(name: string, value: unknown): this {
    this.assertNotStarted('request decorators');
    addDecorator(this._ctx, 'request', this._root.RequestClass, name, value);
    this._root.customRequests = true;
    return this;
  }

  /** The same for replies: `res.name` on the replies of this instance's routes and its plugins'. */
  decorateReply(name: string, value: unknown): this {
    this.assertNotStarted('reply decorators');
    addDecorator(this._ctx, 'reply', this._root.ReplyClass, name, value);
    this._root.customReplies = true;
    return this;
  }

  hasRequestDecorator(name: string): boolean {
    return name in (resolveClass(this._ctx, 'request') ?? Request).prototype;
  }

  hasReplyDecorator(name: string): boolean {
    return name in (resolveClass(this._ctx, 'reply') ?? Reply).prototype;
  }

  /** The classes and decorated defaults of a context's requests and replies, resolved at start. */
  private classesOf(ctx: PluginContext): Pick<Route, 'RequestClass' | 'decorate' | 'ReplyClass' | 'decorateReply'> {
    const root = this._root;
    return {
      RequestClass: (resolveClass(ctx, 'request') as RequestCtor | null) ?? (root.customRequests ? root.RequestClass : Request),
      decorate: defaultsSetter(ctx, 'request'),
      ReplyClass: (resolveClass(ctx, 'reply') as ReplyCtor | null) ?? (root.customReplies ? root.ReplyClass : Reply),
      decorateReply: defaultsSetter(ctx, 'reply'),
    };
  }

  private assertNotStarted(what: string): void {
    if (this.started) throw new SalvoError('SALVO_ERR_ALREADY_STARTED', what);
  }

  private add(method: string, routePath: string, a: unknown, b?: unknown): this {
    this.assertNotStarted('routes');
    const { route, rc } = declareRoute(this._ctx, this.routes.length, method, routePath, a, b, this._root.opts.maxBodySize);
    const path = route.path;
    this.router.add(route); // validates and throws on duplicates
    this.routes.push(route);
    this.routeCtx.set(route, rc);
    // Under a prefix, '/' is the prefix itself and the prefix with a trailing slash (fastify's 'both').
    if (routePath === '/' && this._ctx.prefix !== '') {
      const withSlash = { ...route, id: this.routes.length, path: path + '/' };
      this.router.add(withSlash);
      this.routes.push(withSlash);
      this.routeCtx.set(withSlash, rc);
    }
    return this;
  }

  /**
   * Freezes the app at its first listen() or inject(): hooks are resolved per
   * route (null when a route has none: its requests take the fast path).
   */
  private start(): void {
    const root = this._root;
    if (root.started) return;
    root.started = true;
    const lg = root.logging;
    if (lg.requestLogging) {
      // First among the app's hooks: ids follow arrival, and the time covers the user's hooks.
      const h = requestLoggingHooks(lg.log, lg.label);
      root._ctx.hooks.onRequest.unshift(h.onRequest);
      root._ctx.hooks.onResponse.unshift(h.onResponse);
    }
    for (const r of root.routes) {
      const rc = root.routeCtx.get(r) as RouteCtx;
      const prelude = rc.stream ? null : makeBodyPrelude({ method: r.method, parsers: rc.ctx.parsers, validators: rc.validators, shape: rc.bodyShape, bodyLimit: rc.bodyLimit });
      // Without hooks the body step runs on the dispatcher's fast path (route.body), not as a preHandler.
      const hooks = rc.ctx.resolveHooks(rc.own);
      r.hooks = hooks === null ? null : rc.ctx.resolveHooks(rc.own, prelude);
      r.body = hooks === null ? prelude : null;
      // A streamed body's stream is made before any hook can go async (src/body-stream.ts).
      if (rc.stream) bindBodyStream(r);
      r.errorHandler = rc.ctx.resolveErrorHandler();
      Object.assign(r, this.classesOf(rc.ctx));
    }
  }

  private hooksFor(own: Partial<Hooks> | undefined): Hooks | null {
    return this._root._ctx.resolveHooks(own);
  }

  // ---- plugins (src/plugin-context.ts, src/plugin-loader.ts) ----------------

  /**
   * Queues a plugin: `plugin(instance, opts)` (returning a promise or not) or
   * `plugin(instance, opts, done)`.  What it adds applies to its routes and
   * children only, unless it is marked with fp(); `prefix` nests.
   */
  register<O extends object | undefined = Record<string, unknown>>(plugin: Plugin<this, O> | PluginModule<this, O>, opts?: O & { prefix?: string }): this {
    this.assertNotStarted('plugins');
    const fn = pluginFunction<App>(plugin);
    const o = objectArg('register() options', opts);
    checkPrefix(o.prefix);
    enqueuePlugin(this._loader, fn, o);
    return this;
  }

  /** Loads the plugins registered so far; with a callback, queues it to run once they are loaded. */
  after(): Promise<this>;
  after(fn: (err: Error | null) => unknown): this;
  after(fn?: (err: Error | null) => unknown): this | Promise<this> {
    if (fn === undefined) return load(this._loader).then(() => this);
    if (typeof fn !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'after() takes a function');
    enqueueAfter(this._loader, fn);
    return this;
  }

  /** Loads every registered plugin, in order, and freezes the app (listen and inject call it). */
  async ready(): Promise<this> {
    const root = this._root;
    await load(root._loader);
    root.start();
    return this;
  }

  /** `value.signature` with the first cookieSecret (as res.signCookie; SALVO_ERR_NO_COOKIE_SECRET without one). */
  signCookie(value: string): string {
    const s = this._root.opts.cookieSecret;
    if (s === null) throw new SalvoError('SALVO_ERR_NO_COOKIE_SECRET', 'app.signCookie()');
    return s.sign(value);
  }

  /** Checks a signed value against every cookieSecret (as req.unsignCookie). */
  unsignCookie(value: string): UnsignResult {
    const s = this._root.opts.cookieSecret;
    if (s === null) throw new SalvoError('SALVO_ERR_NO_COOKIE_SECRET', 'app.unsignCookie()');
    return s.unsign(value);
  }

  /**
   * The same app, typed with a type provider: routes added through the
   * returned value get `req.body`, `req.query`, `req.params`, `req.headers`
   * and their return type from their schemas (types only: nothing changes at
   * run time).  `app.withTypeProvider<JsonSchemaToTsProvider>()` with the
   * provider of `salvo/json-schema-to-ts`.
   */
  withTypeProvider<T extends TypeProvider>(): App<T> {
    return this as unknown as App<T>;
  }

  /** Compiles this instance's (and its plugins') request schemas from now on (default: ajv with fastify's options). */
  setValidatorCompiler(compiler: ValidatorCompiler): this {
    this.assertNotStarted('a validator compiler');
    if (typeof compiler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'the validator compiler must be a function');
    this._ctx.validatorCompiler = compiler;
    return this;
  }

  /**
   * Compiles this instance's (and its plugins') `schema.response` serializers
   * from now on: `({ schema, method, url, httpStatus }) => (data) => string`
   * (default: fast-json-stringify).
   */
  setSerializerCompiler(compiler: SerializerCompiler): this {
    this.assertNotStarted('a serializer compiler');
    if (typeof compiler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'the serializer compiler must be a function');
    this._ctx.serializerCompiler = compiler;
    return this;
  }

  // ---- content-type parsers (src/content-type-parser.ts) -------------------

  /**
   * Parses bodies of these content types (a media type, a list, a RegExp
   * tested on the media type, or '*' for every other) into `req.body`, for
   * this instance's routes and its plugins'.  `parser(req, body)` returns the
   * value or a promise; `(req, body, done)` calls back.
   */
  addContentTypeParser(type: string | RegExp | (string | RegExp)[], parser: ContentTypeParserFn): this;
  addContentTypeParser(type: string | RegExp | (string | RegExp)[], opts: ContentTypeParserOptions, parser: ContentTypeParserFn): this;
  addContentTypeParser(type: string | RegExp | (string | RegExp)[], a: unknown, b?: unknown): this {
    this.assertNotStarted('content-type parsers');
    const opts = b === undefined ? undefined : a;
    if (opts !== undefined && opts !== null && typeof opts === 'object' && (opts as ContentTypeParserOptions).bodyLimit !== undefined) {
      const lim = (opts as ContentTypeParserOptions).bodyLimit as number;
      if (typeof lim === 'number' && lim > this._root.opts.maxBodySize) {
        throw new SalvoError('SALVO_ERR_INVALID_ARG', `parser bodyLimit (${lim}) is larger than the app's maxBodySize (${this._root.opts.maxBodySize})`);
      }
    }
    this._ctx.parsers.add(type, a, b);
    return this;
  }

  hasContentTypeParser(type: string | RegExp): boolean {
    return this._ctx.parsers.has(type);
  }

  removeContentTypeParser(type: string | RegExp | (string | RegExp)[]): this {
    this.assertNotStarted('content-type parsers');
    this._ctx.parsers.remove(type);
    return this;
  }

  /** Removes every parser of this instance, the built-in ones and the raw catch-all too: unmatched bodies then get 415. */
  removeAllContentTypeParsers(): this {
    this.assertNotStarted('content-type parsers');
    this._ctx.parsers.removeAll();
    return this;
  }

  /** Adds a property to this instance and the plugins registered on it (encapsulated). */
  decorate(name: string, value: unknown): this {
    this.assertNotStarted('decorators');
    if (typeof name !== 'string' || name === '') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'decorator name must be a non-empty string');
    if (name in this || name.startsWith('_')) throw new SalvoError('SALVO_ERR_DECORATOR_EXISTS', name);
    Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
    return this;
  }

  hasDecorator(name: string): boolean {
    return name in this;
  }

  /** The instance a plugin is given: its own context, everything else through the prototype chain. */
  private childInstance(opts: Record<string, unknown>, skip: boolean): App<any> {
    if (skip) return this;
    const child = Object.create(this) as App<any>;
    child._ctx = new PluginContext(this._ctx, this._ctx.prefix + checkPrefix(opts.prefix));
    child._loader = newLoader<App>((o, s) => child.childInstance(o, s));
    return child;
  }

  /** The synthetic routes that answer 404 and 405. */
  private fallbackRoute(id: number, path: string, handler: Handler): Route {
    // 404 and 405 are the app's: its hooks and its decorators, never a plugin's.
    const cl = this.classesOf(this._root._ctx);
    return {
      id, method: '*', path, handler, paramNames: [], serializers: null, writers: null, timeout: -1, timeoutTicks: 0,
      hooks: this.hooksFor(undefined), body: null, errorHandler: this._root._ctx.errorHandler,
      RequestClass: cl.RequestClass, decorate: cl.decorate, ReplyClass: cl.ReplyClass, decorateReply: cl.decorateReply, cacheBody: undefined, cacheBytes: undefined, cacheGen: -1,
    };
  }

  private engine(closedHook: () => void): Engine {
    this.start();
    const root = this._root;
    return createEngine({
      opts: this.opts, routes: this.routes, router: this.router, date: this.date,
      logging: root.logging, newId: root.newId,
      notFound: notFoundFor(root.notFoundHandler, root.prefixNotFound),
      fallbackRoute: (id, path, handler) => this.fallbackRoute(id, path, handler),
      errorHandler: root._ctx.errorHandler,
      streamLimit: (r) => {
        const rc = root.routeCtx.get(r);
        return rc !== undefined && rc.stream ? rc.bodyLimit : -1;
      },
    }, closedHook);
  }

  /**
   * Starts a server; `port: 0` picks a free port (see `server.port`).  With
   * a callback (fastify's form) it is also called: `(null, server)` or `(err)`.
   */
  listen(options?: ListenOptions): Promise<Server>;
  listen(options: ListenOptions, callback: (err: Error | null, server?: Server) => void): Promise<Server>;
  listen(options: ListenOptions = {}, callback?: (err: Error | null, server?: Server) => void): Promise<Server> {
    if (callback !== undefined && typeof callback !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'the listen() callback must be a function');
    const p = this.listenAsync(options);
    if (callback !== undefined) {
      p.then((server) => callback(null, server), (err: Error) => callback(err));
      // With a callback the error is reported there; the promise must not also be an unhandled rejection.
      p.catch(() => {});
    }
    return p;
  }

  private async listenAsync(options: ListenOptions): Promise<Server> {
    const target = await listenTarget(options);
    await this.ready();
    const eng = this.engine(() => {});
    const bound = bind(eng, target);
    this.date.start();
    return new Server(eng.native, target.host, bound, eng.closed, this.date);
  }

  /**
   * Runs one request through the same parser and dispatch as a socket would,
   * without a socket: for testing services without ports.
   */
  async inject(options: InjectOptions = {}): Promise<InjectResponse> {
    const bytes = injectRequest(options); // validates: throws before anything runs
    const root = this._root;
    if (root.injector === undefined) {
      await root.ready();
      root.injector ??= root.engine(() => {});
      this.date.start(); // an unref'd 1 s timer: the Date header stays current
    }
    const raw = await injectBytes(root.injector, bytes);
    return parseInjected(raw);
  }
}
