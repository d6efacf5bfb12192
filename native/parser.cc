/* salvo's HTTP/1.1 request-head parser (contract and strictness: parser.h).
 *
 * Shape: one template, parse_head<Scan>, holds every grammar decision; the two
 * implementations differ only in how they skip runs of allowed bytes:
 *
 *   ScalarScan  table-driven byte loops (kCharClass), runs on any CPU;
 *   Sse42Scan   16-byte blocks with _mm_cmpestri in range mode, which returns
 *               the index of the first byte that falls in a set of up to eight
 *               [lo, hi] ranges (the "stop" bytes), and then the scalar loop
 *               for the last < 16 bytes.
 *
 * Because the stop sets are the exact complements of the scalar classes (or a
 * superset that is re-checked with the table, for field names), both paths
 * stop on the same byte and so return identical results; native/test checks
 * this on random inputs.
 *
 * Memory safety: a 16-byte block is loaded only when at least 16 bytes remain
 * before buf + len, so neither path reads at or past the end (the tests put
 * every input right before a PROT_NONE page).  Nothing here allocates or keeps
 * state; the tables are static const.
 *
 * Only the Sse42Scan functions and parse_sse42 carry target("sse4.2"): the
 * rest of the addon is compiled for baseline x86-64, and the SSE code only
 * runs after cpu_has_sse42() said yes.  On other architectures it compiles
 * out.
 */
#include "parser.h"

#include <limits.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SALVO_PARSER_SSE42 1
#include <nmmintrin.h>
#else
#define SALVO_PARSER_SSE42 0
#endif

namespace salvo {
namespace {

/* Character classes, one bit each, indexed by the unsigned byte. */
enum : uint8_t {
  /* tchar, RFC 9110 5.6.2: "!#$%&'*+-.^_`|~" DIGIT ALPHA.  Methods (9.1) and
   * field names (5.1) are tokens. */
  kTchar = 1,
  /* field-vchar / SP / HTAB, RFC 9110 5.5: VCHAR (0x21-0x7E), obs-text
   * (0x80-0xFF), SP, HTAB.  Excludes NUL, CR, LF, other CTLs and DEL. */
  kValue = 2,
  /* request-target bytes, RFC 9112 3.2: the target forms use only visible
   * characters; we also pass obs-text through (0x80-0xFF) and leave URI
   * validation to the router.  No CTL, no SP (SP ends it, 3), no DEL. */
  kTarget = 4,
};

struct CharClass {
  uint8_t bits[256];
  constexpr CharClass() : bits() {
    for (int c = 0; c < 256; c++) {
      uint8_t b = 0;
      bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                   (c >= 'a' && c <= 'z');
      bool tsym = c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
                  c == '\'' || c == '*' || c == '+' || c == '-' || c == '.' ||
                  c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
      if (alnum || tsym) b |= kTchar;
      if ((c >= 0x21 && c != 0x7F) || c == ' ' || c == '\t') b |= kValue;
      if (c >= 0x21 && c != 0x7F) b |= kTarget;
      bits[c] = b;
    }
  }
};

constexpr CharClass kCharClass{};

inline bool is_class(char c, uint8_t cls) {
  return (kCharClass.bits[static_cast<uint8_t>(c)] & cls) != 0;
}

/* First byte in [p, end) not in `cls`, or end.  Unrolled by 8 so the loop
 * test and the bounds test are paid once per 8 bytes; the per-byte cost is a
 * table load and a test. */
inline const char* skip_class(const char* p, const char* end, uint8_t cls) {
  while (end - p >= 8) {
    if (!is_class(p[0], cls)) return p;
    if (!is_class(p[1], cls)) return p + 1;
    if (!is_class(p[2], cls)) return p + 2;
    if (!is_class(p[3], cls)) return p + 3;
    if (!is_class(p[4], cls)) return p + 4;
    if (!is_class(p[5], cls)) return p + 5;
    if (!is_class(p[6], cls)) return p + 6;
    if (!is_class(p[7], cls)) return p + 7;
    p += 8;
  }
  while (p != end && is_class(*p, cls)) ++p;
  return p;
}

struct ScalarScan {
  /* Name, then value from after the colon: each byte is classified once and
   * the loop exits are branches the CPU predicts, not data dependencies. */
  static constexpr bool kLineFirst = false;
  static const char* target(const char* p, const char* end) {
    return skip_class(p, end, kTarget);
  }
  static const char* name(const char* p, const char* end) {
    return skip_class(p, end, kTchar);
  }
  static const char* value(const char* p, const char* end) {
    return skip_class(p, end, kValue);
  }
};

#if SALVO_PARSER_SSE42

#define SALVO_SSE42 __attribute__((target("sse4.2")))

/* Unsigned bytes, each byte of the block compared against [lo, hi] pairs, the
 * index of the first byte that matched any range (16 when none did). */
constexpr int kRangeMode =
    _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_LEAST_SIGNIFICANT;

/* Address of the last position where a 16-byte load still ends at or before
 * `end`.  Loops test p <= last_block(end), a loop invariant, instead of
 * end - p >= 16, which costs a subtraction per block (3% on the browser-like
 * request).  An object never sits in the first 16 bytes of the address
 * space, so this does not wrap. */
inline uintptr_t last_block(const char* end) {
  return reinterpret_cast<uintptr_t>(end) - 16;
}

inline bool block_fits(const char* p, uintptr_t last) {
  return reinterpret_cast<uintptr_t>(p) <= last;
}

struct Sse42Scan {
  /* Load plus pcmpestri take ~16 cycles here (AMD EPYC, measured) and the
   * next scan's address depends on the result, so per line we keep one scan
   * on that chain: see parse_head. */
  static constexpr bool kLineFirst = true;
  /* Stop bytes for the target: the complement of kTarget, exactly:
   * 0x00-0x20 (CTLs and SP) and 0x7F. */
  SALVO_SSE42 static const char* target(const char* p, const char* end) {
    const __m128i ranges = _mm_setr_epi8(0x00, 0x20, 0x7F, 0x7F, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0);
    const uintptr_t last = last_block(end);
    while (block_fits(p, last)) {
      __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      int i = _mm_cmpestri(ranges, 4, block, 16, kRangeMode);
      if (i != 16) return p + i;
      p += 16;
    }
    return skip_class(p, end, kTarget);
  }

  /* Stop bytes for a field name.  The complement of tchar takes ten ranges
   * (0x00-0x20 " ( ) , / :-@ [-] { } 0x7F-0xFF) and cmpestri holds eight, so
   * the last range is widened to 0x7B-0xFF, which also stops on the tchars
   * '|' (0x7C) and '~' (0x7E).  A stop is a candidate: the table confirms it,
   * and a false one resumes the scan one byte later.  Both are rare in real
   * field names, so the common case is one block and the ':' stop. */
  SALVO_SSE42 static const char* name(const char* p, const char* end) {
    const __m128i ranges =
        _mm_setr_epi8(0x00, 0x20, 0x22, 0x22, 0x28, 0x29, 0x2C, 0x2C, 0x2F,
                      0x2F, 0x3A, 0x40, 0x5B, 0x5D, 0x7B, static_cast<char>(0xFF));
    const uintptr_t last = last_block(end);
    while (block_fits(p, last)) {
      __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      int i = _mm_cmpestri(ranges, 16, block, 16, kRangeMode);
      if (i == 16) {
        p += 16;
      } else if (p[i] == ':') {
        return p + i;  // the usual stop, and no table load for it
      } else if (is_class(p[i], kTchar)) {
        p += i + 1;  // '|' or '~': a token byte after all
      } else {
        return p + i;
      }
    }
    return skip_class(p, end, kTchar);
  }

  /* Stop bytes for a field value: the complement of kValue, exactly:
   * 0x00-0x08, 0x0A-0x1F (so CR, LF and the other CTLs but not HTAB), 0x7F. */
  SALVO_SSE42 static const char* value(const char* p, const char* end) {
    const __m128i ranges = _mm_setr_epi8(0x00, 0x08, 0x0A, 0x1F, 0x7F, 0x7F, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0, 0);
    const uintptr_t last = last_block(end);
    while (block_fits(p, last)) {
      __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      int i = _mm_cmpestri(ranges, 6, block, 16, kRangeMode);
      if (i != 16) return p + i;
      p += 16;
    }
    return skip_class(p, end, kValue);
  }
};

#endif  // SALVO_PARSER_SSE42

inline bool is_digit(char c) { return static_cast<unsigned>(c - '0') <= 9; }

/* "HTTP/" DIGIT "." DIGIT CRLF (RFC 9112 2.3 and 3).  Returns 1, -1 or -2. */
inline int match_version(const char* p, const char* end, int* major,
                         int* minor) {
  size_t avail = static_cast<size_t>(end - p);
  if (avail >= 10) {  // the usual case: all ten bytes are there
    if (p[0] == 'H' && p[1] == 'T' && p[2] == 'T' && p[3] == 'P' &&
        p[4] == '/' && is_digit(p[5]) && p[6] == '.' && is_digit(p[7]) &&
        p[8] == '\r' && p[9] == '\n') {
      *major = p[5] - '0';
      *minor = p[7] - '0';
      return 1;
    }
    return kParseError;  // includes a bare LF for CRLF (2.2)
  }
  /* A short buffer is checked byte by byte up to what is there, so that a
   * wrong byte is an error at once and a correct prefix is incomplete.
   * 'D' = any DIGIT. */
  static const char kShape[10] = {'H', 'T', 'T', 'P', '/',
                                  'D', '.', 'D', '\r', '\n'};
  for (size_t i = 0; i < avail; i++) {
    char c = p[i];
    bool ok = kShape[i] == 'D' ? is_digit(c) : c == kShape[i];
    if (!ok) return kParseError;
  }
  return kParseIncomplete;
}

/* The grammar, shared by both implementations.  always_inline puts a copy in
 * each caller, so in parse_sse42 the Sse42Scan calls are made from a function
 * compiled with SSE4.2 and can be inlined too.  g++ (what node-gyp uses on
 * Linux) inlines them all; clang 14 keeps name() and value() as calls, which
 * costs ~35% on the browser-like request. */
template <class Scan>
__attribute__((always_inline)) inline int parse_head(
    const char* buf, size_t len, RequestHead* head, HeaderField* headers,
    size_t* num_headers) {
  const size_t capacity = *num_headers;
  *num_headers = 0;
  /* The result is an int; a head can never be this long in practice (the
   * connection layer caps it far lower), so a longer buffer is parsed as if
   * it ended at INT_MAX and reads as incomplete. */
  if (len > static_cast<size_t>(INT_MAX)) len = INT_MAX;
  /* Nothing to read (buf may then be null).  From here on buf points to a
   * real object, which is what makes last_block() safe. */
  if (len == 0) return kParseIncomplete;
  const char* p = buf;
  const char* const end = buf + len;

  /* request-line = method SP request-target SP HTTP-version CRLF (9112 3).
   * RFC 9112 2.2 lets a server ignore empty lines before the request line;
   * we do not: a leading CR or LF is not a tchar, so it is an error.  Clients
   * that send one are broken and rejecting keeps this path simple. */
  const char* method = p;
  p = skip_class(p, end, kTchar);  // methods are short: a block scan won't pay
  if (p == end) return kParseIncomplete;
  if (*p != ' ' || p == method) return kParseError;  // one SP, method 1+ bytes
  head->method = method;
  head->method_len = static_cast<size_t>(p - method);
  ++p;

  const char* target = p;
  p = Scan::target(p, end);
  if (p == end) return kParseIncomplete;
  if (*p != ' ' || p == target) return kParseError;  // CTL/DEL, or empty/2 SP
  head->target = target;
  head->target_len = static_cast<size_t>(p - target);
  ++p;

  int r = match_version(p, end, &head->major_version, &head->minor_version);
  if (r != 1) return r;
  p += 10;

  /* *( field-line CRLF ) CRLF (9112 2.1), field-line = field-name ":" OWS
   * field-value OWS (5). */
  size_t n = 0;
  for (;;) {
    if (p == end) return kParseIncomplete;
    if (*p == '\r') {
      if (p + 1 == end) return kParseIncomplete;
      if (p[1] != '\n') return kParseError;  // CR not followed by LF (2.2)
      *num_headers = n;
      return static_cast<int>(p + 2 - buf);
    }
    /* A line that starts with SP/HTAB is obs-fold (5.2: we reject it), a bare
     * LF is an error (2.2), ':' would be an empty name: none is a tchar. */
    if (!is_class(*p, kTchar)) return kParseError;
    /* Known to be one field more than the caller has room for: 431 now,
     * without reading the rest of a possibly huge header block. */
    if (n == capacity) return kParseTooManyHeaders;

    const char* name = p;
    const char* colon;  // first non-tchar of the line: ':' if valid
    const char* eol;    // first byte that cannot be in a value: CR if valid
    if (Scan::kLineFirst) {
      /* Every tchar, ':' and OWS is also a value byte, so one value scan
       * from the line start finds the CR that ends the line, and the first
       * non-tchar (colon) can only come at or before it.  The next line's
       * position then depends on one scan, and the name scan, which starts
       * from the same known address, runs alongside it instead of before
       * (measured on a 616-byte browser-like request, AMD EPYC: 178 ns with
       * the value scan after the colon, 153 ns this way).  Both start at the
       * line start, a known tchar, rather than one byte later: one add fewer
       * on that chain (-5%). */
      eol = Scan::value(p, end);
      colon = Scan::name(p, end);
    } else {
      colon = Scan::name(p + 1, end);
      eol = colon;  // the value scan starts after the colon, below
    }
    if (colon == end) return kParseIncomplete;
    if (*colon != ':') return kParseError;  // no whitespace before ':' (5.1)
    const size_t name_len = static_cast<size_t>(colon - name);
    p = colon + 1;

    if (Scan::kLineFirst) {
      /* Leading OWS.  Bytes before eol are value bytes, and the only ones
       * of those <= 0x20 are SP and HTAB: one compare. */
      while (p != eol && static_cast<uint8_t>(*p) <= 0x20) ++p;
    } else {
      while (p != end && (*p == ' ' || *p == '\t')) ++p;
      if (p == end) return kParseIncomplete;
      eol = Scan::value(p, end);
    }
    const char* value = p;
    p = eol;
    if (end - p >= 2) {  // the usual case: one test for both bytes' presence
      /* NUL, LF, DEL or another CTL in the value (5.5), or CR without LF. */
      if (p[0] != '\r' || p[1] != '\n') return kParseError;
    } else {
      if (p == end) return kParseIncomplete;
      if (*p != '\r') return kParseError;
      return kParseIncomplete;  // a CR, its LF not here yet
    }

    /* Trailing OWS is not part of the value (5.5); the value started on a
     * non-OWS byte or is empty, so this stops at `value` at the latest.  As
     * above, a value byte <= 0x20 is SP or HTAB. */
    const char* value_end = p;
    while (value_end != value && static_cast<uint8_t>(value_end[-1]) <= 0x20)
      --value_end;

    headers[n].name = name;
    headers[n].name_len = name_len;
    headers[n].value = value;
    headers[n].value_len = static_cast<size_t>(value_end - value);
    ++n;
    p += 2;
  }
}

int parse_scalar(const char* buf, size_t len, RequestHead* head,
                 HeaderField* headers, size_t* num_headers) {
  return parse_head<ScalarScan>(buf, len, head, headers, num_headers);
}

#if SALVO_PARSER_SSE42
SALVO_SSE42 int parse_sse42(const char* buf, size_t len, RequestHead* head,
                            HeaderField* headers, size_t* num_headers) {
  return parse_head<Sse42Scan>(buf, len, head, headers, num_headers);
}
#endif

}  // namespace

bool cpu_has_sse42() {
#if SALVO_PARSER_SSE42
  /* Both only read the CPU model that libgcc/compiler-rt fill once; the init
   * call makes this safe even from a static constructor. */
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

/* kSse42 on a CPU without SSE4.2 would fault: callers choose the impl with
 * cpu_has_sse42().  Where the SSE path is compiled out, kSse42 runs the scalar
 * one, which gives the same results. */
int parse_request(ParserImpl impl, const char* buf, size_t len,
                  RequestHead* head, HeaderField* headers,
                  size_t* num_headers) {
#if SALVO_PARSER_SSE42
  if (impl == ParserImpl::kSse42)
    return parse_sse42(buf, len, head, headers, num_headers);
#else
  (void)impl;
#endif
  return parse_scalar(buf, len, head, headers, num_headers);
}

}  // namespace salvo
