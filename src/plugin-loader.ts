/**
 * @module plugin-loader
 * The order plugins load in (avvio's, as fastify uses it): `register()`
 * only queues; the queue of an instance is loaded in registration order by
 * `after()`, `ready()`, `listen()` or `inject()`.  A plugin runs to its end
 * (its promise settled, or its `done` callback called) and then the plugins
 * it registered load, before the next plugin of its parent.
 */
import { SalvoError } from './errors';
import { SKIP_OVERRIDE } from './plugin-context';

/**
 * `(instance, opts)` returning a promise or not, or `(instance, opts, done)`
 * (told apart at run time by the function's length).  One signature, not a
 * union of the two: TypeScript types the parameters of an inline plugin only
 * from a single signature (a plugin with fewer parameters still fits).
 */
export type Plugin<I, O = Record<string, unknown>> = (instance: I, opts: O, done: (err?: Error) => void) => unknown;

/** An ES module whose default export is a plugin (`await import('./plugin.js')`). */
export interface PluginModule<I, O = Record<string, unknown>> {
  default: Plugin<I, O>;
}

type Entry<I> =
  | { kind: 'plugin'; plugin: Plugin<I, any>; opts: Record<string, unknown> }
  | { kind: 'after'; fn: (err: Error | null) => unknown };

/** What an instance needs to load its queue: a way to make its child instance. */
export interface Loadable<I> {
  queue: Entry<I>[];
  loading: Promise<void>;
  child(opts: Record<string, unknown>, skipOverride: boolean): I & { _loader: Loadable<I> };
}

export function newLoader<I>(child: Loadable<I>['child']): Loadable<I> {
  return { queue: [], loading: Promise.resolve(), child };
}

/** Accepts a function, or an ES module namespace whose default export is one. */
export function pluginFunction<I>(plugin: unknown): Plugin<I, any> {
  const p = plugin !== null && typeof plugin === 'object' && typeof (plugin as { default?: unknown }).default === 'function'
    ? (plugin as { default: unknown }).default
    : plugin;
  if (typeof p !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'register() takes a plugin function');
  return p as Plugin<I, any>;
}

export function enqueuePlugin<I>(l: Loadable<I>, plugin: Plugin<I, any>, opts: Record<string, unknown>): void {
  l.queue.push({ kind: 'plugin', plugin, opts });
}

export function enqueueAfter<I>(l: Loadable<I>, fn: (err: Error | null) => unknown): void {
  l.queue.push({ kind: 'after', fn });
}

/** Loads what is queued now (and what those plugins queue), in order; one load at a time per instance. */
export function load<I>(l: Loadable<I>): Promise<void> {
  const run = l.loading.then(() => drain(l));
  l.loading = run.catch(() => {});
  return run;
}

async function drain<I>(l: Loadable<I>): Promise<void> {
  while (l.queue.length > 0) {
    const e = l.queue.shift() as Entry<I>;
    if (e.kind === 'after') {
      await e.fn(null);
      continue;
    }
    const skip = (e.plugin as unknown as Record<symbol, unknown>)[SKIP_OVERRIDE] === true;
    const inst = l.child(e.opts, skip);
    const { prefix: _p, ...opts } = e.opts;
    if (e.plugin.length >= 3) {
      await new Promise<void>((resolve, reject) => {
        (e.plugin as (i: I, o: unknown, done: (err?: Error) => void) => void)(inst, opts, (err?: Error) => (err ? reject(err) : resolve()));
      });
    } else {
      await (e.plugin as (i: I, o: unknown) => unknown)(inst, opts);
    }
    if (inst._loader !== l) await load(inst._loader);
  }
}
