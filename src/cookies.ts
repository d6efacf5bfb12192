/**
 * @module cookies
 * Cookie header parsing and Set-Cookie serialization (RFC 6265 4.1, 5.2).
 */
import { SalvoError } from './errors';
import { TOKEN } from './headers';
import { NullObject, percentDecode } from './query';

export interface CookieOptions {
  /** Seconds; 0 or negative expires it now. */
  maxAge?: number;
  expires?: Date;
  path?: string;
  domain?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Append `.` + HMAC-SHA256 of the value (src/cookie-signing.ts); needs the app's cookieSecret. res.cookie() only. */
  signed?: boolean;
}

// cookie-av values: any CHAR except CTLs and ';' (RFC 6265 4.1.1): CHAR is US-ASCII.
const AV = /^[\x20-\x3a\x3c-\x7e]*$/;

function unquote(v: string): string {
  return v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"' ? v.slice(1, -1) : v;
}

/** Cookie: a=1; b=2 -> { a: '1', b: '2' }; the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = new NullObject();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    out[name] = percentDecode(unquote(part.slice(eq + 1).trim()));
  }
  return out;
}

export function serializeCookie(name: string, value: string, o: CookieOptions = {}): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `invalid cookie name: ${String(name)}`);
  if (typeof value !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cookie value must be a string');
  let s = `${name}=${encodeURIComponent(value)}`;
  if (o.maxAge !== undefined) {
    if (!Number.isFinite(o.maxAge)) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'maxAge must be a finite number');
    s += `; Max-Age=${Math.floor(o.maxAge)}`;
  }
  if (o.expires !== undefined) {
    if (!(o.expires instanceof Date) || Number.isNaN(o.expires.getTime())) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'expires must be a valid Date');
    s += `; Expires=${o.expires.toUTCString()}`;
  }
  for (const [key, attr] of [['domain', 'Domain'], ['path', 'Path']] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !AV.test(v)) throw new SalvoError('SALVO_ERR_INVALID_HEADER', `cookie ${key} must be printable ASCII without ';': ${JSON.stringify(String(v))}`);
    s += `; ${attr}=${v}`;
  }
  if (o.secure) s += '; Secure';
  if (o.httpOnly) s += '; HttpOnly';
  if (o.sameSite !== undefined) {
    if (o.sameSite !== 'Strict' && o.sameSite !== 'Lax' && o.sameSite !== 'None') {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `sameSite must be Strict, Lax or None, got ${String(o.sameSite)}`);
    }
    s += `; SameSite=${o.sameSite}`;
  }
  return s;
}
