/**
 * @module serialization
 * Route `schema.response`: one serializer per declared status, compiled once
 * at registration by the serializer compiler in force where the route is
 * added (`app.setSerializerCompiler`, nearest in the plugin chain, as the
 * validator compiler), by default fast-json-stringify.  A JSON body sent with
 * that status goes through it instead of JSON.stringify (src/output.ts).
 * With the default compiler, a flat object schema also gets a byte writer
 * (src/shape-writer.ts) that gives the same bytes without the string.
 */
import fastJson from 'fast-json-stringify';
import { SalvoError } from './errors';
import type { Route } from './lifecycle';
import { compileShapeWriter, type ShapeWriter } from './shape-writer';

/** A compiled serializer: the JSON text of a value. */
export type Serializer = (data: any) => string;
/** fastify's signature: `httpStatus` is the status key of schema.response, as a string ('200'). */
export type SerializerCompiler = (def: { schema: object; method: string; url: string; httpStatus: string }) => Serializer;

/** The default: fast-json-stringify (properties the schema does not list are left out). */
export const defaultSerializerCompiler: SerializerCompiler = ({ schema }) =>
  fastJson(schema as Parameters<typeof fastJson>[0]) as Serializer;

/**
 * A user compiler's serializer, checked: a non-string result would otherwise
 * reach the writer as a body; it is answered 500 SALVO_ERR_RESPONSE_TYPE like
 * any value that cannot be sent.  The default one is trusted (no extra call).
 */
function checked(method: string, url: string, status: string, f: Serializer): Serializer {
  return (data) => {
    const s = f(data);
    if (typeof s !== 'string') throw new SalvoError('SALVO_ERR_RESPONSE_TYPE', `${typeof s} from the serializer of ${method} ${url} (${status})`);
    return s;
  };
}

/** Compiles one serializer per declared status at registration, never per request. */
export function compileSerializers(method: string, url: string, response: unknown, compiler: SerializerCompiler): Route['serializers'] {
  if (response === undefined) return null;
  if (response === null || typeof response !== 'object') {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response for ${method} ${url} must be an object`);
  }
  const out: Record<number, Serializer> = {};
  for (const [code, schema] of Object.entries(response)) {
    const status = Number(code);
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response key must be a status code, got ${code}`);
    }
    if (schema === null || typeof schema !== 'object') {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response[${code}] for ${method} ${url} must be an object`);
    }
    let f: unknown;
    try {
      f = compiler({ schema: schema as object, method, url, httpStatus: code });
    } catch (err) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `schema.response[${code}] for ${method} ${url}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof f !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', `the serializer compiler returned no function for schema.response[${code}] of ${method} ${url}`);
    out[status] = compiler === defaultSerializerCompiler ? (f as Serializer) : checked(method, url, code, f as Serializer);
  }
  return out;
}

/**
 * The byte writers of a route's `schema.response` statuses whose schema is a flat object, when
 * they are compiled by fast-json-stringify (the writer gives its bytes; a user's compiler is
 * the user's: no writer); null when there is none.
 */
export function compileWriters(response: unknown, compiler: SerializerCompiler): Route['writers'] {
  if (compiler !== defaultSerializerCompiler || response === null || typeof response !== 'object') return null;
  let out: Record<number, ShapeWriter> | null = null;
  for (const [code, schema] of Object.entries(response)) {
    const w = compileShapeWriter(schema);
    if (w !== null) (out ??= {})[Number(code)] = w;
  }
  return out;
}
