/**
 * @module headers
 * The one rule for header fields salvo writes (RFC 9110 5.1, 5.5): a name is
 * a token; a value is HTAB, SP-~ and obs-text (0x80-0xFF) only, node:http's
 * rule.  Responses are encoded as latin1, which keeps only the low byte of a
 * UTF-16 code unit, so U+010D U+010A would become CR LF (response splitting):
 * anything above 0xFF is refused here, at the call, not mangled later.
 */
import { SalvoError } from './errors';

/** Framing headers are salvo's to write (RFC 9112 6): a handler cannot set them. */
export const MANAGED: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'date']);

export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export function isToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN.test(s);
}

/** Throws SALVO_ERR_INVALID_HEADER unless `name` is a token. */
export function checkHeaderName(name: unknown): string {
  if (!isToken(name)) throw new SalvoError('SALVO_ERR_INVALID_HEADER', `name ${JSON.stringify(String(name))} is not a token`);
  return name;
}

/**
 * A header value as a string: strings and finite numbers only (undefined,
 * objects and the like are a mistake, not "undefined" on the wire); throws
 * SALVO_ERR_INVALID_HEADER for a character outside the value rule.
 */
export function checkHeaderValue(name: string, value: unknown): string {
  let v: string;
  if (typeof value === 'string') v = value;
  else if (typeof value === 'number' && Number.isFinite(value)) v = String(value);
  else throw new SalvoError('SALVO_ERR_INVALID_HEADER', `value of ${name} must be a string or a finite number, got ${value === null ? 'null' : typeof value}`);
  if (BAD_VALUE.test(v)) {
    const c = BAD_VALUE.exec(v)![0].charCodeAt(0);
    throw new SalvoError('SALVO_ERR_INVALID_HEADER', `value of ${name} has the character U+${c.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  return v;
}
