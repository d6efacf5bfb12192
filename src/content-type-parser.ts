/**
 * @module content-type-parser
 * `app.addContentTypeParser()` (fastify's semantics): the table that turns a
 * request body into `req.body` by its Content-Type.  One table per plugin
 * context; a child context starts as a copy of its parent's when the plugin
 * loads (as fastify clones it), so what a plugin adds or removes applies to
 * its routes and children only.
 *
 * A route keeps its context's table (frozen at start); a request pays one
 * Map lookup by its media type (then the RegExps in the order added, then
 * the catch-all '*'), never a walk of the plugin tree.
 *
 * Built in, as in fastify: 'application/json' (JSON.parse with the app's
 * prototype-poisoning policy; it also takes any `+json` suffix type) and
 * 'text/plain' (the UTF-8 string).  Unlike fastify, the default catch-all
 * '*' keeps the raw bytes (`req.body` a Buffer, what salvo gave before
 * parsers existed); remove it (`removeContentTypeParser('*')` or
 * `removeAllContentTypeParsers()`) for fastify's 415 on every other type.
 */
import { SalvoError } from './errors';
import { parseJson } from './json-body';
import { FALLBACK, parseShaped, type JsonShape } from './json-shape';
import { HDR_STRIDE } from './layout';
import type { Request } from './request';

export type ParseAs = 'buffer' | 'string';
/**
 * `(req, body)` returning the value or a promise of it, or `(req, body, done)`
 * (told apart by their parameter count at run time).  One signature, done
 * optional to declare: a union of the two gave inline parsers no contextual
 * types (their parameters were implicit any under strict).
 */
export type ContentTypeParserFn = (req: Request<any, any, any, any>, body: any, done: (err: Error | null, value?: unknown) => void) => unknown;

export interface ContentTypeParserOptions {
  /** What the parser is given: the body's bytes (default) or its UTF-8 text. */
  parseAs?: ParseAs;
  /** Largest body in bytes this parser accepts (413 SALVO_ERR_BODY_TOO_LARGE past it); default: the route's limit. */
  bodyLimit?: number;
}

export interface Parser {
  readonly fn: ContentTypeParserFn;
  readonly asString: boolean;
  /** -1: no limit of its own. */
  readonly bodyLimit: number;
  /** The built-in raw catch-all (a JSON Schema cannot validate bytes: schema.body routes answer 415 for it). */
  readonly raw: boolean;
  /** Takes a done callback (declared with 3 parameters): read once here, not per request (Function.length is an accessor). */
  readonly callback: boolean;
}

const RAW: Parser = { fn: (_req: Request, body: Buffer) => body, asString: false, bodyLimit: -1, raw: true, callback: false };
const TEXT: Parser = { fn: (_req: Request, body: string) => body, asString: true, bodyLimit: -1, raw: false, callback: false };
const JSON_PARSER: Parser = {
  fn: (req: Request, body: string) => (body.length === 0 ? undefined : parseJson(body, req._poison)),
  asString: true,
  bodyLimit: -1,
  raw: false,
  callback: false,
};

/** The media type of a Content-Type value: before ';', trimmed, lower case ('' when absent). */
export function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function checkType(t: unknown): string | RegExp {
  if (t instanceof RegExp) return t;
  if (typeof t !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', `a content type must be a string or a RegExp, got ${String(t)}`);
  const s = t.trim().toLowerCase();
  if (s !== '*' && !TOKEN.test(s)) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `content type must be a media type like 'application/xml' (no parameters) or '*', got '${t}'`);
  }
  return s;
}

function sameRegExp(a: RegExp, b: RegExp): boolean {
  return a.source === b.source && a.flags === b.flags;
}

export class ContentTypeParsers {
  private readonly exact = new Map<string, Parser>();
  private readonly patterns: [RegExp, Parser][] = [];
  private any: Parser | null = RAW;
  /** The last Content-Type that missed the exact table, and its parser (cleared by every change). */
  private lastHeader: string | undefined = undefined;
  private lastParser: Parser | null = null;
  /** The last request's Content-Type value and its parser, for `forRequest` (cleared by every change). */
  private reqType: TypeBytes | undefined = undefined;
  private reqParser: Parser | null = null;
  /** A DataView of the last standard slab seen, for contentTypeIs (made again when the slab changes). */
  private view: DataView | null = null;
  private viewOf: Uint8Array | null = null;

  static defaults(): ContentTypeParsers {
    const t = new ContentTypeParsers();
    t.exact.set('application/json', JSON_PARSER);
    t.exact.set('text/plain', TEXT);
    return t;
  }

  /** A copy for a child context (fastify's clone at plugin load). */
  clone(): ContentTypeParsers {
    const t = new ContentTypeParsers();
    for (const [k, v] of this.exact) t.exact.set(k, v);
    t.patterns.push(...this.patterns);
    t.any = this.any;
    return t;
  }

  add(types: unknown, a: unknown, b?: unknown): void {
    const [opts, fn] = b === undefined ? [{}, a] : [a, b];
    if (typeof fn !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'addContentTypeParser() takes a parser function');
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'content type parser options must be an object');
    const o = opts as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'parseAs' && k !== 'bodyLimit') throw new SalvoError('SALVO_ERR_INVALID_ARG', `unknown addContentTypeParser() option: ${k}`);
    }
    if (o.parseAs !== undefined && o.parseAs !== 'buffer' && o.parseAs !== 'string') {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `parseAs must be 'buffer' or 'string', got ${String(o.parseAs)}`);
    }
    const limit = o.bodyLimit;
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0)) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `parser bodyLimit must be a positive integer, got ${String(limit)}`);
    }
    const parser: Parser = {
      fn: fn as ContentTypeParserFn,
      asString: o.parseAs === 'string',
      bodyLimit: limit === undefined ? -1 : (limit as number),
      raw: false,
      callback: (fn as ContentTypeParserFn).length >= 3,
    };
    const list = Array.isArray(types) ? types : [types];
    if (list.length === 0) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'addContentTypeParser() needs at least one content type');
    const checked = list.map(checkType);
    // Adding over an existing parser is a mistake in fastify (FST_ERR_CTP_ALREADY_PRESENT); remove it first.
    for (const t of checked) {
      if (this.has(t) && !(t === '*' && this.any === RAW) && !(typeof t === 'string' && isBuiltIn(this.exact.get(t)))) {
        throw new SalvoError('SALVO_ERR_CONTENT_TYPE_PARSER_EXISTS', String(t));
      }
    }
    this.lastHeader = undefined;
    this.reqType = undefined;
    for (const t of checked) {
      if (t instanceof RegExp) this.patterns.push([t, parser]);
      else if (t === '*') this.any = parser;
      else this.exact.set(t, parser);
    }
  }

  has(type: unknown): boolean {
    const t = checkType(type);
    if (t instanceof RegExp) return this.patterns.some(([r]) => sameRegExp(r, t));
    if (t === '*') return this.any !== null;
    return this.exact.has(t);
  }

  remove(types: unknown): void {
    this.lastHeader = undefined;
    this.reqType = undefined;
    const list = Array.isArray(types) ? types : [types];
    for (const type of list) {
      const t = checkType(type);
      if (t instanceof RegExp) {
        const i = this.patterns.findIndex(([r]) => sameRegExp(r, t));
        if (i !== -1) this.patterns.splice(i, 1);
      } else if (t === '*') this.any = null;
      else this.exact.delete(t);
    }
  }

  removeAll(): void {
    this.lastHeader = undefined;
    this.reqType = undefined;
    this.exact.clear();
    this.patterns.length = 0;
    this.any = null;
  }

  /** The parser for a request's Content-Type, or null (415). */
  find(header: string | undefined): Parser | null {
    if (header === undefined) header = ''; // no Content-Type: the empty media type (a RegExp may match it)
    // The usual Content-Type is a bare lower-case media type: one Map lookup, nothing allocated.
    const hit = this.exact.get(header);
    if (hit !== undefined) return hit;
    // A connection's requests repeat their Content-Type: the last one's answer is kept (string compare, no normalizing).
    if (header === this.lastHeader) return this.lastParser;
    const p = this.match(header);
    this.lastHeader = header;
    this.lastParser = p;
    return p;
  }

  /**
   * The parser for a request's Content-Type.  Requests to a route repeat
   * their Content-Type: when this one's value is byte for byte the last
   * one's, its parser is reused without making the value's string (the
   * string and the lower-casing of the name cost more than the rest of the
   * body step but JSON.parse).
   */
  forRequest(req: Request): Parser | null {
    const last = this.reqType;
    if (last !== undefined && req._raw === null && !req._ended) {
      const slab = req._slab;
      let dv = this.view;
      if (this.viewOf !== slab) {
        dv = new DataView(slab.buffer, slab.byteOffset, slab.length);
        // A large slab (one request past 64 KiB) is not kept: it would outlive its request.
        if (slab.length <= STANDARD_SLAB) {
          this.view = dv;
          this.viewOf = slab;
        }
      }
      if (contentTypeIs(req, dv as DataView, last)) return this.reqParser;
    }
    return this.miss(req);
  }

  /**
   * forRequest's slow path, out of line: forRequest is inlined with the body
   * step into Dispatcher.row, where V8 budgets the bytecodes it inlines (with
   * this and the step's 415 out of line, salvo-post went from 9,392 to 9,150
   * instructions a request, callgrind).
   */
  private miss(req: Request): Parser | null {
    const type = req.header('content-type');
    const p = this.find(type);
    this.reqType = type === undefined ? undefined : typeBytes(type);
    this.reqParser = p;
    return p;
  }

  private match(header: string): Parser | null {
    const mt = mediaType(header);
    const p = this.exact.get(mt);
    if (p !== undefined) return p;
    if (mt.endsWith('+json')) {
      const j = this.exact.get('application/json');
      if (j !== undefined) return j;
    }
    for (let i = 0; i < this.patterns.length; i++) {
      const [r, q] = this.patterns[i];
      r.lastIndex = 0; // a /g or /y pattern must not remember the last request
      if (r.test(mt)) return q;
    }
    return this.any;
  }
}

/** The usable bytes of a standard slab (native/arena.h kSlabSize, plus its padding). */
const STANDARD_SLAB = 64 * 1024 + 16;

/** A Content-Type value as little-endian 32-bit words and the bytes past the last word. */
interface TypeBytes {
  readonly len: number;
  readonly words: Int32Array;
  readonly tail: Uint8Array;
}

function typeBytes(value: string): TypeBytes {
  // A header value is latin1 (one char per byte): its bytes again, for the next compare.
  const b = Buffer.from(value, 'latin1');
  const n = b.length >> 2;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const words = new Int32Array(n);
  for (let k = 0; k < n; k++) words[k] = dv.getInt32(4 * k, true);
  return { len: b.length, words, tail: new Uint8Array(b.subarray(4 * n)) };
}

/** 'content-type' as three little-endian words, letters in lower case. */
const NAME = typeBytes('content-type').words;
const N0 = NAME[0];
const N1 = NAME[1];
const N2 = NAME[2];
/** `| FOLD` on a word folds A-Z onto a-z in each byte and maps no other token character (RFC 9110 5.6.2) onto a letter or '-'. */
const FOLD = 0x20202020;

/**
 * Whether the request's first Content-Type field has exactly the bytes
 * `value`, compared in the slab through `dv` (a DataView of it): four bytes
 * a read (a byte loop over name and value cost 1,190 instructions a request
 * for application/octet-stream, callgrind, salvo-post).  False when there
 * is none.  The name
 * is compared without case, the value exactly (a different spelling takes
 * the slow path, which normalizes).  The caller checks the request still
 * views its slab.
 */
function contentTypeIs(req: Request, dv: DataView, value: TypeBytes): boolean {
  const t = req._hdrs;
  const n = req._hdrCount;
  for (let i = 0, e = req._hdrStart * HDR_STRIDE; i < n; i++, e += HDR_STRIDE) {
    if (t[e + 1] !== 12) continue;
    const off = t[e];
    if ((dv.getInt32(off, true) | FOLD) !== N0 || (dv.getInt32(off + 4, true) | FOLD) !== N1 || (dv.getInt32(off + 8, true) | FOLD) !== N2) continue;
    // The first field of that name decides, as req.header() does.
    const len = value.len;
    if (t[e + 3] !== len) return false;
    const voff = t[e + 2];
    const words = value.words;
    const nw = words.length;
    for (let k = 0; k < nw; k++) if (dv.getInt32(voff + 4 * k, true) !== words[k]) return false;
    const tail = value.tail;
    for (let k = 0, o = voff + 4 * nw; k < tail.length; k++) if (dv.getUint8(o + k) !== tail[k]) return false;
    return true;
  }
  return false;
}

/** The built-in json and text parsers may be replaced without removing them first (fastify lets you override them). */
function isBuiltIn(p: Parser | undefined): boolean {
  return p === JSON_PARSER || p === TEXT;
}

/**
 * Runs a parser on a request's body: the value, or a promise of it.  A
 * failure becomes a 400 SALVO_ERR_BODY_PARSE carrying the parser's message
 * (unless it is one of salvo's errors or chose its own 4xx/5xx status).
 */
export function runParser(p: Parser, req: Request): unknown {
  // A string parser's text is decoded straight from the request's bytes (no Buffer copy first).
  const input = p.asString ? req._text() : req._rawBody();
  try {
    if (p.callback) {
      return new Promise((resolve, reject) => {
        (p.fn as (r: Request, b: unknown, d: (e: Error | null, v?: unknown) => void) => void)(req, input, (err, v) =>
          err ? reject(parseError(err)) : resolve(v),
        );
      });
    }
    const v = (p.fn as (r: Request, b: unknown) => unknown)(req, input);
    if (v instanceof Promise) return v.catch((err: unknown) => Promise.reject(parseError(err)));
    return v;
  } catch (err) {
    throw parseError(err);
  }
}

/** Whether `p` is the built-in JSON parser (the only one src/json-shape.ts stands in for). */
export function isJsonParser(p: Parser): boolean {
  return p === JSON_PARSER;
}

/** The built-in JSON parser on a route with a body shape: the fast path, else JSON.parse as always. */
export function runJson(p: Parser, req: Request, shape: JsonShape): unknown {
  // The fast path reads the body in the slab (a detached or ended request takes JSON.parse).
  if (req._raw === null && !req._ended) {
    const v = parseShaped(req._slab, req._bodyOff, req._bodyOff + req._bodyLen, shape);
    if (v !== FALLBACK) return v;
  }
  return runParser(p, req);
}

function parseError(err: unknown): unknown {
  if (err instanceof SalvoError) return err;
  const sc = err !== null && typeof err === 'object' ? (err as { statusCode?: unknown }).statusCode : undefined;
  if (typeof sc === 'number' && Number.isInteger(sc) && sc >= 400 && sc <= 599) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SalvoError('SALVO_ERR_BODY_PARSE', msg, { cause: err });
}
