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
  // Wrong calls of the API (thrown).
  SALVO_ERR_INVALID_ARG: def('SALVO_ERR_INVALID_ARG', 'Invalid argument: %s'),
  SALVO_ERR_ROUTE_DUPLICATE: def('SALVO_ERR_ROUTE_DUPLICATE', 'Route already registered: %s'),
  SALVO_ERR_ROUTE_INVALID: def('SALVO_ERR_ROUTE_INVALID', 'Invalid route: %s'),
  SALVO_ERR_ALREADY_STARTED: def('SALVO_ERR_ALREADY_STARTED', 'The app has started (listen or inject): %s cannot be added any more'),
  SALVO_ERR_DECORATOR_EXISTS: def('SALVO_ERR_DECORATOR_EXISTS', 'A decorator or built-in property already has the name %s'),
  SALVO_ERR_LISTEN: def('SALVO_ERR_LISTEN', 'Cannot listen on %s'),
  SALVO_ERR_ALREADY_SENT: def('SALVO_ERR_ALREADY_SENT', 'The response has already been sent'),
  SALVO_ERR_INVALID_STATUS: def('SALVO_ERR_INVALID_STATUS', 'Invalid status code: %s (100-599)'),
  SALVO_ERR_INVALID_HEADER: def('SALVO_ERR_INVALID_HEADER', 'Invalid header: %s'),
  SALVO_ERR_REQUEST_ENDED: def('SALVO_ERR_REQUEST_ENDED', 'The request was answered: %s was not read before the answer and its bytes are gone'),
  SALVO_ERR_NOT_SUPPORTED: def('SALVO_ERR_NOT_SUPPORTED', 'Not supported: %s'),
  SALVO_ERR_ADDON_LOAD: def('SALVO_ERR_ADDON_LOAD', 'salvo: the native addon cannot be loaded: %s'),
  SALVO_ERR_CONTENT_TYPE_PARSER_EXISTS: def('SALVO_ERR_CONTENT_TYPE_PARSER_EXISTS', 'A content-type parser for %s exists already (remove it first)'),
  SALVO_ERR_NO_COOKIE_SECRET: def('SALVO_ERR_NO_COOKIE_SECRET', 'No cookieSecret is set in the App options: %s needs one'),
  SALVO_ERR_HOOK_REPLY: def('SALVO_ERR_HOOK_REPLY', 'onError hooks observe an error; they cannot answer (use setErrorHandler)'),
  // Answers to requests (sent).
  SALVO_ERR_NOT_FOUND: def('SALVO_ERR_NOT_FOUND', 'Route not found: %s', 404),
  SALVO_ERR_METHOD_NOT_ALLOWED: def('SALVO_ERR_METHOD_NOT_ALLOWED', 'Method not allowed: %s', 405),
  SALVO_ERR_INVALID_JSON: def('SALVO_ERR_INVALID_JSON', 'The request body is not valid JSON: %s', 400),
  SALVO_ERR_UNSUPPORTED_MEDIA_TYPE: def('SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type: %s', 415),
  SALVO_ERR_RESPONSE_TYPE: def('SALVO_ERR_RESPONSE_TYPE', 'Cannot send a value of type %s'),
  SALVO_ERR_VALIDATION: def('SALVO_ERR_VALIDATION', '%s', 400),
  SALVO_ERR_BODY_PARSE: def('SALVO_ERR_BODY_PARSE', 'The request body could not be parsed: %s', 400),
  SALVO_ERR_PROTO_POISONING: def('SALVO_ERR_PROTO_POISONING', 'The JSON body has a forbidden key: %s', 400),
  SALVO_ERR_BAD_PATH: def('SALVO_ERR_BAD_PATH', 'The request path cannot name a file: %s', 400),
  SALVO_ERR_FORBIDDEN: def('SALVO_ERR_FORBIDDEN', 'Forbidden: %s', 403),
  SALVO_ERR_PRECONDITION_FAILED: def('SALVO_ERR_PRECONDITION_FAILED', 'A precondition failed: %s', 412),
  SALVO_ERR_RANGE_NOT_SATISFIABLE: def('SALVO_ERR_RANGE_NOT_SATISFIABLE', 'The range is outside the file: %s', 416),
  SALVO_ERR_BODY_ABORTED: def('SALVO_ERR_BODY_ABORTED', 'aborted: the connection ended before the request body did', 400),
  SALVO_ERR_HANDLER_TIMEOUT: def('SALVO_ERR_HANDLER_TIMEOUT', 'The request was not answered within requestTimeout', 503),
  // Protocol errors found by the parser (sent, then the connection closes).
  SALVO_ERR_BAD_REQUEST: def('SALVO_ERR_BAD_REQUEST', 'Malformed request', 400),
  SALVO_ERR_BODY_TOO_LARGE: def('SALVO_ERR_BODY_TOO_LARGE', 'The request body is larger than maxBodySize', 413),
  SALVO_ERR_URI_TOO_LONG: def('SALVO_ERR_URI_TOO_LONG', 'The request target is longer than maxUrlLength', 414),
  SALVO_ERR_REQUEST_TIMEOUT: def('SALVO_ERR_REQUEST_TIMEOUT', 'The request did not arrive within headersTimeout or bodyTimeout', 408),
  SALVO_ERR_EXPECTATION_FAILED: def('SALVO_ERR_EXPECTATION_FAILED', 'Only the 100-continue expectation is supported', 417),
  SALVO_ERR_HEADERS_TOO_LARGE: def('SALVO_ERR_HEADERS_TOO_LARGE', 'The request head is larger than maxHeaderBytes or has more than maxHeaders fields', 431),
  SALVO_ERR_NOT_IMPLEMENTED: def('SALVO_ERR_NOT_IMPLEMENTED', 'Transfer-Encoding not implemented', 501),
  SALVO_ERR_HTTP_VERSION: def('SALVO_ERR_HTTP_VERSION', 'HTTP version not supported', 505),
} as const;

export type ErrorCode = keyof typeof codes;

export class SalvoError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const d = codes[code];
    super(detail === undefined ? d.message.replace(/:? ?%s/, '') : d.message.replace('%s', detail), options);
    this.name = 'SalvoError';
    this.code = code;
    this.statusCode = d.statusCode;
  }
}
