/**
 * @module shape-writer
 * The JSON of a flat response schema, written as bytes straight into the
 * output target: the answer of a route whose `schema.response` (compiled by
 * the default serializer compiler) is an object of string, integer, number
 * and boolean properties, or an array of such objects, and whose value is a
 * plain object (an array of them) with values of those types.  The bytes are exactly those fast-json-stringify 6's
 * serializer of the same schema would give, UTF-8 encoded
 * (test/shape-writer.test.mjs compares them over generated values); anything
 * the writer does not do itself goes to that serializer, which stays the
 * compiler and the fallback (src/serialization.ts):
 *  - a schema with any other keyword (nested objects, other arrays, formats,
 *    nullable, defaults, enum, $ref, additionalProperties, a type list, ...)
 *    gets no writer;
 *  - a value of another type than its property's (fast-json-stringify would
 *    coerce it: null to "", a Date to its ISO string, "1" to 1), a string
 *    with a control character or a lone surrogate (escaped as \u....), a
 *    string longer than MAX_STRING, NaN, a missing required property (an
 *    error), an array item that is not a plain object (null gives {}, a
 *    hole an error): the serializer gets the values already read
 *    (`snapshot`, with such items as they are), so a getter never runs
 *    twice.  An array past MAX_VALUES values, or a value that is no array
 *    for an array schema, goes to the serializer unread.
 * What fast-json-stringify does and the writer keeps: required properties
 * first (in `properties` order), then the others; undefined values left out;
 * a string escaped as JSON.stringify does; an integer or number as `'' + v`,
 * ±Infinity as null; a boolean as true/false.
 *
 * Two phases, so no user code runs between the output's reserve and commit:
 * `read` takes every value (getters run here) and returns a byte bound;
 * `emit` writes them.  A writer whose values are held (between the two) is
 * busy: a getter that answers another request with the same route serializes
 * that one through the fallback.
 *
 * Why: for the bench's `{ message: 'Hello, World!' }` the serializer's cons
 * string cost about 800 instructions to build and 1,350 to flatten and copy
 * into the arena (Buffer#utf8Write, a C++ call; callgrind, salvo-json), more
 * than the writer's whole answer.
 */

const STRING = 0;
const INTEGER = 1;
const NUMBER = 2;
const BOOLEAN = 3;
const KINDS: Record<string, number> = { string: STRING, integer: INTEGER, number: NUMBER, boolean: BOOLEAN };

/** Longer strings go to the serializer. */
export const MAX_STRING = 4096;
/**
 * Longer strings are copied by Buffer#utf8Write when nothing in them needs care: a JS loop
 * costs about 50 instructions a character (charCodeAt and a typed-array store), the C++ call
 * about 700 whatever the length (callgrind).
 */
export const LOOP_MAX = 48;
/** What the JS loop handles and utf8Write would not: escapes, control characters, surrogates. */
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;
const utf8Write = Buffer.prototype.utf8Write as (this: Buffer, s: string, offset: number) => number;
/** At most this many properties get a writer. */
export const MAX_PROPERTIES = 32;
/** At most this many values (items x properties) are read for an array; a longer array goes to the serializer. */
export const MAX_VALUES = 16384;
/** Bytes of a number's text at most ('' + v: "-1.2345678901234567e-308" is 24). */
const NUMBER_ROOM = 25;

const OBJECT_KEYS = new Set(['type', 'properties', 'required', 'title', 'description']);
const PROPERTY_KEYS = new Set(['type', 'title', 'description']);
const ARRAY_KEYS = new Set(['type', 'items', 'title', 'description']);

function plain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

export class ShapeWriter {
  /** Property names (of the object, or of each item), in the serializer's order. */
  readonly keys: string[];
  /** An array of such objects (`[...]`), not one object. */
  readonly array: boolean;
  private readonly kinds: Uint8Array;
  private readonly required: Uint8Array;
  /** `"name":` of each property, UTF-8, one after the other; key i at [keyAt[i], keyAt[i + 1]). */
  private readonly keyBytes: Uint8Array;
  private readonly keyAt: Int32Array;
  /** The values `read` took (item i's at i * keys.length), until `emit` or `snapshot`; grows up to MAX_VALUES. */
  private values: unknown[];
  /** Items read: 1 for an object. */
  private count = 0;
  /** Array items that are not plain objects (kept for the serializer, which decides what they give). */
  private raw: unknown[] | null = null;
  private busy = false;
  /** Bytes the last `emit` wrote. */
  written = 0;
  /** After a `read` that took the values: at least the serializer's text length (UTF-16 units) for them. */
  textBound = 0;

  constructor(keys: string[], kinds: number[], required: boolean[], array: boolean) {
    this.keys = keys;
    this.array = array;
    this.kinds = Uint8Array.from(kinds);
    this.required = Uint8Array.from(required, (r) => (r ? 1 : 0));
    const parts = keys.map((k) => Buffer.from(JSON.stringify(k) + ':'));
    this.keyBytes = Buffer.concat(parts);
    this.keyAt = new Int32Array(keys.length + 1);
    for (let i = 0; i < parts.length; i++) this.keyAt[i + 1] = this.keyAt[i] + parts[i].length;
    this.values = new Array(keys.length).fill(undefined);
  }

  /**
   * Takes the values of `v`: a plain object without toJSON (the caller
   * checks), or for an array writer any value.  Returns at least the bytes
   * `emit` will write; -1: the serializer's case, then call `snapshot` (the
   * writer holds the values until `emit` or `snapshot`); -2: not read at all
   * (the writer is busy, or an array writer got no array or a longer one
   * than MAX_VALUES allows): the serializer gets `v` itself.  A getter that
   * throws leaves the writer free.
   */
  read(v: unknown): number {
    if (this.busy) return -2;
    if (!this.array) {
      this.busy = true;
      this.count = 1;
      this.text = 2;
      let bound: number;
      try {
        bound = this.readItem(v as Record<string, unknown>, 0);
      } catch (err) {
        this.release();
        throw err;
      }
      this.textBound = this.text;
      return bound;
    }
    if (!Array.isArray(v)) return -2;
    const n = v.length;
    const k = this.keys.length;
    if (n * k > MAX_VALUES) return -2;
    if (this.values.length < n * k) this.values = new Array(n * k).fill(undefined);
    this.busy = true;
    this.count = n;
    this.text = 2 + n;
    let bound = 2 + n;
    try {
      for (let i = 0; i < n; i++) {
        const item = v[i];
        if (item === null || typeof item !== 'object' || (item as { constructor?: unknown }).constructor !== Object ||
            typeof (item as { toJSON?: unknown }).toJSON === 'function') {
          (this.raw ??= [])[i] = item;
          bound = -1;
          continue;
        }
        const b = this.readItem(item as Record<string, unknown>, i * k);
        bound = b < 0 || bound < 0 ? -1 : bound + b;
      }
    } catch (err) {
      this.release();
      throw err;
    }
    this.textBound = this.text;
    return bound;
  }

  /** The serializer's text length so far (see textBound). */
  private text = 0;

  /** One object's values into values[base, ...); its bound, or -1 (the serializer's case). */
  private readItem(obj: Record<string, unknown>, base: number): number {
    const keys = this.keys;
    const kinds = this.kinds;
    const values = this.values;
    let bound = 2;
    // The serializer's text: a string unit at most 6 (\u0001), a key's units at most its bytes.
    let text = 2;
    let ok = true;
    for (let i = 0; i < keys.length; i++) {
      const v = obj[keys[i]];
      values[base + i] = v;
      if (v === undefined) {
        if (this.required[i] !== 0) ok = false;
        continue;
      }
      const key = this.keyAt[i + 1] - this.keyAt[i] + 1;
      bound += key;
      text += key;
      const k = kinds[i];
      if (k === STRING) {
        if (typeof v !== 'string' || v.length > MAX_STRING) ok = false;
        else {
          bound += 2 + 3 * v.length;
          text += 2 + 6 * v.length;
        }
      } else if (k === BOOLEAN) {
        if (typeof v !== 'boolean') ok = false;
        bound += 5;
        text += 5;
      } else {
        // NaN is an error of the serializer's; a non-integer for an integer is rounded by it.
        if (typeof v !== 'number' || v !== v || (k === INTEGER && !Number.isInteger(v))) ok = false;
        bound += NUMBER_ROOM;
        text += NUMBER_ROOM;
      }
    }
    this.text += text;
    return ok ? bound : -1;
  }

  /** The values read, as the serializer's input (what it would have read itself). */
  snapshot(): unknown {
    let out: unknown;
    if (!this.array) out = this.objectAt(0);
    else {
      const a: unknown[] = new Array(this.count);
      const raw = this.raw;
      for (let i = 0; i < this.count; i++) a[i] = raw !== null && i in raw ? raw[i] : this.objectAt(i * this.keys.length);
      out = a;
    }
    this.release();
    return out;
  }

  private objectAt(base: number): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const v = this.values[base + i];
      if (v !== undefined) o[keys[i]] = v;
    }
    return o;
  }

  /**
   * Writes the values read into `t` at `at` (room: `read`'s bound); returns
   * the bytes written, or -1 when a string needs the serializer (a control
   * character, a lone surrogate): then the values are still held, for
   * `snapshot`.
   */
  emit(t: Buffer, at: number): number {
    let p = at;
    if (!this.array) {
      p = this.emitItem(t, p, 0);
      if (p < 0) return -1;
    } else {
      const k = this.keys.length;
      t[p++] = 0x5b; // [
      for (let i = 0; i < this.count; i++) {
        if (i !== 0) t[p++] = 0x2c;
        p = this.emitItem(t, p, i * k);
        if (p < 0) return -1;
      }
      t[p++] = 0x5d; // ]
    }
    this.release();
    return (this.written = p - at);
  }

  /** One object from values[base, ...) at p; the end, or -1. */
  private emitItem(t: Buffer, p: number, base: number): number {
    const values = this.values;
    const kinds = this.kinds;
    const kb = this.keyBytes;
    const ka = this.keyAt;
    const n = kinds.length;
    t[p++] = 0x7b; // {
    let first = true;
    for (let i = 0; i < n; i++) {
      const v = values[base + i];
      if (v === undefined) continue;
      if (first) first = false;
      else t[p++] = 0x2c; // ,
      for (let j = ka[i], e = ka[i + 1]; j < e; j++) t[p++] = kb[j];
      const k = kinds[i];
      if (k === STRING) {
        p = writeString(t, p, v as string);
        if (p < 0) return -1;
      } else if (k === BOOLEAN) {
        p = v === true ? put4(t, p, 0x74, 0x72, 0x75, 0x65) : put4(t, put1(t, p, 0x66), 0x61, 0x6c, 0x73, 0x65);
      } else {
        p = writeNumber(t, p, v as number);
      }
    }
    t[p++] = 0x7d; // }
    return p;
  }

  private release(): void {
    const values = this.values;
    const used = this.count * this.keys.length;
    for (let i = 0; i < used; i++) values[i] = undefined;
    this.raw = null;
    this.count = 0;
    this.busy = false;
  }
}

function put1(t: Uint8Array, p: number, a: number): number {
  t[p] = a;
  return p + 1;
}

function put4(t: Uint8Array, p: number, a: number, b: number, c: number, d: number): number {
  t[p] = a;
  t[p + 1] = b;
  t[p + 2] = c;
  t[p + 3] = d;
  return p + 4;
}

/** A JSON string of `s` as UTF-8 at p (JSON.stringify's escapes of `"` and `\`); -1: the serializer's. */
function writeString(t: Buffer, p: number, s: string): number {
  t[p++] = 0x22;
  const n = s.length;
  if (n > LOOP_MAX && !NEEDS_CARE.test(s)) {
    // Nothing to escape and no surrogate: the string's UTF-8 is its JSON text (3 bytes a unit at most).
    p += utf8Write.call(t, s, p);
    t[p++] = 0x22;
    return p;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20) return -1;
      if (c === 0x22 || c === 0x5c) t[p++] = 0x5c;
      t[p++] = c;
    } else if (c < 0x800) {
      t[p++] = 0xc0 | (c >> 6);
      t[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      t[p++] = 0xe0 | (c >> 12);
      t[p++] = 0x80 | ((c >> 6) & 0x3f);
      t[p++] = 0x80 | (c & 0x3f);
    } else {
      // A surrogate: a pair is one code point of 4 bytes; a lone one is escaped by the serializer.
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return -1;
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      t[p++] = 0xf0 | (cp >> 18);
      t[p++] = 0x80 | ((cp >> 12) & 0x3f);
      t[p++] = 0x80 | ((cp >> 6) & 0x3f);
      t[p++] = 0x80 | (cp & 0x3f);
      i++;
    }
  }
  t[p++] = 0x22;
  return p;
}

/** `'' + v` at p (ASCII), null for ±Infinity (as the serializer's asNumber). */
function writeNumber(t: Uint8Array, p: number, v: number): number {
  if (Number.isSafeInteger(v)) {
    if (v < 0) {
      t[p++] = 0x2d;
      v = -v;
    }
    let d = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) d++;
    let q = p + d;
    const end = q;
    while (v >= 10) {
      const r = v % 10;
      t[--q] = 0x30 + r;
      v = (v - r) / 10;
    }
    t[--q] = 0x30 + v;
    return end;
  }
  const s = v === Infinity || v === -Infinity ? 'null' : '' + v;
  for (let i = 0; i < s.length; i++) t[p++] = s.charCodeAt(i);
  return p;
}

/**
 * The writer for `schema`, or null when the schema is not a flat object of
 * string, integer, number and boolean properties (see the module comment).
 */
export function compileShapeWriter(schema: unknown): ShapeWriter | null {
  if (plain(schema) && schema.type === 'array') {
    for (const k of Object.keys(schema)) if (!ARRAY_KEYS.has(k)) return null;
    return compileObject(schema.items, true);
  }
  return compileObject(schema, false);
}

function compileObject(schema: unknown, array: boolean): ShapeWriter | null {
  if (!plain(schema) || schema.type !== 'object') return null;
  for (const k of Object.keys(schema)) if (!OBJECT_KEYS.has(k)) return null;
  const props = schema.properties;
  if (!plain(props)) return null;
  const names = Object.keys(props);
  if (names.length === 0 || names.length > MAX_PROPERTIES) return null;
  const req = schema.required;
  if (req !== undefined && (!Array.isArray(req) || req.some((r) => typeof r !== 'string' || !names.includes(r)))) return null;
  const required = new Set((req ?? []) as string[]);
  const kinds: number[] = [];
  for (const name of names) {
    const p = props[name];
    if (!plain(p)) return null;
    for (const k of Object.keys(p)) if (!PROPERTY_KEYS.has(k)) return null;
    if (typeof p.type !== 'string' || !Object.prototype.hasOwnProperty.call(KINDS, p.type)) return null;
    kinds.push(KINDS[p.type]);
  }
  // The serializer's order: required properties first, each group in `properties` order (a stable sort).
  const order = names.map((_, i) => i).sort((a, b) => Number(required.has(names[b])) - Number(required.has(names[a])) || a - b);
  return new ShapeWriter(order.map((i) => names[i]), order.map((i) => kinds[i]), order.map((i) => required.has(names[i])), array);
}
