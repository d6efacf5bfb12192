/**
 * @module body-stream
 * Streamed request bodies (a route with `bodyStream: true`): the handler runs
 * as soon as the head has arrived and reads the body from `req.stream()`, a
 * Readable fed by the addon read by read (`body(connId, slab, off, len, event)`,
 * native/connection.cc `DeliverBody`), never buffered whole.
 *
 * Memory: every chunk is copied out of the slab into an ArrayBuffer of its
 * own during the body() call (slabs are pooled and reused: a chunk a handler
 * keeps must never alias another request's bytes).  When the stream holds
 * BODY_HIGH_WATER bytes its consumer has not read, body() answers false and
 * the addon stops reading the connection until `_read` asks for more
 * (`resumeBody`): a connection holds at most BODY_HIGH_WATER + one read slab
 * (64 KiB) of body in salvo, plus the kernel's socket buffer.
 *
 * Keep-alive: the addon clears F_KEEP_ALIVE on a streamed row, so an answer
 * decided before the body has ended says `Connection: close` (the rest of the
 * body is not read: the connection closes after the answer).  When the body
 * ends first, the reply gets back what the head asked for (F_BODY_KEEP_ALIVE).
 */
import { Readable } from 'node:stream';
import { F_BODY_KEEP_ALIVE, F_STREAM_BODY, BODY_ABORTED, BODY_END, BODY_MORE } from './layout';
import { SalvoError, type ErrorCode } from './errors';
import type { NativeServer } from './native';
import type { Hook, Route } from './lifecycle';
import type { Reply } from './reply';
import type { Request } from './request';

/** Bytes a streamed body may hold in its Readable, unread, before the connection stops being read. */
export const BODY_HIGH_WATER = 64 * 1024;

/** The stream of each streamed request: `req.stream()` returns it (per isolate; a WeakMap keeps no request alive). */
const streamOf = new WeakMap<object, BodyStream>();

function ignore(): void {}

/** What a body refused mid-stream by the addon (its event is the HTTP status) fails with. */
const REFUSED: Record<number, ErrorCode> = {
  400: 'SALVO_ERR_BAD_REQUEST',
  413: 'SALVO_ERR_BODY_TOO_LARGE',
  431: 'SALVO_ERR_HEADERS_TOO_LARGE',
};

export class BodyStream extends Readable {
  /** The addon stopped reading for this stream (body() answered false). */
  private paused = false;
  /** The addon has said its last word (end, abort, refusal): nothing more will come. */
  done = false;

  constructor(
    private readonly native: NativeServer | null,
    private readonly connId: number,
    private readonly res: Reply | null,
    private readonly keepAfter: boolean,
  ) {
    super({ highWaterMark: BODY_HIGH_WATER });
    // An abort nobody listens for must not crash the process; pipeline and for-await still see it.
    this.on('error', ignore);
  }

  /** The consumer wants more: read the connection again. */
  override _read(): void {
    if (this.paused) {
      this.paused = false;
      if (!this.done && this.native !== null) this.native.resumeBody(this.connId);
    }
  }

  /** One body() call from the addon; returns whether the addon should go on reading. */
  deliver(slab: Uint8Array | undefined, off: number, len: number, event: number): boolean {
    if (this.done) return true;
    let more = true;
    if (len > 0 && slab !== undefined && !this.destroyed) {
      // A copy in its own ArrayBuffer (allocUnsafeSlow: not Buffer's shared pool).
      const chunk = Buffer.allocUnsafeSlow(len);
      chunk.set(slab.subarray(off, off + len));
      more = this.push(chunk);
    }
    if (event === BODY_MORE) {
      if (!more) this.paused = true;
      return more;
    }
    this.done = true;
    if (event === BODY_END) {
      // The body ended before the answer: the reply keeps the connection as its head asked.
      if (this.res !== null && !this.res._sent) this.res._keep = this.keepAfter;
      this.push(null);
    } else {
      const err = event === BODY_ABORTED ? new SalvoError('SALVO_ERR_BODY_ABORTED') : new SalvoError(REFUSED[event] ?? 'SALVO_ERR_BAD_REQUEST');
      if (event === 413) err.message = 'The request body is larger than this route\'s bodyLimit';
      this.fail(err);
    }
    return true;
  }

  /** Fails the stream (its consumer sees `err`). */
  fail(err: Error): void {
    this.done = true;
    if (!this.destroyed) this.destroy(err);
  }
}

/**
 * The streamed bodies of one server (engine): at most one per connection is
 * being received (the addon parses nothing after it until it has ended).
 */
export class BodyStreams {
  private readonly current = new Map<number, BodyStream>();
  native: NativeServer | null = null;

  /**
   * The route's first step (before every hook, in the batch that holds the
   * row: the addon calls body() only after dispatch returns): the request's
   * stream, bound to its reply.
   */
  readonly claim = (req: Request, res: Reply): undefined => {
    if ((req._flags & F_STREAM_BODY) === 0 || streamOf.has(req)) return undefined;
    const s = new BodyStream(this.native, req._connId, res, (req._flags & F_BODY_KEEP_ALIVE) !== 0);
    streamOf.set(req, s);
    this.current.set(req._connId, s);
    return undefined;
  };

  /** The addon's body() callback. */
  readonly body = (connId: number, slab: Uint8Array | undefined, off: number, len: number, event: number): boolean => {
    let s = this.current.get(connId);
    if (s === undefined) {
      // Not claimed (cannot happen for a streamed row): the bytes are dropped, the reply closes the connection.
      s = new BodyStream(null, connId, null, false);
      s.resume();
      this.current.set(connId, s);
    }
    const more = s.deliver(slab, off, len, event);
    if (s.done && this.current.get(connId) === s) this.current.delete(connId);
    return more;
  };

  /** The connection closed: a body still arriving is aborted. */
  onClose(connId: number): void {
    const s = this.current.get(connId);
    if (s === undefined) return;
    this.current.delete(connId);
    s.fail(new SalvoError('SALVO_ERR_BODY_ABORTED'));
  }
}

/** `req.stream()`: the streamed body, or for a buffered one a stream of its copy. */
export function requestStream(req: object, buffered: () => Buffer): Readable {
  let s: Readable | undefined = streamOf.get(req);
  if (s === undefined) {
    const body = buffered();
    s = new Readable({ read() {} });
    if (body.length > 0) s.push(body);
    s.push(null);
    streamOf.set(req, s as BodyStream);
  }
  return s;
}

/** The first step of a bodyStream route: its request's stream, made in the batch (hooks, if any, come after). */
function claimBody(req: Request, res: Reply): undefined {
  const bodies = req._env?.bodies;
  if (bodies !== undefined) bodies.claim(req, res);
  return undefined;
}

/**
 * Makes a bodyStream route claim its stream first: as its body step on the
 * hook-free fast path, else as its first onRequest hook (each route's hook
 * lists are its own arrays, resolved at start).
 */
export function bindBodyStream(r: Route): void {
  if (r.hooks === null) r.body = claimBody;
  else r.hooks.onRequest = [claimBody as Hook, ...r.hooks.onRequest];
}

/** A bodyStream route's bodyLimit: a positive integer up to 2^53 - 1, default `def` (the app's maxBodySize). */
export function streamLimit(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}
