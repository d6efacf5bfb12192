/* The tables shared between C++ and JavaScript (mirrored in src/layout.ts).
 *
 * One read of a connection becomes one dispatch call: C++ fills one row per
 * complete request, and the header table with one entry per field, as offsets
 * into the connection's slab (an ArrayBuffer JS sees as a Uint8Array).  JS
 * writes the responses of the batch into the output arena and reports through
 * the control words.  Nothing is turned into a JS string until a handler asks.
 */
#ifndef SALVO_LAYOUT_H
#define SALVO_LAYOUT_H

namespace salvo {
namespace layout {

constexpr int kRowStride = 32;  // int32 per request row
enum Row : int {
  kMethod = 0,    // Method id below
  kRoute,         // static route id matched in C++, or -1
  kTargetOff,     // request-target, offsets into the slab
  kTargetLen,
  kPathLen,       // bytes of the path (from kPathOff) before '?'
  kMinor,         // HTTP/1.<minor>
  kHdrStart,      // first entry in the header table
  kHdrCount,
  kBodyOff,
  kBodyLen,
  kFlags,         // Flags below
  kMethodOff,
  kMethodLen,
  kParamCount,    // route parameters matched in C++
  kPathOff,       // where the path starts (after the authority of an absolute-form target)
  kParams = 16,   // (offset, length) pairs, kMaxRouteParams of them
};

constexpr int kHdrStride = 4;  // nameOff, nameLen, valueOff, valueLen

/* A batch larger than this is dispatched in several calls within one read;
 * the responses still leave with one write for the read (see connection.cc). */
constexpr int kMaxRows = 1024;
constexpr int kMaxHeaderEntries = 32768;

enum Ctl : int {
  kOutLen = 0,  // JS: bytes of the output arena written for this batch
  kPending,     // JS: requests of this batch still unanswered (async)
  kClose,       // JS: close the connection once the output is flushed
  kError,       // C++: HTTP status of a protocol error after the rows, or 0
  kQueued,      // C++: the connection's unsent bytes when the batch starts
  kPause,       // JS: too many answers pending or deferred on this connection: stop reading
  kAnswered,    // JS, after a checkpoint: owed answers in the arena bytes it hands back (kOutLen)
  kHanded,      // JS, inside a checkpoint: connection id + 1 when its batch ended early and handed back
  kCtlSize = 8,
};

enum Flags : int {
  kKeepAlive = 1,
  kExpectContinue = 2,
  /* The row's body is streamed (a route with bodyStream): it is not in the
   * slab (kBodyLen 0) but follows through body() calls.  kKeepAlive is then
   * clear, so an answer decided before the body has ended says
   * Connection: close; kBodyKeepAlive is what the head asked for, which JS
   * restores once the body has ended (src/body-stream.ts). */
  kStreamBody = 4,
  kBodyKeepAlive = 8,
};

/* The last argument of body(connId, slab, off, len, state). */
enum BodyEvent : int {
  kBodyMore = 0,     // bytes [off, off + len) of the body; more follow
  kBodyEnd = 1,      // the last bytes of the body (len may be 0)
  kBodyAborted = 2,  // the connection ended before the body did
  // 400, 413, 431: the body is refused with that status (malformed chunked
  // framing, past the route's bodyLimit, trailers too large)
};

enum Method : int {
  kOther = 0, kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kConnect, kTrace,
};

}  // namespace layout
}  // namespace salvo

#endif
