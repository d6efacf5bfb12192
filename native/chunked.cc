/* Chunked request bodies (RFC 9112 section 7.1); contract in chunked.h.
 *
 * scan_chunked is a state machine over the grammar in chunked.h: it stops
 * wherever the buffered bytes end, records the grammar state in the caller's
 * ChunkScan, and the next call goes on from that byte.  So a body is walked
 * once in total, however it is cut into reads; a chunk-size line, extension
 * or trailer line cut mid-way does not send the next call back to its start
 * (measured at -O2: 256 KiB of extension one byte per call took 23 s of CPU
 * when each call rescanned its line; 16 KiB, the cap, now takes 0.13 ms).
 * Chunk data is jumped over, never examined.  Every byte that proves the body
 * malformed or over a limit is an error at once, even before the rest
 * arrives, as in the head parser; so every strict prefix of a valid body is
 * incomplete, and nothing at or past buf + len is read.
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

/* Internal step results: kOk goes on; kMore means the byte needed is not in
 * the buffer (the caller turns it into incomplete or 413); errors pass up. */
constexpr int kOk = 0;
constexpr int kMore = kChunkedIncomplete;

/* Where in the grammar the scan stopped (ChunkScan::state).  Which of the
 * grammar's alternatives is still open is all the state a line needs: no
 * byte before the stop is looked at again. */
enum State : uint8_t {
  kSizeStart = 0,  // at a chunk-size line: 1*HEXDIG (ChunkScan() starts here)
  kSize,           // in chunk-size (ChunkScan::size so far)
  // chunk-ext (RFC 9112 7.1.1), after the digits:
  kExt,        // after the size or a whole extension: BWS ";" or the CR
  kExtWs,      // BWS after the size or an extension: only more BWS or ";" may follow
  kExtSemi,    // after ";" BWS: a chunk-ext-name
  kExtName,    // in a name: "=", ";", BWS or the CR
  kExtNameWs,  // BWS after a name: "=" or ";"
  kExtEq,      // after "=" BWS: a token or a quoted-string
  kExtToken,   // in a token value
  kExtQuoted,  // in a quoted-string
  kExtPair,    // after "\" in a quoted-string
  kSizeLf,     // the LF that ends a size line
  kData,       // in chunk-data (ChunkScan::size bytes to go)
  kDataCr,     // the CRLF after the data
  kDataLf,
  // trailer-section (RFC 9112 7.1.2):
  kTrailer,  // at a field line or the final CRLF
  kTrName,   // in a field-name
  kTrValue,  // after the colon: OWS field-value OWS
  kTrLf,     // the LF that ends a field line
  kEndLf,    // the LF of the final CRLF
  kDone,
};

/* One byte of chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS
 * chunk-ext-val ] ), chunk-ext-name = token, chunk-ext-val = token /
 * quoted-string (RFC 9112 7.1.1; quoted-string, RFC 9110 5.6.4).  The CR is
 * handled by the caller.  BWS may only precede ";" or "=": whitespace before
 * the CRLF is an error, since a lenient reading of the size line is how
 * parsers come to disagree on where a chunk ends.  CR and LF are in neither
 * qdtext nor a quoted-pair, so a quoted string never hides the end of the
 * line.  Returns false when c cannot continue the extensions. */
bool ext_step(uint8_t* st, char c) {
  switch (*st) {
    case kExt:
      if (is_ws(c)) *st = kExtWs;
      else if (c == ';') *st = kExtSemi;
      else return false;
      return true;
    case kExtWs:
      if (c == ';') *st = kExtSemi;
      return is_ws(c) || c == ';';
    case kExtSemi:
      if (is(c, kTchar)) *st = kExtName;  // chunk-ext-name is 1*tchar
      return is_ws(c) || is(c, kTchar);
    case kExtName:
      if (is(c, kTchar)) return true;
      if (is_ws(c)) *st = kExtNameWs;
      else if (c == '=') *st = kExtEq;
      else if (c == ';') *st = kExtSemi;
      else return false;
      return true;
    case kExtNameWs:
      if (c == '=') *st = kExtEq;
      else if (c == ';') *st = kExtSemi;  // no value: the BWS was before ";"
      else return is_ws(c);
      return true;
    case kExtEq:
      if (c == '"') *st = kExtQuoted;
      else if (is(c, kTchar)) *st = kExtToken;
      else return is_ws(c);
      return true;
    case kExtToken:
      if (is(c, kTchar)) return true;
      if (is_ws(c)) *st = kExtWs;
      else if (c == ';') *st = kExtSemi;
      else return false;
      return true;
    case kExtQuoted:
      if (c == '"') *st = kExt;
      else if (c == '\\') *st = kExtPair;
      else return is(c, kQdtext);
      return true;
    case kExtPair:
      *st = kExtQuoted;
      return is(c, kPair);
  }
  return false;
}

/* The extensions of one size line, from *pp (state kExt..kExtPair) through
 * its CR, or to `end`.  They are validated and ignored (7.1.1 lets a
 * recipient ignore the ones it does not understand; we understand none), and
 * counted against kMaxChunkExtBytes byte by byte, so an over-long extension
 * is refused as soon as its first byte past the cap arrives, whether or not
 * it is well formed. */
int chunk_ext(const char** pp, const char* end, ChunkScan* s) {
  const char* p = *pp;
  uint8_t st = s->state;
  size_t n = s->ext_bytes;
  int r = kOk;
  for (; p != end; ++p) {
    if (*p == '\r') {
      // The line may end after the size, a name, a token or a quoted string.
      if (st != kExt && st != kExtName && st != kExtToken) {
        r = kChunkedError;
      } else {
        st = kSizeLf;
        ++p;
      }
      break;
    }
    if (++n > kMaxChunkExtBytes) { r = kChunkedTooLarge; break; }
    if (!ext_step(&st, *p)) { r = kChunkedError; break; }
  }
  *pp = p;
  s->state = st;
  s->ext_bytes = n;
  return r;
}

/* trailer-section = *( field-line CRLF ), then the final CRLF (RFC 9112
 * 7.1.2), field-line = field-name ":" OWS field-value OWS (5), from *pp
 * (state kTrailer..kTrLf) through the CR of the final CRLF, or to `end`.
 * The fields are checked with the head parser's rules (no obs-fold, no
 * whitespace before the colon, no CTL in a value) and dropped: RFC 9110
 * 6.5.1 does not let a recipient merge them into the header section, and no
 * handler asks for them.  Every byte of a field line, CRLF included, counts
 * against kMaxTrailerBytes as it arrives. */
int trailers(const char** pp, const char* end, ChunkScan* s) {
  const char* p = *pp;
  uint8_t st = s->state;
  size_t n = s->trailer_bytes;
  int r = kOk;
  for (; p != end; ++p) {
    const char c = *p;
    if (st == kTrailer && c == '\r') {  // the empty line that ends the body
      st = kEndLf;
      ++p;
      break;
    }
    if (++n > kMaxTrailerBytes) { r = kChunkedTrailersTooLarge; break; }
    bool ok;
    switch (st) {
      case kTrailer:  // SP/HTAB (obs-fold), a bare LF or ':' (an empty name) are not tchars
        ok = is(c, kTchar);
        st = kTrName;
        break;
      case kTrName:
        ok = is(c, kTchar) || c == ':';
        if (c == ':') st = kTrValue;
        break;
      case kTrValue:  // OWS is value bytes too, and is never part of the value
        ok = is(c, kValue) || c == '\r';
        if (c == '\r') st = kTrLf;
        break;
      default:  // kTrLf: CRLF only (RFC 9112 2.2), a CR not followed by LF is an error
        ok = c == '\n';
        st = kTrailer;
        break;
    }
    if (!ok) { r = kChunkedError; break; }
  }
  *pp = p;
  s->state = st;
  s->trailer_bytes = n;
  return r;
}

/* The body is refused with 413 past chunked_wire_limit; the constexpr in the
 * header would wrap for a max_body near SIZE_MAX, so saturate here. */
inline size_t wire_limit(size_t max_body) {
  return max_body > (SIZE_MAX - 65536) / 2 ? SIZE_MAX : chunked_wire_limit(max_body);
}

/* Runs the state machine in *s from buf + s->resume until the body ends, a
 * byte refuses it, or `end`; kMore then, with s->resume == end - buf.
 * `out` (streaming decode only, else null): chunk data is also moved down to
 * out + *out_len as it is passed, one memmove per data run, not per byte. */
int run(const char* buf, const char* const end, size_t limit, size_t max_body, ChunkScan* s,
        char* out = nullptr, size_t* out_len = nullptr) {
  const char* p = buf + s->resume;
  while (s->state != kDone && p != end) {
    switch (s->state) {
      case kSizeStart:
        if (hex_value(*p) < 0) return kChunkedError;
        s->size = 0;
        s->state = kSize;
        [[fallthrough]];
      case kSize: {
        /* chunk-size = 1*HEXDIG.  RFC 9112 7.1 asks recipients to expect
         * large numerals and guard against overflow: each digit is checked
         * against what max_body still allows, so the sum never wraps and an
         * oversized chunk is refused from its size line, before its data is
         * buffered.  Leading zeros are valid and cost nothing (the wire
         * limit bounds them). */
        const size_t room = max_body - s->decoded;
        size_t size = s->size;
        for (int d; p != end && (d = hex_value(*p)) >= 0; ++p) {
          const size_t ud = static_cast<size_t>(d);
          if (room < ud || size > (room - ud) / 16) return kChunkedTooLarge;
          size = size * 16 + ud;
        }
        s->size = size;
        if (p != end) s->state = kExt;  // the first byte after the digits: an extension or the CR
        break;
      }
      case kExt: case kExtWs: case kExtSemi: case kExtName: case kExtNameWs:
      case kExtEq: case kExtToken: case kExtQuoted: case kExtPair: {
        int e = chunk_ext(&p, end, s);
        if (e != kOk) return e;
        break;
      }
      case kSizeLf:
        // CRLF (RFC 9112 2.2: a CR not followed by LF is an error, as in the head parser).
        if (*p++ != '\n') return kChunkedError;
        if (s->size == 0) {  // last-chunk = 1*("0") [ chunk-ext ] CRLF
          s->state = kTrailer;
          break;
        }
        {
          /* chunk-data CRLF.  Data that cannot end before the wire limit is
           * 413 now rather than after it has been buffered. */
          const size_t left = limit - static_cast<size_t>(p - buf);
          if (left < 2 || s->size > left - 2) return kChunkedTooLarge;
        }
        s->decoded += s->size;  // within max_body: the digits were checked
        s->state = kData;
        break;
      case kData: {
        const size_t avail = static_cast<size_t>(end - p);
        if (out != nullptr) {
          const size_t take = avail < s->size ? avail : s->size;
          memmove(out + *out_len, p, take);  // out + *out_len <= p: the ranges may overlap
          *out_len += take;
        }
        if (avail < s->size) {
          s->size -= avail;
          p = end;
        } else {
          p += s->size;
          s->size = 0;
          s->state = kDataCr;
        }
        break;
      }
      /* The data must be followed by CRLF (7.1): a size that does not match
       * the data is an error, never a resynchronisation on the next CRLF. */
      case kDataCr:
        if (*p++ != '\r') return kChunkedError;
        s->state = kDataLf;
        break;
      case kDataLf:
        if (*p++ != '\n') return kChunkedError;
        s->state = kSizeStart;
        break;
      case kTrailer: case kTrName: case kTrValue: case kTrLf: {
        int t = trailers(&p, end, s);
        if (t != kOk) return t;
        break;
      }
      case kEndLf:
        if (*p++ != '\n') return kChunkedError;
        s->state = kDone;
        break;
      default:  // not a state this scanner leaves: refuse rather than guess
        return kChunkedError;
    }
  }
  s->resume = static_cast<size_t>(p - buf);
  return s->state == kDone ? kChunkedComplete : kMore;
}

}  // namespace

int scan_chunked(const char* buf, size_t len, size_t max_body, ChunkScan* scan) {
  const size_t limit = wire_limit(max_body);
  /* Bytes at or past the wire limit can never belong to an acceptable body,
   * so the scan stops there; needing one of them means 413 (below). */
  const char* const end = buf + (len < limit ? len : limit);
  /* A resume point past the bytes at hand is not from this buffer: start
   * over (correct, just not incremental). */
  if (scan->resume > static_cast<size_t>(end - buf) || scan->state > kDone) *scan = ChunkScan();
  int r = run(buf, end, limit, max_body, scan);
  /* Out of bytes with more in the buffer means the scan stopped at the wire
   * limit: the body would be longer than allowed (413), whatever follows. */
  if (r == kMore && len > limit) return kChunkedTooLarge;
  return r;
}

int decode_chunked_stream(char* buf, size_t len, size_t max_body, ChunkScan* scan,
                          size_t* decoded) {
  *decoded = 0;
  scan->resume = 0;  // buf starts where the previous call stopped
  /* No wire limit: nothing is buffered past this call, so framing overhead
   * costs time (bounded by max_body and the extension cap), not memory. */
  return run(buf, buf + len, SIZE_MAX, max_body, scan, buf, decoded);
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
     * a quoted string (see ext_step). */
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
