/**
 * @module inject
 * `app.inject()`: one request as bytes for a virtual connection (the same
 * parser and dispatch as a socket), and the one response it produced, read
 * back.  The request is built from validated parts only: a CR or LF in the
 * url, a method or a header would put a second request on the wire.
 */
import { SalvoError } from './errors';
import { isToken } from './headers';

export interface InjectOptions {
  method?: string;
  url?: string;
  headers?: Record<string, string | number | string[]>;
  /** A string or bytes as they are; anything else is sent as JSON. */
  body?: string | Uint8Array | object;
}

export interface InjectResponse {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[]>;
  body: string;
  rawBody: Buffer;
  json<T = unknown>(): T;
}

const INJECT_KEYS = ['method', 'url', 'headers', 'body'];
// request-target bytes: visible ASCII (RFC 9112 3.2); no space, CTL or non-ASCII.
const TARGET = /^[\x21-\x7e]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function bad(message: string): never {
  throw new SalvoError('SALVO_ERR_INVALID_ARG', `inject: ${message}`);
}

/** The request's bytes: `Connection: close` (one request per virtual connection). */
export function injectRequest(options: InjectOptions): Buffer {
  if (options === null || typeof options !== 'object') bad('takes an object');
  for (const k of Object.keys(options)) if (!INJECT_KEYS.includes(k)) bad(`unknown option: ${k}`);
  const method = options.method ?? 'GET';
  const url = options.url ?? '/';
  if (!isToken(method)) bad(`method must be an HTTP token, got ${JSON.stringify(String(method))}`);
  if (typeof url !== 'string' || !TARGET.test(url)) bad(`url must be a request-target of visible ASCII, got ${JSON.stringify(String(url))}`);
  const given = options.headers ?? {};
  if (given === null || typeof given !== 'object') bad('headers must be an object');
  const headers: [string, string][] = [];
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  for (const [k, v] of Object.entries(given)) {
    if (!isToken(k)) bad(`header name ${JSON.stringify(k)} is not a token`);
    if (k.toLowerCase() === 'connection') continue; // always close: one request per virtual connection
    for (const one of Array.isArray(v) ? v : [v]) {
      const value = typeof one === 'number' && Number.isFinite(one) ? String(one) : one;
      if (typeof value !== 'string' || !FIELD_VALUE.test(value)) bad(`value of header ${k} is not a valid field value`);
      headers.push([k, value]);
    }
  }
  let body: Buffer | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string') body = Buffer.from(options.body);
    else if (options.body instanceof Uint8Array) body = Buffer.from(options.body);
    else {
      body = Buffer.from(JSON.stringify(options.body));
      if (!has('content-type')) headers.push(['content-type', 'application/json']);
    }
  }
  if (!has('host')) headers.push(['host', 'localhost']);
  if (body !== undefined && !has('content-length') && !has('transfer-encoding')) headers.push(['content-length', String(body.length)]);
  headers.push(['connection', 'close']);
  let head = `${method} ${url} HTTP/1.1\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  const h = Buffer.from(head + '\r\n', 'latin1');
  return body ? Buffer.concat([h, body]) : h;
}

/** Reads the one response a virtual connection produced. */
export function parseInjected(raw: Buffer): InjectResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'inject: no response was produced');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(lines[0]);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    const k = line.slice(0, i).toLowerCase();
    const v = line.slice(i + 1).trim();
    const prev = headers[k];
    if (prev === undefined) headers[k] = k === 'set-cookie' ? [v] : v;
    else if (Array.isArray(prev)) prev.push(v);
    else headers[k] = prev + ', ' + v;
  }
  let rest = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, nl).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      rest = rest.subarray(nl + 2 + size + 2);
    }
    rest = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    rest = rest.subarray(0, Number(headers['content-length']));
  }
  const rawBody = Buffer.from(rest);
  const text = rawBody.toString('utf8');
  return {
    statusCode: m ? Number(m[1]) : 0,
    statusMessage: m ? m[2] : '',
    headers,
    body: text,
    rawBody,
    json: <T>() => JSON.parse(text) as T,
  };
}
