/**
 * @module type-provider
 * Types only: how a route's JSON Schemas type its handler (fastify's type
 * provider pattern).  `app.withTypeProvider<P>()` returns the same app typed
 * with provider P; a route's `schema.body / querystring / params / headers`
 * then give `req.body / query / params / headers` the type P computes from
 * them, and `schema.response` the handler's return type.
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
import type { PathParams } from './route';

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

/** The union of the types of every status declared in schema.response (unknown without one). */
type ResponseOf<TP extends TypeProvider, S> = S extends { readonly response: infer R }
  ? { [K in keyof R]: unknown extends CallTypeProvider<TP, R[K]> ? unknown : CallTypeProvider<TP, R[K]> }[keyof R]
  : unknown;

/**
 * What a typed handler may return: a value of a declared response type, or
 * nothing (it answered with res.send() or res.json()), or a promise of them.
 */
export type TypedReturn<TP extends TypeProvider, S> = unknown extends ResponseOf<TP, S>
  ? unknown
  : ResponseOf<TP, S> | void | PromiseLike<ResponseOf<TP, S> | void>;

/** A route handler typed from its path and schemas. */
export type TypedHandler<TP extends TypeProvider, P extends string, S> = (req: TypedRequest<TP, P, S>, res: Reply) => TypedReturn<TP, S>;
