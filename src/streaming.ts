/**
 * @module streaming
 * Streamed replies (`res.write`/`end`/`stream`): the head (with
 * `Transfer-Encoding: chunked` on HTTP/1.1, close-delimited on 1.0, or a
 * Content-Length when the length was known first: `res._length`, set by
 * serveStatic for a file, never more bytes than it says) and each
 * chunk go through the reply's queue slot like any answer, so they leave in
 * request order and, at the head of the queue, with the connection's one
 * write of the turn (src/conn-queue.ts).  `write()` returns false past the
 * high-water mark of unsent bytes (the addon's, the cork's and the queue's);
 * `drained()` resolves below half of it.  A stream that fails midway closes
 * the connection without the final chunk, so the client sees a truncated body.
 */
import type { ConnQueues } from './conn-queue';
import { HEAD_ID, type Output } from './output';
import type { Reply } from './reply';
import type { Request } from './request';
import type { Route } from './lifecycle';
import { CONN_CLOSE } from './response';

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const EMPTY = new Uint8Array(0);

export class Streams {
  constructor(
    private readonly queues: ConnQueues,
    private readonly output: Output,
    private readonly highWaterMark: number,
    private readonly afterResponse: (req: Request, res: Reply, route: Route) => void,
  ) {}

  /** A pending reply started streaming: its head, then what was written before. */
  start(res: Reply): void {
    const cs = res._cs;
    const req = res._req as Request;
    if (cs === null || !cs.alive) {
      res._done = true;
      this.releaseHeadWaiters(res);
      return;
    }
    // A known length frames the body by Content-Length (any version); else
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    const length = res._length;
    const chunked = length < 0 && req._minor >= 1;
    const framed = chunked || length >= 0;
    res._chunked = chunked;
    res._left = length;
    if (!framed || !res._keep) res._close = true;
    res._bytes = 0;
    this.output.toConn(cs, res);
    this.output.writeStreamHead(res, framed ? this.output.connMode(req, res._keep) : CONN_CLOSE, chunked, length);
    const early = res._early ?? [];
    res._early = null;
    res._earlyBytes = 0;
    for (const c of early) this.chunk(res, c, false);
    if (res._aborted) this.abort(res);
    else if (res._ended) this.chunk(res, EMPTY, true);
    else this.queues.advance(cs);
    const waiting = res._waitHead;
    res._waitHead = null;
    if (waiting !== null) for (const w of waiting) void this.queues.drained(cs).then(w);
  }

  /** A chunk of a started stream (end: the last one); false past the high-water mark. */
  chunk(res: Reply, chunk: Uint8Array, end: boolean): boolean {
    const cs = res._cs;
    if (cs === null || !cs.alive || res._done) return true;
    if (res._early !== null) return true; // the head is not written yet: start() replays
    const req = res._req as Request;
    const atHead = cs.queue[cs.head] === res;
    const head = req._methodId === HEAD_ID;
    if (res._length >= 0 && !head) {
      // Never more than Content-Length said; fewer (a file that shrank)
      // and the connection closes, so the client sees the body is short.
      if (chunk.length > res._left) chunk = chunk.subarray(0, res._left);
      res._left -= chunk.length;
      if (end && res._left !== 0) res._close = true;
    }
    if (!head && chunk.length > 0) {
      res._bytes += chunk.length;
      if (res._chunked) this.put(cs, res, atHead, Buffer.from(chunk.length.toString(16) + '\r\n', 'latin1'));
      // A chunk that waits behind the head is copied: the caller may reuse its buffer.
      this.put(cs, res, atHead, atHead || chunk.length >= 64 * 1024 ? chunk : Buffer.from(chunk));
      if (res._chunked) this.put(cs, res, atHead, CRLF);
    }
    if (end) {
      if (res._chunked && !head) this.put(cs, res, atHead, LAST_CHUNK);
      res._done = true;
    }
    this.queues.advance(cs);
    if (end) {
      const h = (res._route as Route).hooks;
      if (h !== null && h.onResponse.length) this.afterResponse(req, res, res._route as Route);
    }
    return this.queues.unsent(cs) <= this.highWaterMark;
  }

  private put(cs: NonNullable<Reply['_cs']>, res: Reply, atHead: boolean, bytes: Uint8Array): void {
    if (atHead) this.queues.append(cs, bytes);
    else this.queues.hold(cs, res, bytes);
  }

  /** A stream failed after its head was decided: end it by closing the connection. */
  abort(res: Reply): void {
    const cs = res._cs;
    if (res._done) return;
    res._done = true;
    if (cs === null || !cs.alive) return;
    res._close = true;
    this.queues.advance(cs);
  }

  drained(res: Reply): Promise<void> {
    const cs = res._cs;
    return cs === null ? Promise.resolve() : this.queues.drained(cs);
  }

  private releaseHeadWaiters(res: Reply): void {
    // A writer waiting for the head must not wait forever: the client is gone.
    const waiting = res._waitHead;
    res._waitHead = null;
    if (waiting !== null) for (const w of waiting) w();
  }
}
