/**
 * @module json-shape
 * A fast path for the commonest JSON body of a route with `schema.body`: a
 * flat object whose keys are among the schema's declared `properties` and
 * whose values are ASCII strings without escapes, short integers, true,
 * false or null.  Such a body is parsed here, in JS, from its bytes in the
 * slab, into the object JSON.parse would give (same keys, same order, a
 * later duplicate overwriting in place); anything else (an escape, a
 * non-ASCII string, a fraction, a nested value, an undeclared key, a syntax
 * error) returns FALLBACK and the body goes through JSON.parse and the
 * prototype-poisoning check as before (src/json-body.ts), which also gives
 * the errors.
 *
 * Why it is exact and safe: keys are compared as UTF-8 bytes with the
 * schema's own names, and the object gets those names, never one
 * Object.prototype has (no shape is made for a schema declaring
 * `__proto__`, `constructor`, ...: assigning them is not what JSON.parse
 * does, which defines own properties); values are primitives, so no
 * `constructor.prototype` can hide in them and the poisoning walk could
 * find nothing; a string value is ASCII, so its latin1 decoding is its
 * UTF-8 one; integers have at most 15 digits, so accumulating them is
 * exact.  Each name is assigned at its own site of a per-shape function
 * (`store`, generated: the names are JSON.stringify'd into it), so the
 * stores stay monomorphic; one keyed site over every name went megamorphic
 * (~190 instructions a property).
 *
 * Why: V8's JSON.parse of a 46-byte object cost 3,851 instructions, its
 * UTF-8 decoding ~800 and the poisoning scans 573 (callgrind, the bench's
 * salvo-validate case), more than all the rest of the request.  The parse
 * reads bytes, not the string: the same parser over the string (charCodeAt)
 * cost as much as JSON.parse, 3,940 instructions against 3,967 (a callgrind
 * micro-benchmark of this body), and over the bytes 2,644.
 */

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

export interface JsonShape {
  /** The schema's declared property names. */
  readonly names: readonly string[];
  /** Each name's UTF-8 bytes. */
  readonly bytes: readonly Uint8Array[];
  /** `o[names[k]] = v`, one assignment site per name. */
  readonly store: (o: Record<string, unknown>, k: number, v: unknown) => void;
}

/** parseShaped's answer for a body outside the fast subset. */
export const FALLBACK: unique symbol = Symbol('json-shape fallback');

const MAX_KEYS = 32;

/** The shape of a `schema.body`, or null (not an object schema with plain `properties`). */
export function jsonShape(schema: unknown): JsonShape | null {
  if (schema === null || typeof schema !== 'object') return null;
  const props = (schema as { properties?: unknown }).properties;
  if (props === null || typeof props !== 'object' || Array.isArray(props)) return null;
  const names = Object.keys(props);
  if (names.length === 0 || names.length > MAX_KEYS) return null;
  // A name Object.prototype has (`__proto__`, `constructor`, `toString`...) is not assigned
  // here: `__proto__` would set the prototype, and a frozen Object.prototype makes assigning
  // the others throw, where JSON.parse defines an own property.
  for (const n of names) if (n.length === 0 || n in Object.prototype) return null;
  // keyAt compares a name's bytes with the body's: one needing an escape in JSON is left to JSON.parse.
  for (const n of names) if (/["\\\u0000-\u001f]/.test(n)) return null;
  const cases = names.map((n, k) => `case ${k}: o[${JSON.stringify(n)}] = v; return;`).join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the names are JSON string literals
  const store = new Function('o', 'k', 'v', `switch (k) {\n${cases}\n}`) as JsonShape['store'];
  return { names, bytes: names.map((n) => new Uint8Array(Buffer.from(n, 'utf8'))), store };
}

/** String values up to this many bytes are made by shortAscii, longer ones sliced from the body's latin1 string. */
const SHORT = 12;
const fromCharCode = String.fromCharCode;

/**
 * The ASCII bytes b[s, e), at most SHORT of them, as a string: one
 * String.fromCharCode call with a byte per argument.  Buffer's latin1Slice
 * is a C++ call (about 630 instructions for any length, callgrind) and the
 * substring another 90: for the short values most bodies hold this is
 * several times cheaper (an 8-byte value: 27 ns against 66 ns, and the
 * salvo-validate body parsed in 140 ns against 235 ns).
 */
function shortAscii(b: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 0: return '';
    case 1: return fromCharCode(b[s]);
    case 2: return fromCharCode(b[s], b[s + 1]);
    case 3: return fromCharCode(b[s], b[s + 1], b[s + 2]);
    case 4: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8]);
    case 10: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9]);
    case 11:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10]);
    default:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11]);
  }
}

/** JSON whitespace (RFC 8259 section 2): space, tab, LF, CR. */
function ws(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i];
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
  return i;
}

/** The byte at i, or -1 at the end. */
function at(b: Uint8Array, i: number, end: number): number {
  return i < end ? b[i] : -1;
}

/**
 * The index of the shape's name whose bytes follow the quote at a - 1 and
 * are closed by a quote, or -1.  The names hold no quote, backslash or
 * control byte (jsonShape), so bytes equal to one are a whole JSON string
 * without escapes: each byte is read once (the reads are most of this
 * parse's cost).
 */
function keyAt(shape: JsonShape, b: Uint8Array, a: number, end: number): number {
  const c0 = at(b, a, end);
  const bytes = shape.bytes;
  for (let k = 0; k < bytes.length; k++) {
    const name = bytes[k];
    const len = name.length;
    if (name[0] !== c0 || a + len >= end) continue;
    let j = 1;
    while (j < len && name[j] === b[a + j]) j++;
    if (j === len && b[a + len] === 34) return k;
  }
  return -1;
}

/**
 * The index of the quote ending the string that starts at i, or -1: an
 * escape, a control character, no end, or (`ascii`) a byte past 0x7f.
 */
function stringEnd(b: Uint8Array, i: number, end: number, ascii: boolean): number {
  const top = ascii ? 128 : 256;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 34) return i;
    if (c < 32 || c === 92 || c >= top) return -1;
  }
  return -1;
}

/**
 * The body b[start, end) parsed as JSON when it is a flat object of the
 * shape's keys (see the module comment), else FALLBACK.
 */
export function parseShaped(b: Uint8Array, start: number, end: number, shape: JsonShape): Record<string, unknown> | typeof FALLBACK {
  let i = ws(b, start, end);
  if (at(b, i, end) !== 123) return FALLBACK; // '{'
  const o: Record<string, unknown> = {};
  i = ws(b, i + 1, end);
  if (at(b, i, end) === 125) return ws(b, i + 1, end) === end ? o : FALLBACK; // '{}'
  let text: string | undefined; // the body as latin1, made for the first string value longer than SHORT
  for (;;) {
    if (at(b, i, end) !== 34) return FALLBACK;
    const key = keyAt(shape, b, i + 1, end);
    if (key < 0) return FALLBACK; // an undeclared key, or one spelled with an escape
    i += shape.bytes[key].length + 2;
    if (at(b, i, end) !== 58) {
      i = ws(b, i, end);
      if (at(b, i, end) !== 58) return FALLBACK; // ':'
    }
    i++;
    if (at(b, i, end) <= 32) i = ws(b, i, end);
    const c = at(b, i, end);
    let v: unknown;
    if (c === 34) {
      const e = stringEnd(b, i + 1, end, true);
      if (e < 0) return FALLBACK;
      if (e - i - 1 <= SHORT) {
        v = shortAscii(b, i + 1, e);
      } else {
        if (text === undefined) text = latin1Slice.call(b, start, end);
        v = text.slice(i + 1 - start, e - start);
      }
      i = e + 1;
    } else if (c === 116) {
      if (i + 4 > end || b[i + 1] !== 114 || b[i + 2] !== 117 || b[i + 3] !== 101) return FALLBACK; // true
      v = true;
      i += 4;
    } else if (c === 102) {
      if (i + 5 > end || b[i + 1] !== 97 || b[i + 2] !== 108 || b[i + 3] !== 115 || b[i + 4] !== 101) return FALLBACK; // false
      v = false;
      i += 5;
    } else if (c === 110) {
      if (i + 4 > end || b[i + 1] !== 117 || b[i + 2] !== 108 || b[i + 3] !== 108) return FALLBACK; // null
      v = null;
      i += 4;
    } else {
      // -?(0|[1-9][0-9]*), at most 15 digits, no fraction or exponent.
      const neg = c === 45;
      if (neg) i++;
      const d0 = i;
      let x = 0;
      for (; i < end; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) break;
        x = x * 10 + d;
      }
      const digits = i - d0;
      if (digits === 0 || digits > 15 || (digits > 1 && b[d0] === 48)) return FALLBACK;
      const next = at(b, i, end);
      if (next === 46 || next === 101 || next === 69) return FALLBACK; // '.', 'e', 'E'
      v = neg ? -x : x;
    }
    shape.store(o, key, v);
    let sep = at(b, i, end);
    if (sep <= 32 && sep !== -1) {
      i = ws(b, i, end);
      sep = at(b, i, end);
    }
    if (sep === 44) {
      i++; // ','
      if (at(b, i, end) <= 32) i = ws(b, i, end);
      continue;
    }
    if (sep !== 125) return FALLBACK; // '}'
    return ws(b, i + 1, end) === end ? o : FALLBACK;
  }
}
