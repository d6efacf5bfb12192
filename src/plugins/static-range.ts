/**
 * @module plugins/static-range
 * Range requests on a served file (RFC 9110 14): one byte range (`a-b`,
 * `a-`, `-n`) gives 206, a range that starts past the end 416.  A Range
 * header that is not valid `bytes=` syntax is ignored (14.2 allows it), and
 * so is a request for several ranges: the whole file is sent with 200
 * instead of multipart/byteranges (14.6; a client asking for several ranges
 * gets all it asked for, and no answer is ever bigger than the file plus
 * its head).  If-Range (13.1.5) is honoured: a date must equal
 * Last-Modified; an entity-tag must match strongly, which serveStatic's weak
 * tags never do, so an If-Range with a tag always gets the whole file (the
 * client can never splice bytes of two versions).
 */
import { httpDateSeconds } from './static-conditional';

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | null;

const DIGITS = /^[0-9]+$/;

/** The one range of `header` within `size` bytes, 'unsatisfiable', or null (send it all). */
export function parseRange(header: string, size: number): RangeResult {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  const specs = header.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return null;
  const spec = specs[0];
  const dash = spec.indexOf('-');
  if (dash === -1) return null;
  const a = spec.slice(0, dash).trim();
  const b = spec.slice(dash + 1).trim();
  if (a === '') {
    // suffix-range: the last n bytes.
    if (!DIGITS.test(b)) return null;
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  if (!DIGITS.test(a) || (b !== '' && !DIGITS.test(b))) return null;
  const start = Number(a);
  const last = b === '' ? Infinity : Number(b);
  if (last < start) return null; // invalid (14.1.1): ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Does the Range apply under this If-Range?  `etag`/`mtime`: the file's
 * validators as sent (null: that validator is off, nothing can match it).
 */
export function ifRangeHolds(value: string, etag: string | null, mtime: number | null): boolean {
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith('W/')) {
    // Strong comparison only; a weak tag on either side fails it.
    return etag !== null && !etag.startsWith('W/') && !v.startsWith('W/') && v === etag;
  }
  const d = httpDateSeconds(v);
  return mtime !== null && !Number.isNaN(d) && d === mtime;
}
