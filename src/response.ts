/**
 * @module response
 * Serializes responses straight into the output arena (or any Buffer).
 * Status lines are built once; the Date value is refreshed by one timer a
 * second, not per response (RFC 9110 6.6.1 only asks for second precision).
 */
import { STATUS_CODES } from 'node:http';
import type { ShapeWriter } from './shape-writer';

const latin1Write = Buffer.prototype.latin1Write as (this: Buffer, s: string, offset: number, length?: number) => number;
const utf8Write = Buffer.prototype.utf8Write as (this: Buffer, s: string, offset: number, length?: number) => number;

export const CONN_DEFAULT = 0; // HTTP/1.1 keep-alive: nothing to say
export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2; // HTTP/1.0 that asked for keep-alive
const CONN_HEADER = ['', 'Connection: close\r\n', 'Connection: keep-alive\r\n'];

const STATUS_LINE: string[] = [];
for (let s = 100; s <= 599; s++) {
  STATUS_LINE[s] = `HTTP/1.1 ${s} ${STATUS_CODES[s] ?? 'Unknown'}\r\n`;
}

export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';
export const OCTETS = 'application/octet-stream';

/** The cached `Date` header value and a generation that changes with it. */
export class DateCache {
  value = new Date().toUTCString();
  gen = 0;
  private timer: NodeJS.Timeout | undefined;
  private users = 0;

  start(): void {
    if (this.users++ === 0) {
      this.refresh();
      this.timer = setInterval(() => this.refresh(), 1000);
      this.timer.unref();
    }
  }

  stop(): void {
    if (--this.users === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private refresh(): void {
    const v = new Date().toUTCString();
    if (v !== this.value) {
      this.value = v;
      this.gen++;
    }
  }
}

/** Upper bound of a head written by writeHead with `extra` header bytes. */
export function headBound(type: string, extra: number): number {
  return 160 + type.length + extra;
}

/**
 * The bytes every response with a given status and Content-Type starts with,
 * up to "Content-Length: ", encoded once per Date value: per response only the
 * length digits and the tail are written (no header string is built).
 * `lines`: header lines every answer written with these prefixes carries (a
 * FieldPreset's, src/reply.ts), placed before Content-Length: their bytes
 * come with the prefix's one TypedArray.set.  The order of different fields
 * carries no meaning (RFC 9110 5.3).
 */
export class HeadPrefixes {
  private gen = -1;
  private readonly byType = new Map<string | null, Buffer[]>();
  /** The last type asked for and its prefixes: a route answers one type, a constant string (one pointer comparison, not a Map lookup). */
  private lastType: string | null | undefined = undefined;
  private lastByStatus: Buffer[] = [];

  constructor(readonly lines = '') {}

  get(status: number, type: string | null, dates: DateCache): Buffer {
    if (this.gen !== dates.gen) {
      this.byType.clear();
      this.lastType = undefined;
      this.gen = dates.gen;
    }
    let byStatus: Buffer[] | undefined;
    if (type === this.lastType) {
      byStatus = this.lastByStatus;
    } else {
      byStatus = this.byType.get(type);
      if (byStatus === undefined) this.byType.set(type, (byStatus = []));
      this.lastType = type;
      this.lastByStatus = byStatus;
    }
    let b = byStatus[status];
    if (b === undefined) {
      let h = (STATUS_LINE[status] ?? `HTTP/1.1 ${status} Unknown\r\n`) + 'Date: ' + dates.value + '\r\n';
      if (type !== null) h += 'Content-Type: ' + type + '\r\n';
      b = byStatus[status] = Buffer.from(h + this.lines + 'Content-Length: ', 'latin1');
    }
    return b;
  }
}

const prefixes = new HeadPrefixes();

/**
 * Writes a status line and the standard headers; returns the new offset.  length < 0: no
 * Content-Length.  `heads`: prefixes whose lines may be `extra` (a FieldPreset's); used only
 * when they are exactly `extra` (one pointer comparison for the preset's own string).
 */
export function writeHead(
  t: Buffer, pos: number, status: number, type: string | null, length: number,
  conn: number, dates: DateCache, extra: string, heads: HeadPrefixes | null = null,
): number {
  if (length < 0) {
    // No body length: 1xx/204/304, or a streamed body (Transfer-Encoding in extra).
    let h = (STATUS_LINE[status] ?? `HTTP/1.1 ${status} Unknown\r\n`) + 'Date: ' + dates.value + '\r\n';
    if (type !== null) h += 'Content-Type: ' + type + '\r\n';
    return pos + latin1Write.call(t, h + CONN_HEADER[conn] + extra + '\r\n', pos);
  }
  let pre = prefixes;
  if (heads !== null && extra === heads.lines) {
    pre = heads;
    extra = '';
  }
  return headFrom(t, pos, pre.get(status, type, dates), length, conn, extra);
}

/** The head from its prefix on: the prefix, the Content-Length digits, then the Connection line and `extra` (lines not in the prefix). */
function headFrom(t: Buffer, pos: number, prefix: Buffer, length: number, conn: number, extra: string): number {
  t.set(prefix, pos);
  pos += prefix.length;
  // Content-Length digits, most significant first.
  let digits = 1;
  for (let v = length; v >= 10; v = Math.floor(v / 10)) digits++;
  for (let i = digits - 1, v = length; i >= 0; i--, v = Math.floor(v / 10)) t[pos + i] = 48 + (v % 10);
  pos += digits;
  if (conn === CONN_DEFAULT && extra === '') {
    t[pos] = 13;
    t[pos + 1] = 10;
    t[pos + 2] = 13;
    t[pos + 3] = 10;
    return pos + 4;
  }
  return writeTail(t, pos, conn, extra);
}

/** The head after the Content-Length digits when it has more than CRLF CRLF (out of line: headFrom stays small enough to inline). */
function writeTail(t: Buffer, pos: number, conn: number, extra: string): number {
  t[pos] = 13;
  t[pos + 1] = 10;
  pos += 2;
  if (conn !== CONN_DEFAULT) pos += latin1Write.call(t, CONN_HEADER[conn], pos);
  if (extra !== '') pos += latin1Write.call(t, extra, pos);
  t[pos] = 13;
  t[pos + 1] = 10;
  return pos + 2;
}

/** Bytes of the head after the Content-Length digits: CRLF, the Connection line, the extra lines, CRLF. */
function tailLength(conn: number, extra: string): number {
  // latin1: one byte per character (header values above U+00FF are refused, src/headers.ts).
  return 4 + CONN_HEADER[conn].length + extra.length;
}


/** Writes a whole response with a string body. `room` must cover headBound + 3 * body.length. */
export function writeText(
  t: Buffer, pos: number, status: number, type: string, body: string,
  conn: number, dates: DateCache, head: boolean, extra: string, heads: HeadPrefixes | null = null,
): number {
  if (head || body.length === 0 || status === 204 || status < 200 || status === 304) {
    const len = Buffer.byteLength(body);
    pos = writeHead(t, pos, status, type, len, conn, dates, extra, heads);
    return head || len === 0 ? pos : pos + utf8Write.call(t, body, pos);
  }
  /* The common case without a separate byte count: write the body where it
   * goes if it is ASCII (byte length = string length), then the head before
   * it; a body that was not ASCII is moved to where its real length puts it.
   * Header lines of the reply's own and a Connection line come after the
   * digits (a FieldPreset's lines: in the prefix), their length known in
   * advance (latin1: one byte each): Buffer.byteLength cost a JSON answer
   * with one extra line about 1,100 instructions (callgrind,
   * salvo-cors-compress). */
  const own = heads !== null && extra === heads.lines;
  const prefix = (own ? heads : prefixes).get(status, type, dates);
  const rest = own ? '' : extra;
  const guess = digitCount(body.length);
  const at = pos + prefix.length + guess + (conn === CONN_DEFAULT && rest === '' ? 4 : tailLength(conn, rest));
  const n = utf8Write.call(t, body, at);
  const real = digitCount(n);
  if (real !== guess) t.copyWithin(at + real - guess, at, at + n);
  // The prefix found above: not looked up twice.
  const end = headFrom(t, pos, prefix, n, conn, rest);
  return end + n;
}

/**
 * Writes a whole response whose body a ShapeWriter writes (src/shape-writer.ts), as writeText
 * does a string's: the body first where a head with `bound`'s digit count ends it, then the head.
 * `room` must cover headBound + bound.  Returns the end, or -1 when the writer gave the body to
 * its serializer (nothing written counts).
 */
export function writeShaped(
  t: Buffer, pos: number, status: number, type: string, w: ShapeWriter, bound: number,
  conn: number, dates: DateCache, extra: string, heads: HeadPrefixes | null = null,
): number {
  const own = heads !== null && extra === heads.lines;
  const prefix = (own ? heads : prefixes).get(status, type, dates);
  const rest = own ? '' : extra;
  const guess = digitCount(bound);
  const at = pos + prefix.length + guess + (conn === CONN_DEFAULT && rest === '' ? 4 : tailLength(conn, rest));
  const n = w.emit(t, at);
  if (n < 0) return -1;
  const real = digitCount(n);
  if (real !== guess) t.copyWithin(at + real - guess, at, at + n);
  return headFrom(t, pos, prefix, n, conn, rest) + n;
}

function digitCount(v: number): number {
  let d = 1;
  for (; v >= 10; v = Math.floor(v / 10)) d++;
  return d;
}

/** Writes a whole response with a byte body. `room` must cover headBound + body.length. */
export function writeBytes(
  t: Buffer, pos: number, status: number, type: string, body: Uint8Array,
  conn: number, dates: DateCache, head: boolean, extra: string, heads: HeadPrefixes | null = null,
): number {
  pos = writeHead(t, pos, status, type, body.length, conn, dates, extra, heads);
  if (head) return pos;
  t.set(body, pos);
  return pos + body.length;
}
