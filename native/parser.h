/* salvo's HTTP/1.1 request-head parser.
 *
 * Contract (the picohttpparser shape): stateless, never allocates, never reads
 * a byte at or past buf + len, and every result points into the caller's
 * buffer. It parses one request line and its header block:
 *
 *   > 0  bytes consumed: the head, up to and including the blank line
 *    -1  malformed (400)
 *    -2  incomplete: call again with more bytes (every prefix of a valid head)
 *    -3  more header fields than `*num_headers` allows (431)
 *
 * Strictness (RFC 9112 sections 2.2, 3, 5): every line must end in CRLF (a bare
 * LF is an error, section 2.2 allows rejecting it); no whitespace between a
 * field name and the colon (5.1); no obs-fold (5.2); method and field names
 * are tokens; field values are VCHAR / obs-text / SP / HTAB (no NUL, lone CR,
 * LF or DEL); the request target has no CTL or SP.  Optional whitespace
 * around a field value is not part of the value.
 *
 * Version: any "HTTP/" DIGIT "." DIGIT is accepted here; the connection
 * layer answers 505 for a major version other than 1.
 *
 * Two implementations with the same results: a scalar one, and one that scans
 * 16 bytes at a time with SSE4.2 _mm_cmpestri range matches.  The choice is
 * made once per environment (cpu_has_sse42() and SALVO_PARSER=scalar).
 */
#ifndef SALVO_PARSER_H
#define SALVO_PARSER_H

#include <stddef.h>
#include <stdint.h>

namespace salvo {

struct HeaderField {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
};

struct RequestHead {
  const char* method;
  size_t method_len;
  const char* target;
  size_t target_len;
  int major_version;
  int minor_version;
};

enum ParseResult : int {
  kParseError = -1,
  kParseIncomplete = -2,
  kParseTooManyHeaders = -3,
};

enum class ParserImpl : uint8_t { kScalar = 0, kSse42 = 1 };

/* True when this CPU can run the SSE4.2 path. */
bool cpu_has_sse42();

/* `*num_headers` is the capacity of `headers` on entry and the number of
 * fields parsed on return (only meaningful when the result is > 0). */
int parse_request(ParserImpl impl, const char* buf, size_t len,
                  RequestHead* head, HeaderField* headers, size_t* num_headers);

}  // namespace salvo

#endif
