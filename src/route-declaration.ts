/**
 * @module route-declaration
 * One route declaration (`app.get(path, options?, handler)` and the others)
 * checked and compiled at registration: path parameters, options (unknown
 * keys are errors), schemas into validators and serializers, the route's own
 * hooks.  What depends on the whole app (hooks of enclosing plugins, body
 * step, classes) is resolved at start from the RouteCtx kept beside it.
 */
import { streamLimit } from './body-stream';
import { SalvoError } from './errors';
import { MAX_ROUTE_PARAMS } from './layout';
import type { Handler, Hooks, Route } from './lifecycle';
import { ROUTE_KEYS, checkKeys, checkSchema, positiveInt, timeoutMs } from './options';
import { HOOK_NAMES, joinPrefix, type PluginContext } from './plugin-context';
import { Reply } from './reply';
import { Request } from './request';
import { asList, type RouteOptions } from './route';
import { compileSerializers, compileWriters } from './serialization';
import { compileValidation, type Validators } from './validation';
import { jsonShape, type JsonShape } from './json-shape';

/** What a route was declared with that is resolved at start. */
export interface RouteCtx {
  own: Partial<Hooks>;
  ctx: PluginContext;
  validators: Validators | null;
  /** schema.body's declared keys, for the JSON fast path (src/json-shape.ts), or null. */
  bodyShape: JsonShape | null;
  bodyLimit: number;
  /** bodyStream: the body is handed to the handler as it arrives (src/body-stream.ts). */
  stream: boolean;
}

/**
 * `a, b`: (handler) or (options, handler), as the route methods take them.
 * `id`: the route's index in the app's table; `maxBodySize` bounds `bodyLimit`.
 */
export function declareRoute(ctx: PluginContext, id: number, method: string, routePath: string, a: unknown, b: unknown, maxBodySize: number): { route: Route; rc: RouteCtx } {
  if (typeof routePath !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'path must be a string');
  const path = joinPrefix(ctx.prefix, routePath);
  const [options, handler] = typeof a === 'function' && b === undefined ? [{}, a] : [a, b];
  if (typeof path !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'path must be a string');
  if (options === null || typeof options !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', `options for ${method} ${path} must be an object`);
  if (typeof handler !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `handler for ${method} ${path} must be a function`);
  const paramNames = path.split('/').filter((s) => s[0] === ':' || s === '*').map((s) => (s === '*' ? '*' : s.slice(1)));
  if (paramNames.length > MAX_ROUTE_PARAMS) {
    throw new SalvoError('SALVO_ERR_ROUTE_INVALID', `${path} has more than ${MAX_ROUTE_PARAMS} parameters`);
  }
  const o = options as RouteOptions;
  checkKeys(`route (${method} ${path})`, o, ROUTE_KEYS);
  const schema = checkSchema(method, path, o.schema);
  const serializerCompiler = ctx.resolveSerializerCompiler();
  const route: Route = {
    id, method, path, handler: handler as Handler, paramNames,
    timeout: o.timeout === undefined ? -1 : timeoutMs(`timeout (for ${method} ${path})`, o.timeout, 0), timeoutTicks: 0,
    serializers: compileSerializers(method, path, schema?.response, serializerCompiler),
    writers: compileWriters(schema?.response, serializerCompiler),
    hooks: null, body: null, errorHandler: null, RequestClass: Request, decorate: null, ReplyClass: Reply, decorateReply: null, cacheBody: undefined, cacheBytes: undefined, cacheGen: -1,
  };
  const own: Partial<Hooks> = {};
  for (const name of HOOK_NAMES) {
    const list = asList(name, o[name] as never);
    if (list.length) (own as Record<string, unknown[]>)[name] = list;
  }
  // Validation runs first among the route's preHandler hooks (after every onRequest hook).
  const validators = compileValidation(method, path, schema, ctx.resolveValidatorCompiler());
  if (o.bodyStream !== undefined && typeof o.bodyStream !== 'boolean') {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `bodyStream of ${method} ${path} must be a boolean`);
  }
  const stream = o.bodyStream === true;
  if (stream && schema?.body !== undefined) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `${method} ${path} streams its body (bodyStream): it cannot have schema.body`);
  }
  // A streamed body is not buffered: its limit may pass maxBodySize (its default), up to 2^53 - 1.
  const bodyLimit = stream ? streamLimit(`bodyLimit of ${method} ${path}`, o.bodyLimit, maxBodySize)
    : o.bodyLimit === undefined ? -1 : positiveInt(`bodyLimit of ${method} ${path}`, o.bodyLimit, 0);
  if (!stream && bodyLimit > maxBodySize) {
    // The addon buffers at most maxBodySize: a larger route limit could never be reached.
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `bodyLimit of ${method} ${path} (${bodyLimit}) is larger than the app's maxBodySize (${maxBodySize})`);
  }
  const bodyShape = validators !== null && validators.body !== undefined ? jsonShape(schema?.body) : null;
  return { route, rc: { own, ctx, validators, bodyShape, bodyLimit, stream } };
}
