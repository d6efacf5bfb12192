/**
 * @module query
 * application/x-www-form-urlencoded parsing for `req.query` and `req.form()`
 * (WHATWG URL standard, 5.1): '+' is a space, percent-escapes are UTF-8, a
 * repeated key gives an array.  Null-prototype objects: a key such as
 * `__proto__` is data, never a prototype change.
 */
export type Query = Record<string, string | string[]>;

/**
 * Objects with no Object.prototype behind them, in V8's fast mode:
 * Object.create(null) would make a dictionary-mode object, slower to fill
 * and to read (fast-querystring uses the same constructor).
 */
export const NullObject = function NullObject() {} as unknown as new () => Record<string, any>;
NullObject.prototype = Object.create(null);

/** Percent-decodes UTF-8; a malformed escape is kept as sent (as URLSearchParams does). */
export function percentDecode(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function decode(s: string): string {
  return percentDecode(s.indexOf('+') !== -1 ? s.replace(/\+/g, ' ') : s);
}

export function parseQuery(s: string): Query {
  const out: Query = new NullObject();
  let start = 0;
  const n = s.length;
  while (start <= n) {
    let amp = s.indexOf('&', start);
    if (amp === -1) amp = n;
    if (amp > start) {
      const eq = s.indexOf('=', start);
      const hasEq = eq !== -1 && eq < amp;
      const key = decode(s.slice(start, hasEq ? eq : amp));
      const value = hasEq ? decode(s.slice(eq + 1, amp)) : '';
      const prev = out[key];
      if (prev === undefined) out[key] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[key] = [prev, value];
    }
    start = amp + 1;
  }
  return out;
}
