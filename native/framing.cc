#include "framing.h"

#include <limits.h>
#include <string.h>

#include "chunked.h"
#include "layout.h"

namespace salvo {

namespace {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

/* Field names are case-insensitive (RFC 9110 5.1); `lit` is lower case. */
bool name_is(const HeaderField& f, const char* lit, size_t n) {
  if (f.name_len != n) return false;
  for (size_t i = 0; i < n; i++)
    if (lower(f.name[i]) != lit[i]) return false;
  return true;
}

bool token_eq(const char* p, size_t n, const char* lit, size_t ln) {
  if (n != ln) return false;
  for (size_t i = 0; i < n; i++)
    if (lower(p[i]) != lit[i]) return false;
  return true;
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6).  A list such as "5, 5" is refused:
 * section 8.6 lets a recipient accept it, but refusing is the safe side of a
 * request-smuggling disagreement.  Caps at 2^53 - 1 so JS sees it exactly. */
int64_t parse_content_length(const char* p, size_t n) {
  if (n == 0 || n > 16) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v > 9007199254740991LL ? -1 : v;
}

/* Calls fn(token, len) for each comma-separated element, OWS trimmed. */
template <typename F>
void each_token(const char* p, size_t n, F fn) {
  size_t i = 0;
  while (i < n) {
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ',')) i++;
    size_t s = i;
    while (i < n && p[i] != ',') i++;
    size_t e = i;
    while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t')) e--;
    if (e > s) fn(p + s, e - s);
  }
}

/* Character classes of a Host value (RFC 3986 3.2.2), one byte per
 * character: a constant table, read-only.  A loop over it costs about 8
 * instructions a character; the range tests and switch it replaces cost
 * about 19 (the hello path's 15-byte Host: analyze_framing 334 -> 224
 * instructions a request, callgrind). */
constexpr unsigned char kRegName = 1;  // unreserved / sub-delims (without ':' and '%')
constexpr unsigned char kHex = 2;
constexpr unsigned char kDigit = 4;

struct HostClasses {
  unsigned char c[256];
  constexpr HostClasses() : c() {
    for (int i = '0'; i <= '9'; i++) c[i] = kRegName | kHex | kDigit;
    for (int i = 'a'; i <= 'z'; i++) c[i] = kRegName;
    for (int i = 'A'; i <= 'Z'; i++) c[i] = kRegName;
    for (int i = 'a'; i <= 'f'; i++) c[i] |= kHex;
    for (int i = 'A'; i <= 'F'; i++) c[i] |= kHex;
    const char* extra = "-._~!$&'()*+,;=";
    for (int i = 0; extra[i] != 0; i++) c[static_cast<unsigned char>(extra[i])] = kRegName;
  }
};
constexpr HostClasses kHostClasses;

inline unsigned char host_class(char ch) { return kHostClasses.c[static_cast<unsigned char>(ch)]; }

inline bool is_hex(unsigned char c) { return (kHostClasses.c[c] & kHex) != 0; }

/* Host = uri-host [ ":" port ] (RFC 9110 7.2), uri-host = IP-literal /
 * IPv4address / reg-name (RFC 3986 3.2.2): a bracketed IPv6 or IPvFuture
 * literal, or unreserved / pct-encoded / sub-delims; port = *DIGIT. */
bool valid_host(const char* p, size_t n) {
  size_t i = 0;
  if (n > 0 && p[0] == '[') {
    // IPv6address: hex, ':' and '.'; IPvFuture: "v" HEX "." unreserved / sub-delims / ':'.
    bool future = n > 1 && (p[1] == 'v' || p[1] == 'V');
    for (i = 1; i < n && p[i] != ']'; i++) {
      unsigned char c = static_cast<unsigned char>(p[i]);
      bool ok = is_hex(c) || c == ':' || c == '.' || (future && (host_class(p[i]) & kRegName) != 0);
      if (!ok) return false;
    }
    if (i >= n || i == 1) return false;  // no ']' or "[]"
    i++;
  } else {
    for (;;) {
      while (i < n && (host_class(p[i]) & kRegName) != 0) i++;
      if (i == n || p[i] != '%') break;
      if (i + 2 >= n || !is_hex(p[i + 1]) || !is_hex(p[i + 2])) return false;
      i += 3;
    }
    if (i == 0) return false;  // no host before the port
  }
  if (i == n) return true;
  if (p[i] != ':') return false;
  for (i++; i < n; i++)
    if ((host_class(p[i]) & kDigit) == 0) return false;
  return true;
}

}  // namespace

int method_id(const char* m, size_t len) {
  using namespace layout;
  switch (len) {
    case 3:
      if (memcmp(m, "GET", 3) == 0) return kGet;
      if (memcmp(m, "PUT", 3) == 0) return kPut;
      break;
    case 4:
      if (memcmp(m, "POST", 4) == 0) return kPost;
      if (memcmp(m, "HEAD", 4) == 0) return kHead;
      break;
    case 5:
      if (memcmp(m, "PATCH", 5) == 0) return kPatch;
      if (memcmp(m, "TRACE", 5) == 0) return kTrace;
      break;
    case 6:
      if (memcmp(m, "DELETE", 6) == 0) return kDelete;
      break;
    case 7:
      if (memcmp(m, "OPTIONS", 7) == 0) return kOptions;
      if (memcmp(m, "CONNECT", 7) == 0) return kConnect;
      break;
  }
  return kOther;
}

void analyze_framing(const RequestHead& head, const HeaderField* fields, size_t n,
                     Framing* out) {
  out->content_length = 0;
  out->chunked = false;
  out->expect_continue = false;
  out->status = 0;
  if (head.major_version != 1) {  // RFC 9110 15.6.6
    out->keep_alive = false;
    out->status = 505;
    return;
  }
  // HTTP/1.1 is persistent unless "close"; 1.0 only with "keep-alive" (RFC 9112 9.3).
  bool keep_alive = head.minor_version >= 1;
  bool close = false;  // "close" wins over "keep-alive" in any order (9.3, 9.6)
  bool have_cl = false, have_te = false;
  int hosts = 0;
  int64_t cl = 0;
  int status = 0;
  for (size_t i = 0; i < n && status == 0; i++) {
    const HeaderField& f = fields[i];
    switch (f.name_len) {
      case 10:
        if (name_is(f, "connection", 10)) {
          each_token(f.value, f.value_len, [&](const char* t, size_t tn) {
            if (token_eq(t, tn, "close", 5)) close = true;
            else if (token_eq(t, tn, "keep-alive", 10) && head.minor_version == 0)
              keep_alive = true;
          });
        }
        break;
      case 14:
        if (name_is(f, "content-length", 14)) {
          int64_t v = parse_content_length(f.value, f.value_len);
          // Differing duplicates are a smuggling vector (RFC 9112 6.3 item 5).
          if (v < 0 || (have_cl && v != cl)) status = 400;
          have_cl = true;
          cl = v;
        }
        break;
      case 17:
        if (name_is(f, "transfer-encoding", 17)) {
          have_te = true;
          /* RFC 9112 6.3 item 4: chunked must be the final coding or the
           * length cannot be known (400).  Other codings: 501. */
          bool last_chunked = false, other = false, chunked_twice = false;
          each_token(f.value, f.value_len, [&](const char* t, size_t tn) {
            if (last_chunked) other = true;  // chunked applied twice or not last
            if (token_eq(t, tn, "chunked", 7)) {
              if (last_chunked) chunked_twice = true;
              last_chunked = true;
            } else {
              other = true;
              last_chunked = false;
            }
          });
          if (!last_chunked) status = 400;
          else if (other && chunked_twice) status = 400;  // RFC 9112 6.1: chunked at most once
          else if (other) status = 501;
          else if (out->chunked) status = 400;  // a second TE line repeating chunked
          out->chunked = true;
        }
        break;
      case 4:
        if (name_is(f, "host", 4)) {
          hosts++;
          /* An empty Host is legal for a target without authority (RFC 9112
           * 3.2), but no origin server of ours has such targets: refuse it. */
          if (f.value_len == 0 || !valid_host(f.value, f.value_len)) status = 400;
        }
        break;
      case 6:
        /* RFC 9110 10.1.1: an HTTP/1.0 request's Expect MUST be ignored
         * (and 15.2: no 1xx response to a 1.0 client). */
        if (name_is(f, "expect", 6) && head.minor_version >= 1) {
          if (token_eq(f.value, f.value_len, "100-continue", 12)) out->expect_continue = true;
          else status = 417;
        }
        break;
    }
  }
  /* RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without
   * Host, with more than one, or (for 1.1) with an empty one. */
  if (status == 0 && head.minor_version >= 1 && hosts != 1) status = 400;
  if (status == 0 && hosts > 1) status = 400;
  // Both present is how requests get smuggled (RFC 9112 6.1): refuse.
  if (status == 0 && have_cl && have_te) status = 400;
  if (status == 0 && out->chunked && head.minor_version == 0) status = 400;
  out->content_length = have_cl ? cl : 0;
  out->keep_alive = keep_alive && !close;
  out->status = status;
}

/* The two steps as inline bodies: next_message (every request of a server
 * without streamed routes) stays one call, as before the split (as three
 * out-of-line calls they cost the hello path ~40 instructions a request,
 * callgrind; now ~6). */
namespace {

[[gnu::always_inline]] inline int head_step(ParserImpl impl, char* buf, size_t len,
                                            const Limits& limits, HeaderField* fields,
                                            Message* m) {
  m->need = 0;
  m->head_len = 0;
  m->num_headers = limits.max_headers;
  int r = parse_request(impl, buf, len, &m->head, fields, &m->num_headers);
  if (r == kParseIncomplete) return len > limits.max_header_bytes ? -431 : kParseIncomplete;
  if (r == kParseTooManyHeaders) return -431;
  if (r < 0) return -400;
  if (static_cast<size_t>(r) > limits.max_header_bytes) return -431;
  m->head_len = static_cast<size_t>(r);
  if (m->head.target_len > limits.max_target) return -414;  // RFC 9112 3: 414 for long targets
  analyze_framing(m->head, fields, m->num_headers, &m->framing);
  if (m->framing.status) return -m->framing.status;
  return r;
}

// r: the head's length (what head_step returned).
[[gnu::always_inline]] inline int body_step(char* buf, size_t len, const Limits& limits,
                                            Message* m, const int r) {
  const Framing& f = m->framing;
  if (f.chunked) {
    /* m->chunk is where the previous read's scan stopped (chunked.h), so
     * each body byte is examined once however the body is cut into reads. */
    int c = scan_chunked(buf + r, len - r, limits.max_body, &m->chunk);
    if (c == kChunkedIncomplete) return kParseIncomplete;
    const size_t enc = m->chunk.resume;
    m->chunk = ChunkScan();  // the next message starts a new body
    if (c == kChunkedTooLarge) return -413;
    if (c == kChunkedTrailersTooLarge) return -431;  // trailers are field lines (RFC 6585 5)
    if (c != kChunkedComplete) return -400;
    if (static_cast<size_t>(r) + enc > static_cast<size_t>(INT_MAX)) return -413;  // the result is an int
    m->body_len = decode_chunked(buf + r, enc);
    m->consumed = r + enc;
    return static_cast<int>(m->consumed);
  }
  if (static_cast<uint64_t>(f.content_length) > limits.max_body) return -413;
  m->body_len = static_cast<size_t>(f.content_length);
  m->consumed = r + m->body_len;
  if (m->consumed > static_cast<size_t>(INT_MAX)) return -413;  // the result is an int
  if (m->consumed > len) {
    m->need = m->consumed;  // the body is still arriving
    return kParseIncomplete;
  }
  return static_cast<int>(m->consumed);
}

}  // namespace

int next_head(ParserImpl impl, char* buf, size_t len, const Limits& limits,
              HeaderField* fields, Message* m) {
  return head_step(impl, buf, len, limits, fields, m);
}

int next_body(char* buf, size_t len, const Limits& limits, Message* m) {
  return body_step(buf, len, limits, m, static_cast<int>(m->head_len));
}

int next_message(ParserImpl impl, char* buf, size_t len, const Limits& limits,
                 HeaderField* fields, Message* m) {
  int r = head_step(impl, buf, len, limits, fields, m);
  return r > 0 ? body_step(buf, len, limits, m, r) : r;
}

}  // namespace salvo
