/**
 * @module plugins/plugin
 * What the first-party plugins need of the app they are registered on, and
 * the skip-override mark (fastify's `Symbol.for('skip-override')`, as set by
 * fastify-plugin): a marked plugin's hooks apply to the whole app, not only
 * to an encapsulated child.
 */
import type { ErrorHook, Hook, SendHook } from '../lifecycle';

export const SKIP_OVERRIDE = Symbol.for('skip-override');

/** The part of App (or a plugin instance) the plugins use. */
export interface PluginTarget {
  addHook(name: 'onRequest' | 'preHandler' | 'onResponse', fn: Hook): unknown;
  addHook(name: 'onSend', fn: SendHook): unknown;
  addHook(name: 'onError', fn: ErrorHook): unknown;
  get(path: string, handler: (req: any, res: any) => unknown): unknown;
  head(path: string, handler: (req: any, res: any) => unknown): unknown;
  /** @internal The instance's encapsulation context: its route prefix (serveStatic counts its segments). */
  readonly _ctx?: { readonly prefix: string };
}
