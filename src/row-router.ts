/**
 * @module row-router
 * Routes one row of the request table before its request object exists
 * (the object's class depends on the route: a plugin that decorates has its
 * own, src/decorators.ts).  The addon usually matched the route while it
 * parsed (R_ROUTE); otherwise (%-escaped paths, parameters, custom methods)
 * the JS router runs on the method and the raw path, read from the row's
 * offsets into the slab; else the 404 / 405 routes.  What the JS router
 * found (params, the Allow list) is held here until `apply` puts it on the
 * new request: one row at a time, reset by every lookup, so nothing of one
 * row reaches another's request.
 */
import { METHODS, R_METHOD, R_METHOD_LEN, R_METHOD_OFF, R_PATH_LEN, R_PATH_OFF, R_ROUTE } from './layout';
import type { Route } from './lifecycle';
import type { Request } from './request';
import type { Params, Router } from './router';

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

export class RowRouter {
  private params: Params | null = null;
  private allow = '';

  constructor(
    private readonly rows: Int32Array,
    private readonly routes: Route[],
    private readonly router: Router<Route>,
    private readonly notFound: Route,
    private readonly methodNotAllowed: Route,
  ) {}

  /** The route of row `base`: the addon's match (no allocation), else the JS router's, else 404 / 405. */
  route(slab: Uint8Array, base: number): Route {
    const rows = this.rows;
    const routeId = rows[base + R_ROUTE];
    if (routeId >= 0) return this.routes[routeId];
    const mid = rows[base + R_METHOD];
    const mOff = rows[base + R_METHOD_OFF];
    const method = mid !== 0 ? METHODS[mid] : latin1Slice.call(slab, mOff, mOff + rows[base + R_METHOD_LEN]);
    const pOff = rows[base + R_PATH_OFF];
    const pLen = rows[base + R_PATH_LEN];
    // An absolute-form target with an empty path ("http://h") means "/" (RFC 9112 3.2.2), as req.rawPath() says.
    return this.lookup(method, pLen === 0 ? '/' : latin1Slice.call(slab, pOff, pOff + pLen));
  }

  /** Puts what routing found for row `base` on its new request. */
  apply(req: Request, route: Route, base: number): void {
    if (this.rows[base + R_ROUTE] >= 0) {
      req._paramNames = route.paramNames;
      return;
    }
    if (this.params !== null) {
      req.params = this.params;
      this.params = null;
    }
    if (this.allow !== '') {
      req._allow = this.allow;
      this.allow = '';
    }
  }

  private lookup(method: string, rawPath: string): Route {
    // Nothing of an earlier row may reach this one's request.
    this.params = null;
    this.allow = '';
    const allowed: string[] = [];
    const m = this.router.find(method, rawPath, allowed);
    if (m !== null) {
      this.params = m.params;
      return m.route;
    }
    if (allowed.length === 0) return this.notFound;
    const set = new Set(allowed);
    if (set.has('GET')) set.add('HEAD');
    this.allow = [...set].join(', ');
    return this.methodNotAllowed;
  }
}
