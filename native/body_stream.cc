/* Streamed request bodies (a route with bodyStream): once such a request's
 * head is a row, the connection's bytes are its body until it ends, handed
 * to JS read by read (one body() call each), never buffered whole.  Process
 * (connection.cc) calls StartBody for the head and DeliverBody at the start
 * of every later pass; see docs/ARCHITECTURE.md, "Streamed request bodies". */
#include <stdint.h>

#include <algorithm>

#include "chunked.h"
#include "layout.h"
#include "server.h"

namespace salvo {

/* A head whose body is streamed has just become a row (its batch's last):
 * from now on the connection's bytes are that body until it ends.
 * `first`: no answer of this batch precedes it, so an interim 100 Continue
 * (RFC 9110 10.1.1) cannot overtake one; sent when the client waits for it
 * (no body byte after the head yet), as for a buffered body. */
void Server::StartBody(Conn* c, const Message& m, double limit, bool first, size_t pos) {
  BodyStream& b = c->body;
  b = BodyStream();
  b.active = true;
  b.chunked = m.framing.chunked;
  b.left = m.framing.chunked ? 0 : static_cast<uint64_t>(m.framing.content_length);
  b.limit = limit >= static_cast<double>(SIZE_MAX) ? SIZE_MAX : static_cast<size_t>(limit);
  b.close_after = !m.framing.keep_alive;
  b.since = uv_now(loop_);
  c->body_paused = false;
  if (m.framing.expect_continue && first && pos == c->len && c->inflight == 0 && c->queued == 0) {
    static const char k100[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t buf = uv_buf_init(const_cast<char*>(k100), sizeof k100 - 1);
    Write(c, &buf, 1);
  }
}

/* Hands what the slab holds of the streamed body, from *pos, to JS in one
 * body() call (chunked: decoded in place first), and moves *pos past it.
 * JS copies the bytes out during the call (the slab is reused), so nothing
 * in JS keeps a view of the slab.  body() returning false (its consumer is
 * behind) pauses reading until resumeBody: JS then holds at most its
 * stream's highWaterMark plus one read. */
void Server::DeliverBody(Conn* c, size_t* pos) {
  using namespace layout;
  BodyStream& b = c->body;
  char* p = c->slab->data + *pos;
  size_t avail = c->len - *pos;
  size_t take = avail, data = 0;
  int event = kBodyMore;
  if (!b.chunked) {
    take = data = static_cast<size_t>(std::min<uint64_t>(b.left, avail));
    b.left -= take;
    if (b.left == 0) event = kBodyEnd;
  } else {
    int r = decode_chunked_stream(p, avail, b.limit, &b.scan, &data);
    if (r == kChunkedComplete) {
      take = b.scan.resume;
      event = kBodyEnd;
    } else if (r == kChunkedTooLarge) {
      event = 413;
    } else if (r == kChunkedTrailersTooLarge) {
      event = 431;  // trailers are field lines (RFC 6585 5)
    } else if (r != kChunkedIncomplete) {
      event = 400;
    }
  }
  *pos += take;
  if (event == kBodyMore && data == 0) return;  // only framing bytes (a size line) so far
  if (event != kBodyMore) {
    b.active = false;
    if (event != kBodyEnd || b.close_after) c->no_more = true;  // nothing after it is parsed
    /* A refused body: its handler's stream fails with the status (JS), the
     * handler answers, and the connection closes after that answer. */
    if (event != kBodyEnd) c->closing = true;
  }
  if (!CallBody(c, *pos - take, data, event, false)) {
    if (b.active) c->body_paused = true;
  }
}

/* body(connId, slab, off, len, event) -> whether to go on reading. */
bool Server::CallBody(Conn* c, size_t off, size_t len, int event, bool scope) {
  if (shutting_down_) return true;
  Napi::HandleScope hs(env_);
  napi_value args[5] = {Napi::Number::New(env_, c->id),
                        c->slab && len > 0 ? backing_.View(c->slab) : env_.Undefined(),
                        Napi::Number::New(env_, static_cast<double>(off)),
                        Napi::Number::New(env_, static_cast<double>(len)),
                        Napi::Number::New(env_, event)};
  napi_value result = nullptr;
  if (!Invoke(body_, 5, args, scope, &result)) return true;
  bool more = true;
  if (result) napi_get_value_bool(env_, result, &more);  // not a boolean: go on
  return more;
}

}  // namespace salvo
