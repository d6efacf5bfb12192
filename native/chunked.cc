/* Chunked request bodies (RFC 9112 section 7.1); contract in chunked.h.
 *
 * scan_chunked walks the body from its first byte each time it is called.
 * Every step first asks whether the byte it needs is there: running out is
 * "incomplete" (or 413 once the wire limit is reached), and a byte that
 * proves the body malformed is an error at once, even before the rest
 * arrives, as the head parser does.  So every strict prefix of a valid body
 * is incomplete, and nothing at or past buf + len is read.
 *
 * decode_chunked runs only on a body scan_chunked accepted, so it trusts the
 * structure and just copies the chunk data down to the front.
 */
#include "chunked.h"

#include <stdint.h>
#include <string.h>

namespace salvo {
namespace {

/* Character classes, one bit each, indexed by the unsigned byte. */
enum : uint8_t {
  kTchar = 1,   // token, RFC 9110 5.6.2: "!#$%&'*+-.^_`|~" DIGIT ALPHA
  kQdtext = 2,  // RFC 9110 5.6.4: HTAB / SP / 0x21 / 0x23-5B / 0x5D-7E / obs-text
  kPair = 4,    // after "\" in a quoted-pair: HTAB / SP / VCHAR / obs-text
  kValue = 8,   // field-value bytes, RFC 9110 5.5: VCHAR / obs-text / SP / HTAB
};

struct Tables {
  uint8_t cls[256];
  int8_t hex[256];  // HEXDIG value (RFC 5234: letters in either case), or -1
  constexpr Tables() : cls(), hex() {
    for (int c = 0; c < 256; c++) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                   (c >= 'a' && c <= 'z');
      bool tsym = c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
                  c == '\'' || c == '*' || c == '+' || c == '-' || c == '.' ||
                  c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
      bool visible = (c >= 0x21 && c <= 0x7E) || c >= 0x80;  // VCHAR / obs-text
      bool ws = c == ' ' || c == '\t';
      uint8_t b = 0;
      if (alnum || tsym) b |= kTchar;
      if ((visible || ws) && c != '"' && c != '\\') b |= kQdtext;
      if (visible || ws) b |= kPair | kValue;
      cls[c] = b;
      hex[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
               : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
               : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                      : static_cast<int8_t>(-1);
    }
  }
};

constexpr Tables kTables{};

inline bool is(char c, uint8_t cls) {
  return (kTables.cls[static_cast<uint8_t>(c)] & cls) != 0;
}
inline int hex_value(char c) { return kTables.hex[static_cast<uint8_t>(c)]; }
inline bool is_ws(char c) { return c == ' ' || c == '\t'; }

inline const char* skip(const char* p, const char* end, uint8_t cls) {
  while (p != end && is(*p, cls)) ++p;
  return p;
}
inline const char* skip_ws(const char* p, const char* end) {
  while (p != end && is_ws(*p)) ++p;
  return p;
}

/* Internal step results: kOk goes on; kMore means the byte needed is not in
 * the buffer (the caller turns it into incomplete or 413); errors pass up. */
constexpr int kOk = 0;
constexpr int kMore = kChunkedIncomplete;

/* CRLF at *pp (RFC 9112 2.2: a bare LF, or a CR not followed by LF, is an
 * error, as in the head parser). */
inline int crlf(const char** pp, const char* end) {
  const char* p = *pp;
  if (p == end) return kMore;
  if (*p != '\r') return kChunkedError;
  if (p + 1 == end) return kMore;
  if (p[1] != '\n') return kChunkedError;
  *pp = p + 2;
  return kOk;
}

/* quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 5.6.4),
 * with *pp on the opening DQUOTE.  CR and LF are in neither qdtext nor a
 * quoted-pair, so a quoted string never hides the end of the line. */
int quoted_string(const char** pp, const char* end) {
  const char* p = *pp + 1;
  for (;;) {
    p = skip(p, end, kQdtext);
    if (p == end) return kMore;
    if (*p == '"') break;
    if (*p != '\\') return kChunkedError;
    if (++p == end) return kMore;
    if (!is(*p, kPair)) return kChunkedError;
    ++p;
  }
  *pp = p + 1;
  return kOk;
}

/* chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * (RFC 9112 7.1.1), chunk-ext-name = token, chunk-ext-val = token /
 * quoted-string.  Extensions are validated and ignored (7.1.1 lets a
 * recipient ignore the ones it does not understand; we understand none).
 * BWS may only precede ";" or "=": whitespace before the CRLF is an error,
 * since a lenient reading of the size line is how parsers come to disagree
 * on where a chunk ends.  On kOk, *pp is on the first byte after the
 * extensions, which the caller requires to be CRLF. */
int chunk_ext(const char** pp, const char* end) {
  const char* p = *pp;
  for (;;) {
    const char* q = skip_ws(p, end);
    if (q == end) return kMore;
    if (*q != ';') {
      if (q != p) return kChunkedError;  // BWS not followed by ";"
      *pp = p;
      return kOk;
    }
    q = skip_ws(q + 1, end);
    if (q == end) return kMore;
    if (!is(*q, kTchar)) return kChunkedError;  // chunk-ext-name is 1*tchar
    q = skip(q, end, kTchar);
    const char* r = skip_ws(q, end);
    if (r == end) return kMore;
    if (*r != '=') {
      p = q;  // no value: any whitespace belongs to the next BWS ";"
      continue;
    }
    r = skip_ws(r + 1, end);
    if (r == end) return kMore;
    if (*r == '"') {
      int s = quoted_string(&r, end);
      if (s != kOk) return s;
    } else {
      if (!is(*r, kTchar)) return kChunkedError;
      r = skip(r, end, kTchar);
    }
    p = r;
  }
}

/* trailer-section = *( field-line CRLF ), then the final CRLF (RFC 9112
 * 7.1.2), field-line = field-name ":" OWS field-value OWS (5).  The fields
 * are checked with the head parser's rules (no obs-fold, no whitespace
 * before the colon, no CTL in a value) and dropped: RFC 9110 6.5.1 does not
 * let a recipient merge them into the header section, and no handler asks
 * for them. */
int trailers(const char** pp, const char* end) {
  const char* p = *pp;
  for (;;) {
    if (p == end) return kMore;
    if (*p == '\r') break;  // the empty line that ends the body
    /* SP/HTAB (obs-fold), a bare LF or ':' (an empty name) are not tchars. */
    if (!is(*p, kTchar)) return kChunkedError;
    p = skip(p, end, kTchar);
    if (p == end) return kMore;
    if (*p != ':') return kChunkedError;
    /* OWS is value bytes too, and is never part of the value: one scan. */
    p = skip(p + 1, end, kValue);
    int s = crlf(&p, end);
    if (s != kOk) return s;
  }
  int s = crlf(&p, end);
  if (s != kOk) return s;
  *pp = p;
  return kOk;
}

/* The body is refused with 413 past chunked_wire_limit; the constexpr in the
 * header would wrap for a max_body near SIZE_MAX, so saturate here. */
inline size_t wire_limit(size_t max_body) {
  return max_body > (SIZE_MAX - 65536) / 2 ? SIZE_MAX : chunked_wire_limit(max_body);
}

int scan(const char* buf, size_t len, size_t max_body, size_t* encoded_len,
         size_t* decoded_len) {
  const size_t limit = wire_limit(max_body);
  /* Bytes at or past the wire limit can never belong to an acceptable body,
   * so the scan stops there; needing one of them means 413 (see the caller). */
  const char* const end = buf + (len < limit ? len : limit);
  // Resume after the chunks a previous call already accepted (see chunked.h).
  const char* p = buf + (*encoded_len <= len ? *encoded_len : 0);
  size_t decoded = *encoded_len <= len ? *decoded_len : 0;
  for (;;) {
    // A safe place to resume from: the start of a chunk-size line.
    *encoded_len = static_cast<size_t>(p - buf);
    *decoded_len = decoded;
    /* chunk-size = 1*HEXDIG.  RFC 9112 7.1 asks recipients to expect large
     * numerals and guard against overflow: each digit is checked against
     * what max_body still allows, so the sum never wraps and an oversized
     * chunk is refused from its size line, before its data is buffered.
     * Leading zeros are valid and cost nothing (the wire limit bounds them). */
    if (p == end) return kMore;
    if (hex_value(*p) < 0) return kChunkedError;
    const size_t room = max_body - decoded;
    size_t size = 0;
    for (int d; p != end && (d = hex_value(*p)) >= 0; ++p) {
      const size_t ud = static_cast<size_t>(d);
      if (room < ud || size > (room - ud) / 16) return kChunkedTooLarge;
      size = size * 16 + ud;
    }
    int s = chunk_ext(&p, end);
    if (s == kOk) s = crlf(&p, end);
    if (s != kOk) return s;
    if (size == 0) break;  // last-chunk = 1*("0") [ chunk-ext ] CRLF

    /* chunk-data CRLF.  Data that cannot end before the wire limit is 413
     * now rather than after it has been buffered. */
    const size_t left = limit - static_cast<size_t>(p - buf);
    if (left < 2 || size > left - 2) return kChunkedTooLarge;
    if (static_cast<size_t>(end - p) < size) return kMore;
    p += size;
    /* The data must be followed by CRLF (7.1): a size that does not match
     * the data is an error, never a resynchronisation on the next CRLF. */
    s = crlf(&p, end);
    if (s != kOk) return s;
    decoded += size;
  }
  int s = trailers(&p, end);
  if (s != kOk) return s;
  *encoded_len = static_cast<size_t>(p - buf);
  *decoded_len = decoded;
  return kChunkedComplete;
}

}  // namespace

int scan_chunked(const char* buf, size_t len, size_t max_body, size_t* encoded_len,
                 size_t* decoded_len) {
  int r = scan(buf, len, max_body, encoded_len, decoded_len);
  /* Out of bytes with more in the buffer means the scan stopped at the wire
   * limit: the body would be longer than allowed (413), whatever follows. */
  if (r == kMore && len > wire_limit(max_body)) return kChunkedTooLarge;
  return r;
}

size_t decode_chunked(char* buf, size_t encoded_len) {
  const char* p = buf;
  const char* const end = buf + encoded_len;
  char* out = buf;
  while (p != end) {
    size_t size = 0;
    for (int d; p != end && (d = hex_value(*p)) >= 0; ++p)
      size = size * 16 + static_cast<size_t>(d);
    /* The size line ends at its LF: the extensions hold no LF, not even in
     * a quoted string (see quoted_string). */
    const void* lf = memchr(p, '\n', static_cast<size_t>(end - p));
    if (lf == nullptr) break;  // not a body scan_chunked accepted
    p = static_cast<const char*>(lf) + 1;
    if (size == 0) break;  // last-chunk: the trailers are dropped
    if (size > static_cast<size_t>(end - p)) size = static_cast<size_t>(end - p);
    /* The decoded form is never longer than the encoded one, so `out` never
     * passes `p`; the ranges may overlap, hence memmove. */
    memmove(out, p, size);
    out += size;
    p += size;
    p += static_cast<size_t>(end - p) < 2 ? static_cast<size_t>(end - p) : 2;  // CRLF
  }
  return static_cast<size_t>(out - buf);
}

}  // namespace salvo
