/**
 * @module json-body
 * `req.json()`: JSON.parse, then the prototype-poisoning check fastify makes
 * by default (secure-json-parse's rule): an own `__proto__` key, or a
 * `constructor` key holding an object with an own `prototype` key, would
 * pollute prototypes once the object is merged (Object.assign, spread into a
 * class, lodash.merge).  The walk runs only when the text could hold such a
 * key (the names, or a \u escape that could spell them), so ordinary bodies
 * pay one or two substring scans.
 */
import { SalvoError } from './errors';

/** 'error': 400 SALVO_ERR_PROTO_POISONING; 'remove': the key is deleted; 'ignore': kept. */
export type PoisonAction = 'error' | 'remove' | 'ignore';
export interface PoisonPolicy {
  readonly proto: PoisonAction;
  readonly ctor: PoisonAction;
}

export const POISON_ACTIONS: readonly PoisonAction[] = ['error', 'remove', 'ignore'];

export function parseJson(text: string, policy: PoisonPolicy): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SalvoError('SALVO_ERR_INVALID_JSON', (err as Error).message, { cause: err });
  }
  if (v === null || typeof v !== 'object') return v;
  const escaped = text.includes('\\u');
  const proto = policy.proto !== 'ignore' && (escaped || text.includes('__proto__'));
  const ctor = policy.ctor !== 'ignore' && (escaped || text.includes('constructor'));
  if (proto || ctor) walk(v, proto ? policy.proto : 'ignore', ctor ? policy.ctor : 'ignore');
  return v;
}

const has = Object.prototype.hasOwnProperty;

function walk(root: object, proto: PoisonAction, ctor: PoisonAction): void {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const o = stack.pop() as Record<string, unknown>;
    if (proto !== 'ignore' && has.call(o, '__proto__')) {
      if (proto === 'error') throw new SalvoError('SALVO_ERR_PROTO_POISONING', '__proto__');
      delete o['__proto__'];
    }
    if (ctor !== 'ignore' && has.call(o, 'constructor')) {
      const c = o.constructor;
      if (c !== null && typeof c === 'object' && has.call(c, 'prototype')) {
        if (ctor === 'error') throw new SalvoError('SALVO_ERR_PROTO_POISONING', 'constructor.prototype');
        delete (o as { constructor?: unknown }).constructor;
      }
    }
    for (const k in o) {
      if (!has.call(o, k)) continue;
      const child = o[k];
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
}
