/**
 * @module body-prelude
 * The one step a route runs before its preHandler hooks to make `req.body`
 * (fastify's parse + validation steps): the route's `bodyLimit`, the
 * content-type parser for the request's Content-Type (src/content-type-parser.ts),
 * then the request schemas (src/validation.ts).  Built once per route at
 * start; a route that can carry no body, has no bodyLimit and no schema gets
 * none (its requests keep the hook-free fast path).
 */
import { isJsonParser, runJson, runParser, type ContentTypeParsers } from './content-type-parser';
import type { JsonShape } from './json-shape';
import { SalvoError } from './errors';
import { isThenable, type Hook } from './lifecycle';
import type { Request } from './request';
import { mediaType } from './content-type-parser';
import { validate, type Validators } from './validation';

export interface BodyPreludeDef {
  /** The route's method ('*': any). */
  method: string;
  parsers: ContentTypeParsers;
  validators: Validators | null;
  /** schema.body's keys: a JSON body of that shape skips JSON.parse (src/json-shape.ts); null: none. */
  shape: JsonShape | null;
  /** The route's bodyLimit in bytes, or -1 (the app's maxBodySize, enforced by the addon, is the only bound). */
  bodyLimit: number;
}

/** GET and HEAD bodies have no defined meaning (RFC 9110 9.3.1): fastify does not parse them, nor does salvo. */
function parses(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

export function makeBodyPrelude(d: BodyPreludeDef): Hook | null {
  const { method, parsers, validators, shape, bodyLimit } = d;
  const anyMethod = method === '*';
  const parse = anyMethod || parses(method);
  if (!parse && validators === null && bodyLimit === -1) return null;
  const schemaBody = validators !== null && validators.body !== undefined;
  return (req: Request) => {
    const n = req._bodyLen;
    if (bodyLimit !== -1 && n > bodyLimit) throw tooLarge(`this route's bodyLimit (${bodyLimit} bytes)`);
    let body: unknown = undefined;
    if (n > 0 && parse && (!anyMethod || parses(req.method))) {
      const p = parsers.forRequest(req);
      // The raw catch-all gives bytes, which a JSON Schema cannot describe: 415 as before parsers existed.
      if (p === null || (p.raw && schemaBody)) throw unsupported(req);
      if (p.bodyLimit !== -1 && n > p.bodyLimit) throw tooLarge(`its parser's bodyLimit (${p.bodyLimit} bytes)`);
      if (!p.raw) {
        const v = shape !== null && isJsonParser(p) ? runJson(p, req, shape) : runParser(p, req);
        if (isThenable(v)) return Promise.resolve(v).then((x) => finish(req, validators, x));
        body = v;
      }
    }
    finish(req, validators, body);
    return undefined;
  };
}

/** Out of line, as the other refusals: the step is inlined into Dispatcher.row, where bytecodes are budgeted. */
function unsupported(req: Request): SalvoError {
  return new SalvoError('SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', mediaType(req.header('content-type')) || '(none)');
}

/** The registry's 413 names maxBodySize (the canned protocol answer); this one names the limit that applied. */
function tooLarge(limit: string): SalvoError {
  const err = new SalvoError('SALVO_ERR_BODY_TOO_LARGE');
  err.message = `The request body is larger than ${limit}`;
  return err;
}

function finish(req: Request, validators: Validators | null, body: unknown): void {
  if (body !== undefined) req._parsedBody = body;
  if (validators !== null) validate(req, validators, body);
}
