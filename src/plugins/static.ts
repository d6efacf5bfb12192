/**
 * @module plugins/static
 * `serveStatic`: the files of one folder under a route prefix (GET and HEAD
 * on `prefix/*`).  What it owns: turning a request into a file that is
 * certainly under the root (src/plugins/static-path.ts decodes the path;
 * here fs.realpath resolves symlinks, and a file whose real path leaves the
 * root is not found), the directory rules (index files, the trailing
 * slash), the answer's headers, and sending the bytes: files up to 64 KiB
 * read whole into one body, larger ones streamed from the file with the
 * connection's backpressure (memory per answer: the connection's
 * highWaterMark of unsent bytes plus one 64 KiB read).  Conditional
 * requests are in static-conditional.ts, ranges in static-range.ts, types
 * in static-mime.ts.  No cache: every request stats the file, so an edit is
 * seen at once.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import nodePath from 'node:path';
import { Readable } from 'node:stream';
import { SalvoError } from '../errors';
import { checkKeys, objectArg } from '../options';
import { checkPrefix } from '../plugin-context';
import type { Reply } from '../reply';
import type { Request } from '../request';
import type { PluginTarget } from './plugin';
import { evaluate, weakETag } from './static-conditional';
import { contentType } from './static-mime';
import { resolvePath } from './static-path';
import { ifRangeHolds, parseRange } from './static-range';

export type Dotfiles = 'ignore' | 'deny' | 'allow';

export interface StaticOptions {
  /** The folder served (required); resolved (symlinks too) once, at registration. */
  root: string;
  /** The URL path it is served under. Default '/'. */
  prefix?: string;
  /** Files tried, in order, for a directory path ending in '/'. Default ['index.html']; false: none. */
  index?: string | readonly string[] | false;
  /** Cache-Control max-age in milliseconds (as @fastify/static), sent in whole seconds. Default 0. */
  maxAge?: number;
  /** Add `immutable` to Cache-Control. Default false. */
  immutable?: boolean;
  /** Send Cache-Control at all. Default true. */
  cacheControl?: boolean;
  /** Send a weak ETag (size and mtime) and answer If-None-Match. Default true. */
  etag?: boolean;
  /** Send Last-Modified and answer If-Modified-Since. Default true. */
  lastModified?: boolean;
  /** Answer Range requests (and send Accept-Ranges: bytes). Default true. */
  acceptRanges?: boolean;
  /** Names starting with '.': 'ignore' (404, default), 'deny' (403) or 'allow'. */
  dotfiles?: Dotfiles;
  /** A directory without its trailing slash: true 301-redirects to it with the slash; false (default, as @fastify/static) is a 404. */
  redirect?: boolean;
  /** Called before every file answer (200, 206, 304) to add headers. */
  setHeaders?: (res: Reply, path: string, stat: fs.Stats) => void;
}

const KEYS = ['root', 'prefix', 'index', 'maxAge', 'immutable', 'cacheControl', 'etag', 'lastModified', 'acceptRanges', 'dotfiles', 'redirect', 'setHeaders'];

/** Files up to this size are read whole and sent as one body; larger ones are streamed. */
export const WHOLE_FILE_MAX = 64 * 1024;
/** Bytes per read of a streamed file (node's default for fs streams). */
const READ_CHUNK = 64 * 1024;

interface Config {
  rootBase: string; // the real root with a trailing separator
  rootReal: string;
  skip: number;
  index: readonly string[];
  cacheControl: string | null;
  etag: boolean;
  lastModified: boolean;
  ranges: boolean;
  dotfiles: Dotfiles;
  redirect: boolean;
  setHeaders: NonNullable<StaticOptions['setHeaders']> | null;
}

function bool(name: string, v: unknown, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new SalvoError('SALVO_ERR_INVALID_ARG', `serveStatic ${name} must be a boolean`);
  return v;
}

function configure(app: PluginTarget, o: Record<string, unknown>): { config: Config; route: string } {
  checkKeys('serveStatic', o, KEYS);
  if (typeof o.root !== 'string' || o.root === '') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'serveStatic root must be a folder path');
  let rootReal: string;
  try {
    rootReal = fs.realpathSync(nodePath.resolve(o.root));
  } catch (err) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `serveStatic root ${o.root} cannot be resolved`, { cause: err });
  }
  if (!fs.statSync(rootReal).isDirectory()) throw new SalvoError('SALVO_ERR_INVALID_ARG', `serveStatic root ${o.root} is not a folder`);
  const prefix = checkPrefix(o.prefix ?? '/');
  const full = (app._ctx?.prefix ?? '') + prefix;
  const skip = full === '' ? 0 : full.split('/').length - 1;
  let index: readonly string[];
  if (o.index === undefined) index = ['index.html'];
  else if (o.index === false) index = [];
  else {
    const list = typeof o.index === 'string' ? [o.index] : o.index;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || n === '' || n.includes('/') || n.includes('\\') || n === '.' || n === '..')) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', 'serveStatic index must be a file name, a list of them, or false');
    }
    index = list.slice();
  }
  const maxAge = o.maxAge ?? 0;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', 'serveStatic maxAge must be an integer >= 0 (milliseconds)');
  }
  const immutable = bool('immutable', o.immutable, false);
  const dotfiles = o.dotfiles ?? 'ignore';
  if (dotfiles !== 'ignore' && dotfiles !== 'deny' && dotfiles !== 'allow') {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', "serveStatic dotfiles must be 'ignore', 'deny' or 'allow'");
  }
  if (o.setHeaders !== undefined && typeof o.setHeaders !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'serveStatic setHeaders must be a function');
  const cc = 'public, max-age=' + Math.floor(maxAge / 1000) + (immutable ? ', immutable' : '');
  return {
    route: prefix + '/*',
    config: {
      rootReal,
      rootBase: rootReal.endsWith(nodePath.sep) ? rootReal : rootReal + nodePath.sep,
      skip,
      index,
      cacheControl: bool('cacheControl', o.cacheControl, true) ? cc : null,
      etag: bool('etag', o.etag, true),
      lastModified: bool('lastModified', o.lastModified, true),
      ranges: bool('acceptRanges', o.acceptRanges, true),
      dotfiles,
      redirect: bool('redirect', o.redirect, false),
      setHeaders: (o.setHeaders as NonNullable<StaticOptions['setHeaders']> | undefined) ?? null,
    },
  };
}

/** `app.register(serveStatic, { root, prefix })`, or `serveStatic(app, opts)` directly. */
export function serveStatic(app: PluginTarget, options: StaticOptions): void {
  const { config, route } = configure(app, objectArg('serveStatic options', options));
  const handler = (req: Request, res: Reply): Promise<void> => serve(config, req, res);
  app.get(route, handler);
  app.head(route, handler);
}

const notFound = (req: Request): SalvoError => new SalvoError('SALVO_ERR_NOT_FOUND', `${req.method} ${req.path}`);

/** The query part of the target ('?...' or ''), kept on a redirect. */
function queryOf(req: Request): string {
  const url = req.url;
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q);
}

type Located = { file: string; stat: fs.Stats } | 'redirect' | null;

/** The real path of `p` if it exists and is under the root (a symlink out of it is refused). */
async function underRoot(c: Config, p: string): Promise<string | null> {
  let real: string;
  try {
    real = await fsp.realpath(p);
  } catch {
    return null; // ENOENT, ENOTDIR, ELOOP, EACCES: not a file we can serve
  }
  if (real !== c.rootReal && !real.startsWith(c.rootBase)) return null;
  if (c.dotfiles !== 'allow' && real.length > c.rootBase.length) {
    // A symlink with a plain name may point at a dotfile: judge the real name too.
    const rel = real.slice(c.rootBase.length).split(nodePath.sep);
    if (rel.some((s) => s[0] === '.')) return c.dotfiles === 'deny' ? 'deny' : null;
  }
  return real;
}

async function statOf(p: string): Promise<fs.Stats | null> {
  try {
    return await fsp.stat(p);
  } catch {
    return null;
  }
}

async function locate(c: Config, segments: string[], dir: boolean): Promise<Located> {
  const real = await underRoot(c, nodePath.join(c.rootReal, ...segments));
  if (real === 'deny') throw new SalvoError('SALVO_ERR_FORBIDDEN', 'dotfile');
  if (real === null) return null;
  const st = await statOf(real);
  if (st === null) return null;
  if (st.isFile()) return dir ? null : { file: real, stat: st }; // "a.txt/" names no file
  if (!st.isDirectory()) return null; // FIFOs, sockets, devices: never opened
  if (!dir) return c.redirect ? 'redirect' : null;
  for (const name of c.index) {
    const ip = await underRoot(c, nodePath.join(real, name));
    if (ip === null || ip === 'deny') continue;
    const ist = await statOf(ip);
    if (ist !== null && ist.isFile()) return { file: ip, stat: ist };
  }
  return null;
}

async function serve(c: Config, req: Request, res: Reply): Promise<void> {
  const p = resolvePath(req.rawPath(), c.skip);
  if (p.kind === 'bad') throw new SalvoError('SALVO_ERR_BAD_PATH', p.why);
  if (p.kind === 'none') throw notFound(req);
  if (p.kind === 'prefix') {
    // The bare prefix always redirects (as @fastify/static): relative links inside need the slash.
    res.redirect(req.rawPath() + '/' + queryOf(req), 301);
    return;
  }
  if (p.dot && c.dotfiles !== 'allow') {
    if (c.dotfiles === 'deny') throw new SalvoError('SALVO_ERR_FORBIDDEN', 'dotfile');
    throw notFound(req);
  }
  const found = await locate(c, p.segments, p.dir);
  if (found === null) throw notFound(req);
  if (found === 'redirect') {
    res.redirect(req.rawPath() + '/' + queryOf(req), 301);
    return;
  }
  await sendFile(c, req, res, found.file, found.stat);
}

async function sendFile(c: Config, req: Request, res: Reply, file: string, st: fs.Stats): Promise<void> {
  const size = st.size;
  const mtime = Math.floor(st.mtimeMs / 1000);
  const etag = c.etag ? weakETag(size, st.mtimeMs) : null;
  if (c.ranges) res.header('Accept-Ranges', 'bytes');
  if (c.cacheControl !== null) res.header('Cache-Control', c.cacheControl);
  if (etag !== null) res.header('ETag', etag);
  if (c.lastModified) res.header('Last-Modified', st.mtime.toUTCString());
  if (c.setHeaders !== null) c.setHeaders(res, file, st);
  const header = (n: string) => req.header(n);
  const cond = evaluate(header, { etag, mtime: c.lastModified ? mtime : null });
  if (cond === 412) throw new SalvoError('SALVO_ERR_PRECONDITION_FAILED', req.header('if-match') !== undefined ? 'If-Match' : 'If-Unmodified-Since');
  if (cond === 304) {
    res.status(304).send(null);
    return;
  }
  let start = 0;
  let end = size - 1;
  const range = req.header('range');
  // Range is for GET only (RFC 9110 14.2); an empty file has no byte to point at.
  if (c.ranges && range !== undefined && req.method === 'GET' && size > 0) {
    const ifRange = req.header('if-range');
    const r = ifRange === undefined || ifRangeHolds(ifRange, etag, c.lastModified ? mtime : null) ? parseRange(range, size) : null;
    if (r === 'unsatisfiable') {
      res.header('Content-Range', `bytes */${size}`);
      throw new SalvoError('SALVO_ERR_RANGE_NOT_SATISFIABLE', range);
    }
    if (r !== null) {
      start = r.start;
      end = r.end;
      res.status(206).header('Content-Range', `bytes ${start}-${end}/${size}`);
    }
  }
  if (res._type === null) res.type(contentType(nodePath.basename(file)));
  const length = end - start + 1;
  if (req.method === 'HEAD') {
    // Headers only, with the Content-Length a GET would have: the file is not opened.
    res._length = length;
    res.send(Readable.from([]));
    return;
  }
  const fh = await fsp.open(file, 'r');
  if (length <= WHOLE_FILE_MAX) {
    try {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, start + got);
        if (bytesRead === 0) break; // the file shrank since the stat: send what is there
        got += bytesRead;
      }
      res.send(got === length ? buf : buf.subarray(0, got));
    } finally {
      await fh.close();
    }
    return;
  }
  // Streamed: reading pauses while the connection has more than highWaterMark unsent bytes
  // (res.stream awaits drained()), so memory stays bounded whatever the file's size.
  const stream = fh.createReadStream({ start, end, highWaterMark: READ_CHUNK, autoClose: true });
  // The client went away (or requestTimeout): stop reading.  An error, not a plain destroy,
  // so that a compress stream piped from this one fails too instead of waiting forever.
  req.signal.addEventListener('abort', () => stream.destroy(new Error('the request was aborted')), { once: true });
  res._length = length;
  res.send(stream);
}
