/* Message framing on top of the parser (RFC 9112 sections 6, 9.3): how long
 * the body is, whether the connection stays open, and which heads are refused
 * with which status.  Pure functions over the parser's output, so the native
 * tests cover them without a socket. */
#ifndef SALVO_FRAMING_H
#define SALVO_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"

namespace salvo {

struct Framing {
  int64_t content_length;  // 0 when the request has no body
  bool chunked;
  bool keep_alive;
  bool expect_continue;
  int status;  // 0 when acceptable, else the HTTP status to answer and close
};

void analyze_framing(const RequestHead& head, const HeaderField* fields, size_t n,
                     Framing* out);

int method_id(const char* m, size_t len);

}  // namespace salvo

#endif
