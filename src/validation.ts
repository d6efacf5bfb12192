/**
 * @module validation
 * Route `schema.body / querystring / params / headers`: JSON Schemas compiled
 * once at registration with ajv, with fastify's ajv options (coerceTypes
 * 'array', useDefaults, removeAdditional, allErrors false; formats from
 * ajv-formats).  A route with a request schema is checked in its body
 * prelude (src/body-prelude.ts), first among its preHandler hooks
 * (fastify's validation step sits between onRequest and preHandler), after
 * the body is parsed; a failing part throws SALVO_ERR_VALIDATION (400)
 * naming the part and the failing path.  Routes without one pay nothing.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { SalvoError } from './errors';
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

export type Validators = Partial<Record<ValidationPart, Validator>>;

/**
 * Compiles the request schemas of one route, or null when it declares none.
 * Called at registration: a bad schema throws there.
 */
export function compileValidation(method: string, url: string, schema: Record<string, unknown> | undefined, compiler: ValidatorCompiler): Validators | null {
  if (schema === undefined) return null;
  const v: Validators = {};
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
  return any ? v : null;
}

/**
 * Checks each part of a request, in fastify's order (params, querystring,
 * headers, body); the body is the value its content-type parser gave
 * (src/body-prelude.ts runs it first), or undefined when there is none.
 */
export function validate(req: Request, v: Validators, body: unknown): void {
  const { params, querystring, headers } = v;
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
  if (v.body !== undefined) {
    if (!v.body(body)) fail('body', v.body);
    if (body !== undefined) req._parsedBody = body;
  }
}
