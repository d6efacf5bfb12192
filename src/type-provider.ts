/**
 * @module type-provider
 * Types only: how a route's JSON Schemas type its handler (fastify's type
 * provider pattern).  `app.withTypeProvider<P>()` returns the same app typed
 * with provider P; a route's `schema.body / querystring / params / headers`
 * then give `req.body / query / params / headers` the type P computes from
 * them, and `schema.response` the handler's return type and what
 * `res.send()` / `res.json()` take (per status when chained after
 * `res.status(code)`, as fastify types reply.code(c).send()).  The route's
 * own hooks get the same reply; `preHandler` (which runs after validation)
 * the typed request too.
 *
 * A provider is an interface whose `output` reads `this['schema']`; the
 * schema is put in by intersection (CallTypeProvider).  This file imports no
 * schema library: the json-schema-to-ts provider lives in its own entry
 * point (src/json-schema-to-ts.ts, `salvo/json-schema-to-ts`), so users who
 * do not install json-schema-to-ts never compile a reference to it.
 */
import type { Query } from './query';
import type { Reply } from './reply';
import type { Headers, Request } from './request';
import type { PathParams, RouteSettings } from './route';

/** What every type provider extends: `output` is the type of `this['schema']`. */
export interface TypeProvider {
  readonly schema: unknown;
  readonly output: unknown;
}

/** The provider of a plain app: schemas change no types (req.body stays a Buffer, req.query a Query). */
export interface DefaultTypeProvider extends TypeProvider {
  readonly output: unknown;
}

/** The type provider TP gives schema S. */
export type CallTypeProvider<TP extends TypeProvider, S> = (TP & { readonly schema: S })['output'];

/** The schemas a route may declare (src/options.ts checks the keys at registration). */
export interface RouteSchema {
  body?: object;
  querystring?: object;
  params?: object;
  headers?: object;
  response?: Record<number | string, object>;
}

/** S[K] when the route declares it, else undefined. */
type Part<S, K extends string> = S extends { readonly [k in K]: infer X } ? X : undefined;

/** The provider's type for one part; the untyped default when the part is not declared or the provider says `unknown`. */
type Infer<TP extends TypeProvider, S, K extends string, Fallback> =
  Part<S, K> extends undefined ? Fallback : unknown extends CallTypeProvider<TP, Part<S, K>> ? Fallback : CallTypeProvider<TP, Part<S, K>>;

/** The request a typed route's handler and hooks get. */
export type TypedRequest<TP extends TypeProvider, P extends string, S> = Request<
  Infer<TP, S, 'params', PathParams<P>>,
  Infer<TP, S, 'body', Buffer>,
  Infer<TP, S, 'querystring', Query>,
  Infer<TP, S, 'headers', Headers>
>;

/** The provider's type for each status declared in schema.response ({} without one). */
type ResponsesOf<TP extends TypeProvider, S> = S extends { readonly response: infer R }
  ? { [K in keyof R]: unknown extends CallTypeProvider<TP, R[K]> ? unknown : CallTypeProvider<TP, R[K]> }
  : {};

/** The union of the types of every status declared in schema.response (unknown without one). */
type ResponseOf<TP extends TypeProvider, S> = S extends { readonly response: object }
  ? ResponsesOf<TP, S>[keyof ResponsesOf<TP, S>]
  : unknown;

/**
 * The body status C may be sent with: its declared type (the key written as a
 * number or a string); for a status without a schema, anything (it is not
 * serialized by a schema); C never (no status chained): any declared type.
 */
type PayloadFor<TP extends TypeProvider, S, C extends number> = [C] extends [never]
  ? ResponseOf<TP, S>
  : number extends C
    ? ResponseOf<TP, S>
    : C extends keyof ResponsesOf<TP, S>
      ? ResponsesOf<TP, S>[C]
      : `${C}` extends keyof ResponsesOf<TP, S>
        ? ResponsesOf<TP, S>[`${C}`]
        : unknown;

/**
 * The reply of a route with a schema.response: a Reply (it is one, so helpers
 * typed with Reply take it) whose send() and json() take the declared types.
 * `res.status(201)` returns the reply typed for 201 (a status without a
 * schema takes any body); without a chained status, the payload may be any
 * declared status's type, since the status may have been set before.
 */
export interface TypedReply<TP extends TypeProvider, S, C extends number = never> extends Reply {
  status<Code extends number>(code: Code): TypedReply<TP, S, Code>;
  // Reply's own signature, after the one above (which every call picks): it
  // keeps TypedReply a Reply, whose status() returns `this`.
  status(code: number): this;
  send(body?: PayloadFor<TP, S, C>): void;
  json(value: PayloadFor<TP, S, C>): void;
}

/** The reply a route's handler and hooks get: a TypedReply when schema.response is typed by the provider, else Reply. */
export type ReplyFor<TP extends TypeProvider, S> = unknown extends ResponseOf<TP, S> ? Reply : TypedReply<TP, S>;

/**
 * What a typed handler may return: a value of a declared response type, or
 * nothing (it answered with res.send() or res.json()), or a promise of them.
 */
export type TypedReturn<TP extends TypeProvider, S> = unknown extends ResponseOf<TP, S>
  ? unknown
  : ResponseOf<TP, S> | void | PromiseLike<ResponseOf<TP, S> | void>;

/** A route handler typed from its path and schemas. */
export type TypedHandler<TP extends TypeProvider, P extends string, S> = (req: TypedRequest<TP, P, S>, res: ReplyFor<TP, S>) => TypedReturn<TP, S>;

/**
 * A route hook's request before validation (onRequest, and onSend /
 * onResponse / onError, which also run for answers given before it, such as a
 * 400 from validation): params from the path, the body raw.
 */
type UnvalidatedRequest<P extends string> = Request<PathParams<P>>;

type OneOrMany<F> = F | F[];

/**
 * A route's hooks are not places to infer its schemas S from (TypeScript
 * 5.4's NoInfer over the whole hook type): S comes from `schema` alone.
 * Inferring from a hook declared apart (typed with the plain Request) sends
 * the provider's types through the generic S and overflows the compiler's
 * instantiation depth (TS2589); NoInfer on S alone inside the types did not stop it.
 */
type Hooked<F> = NoInfer<OneOrMany<F>>;

/**
 * The options of a route of a typed app: its hooks typed from its path and
 * schemas. Every hook's `res` is the route's reply (ReplyFor); preHandler runs
 * after validation and gets the typed request; the others the request as
 * parsed, before validation.
 */
export interface TypedRouteOptions<TP extends TypeProvider, P extends string, S extends RouteSchema> extends RouteSettings<S> {
  onRequest?: Hooked<(req: UnvalidatedRequest<P>, res: ReplyFor<TP, S>) => unknown>;
  preHandler?: Hooked<(req: TypedRequest<TP, P, S>, res: ReplyFor<TP, S>) => unknown>;
  onSend?: Hooked<(req: UnvalidatedRequest<P>, res: ReplyFor<TP, S>, payload: string | Uint8Array) => unknown>;
  onResponse?: Hooked<(req: UnvalidatedRequest<P>, res: ReplyFor<TP, S>) => unknown>;
  onError?: Hooked<(req: UnvalidatedRequest<P>, res: ReplyFor<TP, S>, err: unknown) => unknown>;
}
