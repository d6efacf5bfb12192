/**
 * @module dispatcher
 * The JS half of the data path.  The addon calls `dispatch` once per read
 * with the rows of every complete request in it; each is routed, handled and
 * its response written into the output arena at `cursor`.  When dispatch
 * returns, the addon sends out[0, cursor) with one write.
 *
 * Ordering (invariant 1): responses leave in request order.  While a
 * connection has an unanswered async request, later responses are queued as
 * bytes behind it, and flushed when everything before them is done.
 */
import type { NativeServer } from './native';
import {
  CTL_CLOSE, CTL_ERROR, CTL_OUT_LEN, CTL_PENDING, CTL_SLAB_ID, F_KEEP_ALIVE, ROW_STRIDE,
  R_FLAGS, R_MINOR, R_ROUTE, SEND_CLOSE, SEND_RELEASE,
} from './layout';
import { Request } from './request';
import {
  CONN_CLOSE, CONN_DEFAULT, CONN_KEEP_ALIVE, DateCache, JSON_TYPE, OCTETS, TEXT, headBound,
  statusText, writeBytes, writeText,
} from './response';
import type { Params, Router } from './router';

export type Handler = (req: Request<any>) => unknown;

export interface Route {
  readonly id: number;
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
  /** Parameter names in path order ('*' for the wildcard), for req.params. */
  readonly paramNames: readonly string[];
  /** Response serializers compiled from the route's schema, by status. */
  readonly serializers: Record<number, (v: unknown) => string> | null;
  /** The last constant string answer and its bytes, valid for one Date value. */
  cacheBody: string | undefined;
  cacheBytes: Buffer | undefined;
  cacheGen: number;
}

interface Slot {
  done: boolean;
  bytes: Buffer | null;
  close: boolean;
  slabId: number;
}

class ConnState {
  alive = true;
  readonly queue: Slot[] = [];
  head = 0;
  constructor(readonly id: number) {}
  get busy(): boolean {
    return this.head < this.queue.length;
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v instanceof Promise || (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function');
}

export interface DispatcherOptions {
  debug: boolean;
}

export class Dispatcher {
  private readonly rows: Int32Array;
  private readonly hdrs: Int32Array;
  private readonly ctl: Int32Array;
  private readonly out: Buffer;
  private readonly conns: (ConnState | undefined)[] = [];
  private req = new Request();
  /** Where the response being written goes: straight to the connection, or a queued slot. */
  private cursor = 0;
  private connId = -1;
  private sink: Slot | null = null;
  /** The response just written directly ends the connection. */
  private closeAfter = false;
  /** Requests handed to JS and not answered yet, over every connection. */
  inflight = 0;

  constructor(
    private readonly native: NativeServer,
    private readonly routes: Route[],
    private readonly router: Router<Route>,
    private readonly date: DateCache,
    private readonly options: DispatcherOptions,
  ) {
    this.rows = native.rows;
    this.hdrs = native.headers;
    this.ctl = native.ctl;
    this.out = Buffer.from(native.out.buffer, native.out.byteOffset, native.out.byteLength);
  }

  readonly dispatch = (connId: number, count: number, slab: Uint8Array): void => {
    const rows = this.rows;
    const ctl = this.ctl;
    const slabId = ctl[CTL_SLAB_ID];
    this.connId = connId;
    this.cursor = ctl[CTL_OUT_LEN];
    this.closeAfter = false;
    for (let i = 0, base = 0; i < count; i++, base += ROW_STRIDE) {
      const req = this.req;
      req._reset(slab, slabId, rows, base, this.hdrs);
      const keep = (rows[base + R_FLAGS] & F_KEEP_ALIVE) !== 0;
      const routeId = rows[base + R_ROUTE];
      let route: Route | null;
      let status = 200;
      let result: unknown;
      if (routeId >= 0) {
        route = this.routes[routeId];
        req._paramNames = route.paramNames;
      } else {
        route = this.lookup(req);
      }
      if (route === null) {
        status = this.notFound.status;
        result = this.notFound.body;
      } else {
        try {
          result = route.handler(req);
        } catch (err) {
          route = null;
          status = this.errorStatus(err);
          result = this.errorBody(err, status);
        }
        if (isThenable(result)) {
          this.startAsync(connId, req, route as Route, result, keep, slabId);
          this.req = new Request();
          continue;
        }
      }
      const cs = this.conns[connId];
      this.sink = cs !== undefined && cs.busy ? this.newSlot(cs, -1, true) : null;
      this.respond(req, status, result, route, keep, '');
    }
    const error = ctl[CTL_ERROR];
    if (error !== 0) {
      const c = this.conns[connId];
      this.sink = c !== undefined && c.busy ? this.newSlot(c, -1, true) : null;
      this.respondRaw(error, statusText(error), CONN_CLOSE);
    }
    ctl[CTL_OUT_LEN] = this.cursor;
    ctl[CTL_CLOSE] = this.closeAfter ? 1 : 0;
    this.sink = null;
  };

  readonly onClose = (connId: number): void => {
    const cs = this.conns[connId];
    if (cs !== undefined) {
      cs.alive = false;
      this.conns[connId] = undefined;
    }
  };

  /** 404 unless the path exists under another method (405 + Allow). */
  private notFound = { status: 404, body: 'Not Found' as unknown };

  private lookup(req: Request): Route | null {
    const allowed: string[] = [];
    const m = this.router.find(req.method, req.rawPath(), allowed);
    if (m !== null) {
      req.params = m.params;
      return m.route;
    }
    this.notFound = allowed.length
      ? { status: 405, body: 'Method Not Allowed' }
      : { status: 404, body: 'Not Found' };
    this.allowed = allowed.length ? 'Allow: ' + [...new Set(allowed)].join(', ') + '\r\n' : '';
    return null;
  }

  private allowed = '';

  private errorStatus(err: unknown): number {
    const s = (err as { statusCode?: unknown } | null)?.statusCode;
    return typeof s === 'number' && s >= 400 && s <= 599 ? s : 500;
  }

  private errorBody(err: unknown, status: number): string {
    if (this.options.debug && err instanceof Error) return err.stack ?? String(err);
    return statusText(status);
  }

  private newSlot(cs: ConnState, slabId: number, done: boolean): Slot {
    const slot: Slot = { done, bytes: null, close: false, slabId };
    cs.queue.push(slot);
    return slot;
  }

  private startAsync(connId: number, req: Request, route: Route, p: PromiseLike<unknown>, keep: boolean, slabId: number): void {
    req._detach();
    this.ctl[CTL_PENDING]++;
    this.inflight++;
    let cs = this.conns[connId];
    if (cs === undefined) this.conns[connId] = cs = new ConnState(connId);
    const slot = this.newSlot(cs, slabId, false);
    const state = cs;
    p.then(
      (v) => this.complete(state, slot, req, 200, v, route, keep),
      (err) => {
        const status = this.errorStatus(err);
        this.complete(state, slot, req, status, this.errorBody(err, status), null, keep);
      },
    );
  }

  /** An async handler finished (in a microtask: the output arena is free). */
  private complete(cs: ConnState, slot: Slot, req: Request, status: number, value: unknown, route: Route | null, keep: boolean): void {
    this.inflight--;
    if (!cs.alive) {
      this.native.send(-1, 0, undefined, SEND_RELEASE, slot.slabId);
      return;
    }
    this.connId = cs.id;
    this.cursor = 0;
    this.closeAfter = false;
    const first = cs.queue[cs.head] === slot;
    this.sink = first ? null : slot;
    this.respond(req, status, value, route, keep, '');
    slot.done = true;
    this.sink = null;
    let flags = SEND_RELEASE;
    if (first) {
      if (this.closeAfter) flags |= SEND_CLOSE;
      cs.head++;
      // Everything queued behind it that is ready goes out in the same write.
      while (cs.head < cs.queue.length && cs.queue[cs.head].done) {
        const s = cs.queue[cs.head++];
        if (s.bytes !== null) this.place(s.bytes);
        if (s.close) flags |= SEND_CLOSE;
      }
      if (cs.head === cs.queue.length) {
        cs.queue.length = 0;
        cs.head = 0;
      }
    }
    this.native.send(cs.id, this.cursor, undefined, flags, slot.slabId);
    this.cursor = 0;
  }

  private respond(req: Request, status: number, value: unknown, route: Route | null, keep: boolean, extra: string): void {
    const conn = keep ? (req._minor === 0 ? CONN_KEEP_ALIVE : CONN_DEFAULT) : CONN_CLOSE;
    const head = req._methodId === 2; // HEAD: the GET answer without its body (RFC 9110 9.3.2)
    if (route === null && status === 405) extra += this.allowed;
    if (typeof value === 'string') {
      if (route !== null && status === 200 && conn === CONN_DEFAULT && !head && extra === '') {
        // Hot path: a route answering the same string as last time (hello world).
        if (route.cacheBody === value && route.cacheGen === this.date.gen && route.cacheBytes !== undefined) {
          this.place(route.cacheBytes);
          return;
        }
        const start = this.reserve(headBound(TEXT, 0) + 3 * value.length);
        const t = this.target;
        const end = writeText(t, start, 200, TEXT, value, conn, this.date, false, '');
        this.commit(start, end);
        route.cacheBody = value;
        route.cacheBytes = Buffer.from(t.subarray(start, end));
        route.cacheGen = this.date.gen;
        return;
      }
      const start = this.reserve(headBound(TEXT, extra.length) + 3 * value.length);
      this.commit(start, writeText(this.target, start, status, TEXT, value, conn, this.date, head, extra));
    } else if (value instanceof Uint8Array) {
      const start = this.reserve(headBound(OCTETS, extra.length) + value.length);
      this.commit(start, writeBytes(this.target, start, status, OCTETS, value, conn, this.date, head, extra));
    } else if (value === undefined || value === null) {
      const s = status === 200 ? 204 : status;
      const start = this.reserve(headBound(TEXT, extra.length));
      this.commit(start, writeText(this.target, start, s, TEXT, '', conn, this.date, head, extra));
    } else {
      let json: string;
      try {
        const ser = route !== null && route.serializers !== null ? route.serializers[status] : undefined;
        json = ser !== undefined ? ser(value) : JSON.stringify(value);
      } catch (err) {
        status = 500;
        json = JSON.stringify({ statusCode: 500, code: 'SALVO_ERR_RESPONSE_TYPE', error: statusText(500) });
      }
      const start = this.reserve(headBound(JSON_TYPE, extra.length) + 3 * json.length);
      this.commit(start, writeText(this.target, start, status, JSON_TYPE, json, conn, this.date, head, extra));
    }
    if (!keep) this.markClose();
  }

  /** A canned answer for a protocol error: then the connection closes. */
  private respondRaw(status: number, body: string, conn: number): void {
    const start = this.reserve(headBound(TEXT, 0) + body.length);
    this.commit(start, writeText(this.target, start, status, TEXT, body, conn, this.date, false, ''));
    this.markClose();
  }

  private markClose(): void {
    if (this.sink !== null) this.sink.close = true;
    else this.closeAfter = true;
  }

  /**
   * Where the next response is serialized: the output arena, or a private
   * buffer when it does not fit.  `reserve` returns the start offset in
   * `target`; `commit` hands the bytes to the sink.
   */
  private target: Buffer = Buffer.alloc(0);

  private reserve(bound: number): number {
    const out = this.out;
    if (this.cursor + bound <= out.length) {
      this.target = out;
      return this.cursor;
    }
    if (this.sink === null && this.cursor > 0) {
      // The arena is full: send what the batch has so far, in order, and reuse it.
      this.native.send(this.connId, this.cursor, undefined, 0, -1);
      this.cursor = 0;
      if (bound <= out.length) {
        this.target = out;
        return 0;
      }
    }
    this.target = Buffer.allocUnsafe(bound);
    return 0;
  }

  private commit(start: number, end: number): void {
    const t = this.target;
    if (t === this.out) {
      if (this.sink !== null) {
        this.sink.bytes = Buffer.from(t.subarray(start, end));
      } else {
        this.cursor = end;
      }
      return;
    }
    const bytes = t.subarray(0, end);
    if (this.sink !== null) this.sink.bytes = bytes;
    else this.native.send(this.connId, this.cursor, bytes, 0, -1), (this.cursor = 0);
  }

  /** Appends ready-made bytes (a cached answer or a queued one) in order. */
  private place(bytes: Buffer): void {
    if (this.sink !== null) {
      this.sink.bytes = bytes;
      return;
    }
    const out = this.out;
    if (this.cursor + bytes.length > out.length) {
      this.native.send(this.connId, this.cursor, bytes, 0, -1);
      this.cursor = 0;
      return;
    }
    out.set(bytes, this.cursor);
    this.cursor += bytes.length;
  }
}
