/**
 * @module route
 * What a route is declared with: its handler's types (path parameters from
 * the path string), its options, and what is compiled from them once at
 * registration (hook lists; response serializers: src/serialization.ts).
 */
import { SalvoError } from './errors';
import type { ErrorHook, Hook, SendHook } from './lifecycle';
import type { Reply } from './reply';
import type { Request } from './request';
import type { Params } from './router';
import type { RouteSchema } from './type-provider';

/** Route parameters named in a path string: '/users/:id' gives { id: string }. */
export type PathParams<P extends string> = string extends P
  ? Params
  : P extends `${string}:${infer Name}/${infer Rest}`
    ? { [K in Name | keyof PathParams<`/${Rest}`>]: string }
    : P extends `${string}:${infer Name}`
      ? { [K in Name]: string }
      : P extends `${string}*`
        ? { '*': string }
        : Record<never, never>;

export type RouteHandler<P extends string> = (req: Request<PathParams<P>>, res: Reply) => unknown;

/**
 * A route's options other than its hooks (RouteOptions adds untyped hooks,
 * TypedRouteOptions of src/type-provider.ts hooks typed from the schemas).
 * S: the route's schemas as written (a type provider reads them).
 */
export interface RouteSettings<S extends RouteSchema = RouteSchema> {
  /** JSON Schemas; `response` maps a status code to the schema its JSON body is serialized with (fast-json-stringify, compiled once). */
  schema?: S;
  /**
   * Largest body in bytes this route accepts: a longer one is answered 413
   * SALVO_ERR_BODY_TOO_LARGE before any preHandler hook or the handler runs.
   * At most the app's maxBodySize (which bounds what is buffered).
   */
  bodyLimit?: number;
  /**
   * Stream the body instead of buffering it: the handler runs once the head
   * has arrived and reads the body from `req.stream()` (a Readable); `req.body`
   * stays empty.  bodyLimit then defaults to the app's maxBodySize and may be
   * larger (up to 2^53 - 1): nothing is buffered.  See docs/API.md.
   */
  bodyStream?: boolean;
  /** Milliseconds this route's requests may wait for their answer (overrides the app's requestTimeout; 0: no limit). */
  timeout?: number;
}

/** A route's options with its hooks (for this route only, run after the app's). */
export interface RouteOptions<S extends RouteSchema = RouteSchema> extends RouteSettings<S> {
  onRequest?: Hook | Hook[];
  preHandler?: Hook | Hook[];
  onSend?: SendHook | SendHook[];
  onResponse?: Hook | Hook[];
  onError?: ErrorHook | ErrorHook[];
}


export function asList<T>(name: string, v: T | T[] | undefined): T[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  for (const f of list) if (typeof f !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} hook must be a function`);
  return list;
}
