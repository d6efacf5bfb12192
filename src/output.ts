/**
 * @module output
 * Where a decided answer's bytes go, and how they get there.
 *
 * Owns the output arena (`out`, shared with the addon, one per server) and
 * the serialization of a decided reply into one of three targets:
 *  - ARENA: the batch's own connection, when nothing of it is queued: bytes
 *    at out[cursor]; the addon writes out[0, cursor) once dispatch returns.
 *    Only the batch's connection ever writes here, and only during its batch.
 *  - CORK: a connection's cork (src/conn-queue.ts), for the reply at the head
 *    of its queue: bytes ready to leave with the connection's one write of
 *    this turn.
 *  - SLOT: a reply behind the head: its bytes wait in the reply (`_chunks`).
 * So bytes for one connection never land in a buffer that holds another
 * connection's output (the arena belongs to the batch's connection).
 *
 * Serialization never runs user code between `reserve` and `commit`: a
 * body's JSON (which may call toJSON) is made first, in `payload` (src/payload.ts,
 * which this class extends).
 */
import { codes, type ErrorCode } from './errors';
import { Payload } from './payload';
import type { ConnQueues, ConnState } from './conn-queue';
import type { NativeServer } from './native';
import type { FieldPreset } from './field-preset';
import type { Reply } from './reply';
import type { Request } from './request';
import type { Route } from './lifecycle';
import {
  CONN_CLOSE, CONN_DEFAULT, CONN_KEEP_ALIVE, DateCache, JSON_TYPE, OCTETS, TEXT, headBound,
  statusText, writeBytes, writeHead, writeShaped, writeText,
} from './response';
import type { ShapeWriter } from './shape-writer';

export const HEAD_ID = 2;
/** Byte bodies and chunks at least this large travel by reference, not copied. */
export const LARGE = 64 * 1024;

/** Output.gate's answers. */
export const GATE_NONE = 0;
export const GATE_WRITE = 1;
export const GATE_PAYLOAD = 2;

const ARENA = 0;
const CORK = 1;
const SLOT = 2;

export class Output extends Payload {
  readonly out: Buffer;
  /** Bytes of `out` the current batch has written. */
  cursor = 0;
  /** The batch's connection (-1 between batches). */
  batchConn = -1;
  /** The answer just written to the arena ends the connection. */
  closeAfter = false;
  /** Bytes the batch has produced for its connection (arena, and what left early). */
  written = 0;

  private mode = ARENA;
  private cs: ConnState | null = null;
  private reply: Reply | null = null;
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);
  /** Where `reserve` put the bytes: out, a cork, or the scratch. */
  private t: Buffer;

  /** The writer `gate` holds values in for `respondShaped`, and its bound. */
  private sWriter: ShapeWriter | null = null;
  private sBound = 0;

  constructor(
    private readonly native: NativeServer,
    private readonly queues: ConnQueues,
    readonly date: DateCache,
    debug: boolean,
    /** Count a string body's bytes for the request log (logging on). */
    private readonly countBytes = false,
  ) {
    super(debug);
    this.out = Buffer.from(native.out.buffer, native.out.byteOffset, native.out.byteLength);
    this.t = this.out;
  }

  // ---- targets ---------------------------------------------------------------

  /** The next answer goes to the arena (the batch's idle connection). */
  toArena(): void {
    this.mode = ARENA;
    this.cs = null;
    this.reply = null;
  }

  /** The next answer is `reply`'s, on `cs`: the cork if it heads the queue, else the reply's slot. */
  toConn(cs: ConnState, reply: Reply): void {
    // The reply is kept for a slot only: storing a young reply in this old object costs a write barrier.
    const head = cs.queue[cs.head] === reply;
    this.mode = head ? CORK : SLOT;
    this.cs = cs;
    this.reply = head ? null : reply;
  }

  /** Room for `bound` bytes in the target; returns where they start in `this.t`. */
  private reserve(bound: number): number {
    if (this.mode === CORK) {
      const cs = this.cs as ConnState;
      this.queues.ensureCork(cs, bound);
      this.t = cs.cork as Buffer;
      return cs.corkLen;
    }
    if (this.mode === SLOT) {
      if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafeSlow(Math.max(bound, 2 * this.scratch.length));
      this.t = this.scratch;
      return 0;
    }
    const out = this.out;
    if (this.cursor + bound <= out.length) {
      this.t = out;
      return this.cursor;
    }
    // The arena is full: what the batch has so far leaves now, in order.
    if (this.cursor > 0) this.flushArena();
    if (bound <= out.length) {
      this.t = out;
      return 0;
    }
    // Larger than the arena: serialized apart and written at once.
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafeSlow(bound);
    this.t = this.scratch;
    return 0;
  }

  private commit(start: number, end: number): void {
    const t = this.t;
    if (this.mode === CORK) {
      (this.cs as ConnState).corkLen = end;
    } else if (this.mode === SLOT) {
      this.queues.hold(this.cs as ConnState, this.reply as Reply, Buffer.from(t.subarray(start, end)));
    } else if (t === this.out) {
      this.written += end - start;
      this.cursor = end;
    } else {
      this.written += end;
      this.native.write(this.batchConn, t, end, undefined, 0);
    }
  }

  /** Ready-made bytes (a cached answer, a large body): by reference when large. */
  private place(bytes: Uint8Array): void {
    if (this.mode === CORK) {
      this.queues.append(this.cs as ConnState, bytes);
    } else if (this.mode === SLOT) {
      this.queues.hold(this.cs as ConnState, this.reply as Reply, bytes);
    } else if (bytes.length >= LARGE || this.cursor + bytes.length > this.out.length) {
      this.written += bytes.length;
      this.native.write(this.batchConn, this.out, this.cursor, bytes, 0);
      this.cursor = 0;
    } else {
      this.written += bytes.length;
      this.out.set(bytes, this.cursor);
      this.cursor += bytes.length;
    }
  }

  /** Writes out[0, cursor) now (before bytes that must follow it on the batch's connection). */
  flushArena(): void {
    if (this.cursor === 0 || this.batchConn < 0) return;
    this.native.write(this.batchConn, this.out, this.cursor, undefined, 0);
    this.cursor = 0;
  }

  private markClose(): void {
    if (this.mode === ARENA) {
      this.closeAfter = true;
      return;
    }
    // In CORK mode the reply is the queue's head (toConn keeps none).
    const cs = this.cs as ConnState;
    ((this.mode === CORK ? cs.queue[cs.head] : this.reply) as Reply)._close = true;
  }

  // ---- serialization ---------------------------------------------------------

  connMode(req: Request, keep: boolean): number {
    return keep ? (req._minor === 0 ? CONN_KEEP_ALIVE : CONN_DEFAULT) : CONN_CLOSE;
  }

  /** Writes a decided reply whose value is `value` into the chosen target. */
  respond(req: Request, res: Reply, value: unknown, route: Route, keep: boolean): void {
    if (typeof value === 'string' && keep && res._plain && req._minor === 1 && req._methodId !== HEAD_ID) {
      // Hot path: the same string as last time (hello world) is copied as bytes.
      if (route.cacheBody === value && route.cacheGen === this.date.gen && route.cacheBytes !== undefined) {
        this.place(route.cacheBytes);
        return;
      }
      const start = this.reserve(headBound(TEXT, 0) + 3 * value.length);
      const t = this.t;
      const end = writeText(t, start, 200, TEXT, value, CONN_DEFAULT, this.date, false, '');
      route.cacheBody = value;
      route.cacheBytes = Buffer.from(t.subarray(start, end));
      route.cacheGen = this.date.gen;
      this.commit(start, end);
      return;
    }
    if (route.writers === null || !this.shaped(req, res, value, route, this.connMode(req, keep))) {
      // The value's JSON may run user code (toJSON, getters) that answers another request through
      // this output: the target chosen for this answer is set again after it.
      const mode = this.mode;
      const cs = this.cs;
      const reply = this.reply;
      this.payload(res, value, route);
      this.mode = mode;
      this.cs = cs;
      this.reply = reply;
      res._bytes = this.write(req, this.pStatus, this.pType, this.pBody, res._headers, this.connMode(req, keep), res._preset);
    }
    if (!keep) this.markClose();
  }

  /**
   * The writer of the reply's status (src/shape-writer.ts) for `value` (a plain object, or an
   * array for an array writer), or null: not its case (a body-less status or method, a class
   * instance, toJSON, no writer).
   */
  writerFor(req: Request, res: Reply, value: unknown, route: Route): ShapeWriter | null {
    const ws = route.writers;
    if (ws === null || value === null || typeof value !== 'object' || req._methodId === HEAD_ID) return null;
    const status = res._status;
    // No body (1xx, 204, 304), or an Allow line to add (405): write()'s cases.
    if (status < 200 || status === 204 || status === 304 || status === 405) return null;
    const w = ws[status];
    if (w === undefined) return null;
    // The serializer calls an object's toJSON, not an array's.
    if (w.array) return Array.isArray(value) ? w : null;
    if ((value as { constructor?: unknown }).constructor !== Object) return null;
    return typeof (value as { toJSON?: unknown }).toJSON === 'function' ? null : w;
  }

  /**
   * Writes a plain object answer through its status's byte writer; false: not its case (the
   * caller serializes the value as before).  When the writer leaves the value to the
   * serializer, that gets the values already read (a getter runs once).
   */
  private shaped(req: Request, res: Reply, value: unknown, route: Route, conn: number): boolean {
    const w = this.writerFor(req, res, value, route);
    if (w === null) return false;
    const status = res._status;
    const type = res._type ?? JSON_TYPE;
    let bound: number;
    const mode = this.mode;
    const cs = this.cs;
    const reply = this.reply;
    try {
      // Getters run here, and may answer another request through this output (as in respond()).
      bound = w.read(value as Record<string, unknown>);
      this.mode = mode;
      this.cs = cs;
      this.reply = reply;
    } catch (err) {
      this.mode = mode;
      this.cs = cs;
      this.reply = reply;
      // A getter threw: as the serializer throwing (json()).
      this.pStatus = status;
      this.internalError(err);
      res._bytes = this.write(req, this.pStatus, this.pType, this.pBody, res._headers, conn, res._preset);
      return true;
    }
    if (bound === -2) return false; // the writer is busy (a getter answering through it)
    if (bound >= 0) {
      const n = this.writeShapedBody(req, status, type, w, bound, res._headers, conn, res._preset);
      if (n >= 0) {
        res._bytes = n;
        return true;
      }
    }
    this.serializeRead(w, route, status, type);
    this.mode = mode;
    this.cs = cs;
    this.reply = reply;
    res._bytes = this.write(req, this.pStatus, this.pType, this.pBody, res._headers, conn, res._preset);
    return true;
  }

  /** The head and the writer's body (read: `bound` bytes at most); the body's bytes, or -1 (nothing written: the serializer's case). */
  writeShapedBody(
    req: Request, status: number, type: string, w: ShapeWriter, bound: number, extra: string, conn: number, preset: FieldPreset | null,
  ): number {
    const start = this.reserve(headBound(type, extra.length) + bound);
    const end = writeShaped(this.t, start, status, type, w, bound, conn, this.date, extra, preset !== null ? preset.heads : null);
    if (end < 0) return -1;
    this.commit(start, end);
    if (conn === CONN_CLOSE) this.markClose();
    return w.written;
  }

  /**
   * Before a reply's onSend hooks, when each passes a payload shorter than `gate` unchanged
   * (Hooks.sendGate): a plain object answer with a byte writer whose JSON is that short skips
   * them (GATE_WRITE: `respondShaped` writes it); else GATE_PAYLOAD (pStatus / pType / pBody
   * made from the values the writer read, for the hooks) or GATE_NONE (nothing done).
   */
  gate(req: Request, res: Reply, value: unknown, route: Route, gate: number): number {
    const w = this.writerFor(req, res, value, route);
    if (w === null) return GATE_NONE;
    const status = res._status;
    let bound: number;
    try {
      bound = w.read(value as Record<string, unknown>);
    } catch (err) {
      this.internalError(err);
      return GATE_PAYLOAD;
    }
    if (bound === -2) return GATE_NONE;
    if (bound >= 0 && w.textBound < gate) {
      this.sWriter = w;
      this.sBound = bound;
      return GATE_WRITE;
    }
    this.serializeRead(w, route, status, res._type ?? JSON_TYPE);
    return GATE_PAYLOAD;
  }

  /** Writes the answer `gate` left to its writer (GATE_WRITE), into the chosen target. */
  respondShaped(req: Request, res: Reply, route: Route, keep: boolean): void {
    const w = this.sWriter as ShapeWriter;
    this.sWriter = null;
    const conn = this.connMode(req, keep);
    const status = res._status;
    const type = res._type ?? JSON_TYPE;
    let n = this.writeShapedBody(req, status, type, w, this.sBound, res._headers, conn, res._preset);
    if (n < 0) {
      // A string the serializer escapes: its text is still below the gate (textBound), the hooks would pass it.
      this.serializeRead(w, route, status, type);
      n = this.write(req, this.pStatus, this.pType, this.pBody, res._headers, conn, res._preset);
    }
    res._bytes = n;
    if (!keep) this.markClose();
  }

  /** Writes an answer its onSend hooks decided in the batch (pStatus / pType / pBody, set by LateAnswers.onSendNow). */
  respondDecided(req: Request, res: Reply, keep: boolean): void {
    res._bytes = this.write(req, this.pStatus, this.pType, this.pBody, res._headers, this.connMode(req, keep), res._preset);
    if (!keep) this.markClose();
  }

  /**
   * A decided status, type and body (from `payload`, possibly changed by onSend hooks); returns
   * the body's length in bytes.  `preset`: the reply's shared header fields, whose lines come
   * with the head's cached prefix when `extra` is still exactly them (src/response.ts).
   */
  write(
    req: Request, status: number, type: string | null, payload: string | Uint8Array | null, extra: string, conn: number,
    preset: FieldPreset | null = null,
  ): number {
    const head = req._methodId === HEAD_ID;
    if (status === 405 && req._allow !== '') extra += 'Allow: ' + req._allow + '\r\n';
    const heads = preset !== null ? preset.heads : null;
    // 1xx, 204 and 304 carry no body, and 1xx/204 no Content-Length (RFC 9110 8.6, 15.3.5, 15.4.5).
    let n = 0;
    if (payload === null || status < 200 || status === 204 || status === 304) {
      const start = this.reserve(headBound(type ?? '', extra.length));
      this.commit(start, writeHead(this.t, start, status, type, -1, conn, this.date, extra));
    } else if (typeof payload === 'string') {
      const start = this.reserve(headBound(type ?? '', extra.length) + 3 * payload.length);
      this.commit(start, writeText(this.t, start, status, type ?? TEXT, payload, conn, this.date, head, extra, heads));
      // Counted only for the request log: a string's byte length is a second pass over it.
      n = this.countBytes ? Buffer.byteLength(payload) : -1;
    } else if (payload.length >= LARGE && !head) {
      // The head is written, the body goes by reference (no copy).
      const start = this.reserve(headBound(type ?? '', extra.length));
      this.commit(start, writeHead(this.t, start, status, type ?? OCTETS, payload.length, conn, this.date, extra, heads));
      this.place(payload);
      n = payload.length;
    } else {
      const start = this.reserve(headBound(type ?? '', extra.length) + payload.length);
      this.commit(start, writeBytes(this.t, start, status, type ?? OCTETS, payload, conn, this.date, head, extra, heads));
      n = payload.length;
    }
    if (conn === CONN_CLOSE) this.markClose();
    return n;
  }

  /** The head of a streamed reply (Content-Length when known, else chunked on HTTP/1.1, close-delimited on 1.0). */
  writeStreamHead(res: Reply, conn: number, chunked: boolean, length = -1): void {
    const type = res._type ?? TEXT;
    const extra = res._headers + (chunked ? 'Transfer-Encoding: chunked\r\n' : '');
    const start = this.reserve(headBound(type, extra.length));
    this.commit(start, writeHead(this.t, start, res._status, type, length, conn, this.date, extra));
  }

  /** A canned answer for a protocol error found by the parser: then the connection closes. */
  protocolError(status: number): void {
    const code = PROTOCOL_CODES[status] ?? 'SALVO_ERR_BAD_REQUEST';
    const body = JSON.stringify({ statusCode: status, code, error: statusText(status), message: codes[code].message.replace('%s', '').trim() });
    const start = this.reserve(headBound(JSON_TYPE, 0) + body.length);
    this.commit(start, writeText(this.t, start, status, JSON_TYPE, body, CONN_CLOSE, this.date, false, ''));
    this.markClose();
  }

}

const PROTOCOL_CODES: Record<number, ErrorCode> = {
  400: 'SALVO_ERR_BAD_REQUEST',
  413: 'SALVO_ERR_BODY_TOO_LARGE',
  414: 'SALVO_ERR_URI_TOO_LONG',
  417: 'SALVO_ERR_EXPECTATION_FAILED',
  431: 'SALVO_ERR_HEADERS_TOO_LARGE',
  501: 'SALVO_ERR_NOT_IMPLEMENTED',
  505: 'SALVO_ERR_HTTP_VERSION',
};
