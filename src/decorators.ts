/**
 * @module decorators
 * `decorateRequest` / `decorateReply` with fastify's encapsulation and no
 * per-request cost.  A plugin context that decorates gets its own class (of
 * requests, or of replies): a subclass of its parent context's, the app's
 * class at the root.  Decorators live on that class's prototype, so they are
 * seen by the context's routes and its children's (down the prototype chain)
 * and never by its parent or its siblings (another branch); an fp() plugin
 * shares its parent's context, so it decorates the parent.  Each route is
 * given its context's classes at start (src/app.ts), and the dispatcher
 * constructs `new route.RequestClass(...)` / `new route.ReplyClass(...)`.
 *
 * Primitive defaults are also set as own properties on each new object, in
 * one order per context chain: every object of a class gets the same shape,
 * and an assignment by a handler stays on that object.
 */
import { SalvoError } from './errors';

/** What one context added for one kind: its class (null until it decorates) and its primitive defaults. */
export interface DecoratorSlot {
  cls: (abstract new (...args: any[]) => object) | null;
  readonly defaults: [string, unknown][];
}

export type DecoratorKind = 'request' | 'reply';

/** The part of a plugin context this module reads. */
export interface DecoratedContext {
  readonly parent: DecoratedContext | null;
  readonly decorators: Record<DecoratorKind, DecoratorSlot>;
}

export function newSlots(): Record<DecoratorKind, DecoratorSlot> {
  return { request: { cls: null, defaults: [] }, reply: { cls: null, defaults: [] } };
}

/**
 * The class of `kind` of a context, made on its first decorator: a subclass
 * of its parent's, made too (so what the parent adds later is still seen
 * down the tree); at the root, the app's own class.
 */
function ownClass(ctx: DecoratedContext, kind: DecoratorKind, rootClass: new (...args: any[]) => object): new (...args: any[]) => object {
  const slot = ctx.decorators[kind];
  if (slot.cls === null) {
    if (ctx.parent === null) slot.cls = rootClass;
    else {
      const Parent = ownClass(ctx.parent, kind, rootClass);
      slot.cls = class extends Parent {};
    }
  }
  return slot.cls as new (...args: any[]) => object;
}

/**
 * Adds `name` to the objects of `kind` of a context: a function becomes a
 * method, `{ getter(obj) }` a computed property, a primitive a default.
 */
export function addDecorator(
  ctx: DecoratedContext, kind: DecoratorKind, rootClass: new (...args: any[]) => object, name: unknown, value: unknown,
): void {
  if (typeof name !== 'string' || name === '') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'decorator name must be a non-empty string');
  const proto = ownClass(ctx, kind, rootClass).prototype as Record<string, unknown>;
  // `in` walks the chain: a name of the context's parents (or built in) is taken; a sibling's is not seen.
  if (name in proto || name.startsWith('_')) throw new SalvoError('SALVO_ERR_DECORATOR_EXISTS', name);
  if (typeof value === 'function') {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true });
  } else if (value !== null && typeof value === 'object' && typeof (value as { getter?: unknown }).getter === 'function') {
    const getter = (value as { getter: (obj: unknown) => unknown }).getter;
    Object.defineProperty(proto, name, {
      get(this: unknown) {
        return getter(this);
      },
      configurable: true,
    });
  } else if (value === null || typeof value !== 'object') {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true });
    ctx.decorators[kind].defaults.push([name, value]);
  } else {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `decorator ${name}: objects would be shared by all ${kind === 'request' ? 'requests' : 'replies'}; use { getter }`);
  }
}

/** The nearest class of `kind` up the chain (null: no context in it decorated). */
export function resolveClass(ctx: DecoratedContext, kind: DecoratorKind): (new (...args: any[]) => object) | null {
  for (let c: DecoratedContext | null = ctx; c !== null; c = c.parent) {
    const cls = c.decorators[kind].cls;
    if (cls !== null) return cls as new (...args: any[]) => object;
  }
  return null;
}

/** Sets the primitive defaults of the chain (root first) on a new object; null when there are none. */
export function defaultsSetter(ctx: DecoratedContext, kind: DecoratorKind): ((obj: object) => void) | null {
  const chain: DecoratedContext[] = [];
  for (let c: DecoratedContext | null = ctx; c !== null; c = c.parent) chain.unshift(c);
  const list: [string, unknown][] = [];
  for (const c of chain) list.push(...c.decorators[kind].defaults);
  const n = list.length;
  if (n === 0) return null;
  return (obj: object) => {
    const o = obj as Record<string, unknown>;
    for (let i = 0; i < n; i++) o[list[i][0]] = list[i][1];
  };
}
