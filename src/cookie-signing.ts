/**
 * @module cookie-signing
 * Signed cookie values (the `cookieSecret` app option): `value.signature`,
 * the signature being HMAC-SHA256 of the value in base64 without padding,
 * the format of the npm `cookie-signature` package (what @fastify/cookie
 * writes), so cookies signed by one stay valid for the other.
 *
 * Several secrets rotate keys: the first signs, every one verifies, and a
 * value verified by a later one is reported `renew: true` so the app can
 * re-sign it with the current key.  The secrets are turned into KeyObjects
 * once, when the app is built: signing then costs one HMAC, no key import.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SalvoError } from './errors';

/** What `req.unsignCookie()` gives (fastify's shape). */
export interface UnsignResult {
  /** The signature matched one of the secrets. */
  valid: boolean;
  /** It matched a secret other than the first: sign the value again with the current one. */
  renew: boolean;
  /** The value without its signature, null when not valid. */
  value: string | null;
}

export type CookieSecret = string | Buffer;

/** Shorter keys are guessable; 16 bytes is the floor, 32 random bytes what HMAC-SHA256 wants. */
export const MIN_SECRET_BYTES = 16;

const INVALID: UnsignResult = Object.freeze({ valid: false, renew: false, value: null }) as UnsignResult;

function mac(key: KeyObject, value: string): string {
  // base64 without '=' padding: cookie-signature's format.
  return createHmac('sha256', key).update(value).digest('base64').replace(/=+$/, '');
}

export class CookieSigner {
  private readonly keys: KeyObject[];
  constructor(secrets: readonly CookieSecret[]) {
    this.keys = secrets.map((s) => createSecretKey(typeof s === 'string' ? Buffer.from(s, 'utf8') : s));
  }

  /** `value.signature`, signed with the first secret. */
  sign(value: string): string {
    if (typeof value !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'a signed cookie value must be a string');
    return `${value}.${mac(this.keys[0], value)}`;
  }

  /**
   * Splits at the LAST dot (the value itself may contain dots) and checks the
   * signature against every secret, in constant time for a given length.
   */
  unsign(signed: string): UnsignResult {
    if (typeof signed !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'unsignCookie() takes a string');
    const dot = signed.lastIndexOf('.');
    if (dot < 0) return { ...INVALID };
    const value = signed.slice(0, dot);
    const given = Buffer.from(signed.slice(dot + 1), 'utf8');
    for (let i = 0; i < this.keys.length; i++) {
      const expected = Buffer.from(mac(this.keys[i], value), 'utf8');
      // timingSafeEqual needs equal lengths; the expected length (43) is public, so checking it first leaks nothing.
      if (expected.length === given.length && timingSafeEqual(expected, given)) return { valid: true, renew: i > 0, value };
    }
    return { ...INVALID };
  }
}

/** Validates the `cookieSecret` option: a secret or a non-empty list of them; null when not set. */
export function resolveCookieSecret(v: unknown): CookieSigner | null {
  if (v === undefined) return null;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cookieSecret must not be an empty list');
  for (const s of list) {
    const n = typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : Buffer.isBuffer(s) ? s.length : -1;
    if (n < 0) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cookieSecret must be a string, a Buffer or a list of them');
    if (n < MIN_SECRET_BYTES) throw new SalvoError('SALVO_ERR_INVALID_ARG', `a cookieSecret must be at least ${MIN_SECRET_BYTES} bytes, got ${n}`);
  }
  return new CookieSigner(list as CookieSecret[]);
}

/** The coded error for signing without a secret. */
export function noSecret(what: string): SalvoError {
  return new SalvoError('SALVO_ERR_NO_COOKIE_SECRET', what);
}
