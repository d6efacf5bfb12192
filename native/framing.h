/* Message framing on top of the parser (RFC 9112 sections 6, 9.3): how long
 * the body is, whether the connection stays open, and which heads are refused
 * with which status.  Pure functions over the parser's output, so the native
 * tests cover them without a socket. */
#ifndef SALVO_FRAMING_H
#define SALVO_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "chunked.h"
#include "parser.h"

namespace salvo {

struct Framing {
  int64_t content_length;  // 0 when the request has no body
  bool chunked;
  bool keep_alive;
  bool expect_continue;
  int status;  // 0 when acceptable, else the HTTP status to answer and close
};

struct Limits {
  size_t max_header_bytes = 16 * 1024;  // Node's default --max-http-header-size
  size_t max_headers = 2000;  // node:http's maxHeadersCount; JS passes its own (AppOptions.maxHeaders)
  size_t max_body = 1024 * 1024;
  size_t max_target = 8192;             // request-target bytes (414 past it)
  size_t high_water = 1024 * 1024;  // unsent bytes per connection before reading pauses
  uint32_t send_timeout_ms = 30000;      // unsent output that makes no progress this long closes
  uint32_t headers_timeout_ms = 10000;   // a head must arrive within this (408)
  uint32_t body_timeout_ms = 30000;      // a body must arrive within this once its head has (408)
  uint32_t keep_alive_timeout_ms = 5000; // an idle connection is closed after this
};

/* One request on the wire: its head, and where its (decoded) body is. */
struct Message {
  RequestHead head;
  size_t num_headers;
  size_t head_len;   // bytes of the head, through the blank line (0 while incomplete)
  size_t body_len;   // body bytes; the body starts at head_len
  size_t consumed;   // bytes of the whole message on the wire
  size_t need;       // when incomplete: bytes the message needs in one buffer, or 0
  /* In/out: where the chunked-body scan resumes (see ChunkScan in chunked.h);
   * a default ChunkScan for a new message. */
  ChunkScan chunk;
  Framing framing;
};

/* Parses the message at the start of buf and applies the framing rules.
 *   > 0      complete: m->consumed bytes (chunked bodies are decoded in place)
 *   -2       incomplete (m->need says how large a buffer it needs, if known)
 *   -status  refuse with this HTTP status and close: 400, 413, 414, 417, 431, 501, 505
 * `fields` holds limits.max_headers entries. */
int next_message(ParserImpl impl, char* buf, size_t len, const Limits& limits,
                 HeaderField* fields, Message* m);

/* next_message in two steps, for a caller that decides between them (a
 * route whose body is streamed, connection.cc):
 * next_head parses the head and applies the framing rules, not the body's:
 *   > 0 the head's length (m->head_len, m->head, m->framing set), -2
 *   incomplete, -status refused (400, 414, 417, 431, 501, 505);
 * next_body then frames the body after that head exactly as next_message
 * does (same results; m->chunk resumes a chunked scan). */
int next_head(ParserImpl impl, char* buf, size_t len, const Limits& limits,
              HeaderField* fields, Message* m);
int next_body(char* buf, size_t len, const Limits& limits, Message* m);

void analyze_framing(const RequestHead& head, const HeaderField* fields, size_t n,
                     Framing* out);

int method_id(const char* m, size_t len);

}  // namespace salvo

#endif
