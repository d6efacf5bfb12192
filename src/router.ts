/**
 * @module router
 * Paths are compiled into a segment tree at registration.  Static paths are
 * also handed to the addon, which matches them while it parses (no JS string
 * for the path on the hot path); this tree answers the rest: `:name`
 * parameters and the `*` tail wildcard, with static > parametric > wildcard
 * whatever the registration order (find-my-way's rule).
 */
import { SalvoError } from './errors';
import { percentDecode as decodeSegment } from './query';

export type Params = Record<string, string>;

export interface RouteLike {
  readonly method: string;
  readonly path: string;
}

class Node<R> {
  readonly statics = new Map<string, Node<R>>();
  param: Node<R> | null = null;
  paramName = '';
  wildcard: Map<string, R> | null = null;
  readonly routes = new Map<string, R>();
}

export interface Match<R> {
  route: R;
  params: Params;
}

/** True when the path has no parameter and no wildcard. */
export function isStaticPath(path: string): boolean {
  return path.indexOf(':') === -1 && path.indexOf('*') === -1;
}

export class Router<R extends RouteLike> {
  private readonly root = new Node<R>();

  add(route: R): void {
    const { method, path } = route;
    if (typeof path !== 'string' || path[0] !== '/') {
      throw new SalvoError('SALVO_ERR_ROUTE_INVALID', `path must start with '/': ${String(path)}`);
    }
    const segs = path.split('/').slice(1);
    let node = this.root;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s === '*') {
        if (i !== segs.length - 1) throw new SalvoError('SALVO_ERR_ROUTE_INVALID', `'*' must be last: ${path}`);
        node.wildcard ??= new Map();
        if (node.wildcard.has(method)) throw new SalvoError('SALVO_ERR_ROUTE_DUPLICATE', `${method} ${path}`);
        node.wildcard.set(method, route);
        return;
      }
      if (s[0] === ':') {
        const name = s.slice(1);
        if (!name) throw new SalvoError('SALVO_ERR_ROUTE_INVALID', `empty parameter name: ${path}`);
        if (node.param && node.paramName !== name) {
          throw new SalvoError('SALVO_ERR_ROUTE_INVALID', `parameter ':${name}' conflicts with ':${node.paramName}': ${path}`);
        }
        node.param ??= new Node<R>();
        node.paramName = name;
        node = node.param;
      } else {
        let next = node.statics.get(s);
        if (!next) node.statics.set(s, (next = new Node<R>()));
        node = next;
      }
    }
    if (node.routes.has(method)) throw new SalvoError('SALVO_ERR_ROUTE_DUPLICATE', `${method} ${path}`);
    node.routes.set(method, route);
  }

  /**
   * Finds the route for a decoded-segment path.  Returns null when nothing
   * matches under any method; `allowed` then lists nothing.  When the path
   * exists under other methods, `allowed` receives them (for 405).
   */
  find(method: string, path: string, allowed?: string[]): Match<R> | null {
    const segs = path.split('/');
    const params: Params = {};
    const node = this.walk(this.root, segs, 1, method, params, allowed);
    return node;
  }

  private walk(node: Node<R>, segs: string[], i: number, method: string, params: Params, allowed?: string[]): Match<R> | null {
    if (i === segs.length) {
      const r = node.routes.get(method) ?? (method === 'HEAD' ? node.routes.get('GET') : undefined) ?? node.routes.get('*');
      if (r) return { route: r, params };
      if (allowed && node.routes.size) for (const m of node.routes.keys()) allowed.push(m);
    } else {
      const s = segs[i];
      const st = node.statics.get(s) ?? (s.indexOf('%') !== -1 ? node.statics.get(decodeSegment(s)) : undefined);
      if (st) {
        const m = this.walk(st, segs, i + 1, method, params, allowed);
        if (m) return m;
      }
      if (node.param && s !== '') {
        const m = this.walk(node.param, segs, i + 1, method, params, allowed);
        if (m) {
          m.params[node.paramName] = decodeSegment(s);
          return m;
        }
      }
    }
    if (node.wildcard) {
      const r = node.wildcard.get(method) ?? (method === 'HEAD' ? node.wildcard.get('GET') : undefined) ?? node.wildcard.get('*');
      if (r) {
        params['*'] = decodeSegment(segs.slice(i).join('/'));
        return { route: r, params };
      }
      if (allowed) for (const m of node.wildcard.keys()) allowed.push(m);
    }
    return null;
  }
}
