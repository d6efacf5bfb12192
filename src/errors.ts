/**
 * @module errors
 * The one registry of salvo's error codes.  Every error salvo throws or sends
 * carries one of these codes; docs/ERRORS.md lists them (a test checks).
 */
export interface ErrorDef {
  readonly code: string;
  readonly message: string;
  readonly statusCode: number;
}

function def(code: string, message: string, statusCode = 500): ErrorDef {
  return { code, message, statusCode };
}

export const codes = {
  SALVO_ERR_INVALID_ARG: def('SALVO_ERR_INVALID_ARG', 'Invalid argument: %s'),
  SALVO_ERR_ROUTE_DUPLICATE: def('SALVO_ERR_ROUTE_DUPLICATE', 'Route already registered: %s'),
  SALVO_ERR_ROUTE_INVALID: def('SALVO_ERR_ROUTE_INVALID', 'Invalid route: %s'),
  SALVO_ERR_LISTEN: def('SALVO_ERR_LISTEN', 'Cannot listen on %s'),
  SALVO_ERR_ALREADY_LISTENING: def('SALVO_ERR_ALREADY_LISTENING', 'The app is already listening'),
  SALVO_ERR_HANDLER: def('SALVO_ERR_HANDLER', 'The handler failed'),
  SALVO_ERR_RESPONSE_TYPE: def('SALVO_ERR_RESPONSE_TYPE', 'Cannot send a value of type %s'),
} as const;

export type ErrorCode = keyof typeof codes;

export class SalvoError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const d = codes[code];
    super(d.message.replace('%s', detail ?? ''), options);
    this.name = 'SalvoError';
    this.code = code;
    this.statusCode = d.statusCode;
  }
}
