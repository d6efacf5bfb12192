/**
 * @module validation
 * Route `schema.body / querystring / params / headers`: JSON Schemas compiled
 * once at registration with ajv, with fastify's ajv options (coerceTypes
 * 'array', useDefaults, removeAdditional, allErrors false; formats from
 * ajv-formats).  A route with a request schema gets one prelude hook, run
 * first among its preHandler hooks (fastify's validation step sits between
 * onRequest and preHandler): it parses a JSON body, checks each part, and
 * throws SALVO_ERR_VALIDATION (400) naming the part and the failing path.
 * Routes without one pay nothing.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { SalvoError } from './errors';
import { parseJson } from './json-body';
import type { Hook } from './lifecycle';
import type { Request } from './request';

export type ValidationPart = 'body' | 'querystring' | 'params' | 'headers';
export const VALIDATION_PARTS: readonly ValidationPart[] = ['body', 'querystring', 'params', 'headers'];

/** A compiled validator: true when valid; else false with `errors` set (ajv's contract). */
export type Validator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
export type ValidatorCompiler = (def: { schema: object; method: string; url: string; httpPart: ValidationPart }) => Validator;

/** fastify's default ajv options (its lib/schemas + @fastify/ajv-compiler). */
export const AJV_OPTIONS = {
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: true,
  addUsedSchema: false,
  allErrors: false,
} as const;

let shared: Ajv | undefined;

/** The default compiler: one ajv instance per process, created on first use (no cost for apps without schemas). */
export const defaultValidatorCompiler: ValidatorCompiler = ({ schema }) => {
  if (shared === undefined) {
    shared = new Ajv(AJV_OPTIONS);
    addFormats(shared);
  }
  return shared.compile(schema) as Validator;
};

export interface ValidationItem {
  instancePath: string;
  message: string;
}

function fail(part: ValidationPart, v: Validator): never {
  const errs = (v.errors ?? []).map((e) => ({ instancePath: e.instancePath, message: e.message ?? 'is invalid' }));
  const first = errs[0] ?? { instancePath: '', message: 'is invalid' };
  const err = new SalvoError('SALVO_ERR_VALIDATION', `${part}${first.instancePath} ${first.message}`) as SalvoError & {
    validation: ValidationItem[];
    validationContext: ValidationPart;
  };
  err.validation = errs;
  err.validationContext = part;
  throw err;
}

/**
 * Compiles the request schemas of one route into its prelude hook, or null
 * when it declares none.  Called at registration: a bad schema throws there.
 */
export function compileValidation(method: string, url: string, schema: Record<string, unknown> | undefined, compiler: ValidatorCompiler): Hook | null {
  if (schema === undefined) return null;
  const v: Partial<Record<ValidationPart, Validator>> = {};
  let any = false;
  for (const part of VALIDATION_PARTS) {
    const s = schema[part];
    if (s === undefined) continue;
    if (s === null || typeof s !== 'object') throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.${part} for ${method} ${url} must be an object`);
    try {
      v[part] = compiler({ schema: s as object, method, url, httpPart: part });
    } catch (err) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.${part} for ${method} ${url}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof v[part] !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `the validator compiler returned no function for schema.${part} of ${method} ${url}`);
    any = true;
  }
  if (!any) return null;
  const { body, querystring, params, headers } = v;
  return (req: Request) => {
    if (params !== undefined) {
      const p = { ...req.params };
      if (!params(p)) fail('params', params);
      req.params = p;
    }
    if (querystring !== undefined) {
      const q = req.query;
      if (!querystring(q)) fail('querystring', querystring);
    }
    if (headers !== undefined) {
      const h = req.headers;
      if (!headers(h)) fail('headers', headers);
    }
    if (body !== undefined) {
      // A JSON body (or none: undefined is validated, so `required` rejects it).
      const type = req.header('content-type');
      let value: unknown;
      const raw = req._rawBody();
      if (raw.length > 0) {
        const mt = type === undefined ? '' : type.split(';')[0].trim().toLowerCase();
        if (mt !== 'application/json' && !mt.endsWith('+json')) throw new SalvoError('SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', mt || '(none)');
        value = parseJson(raw.toString('utf8'), req._poison);
      }
      if (!body(value)) fail('body', body);
      req._parsedBody = value;
    }
  };
}
