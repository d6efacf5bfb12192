/**
 * @module logger
 * Logging with pino (fastify's logger): the `logger`, `genReqId`,
 * `requestIdHeader`, `requestIdLogLabel` and `disableRequestLogging`
 * options, the root logger (`app.log`; a no-op one when logging is off, so
 * `app.log.info()` is always safe), request ids, and the request-logging
 * hooks ("incoming request" / "request completed").
 *
 * Cost: with the logger off nothing here runs per request (no hooks are
 * added, so routes keep the fast path; `req.id` / `req.log` are computed
 * only when read).  With request logging on, each request pays an id, two
 * log lines and the hooks' slower lifecycle; a child logger is made only
 * when a handler reads `req.log`.
 */
import { performance } from 'node:perf_hooks';
import { SalvoError } from './errors';
import type { Hook } from './lifecycle';
import type { Reply } from './reply';
import type { Request } from './request';

/** What salvo calls on a logger: pino's methods (a pino instance, or anything shaped like one). */
export interface Logger {
  level: string;
  fatal(...args: unknown[]): void;
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger;
}

const METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'child'] as const;

function noop(): void {}

/** fastify's abstract logger: every method a no-op, child() itself (no allocation per request). */
export const NOOP_LOGGER: Logger = {
  level: 'silent',
  fatal: noop, error: noop, warn: noop, info: noop, debug: noop, trace: noop,
  child(): Logger {
    return NOOP_LOGGER;
  },
};

export type GenReqId = (req: Request<any, any, any, any>) => string;

export interface LoggerOptions {
  /** false (default): no logging; true: pino with its defaults; pino options; or a pino instance. */
  logger?: boolean | Record<string, unknown> | Logger;
  /** Makes a request's id (default: a counter per app: 'req-1', 'req-2', ...). */
  genReqId?: GenReqId;
  /** A request header whose value is the request's id when present and sane (default false: never). */
  requestIdHeader?: string | false;
  /** The log field that carries the request id (default 'reqId'). */
  requestIdLogLabel?: string;
  /** No "incoming request" / "request completed" lines (errors are still logged). Default false. */
  disableRequestLogging?: boolean;
}

export const LOGGER_KEYS = ['logger', 'genReqId', 'requestIdHeader', 'requestIdLogLabel', 'disableRequestLogging'];

/** What every request of an app shares: its id source and its logger (src/request.ts reads it). */
export interface RequestEnv {
  ip(connId: number): string;
  newId(req: Request<any, any, any, any>): string;
  /** The root logger (NOOP_LOGGER when logging is off). */
  log: Logger;
  label: string;
}

/** Per-request logging state, made when `req.id` or `req.log` is first read. */
export interface ReqLog {
  id: string;
  log: Logger | null;
  /** performance.now() at the onRequest stage (request logging), else -1. */
  t0: number;
}

/** Longest request id taken from a header; past it (or with other than visible ASCII) genReqId is used. */
export const MAX_HEADER_ID = 128;
const SANE_ID = /^[\x21-\x7e]+$/;

function isLogger(v: object): v is Logger {
  return METHODS.every((m) => typeof (v as Record<string, unknown>)[m] === 'function');
}

export interface ResolvedLogging {
  log: Logger;
  /** Logging is on (not the no-op logger). */
  on: boolean;
  requestLogging: boolean;
  genReqId: GenReqId | null;
  requestIdHeader: string | null;
  label: string;
}

/** Validates the logging options and makes the root logger (pino is loaded only when asked for). */
export function resolveLogging(o: LoggerOptions): ResolvedLogging {
  const l = o.logger;
  let log: Logger = NOOP_LOGGER;
  if (l === true) log = makePino({});
  else if (l !== undefined && l !== false) {
    if (l === null || typeof l !== 'object' || Array.isArray(l)) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', 'logger must be a boolean, pino options or a pino instance');
    }
    log = isLogger(l) ? l : makePino(l as Record<string, unknown>);
  }
  if (o.genReqId !== undefined && typeof o.genReqId !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'genReqId must be a function');
  const h = o.requestIdHeader;
  if (h !== undefined && h !== false && (typeof h !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h))) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', 'requestIdHeader must be false or a header name');
  }
  const label = o.requestIdLogLabel ?? 'reqId';
  if (typeof label !== 'string' || label === '') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'requestIdLogLabel must be a non-empty string');
  if (o.disableRequestLogging !== undefined && typeof o.disableRequestLogging !== 'boolean') {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', 'disableRequestLogging must be a boolean');
  }
  const on = log !== NOOP_LOGGER;
  return {
    log, on,
    requestLogging: on && o.disableRequestLogging !== true,
    genReqId: o.genReqId ?? null,
    requestIdHeader: typeof h === 'string' ? h.toLowerCase() : null,
    label,
  };
}

function makePino(opts: Record<string, unknown>): Logger {
  // Loaded here: an app without a logger never loads pino.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pino = require('pino') as (o: Record<string, unknown>) => Logger;
  try {
    return pino(opts);
  } catch (err) {
    throw new SalvoError('SALVO_ERR_INVALID_ARG', `logger: ${(err as Error).message}`, { cause: err });
  }
}

/** The id source of one app: the trusted header, else genReqId, else the app's counter. */
export function idSource(r: ResolvedLogging): (req: Request<any, any, any, any>) => string {
  let next = 0;
  const gen = r.genReqId ?? (() => 'req-' + String((next = (next + 1) % 0x7fffffff)));
  const header = r.requestIdHeader;
  const own = (req: Request<any, any, any, any>): string => {
    const id = gen(req);
    if (typeof id !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'genReqId must return a string');
    return id;
  };
  if (header === null) return own;
  return (req) => {
    const v = req.header(header);
    // A client-chosen id goes into every log line: only a short printable token is trusted.
    if (v !== undefined && v.length <= MAX_HEADER_ID && SANE_ID.test(v)) return v;
    return own(req);
  };
}

/** Bytes of the answer's body (its Content-Length, or the streamed bytes). */
function bytesOf(res: Reply): number {
  if (res._bytes >= 0) return res._bytes;
  // The cached constant-string path writes no count: the body is the string itself.
  const b = res._body;
  if (typeof b === 'string') return Buffer.byteLength(b);
  if (b instanceof Uint8Array) return b.length;
  return 0;
}

/**
 * The request-logging hooks, first among the app's onRequest and
 * onResponse hooks.  responseTime is measured from the onRequest stage
 * (the request's dispatch) to its onResponse stage, which runs in the
 * microtask after the answer's bytes were serialized (into the batch's
 * output or its connection's queue; for a stream, after its last chunk).
 */
export function requestLoggingHooks(log: Logger, label: string): { onRequest: Hook; onResponse: Hook } {
  return {
    onRequest(req: Request) {
      const lg = req._logState();
      lg.t0 = performance.now();
      // The root logger with the id as a field: no child logger unless the handler reads req.log.
      log.info({ [label]: lg.id, req: { method: req.method, url: req.url, host: req.header('host'), remoteAddress: req.ip } }, 'incoming request');
    },
    onResponse(req: Request, res: Reply) {
      const lg = req._logState();
      const fields: Record<string, unknown> = { res: { statusCode: res.statusCode } };
      if (lg.t0 >= 0) fields.responseTime = performance.now() - lg.t0;
      fields.bytes = bytesOf(res);
      // The child logger if the handler made one (it carries the id and what the handler bound), else the root.
      if (lg.log !== null) lg.log.info(fields, 'request completed');
      else log.info({ [label]: lg.id, ...fields }, 'request completed');
    },
  };
}

/**
 * The handler-error line: an error answered 5xx is logged at error level
 * with the error (pino's err serializer); a 4xx one (not found, validation)
 * is the client's, and only its completion line tells.
 */
export function errorLogger(): (req: Request, err: unknown) => void {
  return (req, err) => {
    let status = 500;
    try {
      const sc = (err as { statusCode?: unknown } | null)?.statusCode;
      if (typeof sc === 'number' && sc >= 400 && sc <= 599) status = sc;
    } catch {
      // a hostile error object: a 500
    }
    if (status >= 500) req.log.error({ err }, errMessage(err)); // req.log carries the id
  };
}

function errMessage(err: unknown): string {
  try {
    const m = (err as { message?: unknown } | null)?.message;
    return typeof m === 'string' ? m : 'error';
  } catch {
    return 'error';
  }
}
