/* Standalone tests of native/framing.cc and native/chunked.cc (no Node).
 *
 * next_message() is what the connection runs on every read: the head parser,
 * then the framing rules of RFC 9112 (sections 6, 7.1, 9.3) and the limits.
 * As in parser_test.cc, every input is copied so that its last byte sits
 * right before a PROT_NONE page, so a read at or past buf + len faults, and
 * every case runs on the scalar parser and, when the CPU has it, on SSE4.2.
 *
 * The chunked decoder is also compared with `ref_chunked` below, a
 * byte-at-a-time state machine written from the grammar in chunked.h that
 * shares no code with chunked.cc, on fixed cases and on random mutations of
 * random valid bodies, whole and resumed across reads cut at every point
 * (carrying the ChunkScan as the connection does).
 *
 * Build and run: make -C native/test (plain -O2 -Werror, then ASan/UBSan).
 */
#include "../chunked.h"
#include "../framing.h"

#include "harness.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

using salvo::HeaderField;
using salvo::Limits;
using salvo::Message;
using salvo::ParserImpl;

namespace {

// check(), show(), GuardedBuffer and g_buf: harness.h

const char* impl_name(ParserImpl impl) {
  return impl == ParserImpl::kScalar ? "scalar" : "sse42";
}

/* One next_message() call, its results as values. */
struct Framed {
  int result = 0;
  Message m{};
  std::string body;   // m.body_len bytes at head_len, after decoding
  std::string after;  // the whole buffer after the call
};

Framed frame(ParserImpl impl, const std::string& in, const Limits& limits) {
  char* buf = g_buf->place(in);
  std::vector<HeaderField> fields(limits.max_headers + 1);
  fields[limits.max_headers].name = "sentinel";
  Framed f;
  f.result = salvo::next_message(impl, buf, in.size(), limits, fields.data(), &f.m);
  check(fields[limits.max_headers].name != nullptr &&
            strcmp(fields[limits.max_headers].name, "sentinel") == 0,
        "wrote past the fields capacity: " + show(in));
  if (f.result > 0) {
    check(static_cast<size_t>(f.result) == f.m.consumed, "result is consumed");
    check(f.m.consumed <= in.size(), "consumed within the input");
    check(f.m.head_len + f.m.body_len <= f.m.consumed, "head + body within consumed");
    check(f.m.num_headers <= limits.max_headers, "num_headers within capacity");
    f.body.assign(buf + f.m.head_len, f.m.body_len);
  }
  f.after.assign(buf, in.size());
  return f;
}

Limits default_limits() { return Limits(); }

/* Runs `in` on every impl; each must give `want`. */
void expect_status(const std::string& name, const std::string& in, int want,
                   const Limits& limits = default_limits()) {
  for (ParserImpl impl : g_impls) {
    Framed f = frame(impl, in, limits);
    check(f.result == want, name + " [" + impl_name(impl) + "]: got " +
                                std::to_string(f.result) + " want " +
                                std::to_string(want) + " for " + show(in));
  }
}

struct Want {
  std::string body;
  bool keep_alive = true;
  bool expect_continue = false;
  bool chunked = false;
  size_t consumed = 0;  // 0: the whole input
};

/* A complete message: checks the result, the body and the flags, that bytes
 * after the message are untouched, and that every strict prefix of it is
 * incomplete (-2), with `need` set once the head is in (Content-Length). */
void expect_message(const std::string& name, const std::string& in, const Want& w,
                    const Limits& limits = default_limits(), bool prefixes = true) {
  size_t consumed = w.consumed ? w.consumed : in.size();
  for (ParserImpl impl : g_impls) {
    std::string tag = name + " [" + impl_name(impl) + "]";
    Framed f = frame(impl, in, limits);
    check(f.result == static_cast<int>(consumed),
          tag + ": result " + std::to_string(f.result) + " want " +
              std::to_string(consumed) + " for " + show(in));
    if (f.result <= 0) continue;
    check(f.body == w.body, tag + ": body " + show(f.body) + " want " + show(w.body));
    check(f.m.framing.keep_alive == w.keep_alive, tag + ": keep_alive");
    check(f.m.framing.expect_continue == w.expect_continue, tag + ": expect_continue");
    check(f.m.framing.chunked == w.chunked, tag + ": chunked");
    check(f.m.framing.status == 0, tag + ": status 0");
    check(f.after.compare(consumed, std::string::npos, in, consumed, std::string::npos) == 0,
          tag + ": bytes after the message untouched");
    if (!w.chunked)
      check(f.after == in, tag + ": a Content-Length body is not moved");
    if (!prefixes) continue;
    for (size_t k = 0; k < consumed; k++) {
      Framed p = frame(impl, in.substr(0, k), limits);
      check(p.result == -2, tag + ": prefix " + std::to_string(k) + " gave " +
                                std::to_string(p.result));
      if (!w.chunked && k >= f.m.head_len)
        check(p.m.need == consumed, tag + ": need " + std::to_string(p.m.need) +
                                        " at prefix " + std::to_string(k));
    }
  }
}

/* ---- reference chunked decoder -------------------------------------------
 * One byte at a time, from the grammar in chunked.h (RFC 9112 7.1, 9110
 * 5.6.2 tokens, 5.6.4 quoted strings, 5.5 field values), no code shared with
 * chunked.cc.  413 rules, from the header: a chunk-size past what max_body
 * still allows (as soon as its digit is read), data that cannot end within
 * chunked_wire_limit (as soon as its size line ends), any byte needed at or
 * past the wire limit, and the 16385th byte of chunk extensions in the body
 * (any byte after the digits of a size line but its CR).  431: the 16385th
 * byte of trailer field lines (CRLFs included, the final CRLF not).  A byte
 * over a cap is refused for that even if it is also malformed. */
struct RefResult {
  int result = 0;
  size_t encoded = 0;
  std::string decoded;
  bool operator==(const RefResult& o) const {
    return result == o.result &&
           (result != salvo::kChunkedComplete ||
            (encoded == o.encoded && decoded == o.decoded));
  }
};

bool r_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}
bool r_ws(unsigned char c) { return c == ' ' || c == '\t'; }
bool r_vchar_obs(unsigned char c) { return (c >= 0x21 && c <= 0x7E) || c >= 0x80; }
int r_hex(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

RefResult ref_chunked(const std::string& in, size_t max_body) {
  enum St { kSizeFirst, kSize, kExt, kExtSemi, kExtName, kExtAfterName, kExtEq,
            kExtTok, kExtQ, kExtQEsc, kLineLf, kData, kDataCr, kDataLf,
            kTrStart, kTrName, kTrValue, kTrLf, kEndLf };
  /* Computed without wrapping, then capped at SIZE_MAX (no buffer is
   * larger), as chunked.cc does for a max_body near SIZE_MAX. */
  unsigned __int128 limit = static_cast<unsigned __int128>(max_body) * 2 + 65536;
  if (limit > SIZE_MAX) limit = SIZE_MAX;
  RefResult r;
  St st = kSizeFirst;
  unsigned __int128 size = 0;
  size_t remaining = 0, decoded = 0, ext = 0, trailer = 0;
  bool ws = false;
  auto err = [&] { r.result = salvo::kChunkedError; return r; };
  for (size_t i = 0; i < in.size(); i++) {
    if (i >= limit) { r.result = salvo::kChunkedTooLarge; return r; }
    unsigned char c = static_cast<unsigned char>(in[i]);
    bool ext_byte = c != '\r' && ((st == kSize && r_hex(c) < 0) || (st >= kExt && st <= kExtQEsc));
    if (ext_byte && ++ext > 16384) { r.result = salvo::kChunkedTooLarge; return r; }
    bool trailer_byte = (st == kTrStart && c != '\r') || st == kTrName || st == kTrValue ||
                        st == kTrLf;
    if (trailer_byte && ++trailer > 16384) { r.result = salvo::kChunkedTrailersTooLarge; return r; }
    switch (st) {
      case kSizeFirst:
      case kSize:
        if (r_hex(c) >= 0) {
          size = (st == kSizeFirst ? 0 : size) * 16 + r_hex(c);
          if (size > max_body - decoded) { r.result = salvo::kChunkedTooLarge; return r; }
          st = kSize;
        } else if (st == kSizeFirst) return err();
        else if (r_ws(c)) { ws = true; st = kExt; }
        else if (c == ';') st = kExtSemi;
        else if (c == '\r') st = kLineLf;
        else return err();
        break;
      case kExt:  // after the size or a whole extension: BWS ";" or CRLF
        if (r_ws(c)) ws = true;
        else if (c == ';') st = kExtSemi;
        else if (c == '\r' && !ws) st = kLineLf;
        else return err();
        break;
      case kExtSemi:
        if (r_ws(c)) break;
        if (!r_tchar(c)) return err();
        st = kExtName;
        break;
      case kExtName:
        if (r_tchar(c)) break;
        if (r_ws(c)) st = kExtAfterName;
        else if (c == '=') st = kExtEq;
        else if (c == ';') st = kExtSemi;
        else if (c == '\r') st = kLineLf;
        else return err();
        break;
      case kExtAfterName:
        if (r_ws(c)) break;
        if (c == '=') st = kExtEq;
        else if (c == ';') st = kExtSemi;
        else return err();
        break;
      case kExtEq:
        if (r_ws(c)) break;
        if (c == '"') st = kExtQ;
        else if (r_tchar(c)) st = kExtTok;
        else return err();
        break;
      case kExtTok:
        if (r_tchar(c)) break;
        if (r_ws(c)) { ws = true; st = kExt; }
        else if (c == ';') st = kExtSemi;
        else if (c == '\r') st = kLineLf;
        else return err();
        break;
      case kExtQ:
        if (c == '"') { ws = false; st = kExt; }
        else if (c == '\\') st = kExtQEsc;
        else if (!(r_vchar_obs(c) || r_ws(c))) return err();
        break;
      case kExtQEsc:
        if (!(r_vchar_obs(c) || r_ws(c))) return err();
        st = kExtQ;
        break;
      case kLineLf:
        if (c != '\n') return err();
        ws = false;
        if (size == 0) { st = kTrStart; break; }
        if (i + 1 + size + 2 > limit) { r.result = salvo::kChunkedTooLarge; return r; }
        remaining = static_cast<size_t>(size);
        st = kData;
        break;
      case kData:
        r.decoded += static_cast<char>(c);
        if (--remaining == 0) st = kDataCr;
        break;
      case kDataCr:
        if (c != '\r') return err();
        st = kDataLf;
        break;
      case kDataLf:
        if (c != '\n') return err();
        decoded += static_cast<size_t>(size);
        st = kSizeFirst;
        break;
      case kTrStart:
        if (c == '\r') st = kEndLf;
        else if (r_tchar(c)) st = kTrName;
        else return err();
        break;
      case kTrName:
        if (r_tchar(c)) break;
        if (c != ':') return err();
        st = kTrValue;
        break;
      case kTrValue:
        if (c == '\r') st = kTrLf;
        else if (!(r_vchar_obs(c) || r_ws(c))) return err();
        break;
      case kTrLf:
        if (c != '\n') return err();
        st = kTrStart;
        break;
      case kEndLf:
        if (c != '\n') return err();
        r.result = salvo::kChunkedComplete;
        r.encoded = i + 1;
        return r;
    }
  }
  r.result = in.size() > limit ? salvo::kChunkedTooLarge : salvo::kChunkedIncomplete;
  return r;
}

/* scan_chunked, then decode_chunked in place, on a guarded copy.  With
 * `cuts`, the body arrives in reads: the scan runs on each longer prefix (a
 * fresh guarded copy each time, as a read may land in another buffer),
 * carrying its ChunkScan the way the connection does, then on the whole. */
RefResult run_chunked(const std::string& in, size_t max_body,
                      const std::vector<size_t>& cuts = {}) {
  RefResult r;
  salvo::ChunkScan cs;
  char* buf = nullptr;
  size_t len = 0;
  for (size_t i = 0; i <= cuts.size(); i++) {
    len = i < cuts.size() ? cuts[i] : in.size();
    buf = g_buf->place(in.substr(0, len));
    /* Scanned once: the bytes earlier calls accepted are never read again.
     * Poison them (NUL is valid nowhere but in chunk data, which is never
     * read), so a scan that went back to them would fail. */
    memset(buf, 0, cs.resume);
    r.result = salvo::scan_chunked(buf, len, max_body, &cs);
    if (r.result != salvo::kChunkedIncomplete) break;
    /* ... and an incomplete call has examined every byte it was given and
     * keeps none to look at again, so the next call starts after them. */
    check(cs.resume == len, "an incomplete scan stops at the end of the read: " +
                                std::to_string(cs.resume) + " of " + std::to_string(len));
  }
  const size_t enc = cs.resume, dec = cs.decoded;
  if (r.result == salvo::kChunkedComplete) {
    buf = g_buf->place(in.substr(0, len));  // unpoisoned, to decode
    check(enc <= len && dec <= max_body && dec <= enc, "scan lengths in range");
    check(enc <= static_cast<unsigned __int128>(max_body) * 2 + 65536,
          "encoded within the wire limit");
    size_t got = salvo::decode_chunked(buf, enc);
    check(got == dec, "decode_chunked returns decoded_len");
    r.encoded = enc;
    r.decoded.assign(buf, got);
    check(memcmp(buf + enc, in.data() + enc, len - enc) == 0,
          "decode leaves the bytes after the body alone");
  }
  return r;
}

std::string describe(const RefResult& r) {
  std::string s = std::to_string(r.result);
  if (r.result == salvo::kChunkedComplete)
    s += " enc=" + std::to_string(r.encoded) + " dec=" + show(r.decoded);
  return s;
}

/* A chunked body on its own and inside a request: the result must match
 * `want` and the reference. */
void expect_chunked(const std::string& name, const std::string& body, int want,
                    size_t max_body = 1024 * 1024) {
  RefResult ref = ref_chunked(body, max_body);
  RefResult got = run_chunked(body, max_body);
  check(ref.result == want, name + ": reference gave " + std::to_string(ref.result) +
                                " want " + std::to_string(want) + " for " + show(body));
  check(got.result == want, name + ": scan_chunked gave " + std::to_string(got.result) +
                                " want " + std::to_string(want) + " for " + show(body));
  check(got == ref, name + ": differs from reference: " + describe(got) + " vs " +
                        describe(ref));
  /* And arriving in reads: one byte each (a cut at every point) for a short
   * body, about 64 for a long one; the result must be the same. */
  std::vector<size_t> cuts;
  const size_t step = body.size() <= 512 ? 1 : body.size() / 64;
  for (size_t k = 0; k < body.size(); k += step) cuts.push_back(k);
  RefResult resumed = run_chunked(body, max_body, cuts);
  check(resumed == ref, name + ": resumed across reads differs from reference: " +
                            describe(resumed) + " vs " + describe(ref));
}

const std::string kChunkedHead =
    "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

/* A valid chunked body: decoded as `data`, through next_message too, with
 * every prefix incomplete. */
void expect_chunked_ok(const std::string& name, const std::string& body,
                       const std::string& data, bool prefixes = true) {
  expect_chunked(name, body, salvo::kChunkedComplete);
  RefResult got = run_chunked(body, 1024 * 1024);
  check(got.decoded == data, name + ": decoded " + show(got.decoded) + " want " + show(data));
  check(got.encoded == body.size(), name + ": encoded length");
  if (prefixes)
    for (size_t k = 0; k < body.size(); k++)
      expect_chunked(name + " prefix " + std::to_string(k), body.substr(0, k),
                     salvo::kChunkedIncomplete);
  Want w;
  w.body = data;
  w.chunked = true;
  expect_message(name + " as a request", kChunkedHead + body, w, default_limits(), prefixes);
  /* And pipelined: the next request must be found where the body ended. */
  std::string next = "GET /next HTTP/1.1\r\n\r\n";
  w.consumed = kChunkedHead.size() + body.size();
  expect_message(name + " then a GET", kChunkedHead + body + next, w, default_limits(), false);
}

/* ---- Content-Length ------------------------------------------------------- */

void test_content_length() {
  Want w;
  expect_message("GET no body", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", w);
  w.body = "hello";
  expect_message("CL 5", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", w);
  expect_message("CL OWS", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: \t5 \r\n\r\nhello", w);
  expect_message("CL same duplicate",
                 "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello", w);
  expect_message("CL leading zeros", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nhello", w);
  w.consumed = strlen("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  expect_message("CL then pipelined",
                 "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n", w);
  w = Want();
  expect_message("CL 0", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", w);
  std::string bin("\0\r\n\xff\x01", 5);
  w.body = bin;
  expect_message("CL binary body", "PUT /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n" + bin, w);

  const std::string h = "POST /p HTTP/1.1\r\nHost: a\r\n";
  expect_status("CL differing duplicate",
                h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", -400);
  expect_status("CL differing duplicate, zero first",
                h + "Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello", -400);
  for (const char* v : {"", "abc", "+5", "-1", "5 5", "5,5", "5, 5", "0x5", "5.0", "1e3",
                        "\xef\xbc\x95", "12345678901234567", "9007199254740992",
                        "99999999999999999999999"}) {
    expect_status(std::string("CL invalid ") + show(v),
                  h + "Content-Length: " + v + "\r\n\r\nhello", -400);
  }
  /* 2^53 - 1 is valid (JS sees it exactly) but far past max_body. */
  expect_status("CL 2^53-1", h + "Content-Length: 9007199254740991\r\n\r\n", -413);
  expect_status("CL bad after good", h + "Content-Length: 5\r\nContent-Length: x\r\n\r\nhello",
                -400);

  /* max_body. */
  Limits small;
  small.max_body = 10;
  w = Want();
  w.body = "0123456789";
  expect_message("CL == max_body", h + "Content-Length: 10\r\n\r\n0123456789", w, small);
  expect_status("CL > max_body", h + "Content-Length: 11\r\n\r\n01234567890", -413, small);
  expect_status("CL > max_body before the body", h + "Content-Length: 11\r\n\r\n", -413, small);
  expect_status("CL > default max_body", h + "Content-Length: 1048577\r\n\r\n", -413);
}

/* ---- Transfer-Encoding, version, Expect ---------------------------------- */

void test_refusals() {
  const std::string h = "POST /p HTTP/1.1\r\nHost: a\r\n";
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  expect_status("CL + TE", h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
                -400);
  expect_status("TE + CL", h + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + body,
                -400);
  expect_status("TE + CL 0", h + "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n" + body,
                -400);
  for (const char* te : {"gzip", "identity", "chunked, gzip", "chunked,gzip", "", ",",
                         "chunked;q=1", "xchunked", "chunked x", "\"chunked\""}) {
    expect_status(std::string("TE final not chunked: ") + show(te),
                  h + "Transfer-Encoding: " + te + "\r\n\r\n" + body, -400);
  }
  for (const char* te : {"gzip, chunked", "deflate,chunked", "gzip , chunked",
                         "identity, chunked"}) {
    expect_status(std::string("TE other coding: ") + show(te),
                  h + "Transfer-Encoding: " + te + "\r\n\r\n" + body, -501);
  }
  expect_status("TE chunked on two lines",
                h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + body, -400);
  expect_status("TE gzip line then chunked line",
                h + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + body, -400);
  /* Applied twice on one line: refused (501 today; 400 would do as well). */
  for (ParserImpl impl : g_impls) {
    Framed f = frame(impl, h + "Transfer-Encoding: chunked, chunked\r\n\r\n" + body,
                     default_limits());
    check(f.result == -400 || f.result == -501, "TE chunked, chunked refused");
  }
  expect_status("TE chunked in HTTP/1.0",
                "POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + body, -400);
  Want w;
  w.body = "hello";
  w.chunked = true;
  expect_message("TE Chunked, any case",
                 h + "Transfer-Encoding: ChUnKeD\r\n\r\n" + body, w, default_limits(), false);
  expect_message("TE list with empty elements",
                 h + "Transfer-Encoding: , chunked ,\r\n\r\n" + body, w, default_limits(), false);

  /* Versions (RFC 9110 15.6.6). */
  expect_status("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505);
  expect_status("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", -505);
  expect_status("HTTP/3.1", "GET / HTTP/3.1\r\n\r\n", -505);
  w = Want();
  expect_message("HTTP/1.9", "GET / HTTP/1.9\r\nHost: a\r\n\r\n", w);

  /* Expect (RFC 9110 10.1.1): only 100-continue is known. */
  w.expect_continue = true;
  expect_message("Expect 100-continue", "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", w);
  expect_message("Expect 100-Continue", "PUT / HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\n\r\n", w);
  for (const char* e : {"", "foo", "100-continue, foo", "100-continuex", "200-ok",
                        "100-continue;x=1"})
    expect_status(std::string("Expect ") + show(e),
                  "PUT / HTTP/1.1\r\nHost: a\r\nExpect: " + std::string(e) + "\r\n\r\n", -417);

  /* Host (RFC 9112 3.2): exactly one in HTTP/1.1. */
  expect_status("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", -400);
  expect_status("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", -400);
  expect_status("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", -400);
  w = Want();
  w.keep_alive = false;
  expect_message("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", w);

  /* Errors in the head itself. */
  expect_status("malformed head", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400);
  expect_status("bare LF head", "GET / HTTP/1.1\nHost: a\n\n", -400);
  expect_status("empty input", "", -2);
}

/* ---- Host characters ------------------------------------------------------ */

/* The Host grammar as it was written before the character test became a
 * switch (strchr over the sets): the reference every byte is checked with. */
bool ref_hex(unsigned char c) { return isxdigit(c) != 0; }
bool ref_valid_host(const std::string& v) {
  const char* p = v.data();
  size_t n = v.size(), i = 0;
  if (n > 0 && p[0] == '[') {
    bool future = n > 1 && (p[1] == 'v' || p[1] == 'V');
    for (i = 1; i < n && p[i] != ']'; i++) {
      unsigned char c = static_cast<unsigned char>(p[i]);
      bool ok = ref_hex(c) || c == ':' || c == '.' ||
                (future && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c != 0 && strchr("-_~!$&'()*+,;=", c) != nullptr)));
      if (!ok) return false;
    }
    if (i >= n || i == 1) return false;
    i++;
  } else {
    for (; i < n && p[i] != ':'; i++) {
      unsigned char c = static_cast<unsigned char>(p[i]);
      if (c == '%') {
        if (i + 2 >= n || !ref_hex(p[i + 1]) || !ref_hex(p[i + 2])) return false;
        i += 2;
        continue;
      }
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                (c != 0 && strchr("-._~!$&'()*+,;=", c) != nullptr);
      if (!ok) return false;
    }
    if (i == 0) return false;
  }
  if (i == n) return true;
  if (p[i] != ':') return false;
  for (i++; i < n; i++)
    if (p[i] < '0' || p[i] > '9') return false;
  return true;
}

/* Every byte in every position class of a Host value: accepted exactly when
 * the reference accepts it (CR and LF would end the field, so not those). */
void test_host_bytes() {
  for (int b = 0; b < 256; b++) {
    if (b == '\r' || b == '\n') continue;
    const std::string c(1, static_cast<char>(b));
    for (const std::string& v : {"a" + c + "b", c + "a", "[v1." + c + "]", "[" + c + ":1]",
                                 "[::" + c + "]", "a:" + c, "a%" + c + "0", "127.0.0.1:80" + c}) {
      const std::string in = "GET / HTTP/1.1\r\nHost: " + v + "\r\n\r\n";
      // The parser trims the value's leading and trailing SP / HTAB (RFC 9112 5.1 OWS).
      size_t s = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
      bool want = s != std::string::npos && ref_valid_host(v.substr(s, e - s + 1));
      for (ParserImpl impl : g_impls) {
        Framed f = frame(impl, in, default_limits());
        check(want ? f.result > 0 : f.result == -400,
              "Host " + show(v) + " [" + impl_name(impl) + "]: got " + std::to_string(f.result));
      }
    }
  }
}

/* ---- Connection (RFC 9112 9.3) ------------------------------------------- */

void test_connection() {
  struct Case {
    const char* version;
    const char* headers;
    bool keep_alive;
  } cases[] = {
      {"1.1", "", true},
      {"1.1", "Connection: close\r\n", false},
      {"1.1", "Connection: Close\r\n", false},
      {"1.1", "Connection: keep-alive\r\n", true},
      {"1.1", "Connection: Upgrade\r\n", true},
      {"1.1", "Connection: foo, CLOSE ,bar\r\n", false},
      {"1.1", "Connection: keep-alive, close\r\n", false},
      {"1.1", "Connection: keep-alive\r\nConnection: close\r\n", false},
      {"1.1", "Connection: closed\r\n", true},
      {"1.1", "X-Connection: close\r\n", true},
      {"1.0", "", false},
      {"1.0", "Connection: keep-alive\r\n", true},
      {"1.0", "Connection: Keep-Alive\r\n", true},
      {"1.0", "Connection: foo,keep-alive\r\n", true},
      {"1.0", "Connection: keep-alive, close\r\n", false},
      {"1.0", "Connection: close, keep-alive\r\n", false},
      {"1.0", "Connection: close\r\nConnection: keep-alive\r\n", false},
      {"1.0", "Connection: keepalive\r\n", false},
  };
  for (const Case& c : cases) {
    Want w;
    w.keep_alive = c.keep_alive;
    expect_message(std::string("Connection HTTP/") + c.version + " " + show(c.headers),
                   std::string("GET / HTTP/") + c.version + "\r\nHost: a\r\n" + c.headers +
                       "\r\n",
                   w, default_limits(), false);
  }
}

/* ---- limits: 431 ----------------------------------------------------------- */

/* A head with n fields: Host (required in HTTP/1.1) and n - 1 others. */
std::string head_with_fields(int n) {
  std::string s = "GET /many HTTP/1.1\r\nHost: a\r\n";
  for (int i = 1; i < n; i++) s += "X-" + std::to_string(i) + ": v\r\n";
  return s + "\r\n";
}

void test_header_limits() {
  Limits l;
  l.max_headers = 3;
  Want w;
  expect_message("3 fields of 3", head_with_fields(3), w, l);
  expect_status("4 fields of 3", head_with_fields(4), -431, l);
  expect_status("4 fields of 3, incomplete", head_with_fields(4).substr(0, 47), -431, l);
  l = Limits();
  l.max_headers = 100;
  expect_status("101 fields of 100", head_with_fields(101), -431, l);
  expect_message("100 fields of 100", head_with_fields(100), w, l, false);
  // The default (node:http's 2000) takes 100 custom fields plus Host.
  expect_message("101 fields by default", head_with_fields(101), w, Limits(), false);

  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(40, 'p') + "\r\n\r\n";
  l.max_header_bytes = head.size();
  expect_message("head == max_header_bytes", head, w, l);
  l.max_header_bytes = head.size() - 1;
  expect_status("head > max_header_bytes", head, -431, l);
  /* Incomplete: 431 only once more than max_header_bytes are buffered. */
  l.max_header_bytes = 20;
  expect_status("incomplete head within the limit", head.substr(0, 20), -2, l);
  expect_status("incomplete head past the limit", head.substr(0, 21), -431, l);
  /* max_target (RFC 9112 3: 414), checked once the head is complete. */
  l = Limits();
  l.max_target = 10;
  expect_message("target == max_target", "GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", w, l);
  expect_status("target > max_target", "GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n", -414, l);
  /* The body does not count against the head limit. */
  l.max_header_bytes = 64;
  std::string post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b');
  w.body = std::string(100, 'b');
  expect_message("body past max_header_bytes", post, w, l, false);
}

/* ---- chunked --------------------------------------------------------------- */

void test_chunked_valid() {
  expect_chunked_ok("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello");
  expect_chunked_ok("empty body", "0\r\n\r\n", "");
  expect_chunked_ok("zeros last-chunk", "000\r\n\r\n", "");
  expect_chunked_ok("several chunks", "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n",
                    "hello world!");
  expect_chunked_ok("lower hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789");
  expect_chunked_ok("upper hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789");
  expect_chunked_ok("mixed hex", "1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n",
                    std::string(26, 'x'));
  expect_chunked_ok("1F and 1f", "1F\r\n" + std::string(31, 'a') + "\r\n1f\r\n" +
                                     std::string(31, 'b') + "\r\n0\r\n\r\n",
                    std::string(31, 'a') + std::string(31, 'b'));
  expect_chunked_ok("leading zeros", "0005\r\nhello\r\n00000000000000000000000001\r\n!\r\n0\r\n\r\n",
                    "hello!");
  expect_chunked_ok("data holding CRLFs and size-like bytes",
                    "c\r\n0\r\n\r\n0\r\n\r\nab\r\n0\r\n\r\n", "0\r\n\r\n0\r\n\r\nab");
  std::string bin("\0\xff\r\n\x7f", 5);
  expect_chunked_ok("binary data", "5\r\n" + bin + "\r\n0\r\n\r\n", bin);
  /* chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ) */
  expect_chunked_ok("ext name", "5;foo\r\nhello\r\n0\r\n\r\n", "hello");
  expect_chunked_ok("ext name=token", "5;foo=bar\r\nhello\r\n0\r\n\r\n", "hello");
  expect_chunked_ok("ext several", "5;a=1;b;c=x-y\r\nhello\r\n0;last=yes\r\n\r\n", "hello");
  expect_chunked_ok("ext BWS", "5 \t; a \t= b ;c\t;\td = \"q\"\r\nhello\r\n0 ; e\r\n\r\n",
                    "hello");
  expect_chunked_ok("ext quoted", "5;name=\"a value; with \\\"quotes\\\" and \\\\ =\"\r\n"
                    "hello\r\n0\r\n\r\n", "hello");
  expect_chunked_ok("ext quoted empty", "5;n=\"\"\r\nhello\r\n0\r\n\r\n", "hello");
  expect_chunked_ok("ext quoted obs-text and tab",
                    "5;n=\"caf\xc3\xa9\t\\\xff\"\r\nhello\r\n0\r\n\r\n", "hello");
  expect_chunked_ok("ext all tchars", "5;!#$%&'*+-.^_`|~09azAZ=!#$%&'*+-.^_`|~\r\nhello\r\n0\r\n\r\n",
                    "hello");
  /* trailer-section = *( field-line CRLF ) */
  expect_chunked_ok("trailer", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", "hello");
  expect_chunked_ok("trailers", "5\r\nhello\r\n0\r\nA: 1\r\nB:\r\nC: \t x y \t\r\n\r\n", "hello");
  expect_chunked_ok("trailer obs-text", "0\r\nX: caf\xc3\xa9 \xff\r\n\r\n", "");
  expect_chunked_ok("trailer named like framing", "0\r\nContent-Length: 99\r\n\r\n", "");
  /* A big chunk, so the data is jumped over rather than scanned. */
  std::string big(5000, 'z');
  expect_chunked_ok("big chunk", "1388\r\n" + big + "\r\n0\r\n\r\n", big, false);
  std::string many, data;
  for (int i = 0; i < 200; i++) {
    char hex[8];
    int n = 1 + i % 17;
    snprintf(hex, sizeof hex, i % 2 ? "%x" : "%X", n);
    std::string part(static_cast<size_t>(n), static_cast<char>('a' + i % 26));
    many += std::string(hex) + "\r\n" + part + "\r\n";
    data += part;
  }
  expect_chunked_ok("200 chunks", many + "0\r\n\r\n", data, false);
}

void test_chunked_invalid() {
  const int E = salvo::kChunkedError;
  const int L = salvo::kChunkedTooLarge;
  /* Sizes. */
  expect_chunked("empty size", "\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("size g", "g\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("size 0x5", "0x5\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("size -5", "-5\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("size +5", "+5\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("leading SP", " 5\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("trailing SP", "5 \r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("trailing HTAB", "5\t\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("size 5x", "5x\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("size with NUL", std::string("5\0\r\nhello\r\n0\r\n\r\n", 16), E);
  /* Overflow: 413 from the size alone. */
  expect_chunked("size past max_body", "100001\r\n", L);
  expect_chunked("size 2^64", "10000000000000000\r\n", L);
  expect_chunked("size 2^64 + 5", "10000000000000005\r\nhello\r\n0\r\n\r\n", L);
  expect_chunked("size f * 40", std::string(40, 'f') + "\r\n", L);
  expect_chunked("size 2^64 - 1", "ffffffffffffffff\r\n", L);
  expect_chunked("size 2^64 - 1, huge max_body", "ffffffffffffffff\r\nab", L, SIZE_MAX);
  expect_chunked("size 2^64, huge max_body", "10000000000000000\r\n", L, SIZE_MAX);
  expect_chunked("size 2^63, huge max_body, incomplete", "8000000000000000\r\nab",
                 salvo::kChunkedIncomplete, SIZE_MAX);
  expect_chunked("decoded total past max_body", "6\r\nhello!\r\n5\r\nhello\r\n0\r\n\r\n", L, 10);
  expect_chunked("decoded total == max_body", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
                 salvo::kChunkedComplete, 10);
  expect_chunked("max_body 0", "1\r\na\r\n0\r\n\r\n", L, 0);
  expect_chunked("max_body 0, empty", "0\r\n\r\n", salvo::kChunkedComplete, 0);
  /* Line endings (RFC 9112 2.2): CRLF only. */
  expect_chunked("bare LF after size", "5\nhello\r\n0\r\n\r\n", E);
  expect_chunked("bare LF after data", "5\r\nhello\n0\r\n\r\n", E);
  expect_chunked("bare LF after last-chunk", "5\r\nhello\r\n0\n\r\n", E);
  expect_chunked("bare LF at the end", "5\r\nhello\r\n0\r\n\n", E);
  expect_chunked("bare CR after size", "5\rhello\r\n0\r\n\r\n", E);
  expect_chunked("CR CR LF", "5\r\r\nhello\r\n0\r\n\r\n", E);
  /* The data must be exactly `size` bytes, then CRLF. */
  expect_chunked("data too long", "5\r\nhello!\r\n0\r\n\r\n", E);
  expect_chunked("data too short", "5\r\nhell\r\n0\r\n\r\n", E);
  expect_chunked("no CRLF after data", "5\r\nhello0\r\n\r\n", E);
  expect_chunked("LF CR after data", "5\r\nhello\n\r0\r\n\r\n", E);
  /* Extensions. */
  expect_chunked("ext empty", "5;\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext empty name", "5;=x\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext empty value", "5;a=\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext trailing SP", "5;a=b \r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext trailing SP after name", "5;a \r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext bad name", "5;a(b\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext bad token value", "5;a=b/c\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext two values", "5;a=b=c\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext value SP value", "5;a=b c\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext unterminated quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext bytes after quote", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext quoted CTL", "5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext quoted DEL", "5;a=\"b\x7f\"\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext quoted-pair CR", "5;a=\"b\\\r\"\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext quoted LF", "5;a=\"b\n\"\r\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext bare LF", "5;a=b\nhello\r\n0\r\n\r\n", E);
  expect_chunked("ext on last-chunk trailing SP", "0;a \r\n\r\n", E);
  expect_chunked("ext comma", "5,a\r\nhello\r\n0\r\n\r\n", E);
  /* Trailers: field lines, as strict as the head. */
  expect_chunked("trailer no colon", "0\r\nX-A\r\n\r\n", E);
  expect_chunked("trailer SP before colon", "0\r\nX-A : b\r\n\r\n", E);
  expect_chunked("trailer empty name", "0\r\n: b\r\n\r\n", E);
  expect_chunked("trailer obs-fold", "0\r\nX-A: b\r\n c\r\n\r\n", E);
  expect_chunked("trailer bare LF", "0\r\nX-A: b\n\r\n", E);
  expect_chunked("trailer CTL", "0\r\nX-A: b\x01\r\n\r\n", E);
  expect_chunked("trailer NUL", std::string("0\r\nX-A: b\0\r\n\r\n", 13), E);
  expect_chunked("trailer DEL", "0\r\nX-A: \x7f\r\n\r\n", E);
  expect_chunked("trailer lone CR", "0\r\nX-A: b\rc\r\n\r\n", E);
  expect_chunked("trailer bad name", "0\r\nX(A): b\r\n\r\n", E);
  expect_chunked("no final CRLF, next request", "0\r\nGET / HTTP/1.1\r\n\r\n", E);
  expect_chunked("final CR then junk", "0\r\n\rX", E);
  /* Errors show as soon as a byte proves them. */
  expect_chunked("early error", "5\r\nhello\r\nz", E);
  expect_chunked("early error in ext", "5;(", E);

  /* The wire limit: 2 * max_body + 65536 bytes of encoding. */
  const size_t mb = 16;
  const size_t limit = salvo::chunked_wire_limit(mb);
  std::string zeros = std::string(limit - 4, '0') + "\r\n\r\n";  // exactly the limit
  check(zeros.size() == limit, "wire limit case length");
  expect_chunked("leading zeros up to the wire limit", zeros, salvo::kChunkedComplete, mb);
  expect_chunked("leading zeros past the wire limit", "0" + zeros, L, mb);
  expect_chunked("incomplete at the wire limit", zeros.substr(0, limit - 1),
                 salvo::kChunkedIncomplete, mb);
  expect_chunked("one byte past the wire limit", std::string(limit + 1, '0'), L, mb);
  /* Extensions and trailers reach their own 16 KiB caps long before the
   * wire limit (test_chunked_caps). */
  std::string ext = "1;x=" + std::string(limit, 'e');
  expect_chunked("long extension", ext, L, mb);
  expect_chunked("long extension, up to the wire limit", ext.substr(0, limit), L, mb);
  std::string trailer = "0\r\nX: " + std::string(limit, 't');
  expect_chunked("long trailer", trailer, salvo::kChunkedTrailersTooLarge, mb);
  /* Data that cannot end within the limit: 413 from its size line, before it
   * is buffered.  A 16-byte chunk (0x10) whose line ends L bytes in needs
   * L + 18 bytes: past the limit when L = limit - 17, not when limit - 18. */
  expect_chunked("data just past the wire limit", std::string(limit - 21, '0') + "10\r\n", L,
                 mb);
  expect_chunked("data up to the wire limit", std::string(limit - 22, '0') + "10\r\n",
                 salvo::kChunkedIncomplete, mb);
  /* ... and through next_message: 413. */
  Limits small;
  small.max_body = 16;
  expect_status("413 from the size line", kChunkedHead + "11\r\n", -413, small);
  expect_status("413 from decoded total", kChunkedHead + "8\r\n12345678\r\n9\r\n", -413, small);
  expect_status("413 from the wire limit", kChunkedHead + "0" + zeros, -413, small);
  expect_status("400 from a bad size", kChunkedHead + "5 \r\nhello\r\n0\r\n\r\n", -400);
  expect_status("400 from a bad terminator", kChunkedHead + "5\r\nhello0\r\n\r\n", -400);
  expect_status("-2 when incomplete", kChunkedHead + "5\r\nhel", -2);
}

/* ---- chunked: the extension and trailer caps ------------------------------ */

/* `n` bytes of chunk-ext on one size line: ";" and a name of n - 1 bytes. */
std::string ext_of(size_t n) { return ";" + std::string(n - 1, 'e'); }

/* One trailer field line of exactly `n` bytes, its CRLF included. */
std::string trailer_line(size_t n) { return "X: " + std::string(n - 5, 'v') + "\r\n"; }

void test_chunked_caps() {
  const int L = salvo::kChunkedTooLarge;
  const int T = salvo::kChunkedTrailersTooLarge;
  const size_t kCap = 16384;  // node's CVE-2024-22019 fix and its default header size
  check(salvo::kMaxChunkExtBytes == kCap && salvo::kMaxTrailerBytes == kCap, "caps are 16 KiB");
  Limits small;
  small.max_body = 16;

  /* Extensions: every byte after the digits but the CR counts. */
  expect_chunked_ok("ext of 16384 bytes", "1" + ext_of(kCap) + "\r\nx\r\n0\r\n\r\n", "x", false);
  expect_chunked("ext of 16385 bytes", "1" + ext_of(kCap + 1) + "\r\nx\r\n0\r\n\r\n", L);
  expect_chunked("ext of 16384 bytes, BWS and a quoted value",
                 "1 ; n = \"" + std::string(kCap - 9, 'q') + "\"\r\nx\r\n0\r\n\r\n",
                 salvo::kChunkedComplete);
  expect_chunked("ext of 16385 bytes, BWS and a quoted value",
                 "1 ; n = \"" + std::string(kCap - 8, 'q') + "\"\r\nx\r\n0\r\n\r\n", L);
  expect_chunked("ext of 16384 bytes on the last chunk", "0" + ext_of(kCap) + "\r\n\r\n",
                 salvo::kChunkedComplete);
  expect_chunked("ext of 16385 bytes on the last chunk", "0" + ext_of(kCap + 1) + "\r\n\r\n", L);
  /* Summed over the chunks of the message: four of 4096, then one more byte. */
  std::string four;
  for (int i = 0; i < 4; i++) four += "1" + ext_of(kCap / 4) + "\r\nx\r\n";
  expect_chunked_ok("ext of 4 x 4096 bytes", four + "0\r\n\r\n", "xxxx", false);
  expect_chunked("ext of 4 x 4096 bytes + 1 on the last chunk", four + "0;\r\n\r\n", L);
  std::string three = four.substr(0, 3 * (kCap / 4 + 6));
  expect_chunked("ext of 3 x 4096 + 4096 on the last chunk",
                 three + "0" + ext_of(kCap / 4) + "\r\n\r\n", salvo::kChunkedComplete);
  expect_chunked("ext of 3 x 4096 + 4097 on the last chunk",
                 three + "0" + ext_of(kCap / 4 + 1) + "\r\n\r\n", L);
  /* 413 as soon as the 16385th byte is in, without waiting for the CRLF,
   * and even when that byte is malformed as well. */
  expect_chunked("ext at the cap, incomplete", "1" + ext_of(kCap), salvo::kChunkedIncomplete);
  expect_chunked("ext past the cap, incomplete", "1" + ext_of(kCap + 1), L);
  expect_chunked("ext past the cap on a malformed byte", "1" + ext_of(kCap) + "(", L);
  expect_chunked("ext malformed at the cap", "1" + ext_of(kCap - 1) + "(", salvo::kChunkedError);
  /* The digits do not count: leading zeros are bounded by the wire limit. */
  expect_chunked("ext of 16384 bytes after 20000 zeros",
                 std::string(20000, '0') + "1" + ext_of(kCap) + "\r\nx\r\n0\r\n\r\n",
                 salvo::kChunkedComplete);
  Want w;
  w.chunked = true;
  w.body = "x";
  expect_message("ext at the cap, as a request", kChunkedHead + "1" + ext_of(kCap) +
                     "\r\nx\r\n0\r\n\r\n", w, small, false);
  expect_status("ext past the cap, as a request: 413",
                kChunkedHead + "1" + ext_of(kCap + 1) + "\r\nx\r\n0\r\n\r\n", -413, small);
  expect_status("ext past the cap, incomplete request: 413",
                kChunkedHead + "1" + ext_of(kCap + 1), -413, small);

  /* Trailers: every byte of the field lines, CRLFs included, counts; the
   * final CRLF does not. */
  expect_chunked_ok("trailer of 16384 bytes", "1\r\nx\r\n0\r\n" + trailer_line(kCap) + "\r\n",
                    "x", false);
  expect_chunked("trailer of 16385 bytes", "0\r\n" + trailer_line(kCap + 1) + "\r\n", T);
  std::string lines;
  for (int i = 0; i < 4; i++) lines += trailer_line(kCap / 4);
  expect_chunked("trailers of 4 x 4096 bytes", "0\r\n" + lines + "\r\n", salvo::kChunkedComplete);
  expect_chunked("trailers of 4 x 4096 bytes and one more line", "0\r\n" + lines + "A:\r\n\r\n",
                 T);
  /* The cap's last byte is the LF of the last line: 431 on that LF. */
  expect_chunked("trailer of 16385 bytes, up to its CR",
                 "0\r\n" + trailer_line(kCap + 1).substr(0, kCap), salvo::kChunkedIncomplete);
  expect_chunked("trailer past the cap before its CRLF",
                 "0\r\nX: " + std::string(kCap, 'v'), T);
  expect_chunked("trailer past the cap on a malformed byte",
                 "0\r\n" + lines + "\x01", T);
  /* Extensions and trailers have caps of their own. */
  expect_chunked("ext and trailers each at the cap",
                 "0" + ext_of(kCap) + "\r\n" + lines + "\r\n", salvo::kChunkedComplete);
  w.body = "";
  expect_message("trailers at the cap, as a request",
                 kChunkedHead + "0\r\n" + lines + "\r\n", w, small, false);
  expect_status("trailers past the cap, as a request: 431",
                kChunkedHead + "0\r\n" + trailer_line(kCap + 1) + "\r\n", -431, small);
  expect_status("trailers past the cap, incomplete request: 431",
                kChunkedHead + "0\r\n" + trailer_line(kCap + 1), -431, small);

  /* A ChunkScan from a longer buffer than the one at hand is not from it:
   * the scan starts over and gives the fresh answer. */
  std::string body = "5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n";
  salvo::ChunkScan cs;
  check(salvo::scan_chunked(g_buf->place(body.substr(0, 20)), 20, 1024, &cs) ==
            salvo::kChunkedIncomplete && cs.resume == 20, "resume point of a prefix");
  check(salvo::scan_chunked(g_buf->place(body.substr(0, 10)), 10, 1024, &cs) ==
            salvo::kChunkedIncomplete && cs.resume == 10, "a stale ChunkScan starts over");
}

/* The connection's pattern: one byte more per read, next_message called on
 * each, the ChunkScan carried from one call to the next.  Returns the first
 * result other than -2 (or -2), and checks that no byte is examined twice
 * (the work is linear in the input, whatever the cut): after each
 * incomplete call the scan stopped at the end of the bytes it had, and the
 * body bytes it accepted are poisoned before the next call (see
 * run_chunked). */
int feed_bytewise(const std::string& name, const std::string& in, size_t* fed,
                  const Limits& limits = default_limits()) {
  std::vector<HeaderField> fields(limits.max_headers);
  salvo::ChunkScan carried;
  bool stopped_at_end = true;
  size_t last_resume = 0, head_len = 0;
  int r = -2;
  size_t n = 0;
  while (r == -2 && n < in.size()) {
    n++;
    char* buf = g_buf->place(in.substr(0, n));
    memset(buf + head_len, 0, carried.resume);
    Message m;
    m.chunk = carried;
    r = salvo::next_message(ParserImpl::kScalar, buf, n, limits, fields.data(), &m);
    carried = m.chunk;
    if (r == -2 && m.head_len > 0) {
      stopped_at_end &= carried.resume == n - m.head_len && carried.resume >= last_resume;
      last_resume = carried.resume;
      head_len = m.head_len;
    }
  }
  check(stopped_at_end, name + ": every incomplete scan stops at the end of its read");
  *fed = n;
  return r;
}

void test_chunked_bytewise() {
  const size_t kMiB = 1024 * 1024, kCap = 16384;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  size_t fed = 0;
  /* 1 MiB of extension, a byte per read: refused on its 16385th byte, the
   * 16384th 'e' after "1;". */
  std::string ext = kChunkedHead + "1;" + std::string(kMiB, 'e');
  int r = feed_bytewise("1 MiB extension", ext, &fed);
  check(r == -413, "1 MiB extension a byte at a time: " + std::to_string(r));
  check(fed == kChunkedHead.size() + 1 + kCap + 1,
        "1 MiB extension refused on its 16385th byte, read " + std::to_string(fed));
  /* 1 MiB of trailer, a byte per read: 431 on its 16385th byte. */
  std::string tr = kChunkedHead + "0\r\nX: " + std::string(kMiB, 't');
  r = feed_bytewise("1 MiB trailer", tr, &fed);
  check(r == -431, "1 MiB trailer a byte at a time: " + std::to_string(r));
  check(fed == kChunkedHead.size() + 3 + kCap + 1,
        "1 MiB trailer refused on its 16385th byte, read " + std::to_string(fed));
  /* A valid body with extensions at the cap, many trailer lines and a long
   * size line of zeros, a byte per read: complete, with the same body as
   * when it arrives whole. */
  std::string body = std::string(4000, '0') + "3" + ext_of(kCap / 2) + "\r\nabc\r\n" + "0" +
                     ext_of(kCap / 2) + "\r\n";
  for (int i = 0; i < 400; i++) body += "T-" + std::to_string(i) + ": value " +
                                        std::to_string(i) + "\r\n";
  body += "\r\n";
  std::string in = kChunkedHead + body + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  r = feed_bytewise("valid body", in, &fed);
  check(r == static_cast<int>(kChunkedHead.size() + body.size()),
        "valid body a byte at a time: " + std::to_string(r));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("chunked a byte per read: %.1f ms for 3 bodies of 16-29 KiB (mostly copying each "
         "read to the guard page)\n",
         (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* In place: the decoded body is at head_len, and a pipelined request after
 * the body is intact and parsed next. */
void test_decode_in_place() {
  std::string body = "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n";
  std::string next = "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nwxyz";
  std::string in = kChunkedHead + body + next;
  for (ParserImpl impl : g_impls) {
    std::string tag = std::string("decode in place [") + impl_name(impl) + "]";
    char* buf = g_buf->place(in);
    Limits l;
    std::vector<HeaderField> fields(l.max_headers);
    Message m;
    int r = salvo::next_message(impl, buf, in.size(), l, fields.data(), &m);
    check(r == static_cast<int>(kChunkedHead.size() + body.size()), tag + ": first");
    check(m.head_len == kChunkedHead.size(), tag + ": head_len");
    check(std::string(buf + m.head_len, m.body_len) == "abc0123456789abcdef!", tag + ": body");
    /* The head's fields still point at intact bytes. */
    check(m.num_headers == 2 && std::string(fields[1].value, fields[1].value_len) == "chunked",
          tag + ": head intact");
    if (r <= 0) continue;
    size_t pos = static_cast<size_t>(r);
    check(memcmp(buf + pos, next.data(), next.size()) == 0, tag + ": next request intact");
    r = salvo::next_message(impl, buf + pos, in.size() - pos, l, fields.data(), &m);
    check(r == static_cast<int>(next.size()), tag + ": second");
    if (r > 0)
      check(std::string(buf + pos + m.head_len, m.body_len) == "wxyz", tag + ": second body");
  }
}

/* ---- random: valid bodies, their prefixes, and mutations ----------------- */

std::string random_ws(Rng& rng) {
  static const char* kWs[] = {"", "", "", " ", "\t", "  ", " \t"};
  return kWs[rng.below(7)];
}

std::string random_token(Rng& rng) {
  static const char kT[] = "abcXYZ019!#$%&'*+-.^_`|~";
  std::string s;
  size_t n = 1 + rng.below(6);
  for (size_t i = 0; i < n; i++) s += kT[rng.below(sizeof kT - 1)];
  return s;
}

std::string random_ext(Rng& rng) {
  std::string s;
  size_t n = rng.below(3) == 0 ? 1 + rng.below(3) : 0;
  for (size_t i = 0; i < n; i++) {
    /* One draw per statement: the order of operands of + is unspecified, and
     * the inputs should not depend on the compiler. */
    s += random_ws(rng);
    s += ";";
    s += random_ws(rng);
    s += random_token(rng);
    size_t kind = rng.below(3);
    if (kind == 0) continue;
    s += random_ws(rng);
    s += "=";
    s += random_ws(rng);
    s += kind == 1 ? random_token(rng) : "\"a \\\" b;\t\\\\\xe9\"";
  }
  return s;
}

/* A random valid chunked body and its data. */
std::pair<std::string, std::string> random_body(Rng& rng) {
  std::string enc, data;
  size_t chunks = rng.below(6);
  for (size_t i = 0; i < chunks; i++) {
    size_t n = 1 + (rng.below(8) == 0 ? rng.below(300) : rng.below(20));
    char hex[24];
    snprintf(hex, sizeof hex, rng.below(2) ? "%zx" : "%zX", n);
    std::string part;
    for (size_t k = 0; k < n; k++)
      part += rng.below(4) == 0 ? "\r\n0;"[rng.below(4)] : static_cast<char>(rng.next());
    size_t zeros = rng.below(4) == 0 ? rng.below(4) : 0;
    enc += std::string(zeros, '0') + hex;
    enc += random_ext(rng);
    enc += "\r\n" + part + "\r\n";
    data += part;
  }
  enc += std::string(1 + rng.below(2), '0');
  enc += random_ext(rng);
  enc += "\r\n";
  size_t trailers = rng.below(4) == 0 ? 1 + rng.below(2) : 0;
  for (size_t i = 0; i < trailers; i++) {
    enc += random_token(rng);
    enc += ":" + random_ws(rng);
    enc += "v a\tl" + random_ws(rng);
    enc += "\r\n";
  }
  enc += "\r\n";
  return {enc, data};
}

void test_random() {
  Rng rng{0xc4a11ced5eedULL};
  const unsigned char special[] = {0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x30,
                                   0x31, 0x3a, 0x3b, 0x3d, 0x46, 0x47, 0x5c, 0x66,
                                   0x67, 0x7f, 0x80, 0xff};
  int results[4] = {0, 0, 0, 0};  // complete, error, incomplete, 413
  int mismatches = 0;
  const int kValid = 3000, kMutations = 60000;
  for (int it = 0; it < kValid; it++) {
    auto body = random_body(rng);
    RefResult got = run_chunked(body.first, 1024);
    bool ok = got.result == salvo::kChunkedComplete && got.decoded == body.second &&
              got.encoded == body.first.size();
    check(ok, "random valid body " + show(body.first) + " gave " + describe(got));
    if (it % 20 == 0)
      for (size_t k = 0; k < body.first.size(); k++)
        check(run_chunked(body.first.substr(0, k), 1024).result == salvo::kChunkedIncomplete,
              "random valid body prefix is incomplete");
    /* Resumed: in one-byte reads (a cut at every point), and in reads cut at
     * random points; each must frame exactly as the whole body. */
    std::vector<size_t> every, some;
    for (size_t k = 0; k < body.first.size(); k++) every.push_back(k);
    for (size_t k = rng.below(8); k < body.first.size(); k += 1 + rng.below(40)) some.push_back(k);
    if (it % 10 == 0)
      check(run_chunked(body.first, 1024, every) == got,
            "random valid body in one-byte reads " + show(body.first));
    check(run_chunked(body.first, 1024, some) == got,
          "random valid body in random reads " + show(body.first));
  }
  for (int it = 0; it < kMutations; it++) {
    std::string s = random_body(rng).first;
    if (rng.below(3) == 0) s += "GET / HTTP/1.1\r\n\r\n";
    int ops = 1 + static_cast<int>(rng.below(3));
    for (int o = 0; o < ops && !s.empty(); o++) {
      size_t pos = rng.below(s.size());
      char c = static_cast<char>(rng.below(3) == 0 ? rng.next()
                                                   : special[rng.below(sizeof special)]);
      switch (rng.below(5)) {
        case 0: s[pos] = c; break;
        case 1: s.insert(pos, 1, c); break;
        case 2: s.erase(pos, 1 + rng.below(3)); break;
        case 3: s.resize(pos); break;
        case 4: {  // duplicate a piece (arguments drawn in a fixed order)
          size_t from = rng.below(s.size());
          size_t count = rng.below(12);
          s.insert(pos, s.substr(from, count));
          break;
        }
      }
    }
    size_t max_body = rng.below(4) == 0 ? rng.below(40) : 1024;
    std::vector<size_t> cuts;  // some reads, at random points, for the resumed scan
    for (size_t k = rng.below(16); k < s.size(); k += 1 + rng.below(it % 50 == 0 ? 1 : 24))
      cuts.push_back(k);
    RefResult ref = ref_chunked(s, max_body);
    RefResult got = run_chunked(s, max_body);
    RefResult resumed = run_chunked(s, max_body, cuts);
    if (!(got == ref && resumed == ref) && ++mismatches <= 10)
      fprintf(stderr, "  got %s\n  resumed %s\n  ref %s\n  input %s (max_body %zu)\n",
              describe(got).c_str(), describe(resumed).c_str(), describe(ref).c_str(),
              show(s).c_str(), max_body);
    check(got == ref, "random chunked input agrees with the reference");
    check(resumed == ref, "random chunked input, resumed across reads, agrees with the reference");
    int slot = ref.result == salvo::kChunkedComplete ? 0
               : ref.result == salvo::kChunkedError  ? 1
               : ref.result == salvo::kChunkedIncomplete ? 2 : 3;
    results[slot]++;
  }
  printf("random chunked: %d valid, %d mutations (%d complete, %d error, %d incomplete, "
         "%d 413), %d mismatches\n",
         kValid, kMutations, results[0], results[1], results[2], results[3], mismatches);
  check(results[0] > 1000 && results[1] > 1000 && results[2] > 1000 && results[3] > 100,
        "random chunked inputs cover every result");
}

/* ---- the connection's loop ----------------------------------------------- */

void test_pipeline() {
  std::string in =
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" + kChunkedHead + "2\r\nhi\r\n0\r\n\r\n" +
      "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
      "GET /d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + "GET /never HTTP/1.1\r\n\r\n";
  for (ParserImpl impl : g_impls) {
    std::string tag = std::string("pipeline [") + impl_name(impl) + "]";
    char* buf = g_buf->place(in);
    Limits l;
    std::vector<HeaderField> fields(l.max_headers);
    std::vector<std::string> targets, bodies;
    size_t pos = 0;
    int r = 0;
    while (pos < in.size()) {
      Message m;
      r = salvo::next_message(impl, buf + pos, in.size() - pos, l, fields.data(), &m);
      if (r <= 0) break;
      targets.emplace_back(m.head.target, m.head.target_len);
      bodies.emplace_back(buf + pos + m.head_len, m.body_len);
      pos += m.consumed;
      if (!m.framing.keep_alive) break;
    }
    check(r > 0, tag + ": last result");
    check(targets == std::vector<std::string>({"/a", "/upload", "/c", "/d"}),
          tag + ": targets");
    check(bodies.size() == 4 && bodies[1] == "hi" && bodies[2] == "abc", tag + ": bodies");
    check(in.compare(pos, std::string::npos, "GET /never HTTP/1.1\r\n\r\n") == 0,
          tag + ": stops after Connection: close");
  }
}


/* ---- streamed bodies (a bodyStream route) -------------------------------- */

/* decode_chunked_stream over `in` cut at `cuts`: each read is a fresh
 * guarded copy of the bytes not consumed yet (the connection hands every
 * read to the decoder and keeps nothing of it), the decoded bytes of all
 * calls concatenated.  The result is the first that is not incomplete. */
RefResult run_stream(const std::string& in, size_t max_body, const std::vector<size_t>& cuts) {
  RefResult r;
  r.result = salvo::kChunkedIncomplete;
  salvo::ChunkScan cs;
  size_t at = 0;
  for (size_t i = 0; i <= cuts.size() && r.result == salvo::kChunkedIncomplete; i++) {
    size_t end = i < cuts.size() ? cuts[i] : in.size();
    if (end < at) continue;
    std::string piece = in.substr(at, end - at);
    char* buf = g_buf->place(piece);
    size_t got = 0;
    r.result = salvo::decode_chunked_stream(buf, piece.size(), max_body, &cs, &got);
    check(got <= piece.size(), "decoded within the read");
    r.decoded.append(buf, got);
    if (r.result == salvo::kChunkedComplete) {
      check(cs.resume <= piece.size(), "complete within the read");
      r.encoded = at + cs.resume;
    }
    at = end;
  }
  if (r.result != salvo::kChunkedComplete) r.decoded.clear();  // as the reference reports
  return r;
}

void test_stream_decode() {
  Rng rng{0x5eedb0d1e5ULL};
  int mismatches = 0;
  for (int it = 0; it < 3000; it++) {
    auto body = random_body(rng);
    const std::string& s = body.first;
    std::vector<size_t> every, some;
    for (size_t k = 1; k < s.size(); k++) every.push_back(k);
    for (size_t k = rng.below(8); k < s.size(); k += 1 + rng.below(40)) some.push_back(k);
    for (const auto* cuts : {&every, &some}) {
      RefResult got = run_stream(s + "GET / HTTP/1.1\r\n\r\n", 1024, *cuts);
      check(got.result == salvo::kChunkedComplete && got.decoded == body.second &&
                got.encoded == s.size(),
            "streamed decode of a valid body " + show(s) + " gave " + describe(got));
    }
  }
  /* Mutations: the same verdict and data as the reference (inputs are far
   * below the wire limit, which only the buffered scan has). */
  const unsigned char special[] = {0x00, 0x0a, 0x0d, 0x20, 0x30, 0x3b, 0x3d, 0x46, 0x66, 0xff};
  for (int it = 0; it < 20000; it++) {
    std::string s = random_body(rng).first;
    for (int o = 0; o < 2 && !s.empty(); o++) {
      size_t pos = rng.below(s.size());
      char c = static_cast<char>(special[rng.below(sizeof special)]);
      switch (rng.below(3)) {
        case 0: s[pos] = c; break;
        case 1: s.insert(pos, 1, c); break;
        case 2: s.erase(pos, 1); break;
      }
    }
    size_t max_body = rng.below(4) == 0 ? rng.below(40) : 1024;
    std::vector<size_t> cuts;
    for (size_t k = rng.below(16); k < s.size(); k += 1 + rng.below(24)) cuts.push_back(k);
    RefResult ref = ref_chunked(s, max_body);
    RefResult got = run_stream(s, max_body, cuts);
    if (!(got == ref) && ++mismatches <= 10)
      fprintf(stderr, "  stream %s\n  ref %s\n  input %s (max_body %zu)\n", describe(got).c_str(),
              describe(ref).c_str(), show(s).c_str(), max_body);
    check(got == ref, "streamed decode of random input agrees with the reference");
  }
  // No wire limit: 1-byte chunks of a body far past 2 x max_body + 64 KiB of framing.
  std::string many;
  for (int i = 0; i < 40000; i++) many += "1\r\nx\r\n";
  many += "0\r\n\r\n";
  RefResult big = run_stream(many, 40000, {65536, 131072});
  check(big.result == salvo::kChunkedComplete && big.decoded.size() == 40000,
        "streamed decode has no wire limit");
  check(run_stream(many, 39999, {65536}).result == salvo::kChunkedTooLarge,
        "streamed decode: one byte past max_body is 413");
}

/* next_head then next_body frame exactly as next_message does. */
void test_head_then_body() {
  const std::string cases[] = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
      "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
      kChunkedHead + "2\r\nhi\r\n0\r\n\r\n",
      kChunkedHead + "2\r\nhi\r\n",
      kChunkedHead + "zz\r\n",
      "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n",
  };
  for (ParserImpl impl : g_impls) {
    for (const std::string& in : cases) {
      Limits l;
      Framed whole = frame(impl, in, l);
      char* buf = g_buf->place(in);
      std::vector<HeaderField> fields(l.max_headers);
      Message m;
      int r = salvo::next_head(impl, buf, in.size(), l, fields.data(), &m);
      if (r > 0) {
        check(static_cast<size_t>(r) == m.head_len, "next_head returns the head's length");
        r = salvo::next_body(buf, in.size(), l, &m);
      }
      check(r == whole.result, "next_head + next_body == next_message for " + show(in) + ": " +
                                   std::to_string(r) + " vs " + std::to_string(whole.result));
      if (r > 0) check(std::string(buf + m.head_len, m.body_len) == whole.body, "same body");
    }
  }
}
}  // namespace

int main() {
  GuardedBuffer buf;
  g_buf = &buf;
  init_impls();
  test_content_length();
  test_refusals();
  test_host_bytes();
  test_connection();
  test_header_limits();
  test_chunked_valid();
  test_chunked_invalid();
  test_chunked_caps();
  test_chunked_bytewise();
  test_decode_in_place();
  test_random();
  test_pipeline();
  test_stream_decode();
  test_head_then_body();
  return finish();
}
