/**
 * @module layout
 * The tables shared with the addon; must match native/layout.h.
 */
export const ROW_STRIDE = 32;
export const R_METHOD = 0;
export const R_ROUTE = 1;
export const R_TARGET_OFF = 2;
export const R_TARGET_LEN = 3;
export const R_PATH_LEN = 4;
export const R_MINOR = 5;
export const R_HDR_START = 6;
export const R_HDR_COUNT = 7;
export const R_BODY_OFF = 8;
export const R_BODY_LEN = 9;
export const R_FLAGS = 10;
export const R_METHOD_OFF = 11;
export const R_METHOD_LEN = 12;
export const R_PARAM_COUNT = 13;
export const R_PATH_OFF = 14;
export const R_PARAMS = 16;
/** Route parameters the addon can report per request (native/routes.h). */
export const MAX_ROUTE_PARAMS = 8;

export const HDR_STRIDE = 4;
/** Header entries in the shared table (native/layout.h kMaxHeaderEntries): one request's must fit. */
export const MAX_HEADER_ENTRIES = 32768;

export const CTL_OUT_LEN = 0;
export const CTL_PENDING = 1;
export const CTL_CLOSE = 2;
export const CTL_ERROR = 3;
export const CTL_QUEUED = 4;
export const CTL_PAUSE = 5;
/** After a batch's checkpoint: owed answers among the arena bytes handed back in CTL_OUT_LEN (native/layout.h kAnswered). */
export const CTL_ANSWERED = 6;
/** Set by JS inside a checkpoint (connection id + 1): the batch ended early and handed its output back; the addon makes no detachPending call (native/layout.h kHanded). */
export const CTL_HANDED = 7;

export const F_KEEP_ALIVE = 1;
export const F_EXPECT_CONTINUE = 2;
/** The row's body is streamed (native/layout.h kStreamBody): not in the slab, delivered by body() calls. */
export const F_STREAM_BODY = 4;
/** A streamed row's head asked for keep-alive (F_KEEP_ALIVE is clear until its body has ended). */
export const F_BODY_KEEP_ALIVE = 8;

/** body()'s last argument (native/layout.h BodyEvent); 400/413/431 mean the body was refused with that status. */
export const BODY_MORE = 0;
export const BODY_END = 1;
export const BODY_ABORTED = 2;

/** Method ids as the parser reports them; index 0 means "read the bytes". */
export const METHODS = ['', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;
export const METHOD_ID: Record<string, number> = Object.fromEntries(
  METHODS.map((m, i) => [m, i]).filter(([m]) => m !== ''),
);
