/**
 * @module plugin-context
 * The encapsulation tree of `app.register()` (fastify's semantics): every
 * registered plugin gets a child context of the one it was registered in;
 * hooks, the error handler, content-type parsers, instance decorators and
 * request decorators added in a context apply to its routes and its
 * children only, and a route prefix nests.  A plugin
 * marked with `Symbol.for('skip-override')` (what `fp()` / fastify-plugin
 * set) is given its parent's context instead.
 *
 * Resolved at start: each route gets the flat hook lists of its chain
 * (root first, then each child, then the route's own), so a request never
 * walks the tree.
 */
import { ContentTypeParsers } from './content-type-parser';
import { SalvoError } from './errors';
import { newSlots } from './decorators';
import { sendGateOf, type ErrorHandler, type Hook, type Hooks } from './lifecycle';
import { defaultValidatorCompiler, type ValidatorCompiler } from './validation';
import { defaultSerializerCompiler, type SerializerCompiler } from './serialization';

export const SKIP_OVERRIDE = Symbol.for('skip-override');

export type HookName = 'onRequest' | 'preHandler' | 'onSend' | 'onResponse' | 'onError';
export const HOOK_NAMES: readonly HookName[] = ['onRequest', 'preHandler', 'onSend', 'onResponse', 'onError'];

export function emptyHooks(): Hooks {
  return { onRequest: [], preHandler: [], onSend: [], onResponse: [], onError: [], sendGate: 0 };
}

export class PluginContext {
  readonly hooks: Hooks = emptyHooks();
  errorHandler: ErrorHandler | null = null;
  validatorCompiler: ValidatorCompiler | null = null;
  /** Request and reply decorators of this context: its classes and primitive defaults (src/decorators.ts). */
  readonly decorators = newSlots();
  serializerCompiler: SerializerCompiler | null = null;
  /** Content-type parsers of this context: a copy of the parent's, made when the plugin loads (fastify clones it then). */
  readonly parsers: ContentTypeParsers;
  constructor(
    readonly parent: PluginContext | null,
    /** The full prefix of this context's routes ('' at the root). */
    readonly prefix: string,
  ) {
    this.parsers = parent === null ? ContentTypeParsers.defaults() : parent.parsers.clone();
  }

  /** The hook lists that apply to a route of this context, its own after them. */
  resolveHooks(own: Partial<Hooks> | undefined, prelude: Hook | null = null): Hooks | null {
    const chain: PluginContext[] = [];
    for (let c: PluginContext | null = this; c !== null; c = c.parent) chain.unshift(c);
    const h = emptyHooks();
    for (const name of HOOK_NAMES) {
      const list = h[name] as unknown[];
      for (const c of chain) list.push(...(c.hooks[name] as unknown[]));
      if (own?.[name] !== undefined) list.push(...(own[name] as unknown[]));
    }
    // Body parsing and validation first among preHandler hooks: after onRequest, before every preHandler (fastify's order).
    if (prelude !== null) h.preHandler.unshift(prelude);
    h.sendGate = sendGateOf(h.onSend);
    return HOOK_NAMES.some((n) => h[n].length > 0) ? h : null;
  }

  /** The nearest validator compiler up the chain, else ajv with fastify's options. */
  resolveValidatorCompiler(): ValidatorCompiler {
    for (let c: PluginContext | null = this; c !== null; c = c.parent) if (c.validatorCompiler !== null) return c.validatorCompiler;
    return defaultValidatorCompiler;
  }

  /** The nearest serializer compiler up the chain, else fast-json-stringify. */
  resolveSerializerCompiler(): SerializerCompiler {
    for (let c: PluginContext | null = this; c !== null; c = c.parent) if (c.serializerCompiler !== null) return c.serializerCompiler;
    return defaultSerializerCompiler;
  }

  /** The nearest error handler up the chain (null: the default JSON error). */
  resolveErrorHandler(): ErrorHandler | null {
    for (let c: PluginContext | null = this; c !== null; c = c.parent) if (c.errorHandler !== null) return c.errorHandler;
    return null;
  }
}

/** Joins a context prefix and a route path: '/v1' + '/' is '/v1', '/v1' + '/u' is '/v1/u'. */
export function joinPrefix(prefix: string, path: string): string {
  if (prefix === '') return path;
  return path === '/' ? prefix : prefix + path;
}

/** Checks and normalizes a `prefix` option: '/v1' (a leading '/', no trailing one). */
export function checkPrefix(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string' || (v !== '' && v[0] !== '/') || v.includes('*') || v.includes(':')) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `prefix must be a static path starting with '/', got ${String(v)}`);
  }
  return v.endsWith('/') ? v.slice(0, -1) : v;
}

/** Marks a plugin so that what it adds applies to the instance it is registered on (fastify-plugin's `fp`). */
export function fp<T extends (...args: any[]) => unknown>(plugin: T): T {
  if (typeof plugin !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'fp() takes a plugin function');
  (plugin as unknown as Record<symbol, unknown>)[SKIP_OVERRIDE] = true;
  return plugin;
}
