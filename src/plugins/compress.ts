/**
 * @module plugins/compress
 * Response compression (RFC 9110 8.4, 12.5.3): one app-wide onSend hook that
 * picks br, gzip or deflate from Accept-Encoding (q-values, `*`, identity;
 * q=0 excludes), compresses bodies of at least `threshold` bytes with
 * node:zlib (asynchronously, off the event loop's thread), and streamed
 * answers through a zlib stream (never buffered whole).  Skipped: HEAD,
 * 1xx/204/206/304 (a 206's Content-Range counts bytes of the identity
 * body: compressing it would make the range lie), answers that already have Content-Encoding, and types that are
 * compressed already (images, audio, video, archives).  Marked skip-override.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { SalvoError } from '../errors';
import { checkKeys, objectArg } from '../options';
import { isReadable, type Reply } from '../reply';
import type { Request } from '../request';
import { SEND_GATE } from '../lifecycle';
import { SKIP_OVERRIDE, type PluginTarget } from './plugin';
import { varyWith } from './cors';

export type Encoding = 'br' | 'gzip' | 'deflate';

export interface CompressOptions {
  /** Encodings offered, in the server's order of preference. Default ['br', 'gzip', 'deflate']. */
  encodings?: readonly Encoding[];
  /** Smallest body compressed, in bytes. Default 1024 (as @fastify/compress). Streams are always compressed. */
  threshold?: number;
  /** Compress answers of this Content-Type? Default: all but already-compressed types. */
  filter?: (type: string) => boolean;
  /** zlib level for gzip/deflate (0-9). Default 6. */
  level?: number;
  /** Brotli quality (0-11). Default 4 (zlib's default of 11 is far too slow for live answers). */
  brotliQuality?: number;
}

const KEYS = ['encodings', 'threshold', 'filter', 'level', 'brotliQuality'];
const ALL: readonly Encoding[] = ['br', 'gzip', 'deflate'];

/** Types that gain nothing from compression (already compressed). */
const COMPRESSED = /^(image\/(?!svg)|audio\/|video\/|font\/woff|application\/(zip|gzip|x-gzip|x-bzip2|x-7z-compressed|x-rar-compressed|zstd|x-xz|pdf|octet-stream))/i;

/** The preferred encoding the client accepts, or null (send identity). */
export function negotiate(header: string | undefined, offered: readonly Encoding[]): Encoding | null {
  if (header === undefined || header === '') return null;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (token === '') continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m !== null) weight = Math.min(1, Number(m[1]) || 0);
    }
    if (token === 'x-gzip') q.set('gzip', Math.max(q.get('gzip') ?? 0, weight));
    else q.set(token, weight);
  }
  const star = q.get('*');
  let best: Encoding | null = null;
  let bestQ = 0;
  for (const e of offered) {
    const w = q.has(e) ? (q.get(e) as number) : star ?? 0;
    if (w > bestQ) {
      best = e;
      bestQ = w;
    }
  }
  return best;
}

/** `app.register(compress, opts)`, or `compress(app, opts)` directly. */
export function compress(app: PluginTarget, options?: CompressOptions): void {
  const o = objectArg('compress options', options) as CompressOptions;
  checkKeys('compress', o, KEYS);
  const encodings = o.encodings ?? ALL;
  if (!Array.isArray(encodings) || encodings.length === 0 || encodings.some((e) => !ALL.includes(e))) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', 'compress encodings must be a non-empty list of br, gzip, deflate');
  }
  const threshold = o.threshold ?? 1024;
  if (!Number.isInteger(threshold) || threshold < 0) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'compress threshold must be an integer >= 0');
  if (o.filter !== undefined && typeof o.filter !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'compress filter must be a function');
  const filter = o.filter ?? ((type: string) => !COMPRESSED.test(type));
  const level = o.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'compress level must be 0-9');
  const quality = o.brotliQuality ?? 4;
  if (!Number.isInteger(quality) || quality < 0 || quality > 11) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'compress brotliQuality must be 0-11');
  const zopts = { level };
  const bopts = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality } };
  const once = {
    br: promisify(zlib.brotliCompress), gzip: promisify(zlib.gzip), deflate: promisify(zlib.deflate),
  };
  const streamOf = (e: Encoding) =>
    e === 'br' ? zlib.createBrotliCompress(bopts) : e === 'gzip' ? zlib.createGzip(zopts) : zlib.createDeflate(zopts);

  const hook = (req: Request, res: Reply, payload: unknown): unknown => {
    const stream = payload !== null && typeof payload === 'object' && !(payload instanceof Uint8Array) && isReadable(payload);
    // Small bodies first: the common case leaves at once, without a header lookup.
    if (!stream && (payload as string | Uint8Array).length < threshold) return undefined;
    const status = res.statusCode;
    if (req.method === 'HEAD' || status < 200 || status === 204 || status === 206 || status === 304) return undefined;
    if (res.hasHeader('content-encoding')) return undefined;
    const type = res.getHeader('content-type');
    if (typeof type === 'string' && !filter(type)) return undefined;
    res.header('Vary', varyWith(res.getHeader('vary'), 'Accept-Encoding'));
    const enc = negotiate(req.header('accept-encoding'), encodings);
    if (enc === null) return undefined;
    res.header('Content-Encoding', enc);
    if (stream) {
      const z = streamOf(enc);
      const src = payload as NodeJS.ReadableStream;
      // A failing source fails the compressed stream: the answer is cut, as any failing stream.
      (src as unknown as { on(e: string, f: (err: Error) => void): void }).on('error', (err) => z.destroy(err));
      return src.pipe(z);
    }
    const input = typeof payload === 'string' ? Buffer.from(payload) : (payload as Uint8Array);
    return enc === 'br' ? once.br(input, bopts) : once[enc](input, zopts);
  };
  // Its first test: a body below the threshold leaves unchanged, whatever else holds (SEND_GATE).
  if (threshold > 0) (hook as unknown as Record<symbol, number>)[SEND_GATE] = threshold;
  app.addHook('onSend', hook as never);
}
(compress as unknown as Record<symbol, boolean>)[SKIP_OVERRIDE] = true;
