/**
 * @module plugins/cors
 * Cross-origin resource sharing (the Fetch standard's CORS protocol): one
 * app-wide onRequest hook that adds the Access-Control-* headers to every
 * answer (404 and 405 included: the fallback routes run the app's hooks) and
 * answers preflights (OPTIONS with Access-Control-Request-Method) for any
 * path with 204 before routing matters.  Applies app-wide: the plugin is
 * marked skip-override, as fastify-plugin does for @fastify/cors.
 */
import { SalvoError } from '../errors';
import { checkKeys, objectArg } from '../options';
import { checkHeaderValue } from '../headers';
import { METHOD_ID } from '../layout';
import { FieldPreset } from '../field-preset';
import { LOCK_NONE, type Reply } from '../reply';
import type { Request } from '../request';
import { SKIP_OVERRIDE, type PluginTarget } from './plugin';

export type OriginFn = (origin: string | undefined, req: Request) => boolean | string | Promise<boolean | string>;
export type CorsOrigin = boolean | string | RegExp | readonly (string | RegExp)[] | OriginFn;

export interface CorsOptions {
  /** Which origins may read answers: '*' (default), one origin, a list, a RegExp, a function, true (reflect any), false (none). */
  origin?: CorsOrigin;
  /** Methods a preflight allows. Default GET, HEAD, PUT, PATCH, POST, DELETE. */
  methods?: string | readonly string[];
  /** Request headers a preflight allows; default: those the preflight asks for. */
  allowedHeaders?: string | readonly string[];
  /** Response headers scripts may read (Access-Control-Expose-Headers). */
  exposedHeaders?: string | readonly string[];
  /** Send Access-Control-Allow-Credentials: true. Default false. */
  credentials?: boolean;
  /** Seconds a preflight answer may be cached (Access-Control-Max-Age). */
  maxAge?: number;
  /** Status of a preflight answer. Default 204. */
  optionsSuccessStatus?: number;
  /** Answer preflights (default true); false lets OPTIONS reach the routes. */
  preflight?: boolean;
}

const OPTIONS_ID = METHOD_ID.OPTIONS;

const KEYS = ['origin', 'methods', 'allowedHeaders', 'exposedHeaders', 'credentials', 'maxAge', 'optionsSuccessStatus', 'preflight'];

function list(name: string, v: unknown, def: string | null): string | null {
  if (v === undefined) return def;
  const a = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(a) || a.some((x) => typeof x !== 'string')) throw new SalvoError('SALVO_ERR_INVALID_ARG', `cors ${name} must be a string or a list of strings`);
  return a.join(', ');
}

/** The value of Access-Control-Allow-Origin for `origin`, or null (not allowed). `vary`: the answer depends on Origin. */
type Decide = (origin: string | undefined, req: Request) => string | null | Promise<string | null>;

function decider(o: unknown): { decide: Decide; vary: boolean } {
  if (o === undefined || o === '*') return { decide: () => '*', vary: false };
  if (o === true) return { decide: (origin) => origin ?? null, vary: true };
  if (o === false) return { decide: () => null, vary: false };
  if (typeof o === 'string') return { decide: () => o, vary: true };
  const matches = (m: string | RegExp, origin: string): boolean => (typeof m === 'string' ? m === origin : m.test(origin));
  if (o instanceof RegExp) return { decide: (origin) => (origin !== undefined && matches(o, origin) ? origin : null), vary: true };
  if (Array.isArray(o)) {
    if (o.some((m) => typeof m !== 'string' && !(m instanceof RegExp))) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cors origin list holds strings and RegExps only');
    return { decide: (origin) => (origin !== undefined && o.some((m) => matches(m, origin)) ? origin : null), vary: true };
  }
  if (typeof o === 'function') {
    const fn = o as OriginFn;
    const pick = (origin: string | undefined, r: boolean | string): string | null =>
      r === true ? origin ?? null : typeof r === 'string' && r !== '' ? r : null;
    return {
      decide: (origin, req) => {
        const r = fn(origin, req);
        return r instanceof Promise ? r.then((x) => pick(origin, x)) : pick(origin, r);
      },
      vary: true,
    };
  }
  throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cors origin must be a boolean, a string, a RegExp, a list or a function');
}

/** `app.register(cors, { origin })`, or `cors(app, opts)` directly. */
export function cors(app: PluginTarget, options?: CorsOptions): void {
  const o = objectArg('cors options', options) as CorsOptions;
  checkKeys('cors', o, KEYS);
  const { decide, vary } = decider(o.origin);
  const methods = list('methods', o.methods, 'GET, HEAD, PUT, PATCH, POST, DELETE') as string;
  const allowed = list('allowedHeaders', o.allowedHeaders, null);
  const exposed = list('exposedHeaders', o.exposedHeaders, null);
  for (const k of ['credentials', 'preflight'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new SalvoError('SALVO_ERR_INVALID_ARG', `cors ${k} must be a boolean`);
  }
  const maxAge = o.maxAge;
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cors maxAge must be an integer >= 0 (seconds)');
  }
  const okStatus = o.optionsSuccessStatus ?? 204;
  if (!Number.isInteger(okStatus) || okStatus < 200 || okStatus > 299) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cors optionsSuccessStatus must be a 2xx status');
  const credentials = o.credentials === true;
  const preflight = o.preflight !== false;

  const apply = (req: Request, res: Reply, allow: string | null): void => {
    if (vary) res.header('Vary', varyWith(res.getHeader('vary'), 'Origin'));
    if (allow === null) return;
    res.header('Access-Control-Allow-Origin', allow);
    if (credentials) res.header('Access-Control-Allow-Credentials', 'true');
    if (exposed !== null) res.header('Access-Control-Expose-Headers', exposed);
    if (preflight && req.method === 'OPTIONS' && req.header('access-control-request-method') !== undefined) {
      res.header('Access-Control-Allow-Methods', methods);
      const h = allowed ?? req.header('access-control-request-headers');
      if (h !== undefined && h !== '') res.header('Access-Control-Allow-Headers', h);
      if (maxAge !== undefined) res.header('Access-Control-Max-Age', maxAge);
    }
  };
  const answerPreflight = (req: Request, res: Reply): void => {
    if (preflight && req.method === 'OPTIONS' && req.header('access-control-request-method') !== undefined) {
      res.status(okStatus).send(null);
    }
  };

  // The usual setup ('*', or one origin string, no credentials/exposed headers to decide per
  // request) knows its header lines at start: checked once here (a FieldPreset), then each request
  // takes them without reading Origin, checking a value or allocating (reply.header() would do all
  // three, and a Map, a tuple and a list per field).
  const fixed = fixedAllow(o.origin);
  const fixedOk = fixed !== null && !vary && valueOk(fixed) && (exposed === null || valueOk(exposed));
  if (fixedOk) {
    const allow = fixed as string;
    const preset = new FieldPreset([
      ['Access-Control-Allow-Origin', allow],
      ...(credentials ? [['Access-Control-Allow-Credentials', 'true'] as const] : []),
      ...(exposed !== null ? [['Access-Control-Expose-Headers', exposed] as const] : []),
    ]);
    app.addHook('onRequest', (req: Request, res: Reply) => {
      if (res._lock !== LOCK_NONE || res._sent) {
        apply(req, res, allow); // reply.header() says what is wrong
      } else {
        if (!res._usePreset(preset)) {
          // Fields set before this hook (an earlier hook's): added one by one, in order.
          res._setField('access-control-allow-origin', 'Access-Control-Allow-Origin', [allow]);
          if (credentials) res._setField('access-control-allow-credentials', 'Access-Control-Allow-Credentials', ['true']);
          if (exposed !== null) res._setField('access-control-expose-headers', 'Access-Control-Expose-Headers', [exposed]);
        }
        // Method id, not req.method: OPTIONS always has its id (src/layout.ts), and this runs per request.
        if (preflight && req._methodId === OPTIONS_ID && req.header('access-control-request-method') !== undefined) apply(req, res, allow);
      }
      if (req._methodId === OPTIONS_ID) answerPreflight(req, res);
      return undefined;
    });
    return;
  }
  app.addHook('onRequest', (req: Request, res: Reply) => {
    const d = decide(req.header('origin'), req);
    if (d instanceof Promise) {
      return d.then((allow) => {
        apply(req, res, allow);
        answerPreflight(req, res);
      });
    }
    apply(req, res, d);
    answerPreflight(req, res);
    return undefined;
  });
}
(cors as unknown as Record<symbol, boolean>)[SKIP_OVERRIDE] = true;

/** The Access-Control-Allow-Origin value of an origin option that does not depend on the request, else null. */
function fixedAllow(o: unknown): string | null {
  if (o === undefined || o === '*') return '*';
  if (typeof o === 'string') return o; // (sent with Vary: Origin, so not taken as fixed by the caller)
  return null;
}

function valueOk(v: string): boolean {
  try {
    checkHeaderValue('cors', v);
    return true;
  } catch {
    return false;
  }
}

/** A Vary value with `field` added once. */
export function varyWith(current: string | string[] | undefined, field: string): string {
  const cur = Array.isArray(current) ? current.join(', ') : current ?? '';
  if (cur === '') return field;
  if (cur.trim() === '*') return cur;
  const parts = cur.split(',').map((s) => s.trim().toLowerCase());
  return parts.includes(field.toLowerCase()) ? cur : cur + ', ' + field;
}
