/**
 * @module payload
 * What a reply's value becomes before any byte is written: a status, a
 * content type and a body (a string, bytes, or none), kept in fields
 * (pStatus / pType / pBody) so a response allocates no tuple.  Strings and
 * bytes pass as they are; objects and arrays become JSON by the route's
 * serializer for the status (fast-json-stringify when a response schema is
 * declared) or JSON.stringify; a value JSON cannot say answers 500
 * SALVO_ERR_RESPONSE_TYPE.
 *
 * The serializers may run user code (toJSON, getters, a value's toString):
 * the fields are set after them, since that code may answer another request
 * through the same output (src/output.ts saves and restores its target
 * around these calls).  src/output.ts extends this class and writes what it
 * decided.
 */
import { SalvoError } from './errors';
import type { Reply } from './reply';
import type { Route } from './lifecycle';
import { JSON_TYPE, OCTETS, TEXT, statusText } from './response';
import type { ShapeWriter } from './shape-writer';

export class Payload {
  /** The decided status, content type and body (null: no body). */
  pStatus = 200;
  pType: string | null = null;
  pBody: string | Uint8Array | null = null;

  constructor(
    /** Errors thrown by a serializer show their message in the 500 body. */
    private readonly debug: boolean,
  ) {}

  /** Sets pStatus, pType and pBody (null: no body) for a reply's value. */
  payload(res: Reply, value: unknown, route: Route): void {
    const status = res._status;
    this.pStatus = status;
    this.pType = res._type;
    if (res._json) {
      // res.json(): JSON whatever the value (a string becomes a JSON string).
      this.json(res, value === undefined ? null : value, route);
      return;
    }
    if (typeof value === 'string') {
      this.pType = res._type ?? TEXT;
      this.pBody = value;
      return;
    }
    if (value instanceof Uint8Array) {
      this.pType = res._type ?? OCTETS;
      this.pBody = value;
      return;
    }
    if (value === null) {
      if (status === 200) this.pStatus = 204;
      this.pBody = null;
      return;
    }
    if (typeof value === 'object') {
      if (!isJsonable(value)) {
        this.internalError(new SalvoError('SALVO_ERR_RESPONSE_TYPE', describe(value)));
        return;
      }
      this.json(res, value, route);
      return;
    }
    if (value === undefined) {
      this.pType = res._type ?? TEXT;
      this.pBody = '';
      return;
    }
    // number, boolean, bigint, symbol, function: not a body
    this.internalError(new SalvoError('SALVO_ERR_RESPONSE_TYPE', typeof value));
  }

  private json(res: Reply, value: unknown, route: Route): void {
    const status = res._status;
    try {
      const ser = route.serializers !== null ? route.serializers[status] : undefined;
      const body = ser !== undefined ? ser(value) : JSON.stringify(value) ?? 'null';
      // Set after the serializer: user code in it (toJSON, a getter) may answer another request through this output.
      this.pStatus = status;
      this.pBody = body;
      this.pType = res._type ?? JSON_TYPE;
    } catch (err) {
      this.pStatus = status;
      this.internalError(err);
    }
  }

  /** A value that cannot be serialized answers 500 SALVO_ERR_RESPONSE_TYPE. */
  protected internalError(err: unknown): void {
    this.pStatus = 500;
    this.pType = JSON_TYPE;
    let message = statusText(500);
    if (this.debug) {
      try {
        message = String((err as Error).message);
      } catch {
        // a hostile error object: keep the reason phrase
      }
    }
    this.pBody = JSON.stringify({ statusCode: 500, code: 'SALVO_ERR_RESPONSE_TYPE', error: statusText(500), message });
  }

  /** pStatus / pType / pBody of the values `w` has read, by the status's serializer. */
  serializeRead(w: ShapeWriter, route: Route, status: number, type: string): void {
    try {
      // The serializer may run user code (a value's toString): the fields are set after it.
      const body = ((route.serializers as Record<number, (v: unknown) => string>)[status])(w.snapshot());
      this.pStatus = status;
      this.pType = type;
      this.pBody = body;
    } catch (err) {
      this.internalError(err);
    }
  }
}

/**
 * Objects JSON can say what they are: plain objects and arrays, class
 * instances (their own fields), and anything with toJSON (Date, Buffer's
 * JSON form aside).  Map, Set, RegExp and friends would all become "{}":
 * they are a mistake, answered 500 rather than sent wrong.
 */
function isJsonable(v: object): boolean {
  // One inherited load for the common case (Object.getPrototypeOf is a V8 runtime call: src/dispatcher.ts isObjectAnswer).
  const c = (v as { constructor?: unknown }).constructor;
  if (c === Object || c === Array) return true;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null || proto === Array.prototype) return true;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return true;
  return !(v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet ||
    v instanceof RegExp || v instanceof Promise || v instanceof Error || ArrayBuffer.isView(v) || v instanceof ArrayBuffer);
}

function describe(v: object): string {
  try {
    return Object.prototype.toString.call(v).slice(8, -1);
  } catch {
    return 'object';
  }
}
