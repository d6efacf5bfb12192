/* Standalone tests of native/parser.cc (no Node).
 *
 * Every input is copied so that its last byte sits right before a PROT_NONE
 * page: a read at or past buf + len faults (picohttpparser's test.c does the
 * same).  Every case runs on the scalar path and, when the CPU has it, on the
 * SSE4.2 path, and both are also compared with `reference_parse` below, an
 * independent byte-at-a-time state machine written from the rules in
 * parser.h, on the fixed cases and on random mutations of valid requests.
 *
 * Build and run: make -C native/test (plain -O2 -Werror, then ASan/UBSan).
 */
#include "../parser.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

using salvo::HeaderField;
using salvo::ParserImpl;
using salvo::RequestHead;

namespace {

// check(), show(), GuardedBuffer and g_buf: harness.h

/* A parse result as offsets, so results of different runs compare. */
struct Parsed {
  int result = 0;
  std::string method, target;
  size_t method_off = 0, target_off = 0;
  int major = -1, minor = -1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<size_t, size_t>> offsets;  // name, value
  bool operator==(const Parsed& o) const {
    if (result != o.result) return false;
    if (result <= 0) return true;
    return method == o.method && target == o.target &&
           method_off == o.method_off && target_off == o.target_off &&
           major == o.major && minor == o.minor && headers == o.headers &&
           offsets == o.offsets;
  }
};

std::string describe(const Parsed& p) {
  std::string s = "result=" + std::to_string(p.result);
  if (p.result > 0) {
    s += " method=" + show(p.method) + " target=" + show(p.target) +
         " version=" + std::to_string(p.major) + "." + std::to_string(p.minor);
    for (auto& h : p.headers) s += " [" + show(h.first) + ": " + show(h.second) + "]";
  }
  return s;
}

const char* impl_name(ParserImpl impl) {
  return impl == ParserImpl::kScalar ? "scalar" : "sse42";
}

Parsed run(ParserImpl impl, const std::string& in, size_t capacity = 64) {
  const char* buf = g_buf->place(in);
  RequestHead head;
  std::vector<HeaderField> fields(capacity + 1);
  /* A sentinel past the capacity: the parser must never write it. */
  fields[capacity].name = "sentinel";
  size_t n = capacity;
  Parsed p;
  p.result = salvo::parse_request(impl, buf, in.size(), &head, fields.data(), &n);
  check(fields[capacity].name != nullptr &&
            strcmp(fields[capacity].name, "sentinel") == 0,
        std::string(impl_name(impl)) + " wrote past capacity: " + show(in));
  if (p.result > 0) {
    check(n <= capacity, "num_headers within capacity");
    p.method.assign(head.method, head.method_len);
    p.target.assign(head.target, head.target_len);
    p.method_off = static_cast<size_t>(head.method - buf);
    p.target_off = static_cast<size_t>(head.target - buf);
    p.major = head.major_version;
    p.minor = head.minor_version;
    for (size_t i = 0; i < n && i < capacity; i++) {
      p.headers.emplace_back(std::string(fields[i].name, fields[i].name_len),
                             std::string(fields[i].value, fields[i].value_len));
      p.offsets.emplace_back(static_cast<size_t>(fields[i].name - buf),
                             static_cast<size_t>(fields[i].value - buf));
    }
  }
  return p;
}

/* ---- reference: an independent byte-at-a-time state machine ---------------
 * Written straight from the rules in parser.h, sharing no code with
 * parser.cc, so that the random test checks the grammar and not only that
 * the two impls agree with each other. */
bool ref_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}
bool ref_vchar_or_ws(unsigned char c) {
  return (c >= 0x21 && c <= 0x7E) || c >= 0x80 || c == ' ' || c == '\t';
}
bool ref_target(unsigned char c) { return (c >= 0x21 && c <= 0x7E) || c >= 0x80; }

Parsed reference_parse(const std::string& in, size_t capacity = 64) {
  enum State { kMethod, kTarget, kVersion, kLineStart, kName, kOws, kValue,
               kValueLf, kEndLf };
  static const char kShape[] = "HTTP/D.D\r\n";
  Parsed p;
  State st = kMethod;
  size_t start = 0, vstart = 0, vend = 0, nstart = 0, nend = 0, vi = 0;
  for (size_t i = 0; i < in.size(); i++) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    switch (st) {
      case kMethod:
        if (ref_tchar(c)) break;
        if (c == ' ' && i > 0) {
          p.method = in.substr(0, i);
          p.method_off = 0;
          start = i + 1;
          st = kTarget;
          break;
        }
        p.result = -1;
        return p;
      case kTarget:
        if (ref_target(c)) break;
        if (c == ' ' && i > start) {
          p.target = in.substr(start, i - start);
          p.target_off = start;
          st = kVersion;
          vi = 0;
          break;
        }
        p.result = -1;
        return p;
      case kVersion: {
        bool ok = kShape[vi] == 'D' ? (c >= '0' && c <= '9') : c == (unsigned char)kShape[vi];
        if (!ok) { p.result = -1; return p; }
        if (vi == 5) p.major = c - '0';
        if (vi == 7) p.minor = c - '0';
        if (++vi == 10) st = kLineStart;
        break;
      }
      case kLineStart:
        if (c == '\r') { st = kEndLf; break; }
        if (!ref_tchar(c)) { p.result = -1; return p; }
        if (p.headers.size() == capacity) { p.result = -3; return p; }
        nstart = i;
        st = kName;
        break;
      case kName:
        if (ref_tchar(c)) break;
        if (c == ':') { nend = i; st = kOws; break; }
        p.result = -1;
        return p;
      case kOws:
        if (c == ' ' || c == '\t') break;
        if (c == '\r') { vstart = vend = i; st = kValueLf; break; }
        if (ref_vchar_or_ws(c)) { vstart = i; st = kValue; break; }
        p.result = -1;
        return p;
      case kValue:
        if (c == '\r') {
          vend = i;
          while (vend > vstart && (in[vend - 1] == ' ' || in[vend - 1] == '\t')) vend--;
          st = kValueLf;
          break;
        }
        if (ref_vchar_or_ws(c)) break;
        p.result = -1;
        return p;
      case kValueLf:
        if (c != '\n') { p.result = -1; return p; }
        p.headers.emplace_back(in.substr(nstart, nend - nstart),
                               in.substr(vstart, vend - vstart));
        p.offsets.emplace_back(nstart, vstart);
        st = kLineStart;
        break;
      case kEndLf:
        if (c != '\n') { p.result = -1; return p; }
        p.result = static_cast<int>(i + 1);
        return p;
    }
  }
  p.result = -2;
  return p;
}


/* Runs `in` on every impl and on the reference; all must give `want`. */
void expect_result(const std::string& name, const std::string& in, int want,
                   size_t capacity = 64) {
  Parsed ref = reference_parse(in, capacity);
  check(ref.result == want, name + ": reference gave " + std::to_string(ref.result) +
                                " want " + std::to_string(want) + " for " + show(in));
  for (ParserImpl impl : g_impls) {
    Parsed got = run(impl, in, capacity);
    check(got.result == want, name + " [" + impl_name(impl) + "]: got " +
                                  std::to_string(got.result) + " want " +
                                  std::to_string(want) + " for " + show(in));
    check(got == ref, name + " [" + impl_name(impl) + "]: differs from reference: " +
                          describe(got) + " vs " + describe(ref));
  }
}

/* A valid complete head: checks the parsed fields, and that every strict
 * prefix is incomplete (-2). */
void expect_valid(const std::string& name, const std::string& in,
                  const std::string& method, const std::string& target, int major,
                  int minor,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  int consumed = -1) {
  int want = consumed < 0 ? static_cast<int>(in.size()) : consumed;
  for (ParserImpl impl : g_impls) {
    Parsed got = run(impl, in);
    std::string tag = name + " [" + impl_name(impl) + "]";
    check(got.result == want, tag + ": result " + std::to_string(got.result) +
                                  " want " + std::to_string(want));
    if (got.result != want) continue;
    check(got.method == method, tag + ": method " + show(got.method));
    check(got.target == target, tag + ": target " + show(got.target));
    check(got.major == major && got.minor == minor, tag + ": version");
    check(got.headers == headers, tag + ": headers " + describe(got));
    check(got == reference_parse(in), tag + ": differs from reference");
  }
  /* Every strict prefix of the head (the bytes it consumes) is -2. */
  for (int k = 0; k < want; k++)
    expect_result(name + " prefix " + std::to_string(k), in.substr(0, k), -2);
}

/* ---- inputs -------------------------------------------------------------- */

const std::string kSmallGet = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

const std::string kBrowserGet =
    "GET /articles/2024/http-parsing?lang=en&ref=home HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=3f9a8c7e6d5b4a39; theme=dark; _ga=GA1.2.1234567890.1700000000\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Cache-Control: max-age=0\r\n"
    "\r\n";

const std::string kPost =
    "POST /api/v1/items HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 27\r\n"
    "\r\n";

std::string many_headers(int n) {
  std::string s = "GET /many HTTP/1.1\r\n";
  for (int i = 0; i < n; i++)
    s += "X-Header-" + std::to_string(i) + ": value-" + std::to_string(i) + "\r\n";
  return s + "\r\n";
}

void test_valid() {
  expect_valid("small GET", kSmallGet, "GET", "/", 1, 1, {{"Host", "localhost"}});
  expect_valid("no headers", "GET / HTTP/1.0\r\n\r\n", "GET", "/", 1, 0, {});
  expect_valid("browser GET", kBrowserGet, "GET",
               "/articles/2024/http-parsing?lang=en&ref=home", 1, 1,
               {{"Host", "www.example.com"},
                {"User-Agent",
                 "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                 "Gecko) Chrome/124.0.0.0 Safari/537.36"},
                {"Accept",
                 "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                 "image/webp,*/*;q=0.8"},
                {"Accept-Language", "en-US,en;q=0.9"},
                {"Accept-Encoding", "gzip, deflate, br"},
                {"Connection", "keep-alive"},
                {"Cookie", "session=3f9a8c7e6d5b4a39; theme=dark; _ga=GA1.2.1234567890.1700000000"},
                {"Upgrade-Insecure-Requests", "1"},
                {"Sec-Fetch-Dest", "document"},
                {"Sec-Fetch-Mode", "navigate"},
                {"Sec-Fetch-Site", "none"},
                {"Sec-Fetch-User", "?1"},
                {"Cache-Control", "max-age=0"}});
  expect_valid("POST head", kPost, "POST", "/api/v1/items", 1, 1,
               {{"Host", "api.example.com"},
                {"Content-Type", "application/json; charset=utf-8"},
                {"Content-Length", "27"}});

  /* Bytes after the head (a body, the next pipelined request) are not read as
   * part of it. */
  expect_valid("POST with body", kPost + "{\"name\":\"a\",\"count\":12345}", "POST",
               "/api/v1/items", 1, 1,
               {{"Host", "api.example.com"},
                {"Content-Type", "application/json; charset=utf-8"},
                {"Content-Length", "27"}},
               static_cast<int>(kPost.size()));
  expect_valid("pipelined", kSmallGet + kSmallGet + "GET /x", "GET", "/", 1, 1,
               {{"Host", "localhost"}}, static_cast<int>(kSmallGet.size()));

  /* 64 fields exactly fill the capacity used by run(). */
  {
    std::vector<std::pair<std::string, std::string>> hs;
    for (int i = 0; i < 64; i++)
      hs.emplace_back("X-Header-" + std::to_string(i), "value-" + std::to_string(i));
    expect_valid("64 headers", many_headers(64), "GET", "/many", 1, 1, hs);
  }

  /* Values longer than 16 bytes run the SSE block loop; a long target and a
   * long name too.  Stops placed at every offset of a block. */
  for (int k = 0; k < 40; k++) {
    std::string v(k, 'v');
    std::string name = "X-" + std::string(k, 'n');
    std::string target = "/" + std::string(k, 't');
    expect_valid("long parts " + std::to_string(k),
                 "GET " + target + " HTTP/1.1\r\n" + name + ": " + v + "\r\n\r\n",
                 "GET", target, 1, 1, {{name, v}});
  }

  expect_valid("tabs in value", "GET / HTTP/1.1\r\nX-Tab: a\tb\t\tc\r\n\r\n", "GET", "/",
               1, 1, {{"X-Tab", "a\tb\t\tc"}});
  expect_valid("OWS trimmed",
               "GET / HTTP/1.1\r\nA: \t  padded value \t \r\nB:nospace\r\n\r\n", "GET",
               "/", 1, 1, {{"A", "padded value"}, {"B", "nospace"}});
  expect_valid("empty values",
               "GET / HTTP/1.1\r\nA:\r\nB: \r\nC:\t \t\r\nD: x\r\n\r\n", "GET", "/", 1,
               1, {{"A", ""}, {"B", ""}, {"C", ""}, {"D", "x"}});
  expect_valid("obs-text",
               "GET /caf\xc3\xa9 HTTP/1.1\r\nX-Name: Ren\xc3\xa9\xff\x80 longer than sixteen "
               "\xe2\x82\xac\r\n\r\n",
               "GET", "/caf\xc3\xa9", 1, 1,
               {{"X-Name", "Ren\xc3\xa9\xff\x80 longer than sixteen \xe2\x82\xac"}});
  expect_valid("all tchars in names and method",
               "!#$%&'*+-.^_`|~09azAZ * HTTP/1.1\r\n"
               "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:"
               " v\r\n|~|~|~|~|~|~|~|~|~|~: w\r\n\r\n",
               "!#$%&'*+-.^_`|~09azAZ", "*", 1, 1,
               {{"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                 "v"},
                {"|~|~|~|~|~|~|~|~|~|~", "w"}});
  expect_valid("all VCHAR in value and target",
               "GET /!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~ HTTP/1.1\r\n"
               "X: !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
               "abcdefghijklmnopqrstuvwxyz{|}~\r\n\r\n",
               "GET", "/!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", 1, 1,
               {{"X",
                 "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                 "abcdefghijklmnopqrstuvwxyz{|}~"}});
  expect_valid("other versions", "GET / HTTP/2.0\r\n\r\n", "GET", "/", 2, 0, {});
  expect_valid("version 0.9", "GET / HTTP/0.9\r\n\r\n", "GET", "/", 0, 9, {});
  expect_valid("absolute-form", "GET http://example.com:8080/a?b HTTP/1.1\r\n\r\n", "GET",
               "http://example.com:8080/a?b", 1, 1, {});
  expect_valid("authority-form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
               "CONNECT", "example.com:443", 1, 1, {{"Host", "example.com:443"}});
  expect_valid("colon in value", "GET / HTTP/1.1\r\nX: a:b: c\r\n\r\n", "GET", "/", 1, 1,
               {{"X", "a:b: c"}});
}

void test_invalid() {
  const std::string line = "GET / HTTP/1.1\r\n";
  /* Line endings (RFC 9112 2.2). */
  expect_result("bare LF request line", "GET / HTTP/1.1\n\r\n", -1);
  expect_result("bare LF header", line + "Host: a\n\r\n", -1);
  expect_result("bare LF end", line + "Host: a\r\n\n", -1);
  expect_result("CR without LF in end", line + "Host: a\r\n\rX", -1);
  expect_result("CR without LF after value", line + "Host: a\rX\r\n\r\n", -1);
  expect_result("CR without LF after version", "GET / HTTP/1.1\rX", -1);
  expect_result("leading CRLF", "\r\n" + kSmallGet, -1);
  expect_result("leading LF", "\n" + kSmallGet, -1);
  /* obs-fold (5.2). */
  expect_result("obs-fold SP", line + "X: a\r\n b\r\n\r\n", -1);
  expect_result("obs-fold HTAB", line + "X: a\r\n\tb\r\n\r\n", -1);
  expect_result("SP before first field", line + " X: a\r\n\r\n", -1);
  /* Field names (5.1). */
  expect_result("space before colon", line + "Host : a\r\n\r\n", -1);
  expect_result("tab before colon", line + "Host\t: a\r\n\r\n", -1);
  expect_result("empty name", line + ": a\r\n\r\n", -1);
  expect_result("no colon", line + "Host\r\n\r\n", -1);
  for (const char* bad : {"(", ")", ",", "/", ";", "<", "=", ">", "?", "@", "[", "\\",
                          "]", "{", "}", "\"", "\x7f", "\x80", "\xff", "\x01"}) {
    expect_result(std::string("bad name char ") + show(bad),
                  line + "X-Na" + bad + "me: a\r\n\r\n", -1);
    /* The same in a name long enough for the SSE block loop. */
    expect_result(std::string("bad long name char ") + show(bad),
                  line + "X-A-Rather-Long-Na" + bad + "me-Here: a\r\n\r\n", -1);
    expect_result(std::string("bad method char ") + show(bad),
                  std::string("GE") + bad + "T / HTTP/1.1\r\n\r\n", -1);
  }
  std::string nul_name = line + "X-Na";
  nul_name += '\0';
  expect_result("NUL in name", nul_name + "me: a\r\n\r\n", -1);
  /* Method. */
  expect_result("empty method", " / HTTP/1.1\r\n\r\n", -1);
  expect_result("tab after method", "GET\t/ HTTP/1.1\r\n\r\n", -1);
  expect_result("two SP after method", "GET  / HTTP/1.1\r\n\r\n", -1);
  /* Target (9112 3.2). */
  expect_result("empty target", "GET  HTTP/1.1\r\n\r\n", -1);
  expect_result("two SP after target", "GET /  HTTP/1.1\r\n\r\n", -1);
  for (int c : {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x7f}) {
    std::string t = "/a";
    t += static_cast<char>(c);
    expect_result("CTL in target " + std::to_string(c), "GET " + t + "b HTTP/1.1\r\n\r\n", -1);
    expect_result("CTL in long target " + std::to_string(c),
                  "GET /a-rather-long-path" + t + "b HTTP/1.1\r\n\r\n", -1);
  }
  expect_result("missing version", "GET /\r\n\r\n", -1);
  /* Version (9112 2.3). */
  for (const char* v : {"HTTP/1.1 ", "HTTP/11", "HTTP/1.", "HTTP/1.x", "HTTP/x.1",
                        "http/1.1", "HTTP/1,1", "HTTPS/1.1", "HTTP 1.1", "HTTP/1.10",
                        "HTTP/10.1", "HTTP/", "", "HTTP/1.1\t"}) {
    expect_result(std::string("bad version ") + show(v),
                  std::string("GET / ") + v + "\r\n\r\n", -1);
  }
  /* Field values (9110 5.5). */
  for (int c : {0x00, 0x01, 0x08, 0x0a, 0x0b, 0x0c, 0x1f, 0x7f}) {
    std::string v = "ab";
    v += static_cast<char>(c);
    v += "cd";
    expect_result("CTL in value " + std::to_string(c), line + "X: " + v + "\r\n\r\n", -1);
    expect_result("CTL in long value " + std::to_string(c),
                  line + "X: a value longer than sixteen bytes " + v + " and more\r\n\r\n",
                  -1);
    expect_result("CTL first in value " + std::to_string(c),
                  line + "X: " + v.substr(2) + "\r\n\r\n", -1);
  }
  expect_result("lone CR in value", line + "X: a\rb\r\n\r\n", -1);
  /* -1 as soon as a byte proves it, even before the head is complete. */
  expect_result("early error", "GET / HTTP/1.1\r\nHost : ", -1);
  expect_result("early error in method", "G(", -1);
  expect_result("early error in version", "GET / HTTX", -1);

  /* Too many fields (431): -3 once a field beyond the capacity starts. */
  expect_result("65 headers", many_headers(65), -3);
  expect_result("capacity 0 with one header", kSmallGet, -3, 0);
  expect_result("capacity 0 no headers", "GET / HTTP/1.1\r\n\r\n",
                static_cast<int>(strlen("GET / HTTP/1.1\r\n\r\n")), 0);
  expect_result("capacity 3 with 3", many_headers(3),
                static_cast<int>(many_headers(3).size()), 3);
  expect_result("capacity 3 with 4", many_headers(4), -3, 3);
  std::string four = many_headers(4);
  std::string cut = four.substr(0, four.find("X-Header-3") + 1);
  expect_result("-3 before the rest arrives", cut, -3, 3);
  expect_result("extra line invalid is -1", many_headers(3).substr(0, many_headers(3).size() - 2) +
                                               " folded\r\n\r\n", -1, 3);
}

/* ---- random mutations ----------------------------------------------------- */

void test_random() {
  const std::vector<std::string> seeds = {
      kSmallGet, kBrowserGet, kPost, many_headers(20),
      "GET /x HTTP/1.1\r\nA: \t a long value with spaces and\ttabs \t\r\nB:\r\n\r\n",
      "OPTIONS * HTTP/1.0\r\n|~: ~|\r\n\r\n"};
  /* Bytes that sit on class boundaries, where a wrong range would show. */
  const unsigned char special[] = {0x00, 0x08, 0x09, 0x0a, 0x0b, 0x0d, 0x1f, 0x20,
                                   0x21, 0x22, 0x28, 0x29, 0x2c, 0x2f, 0x3a, 0x40,
                                   0x5b, 0x5d, 0x5e, 0x60, 0x7b, 0x7c, 0x7d, 0x7e,
                                   0x7f, 0x80, 0xff, 'a', 'Z', '0', ':', ' '};
  Rng rng{0x5a17005eedULL};
  const int kIterations = 60000;
  int mismatches = 0;
  int results[4] = {0, 0, 0, 0};  // complete, -1, -2, -3
  for (int it = 0; it < kIterations; it++) {
    std::string s = seeds[rng.below(seeds.size())];
    int ops = 1 + static_cast<int>(rng.below(4));
    for (int o = 0; o < ops && !s.empty(); o++) {
      size_t pos = rng.below(s.size());
      unsigned char c = rng.below(3) == 0 ? static_cast<unsigned char>(rng.next())
                                          : special[rng.below(sizeof special)];
      switch (rng.below(6)) {
        case 0: s[pos] = static_cast<char>(c); break;
        case 1: s.insert(pos, 1, static_cast<char>(c)); break;
        case 2: s.erase(pos, 1 + rng.below(3)); break;
        case 3: s.resize(pos); break;
        case 4: {  // duplicate a chunk (arguments drawn in a fixed order)
          size_t from = rng.below(s.size());
          size_t count = rng.below(40);
          s.insert(pos, s.substr(from, count));
          break;
        }
        case 5: s.insert(pos, 1 + rng.below(20), static_cast<char>(c)); break;
      }
    }
    size_t capacity = rng.below(4) == 0 ? rng.below(25) : 64;
    Parsed ref = reference_parse(s, capacity);
    bool ok = true;
    for (ParserImpl impl : g_impls) {
      Parsed got = run(impl, s, capacity);
      if (!(got == ref)) {
        ok = false;
        if (++mismatches <= 10)
          fprintf(stderr, "  %s: %s\n  ref: %s\n  input: %s\n", impl_name(impl),
                  describe(got).c_str(), describe(ref).c_str(), show(s).c_str());
      }
    }
    check(ok, "random input " + std::to_string(it) + " agrees on every impl");
    results[ref.result > 0 ? 0 : -ref.result]++;
  }
  printf("random: %d inputs (%d complete, %d -1, %d -2, %d -3), %d mismatches\n",
         kIterations, results[0], results[1], results[2], results[3], mismatches);
  /* The mutations must reach every outcome, or the test proves little. */
  check(results[0] > 1000 && results[1] > 1000 && results[2] > 1000 && results[3] > 100,
        "random inputs cover every result");
}

}  // namespace

int main() {
  GuardedBuffer buf;
  g_buf = &buf;
  init_impls();
  test_valid();
  test_invalid();
  test_random();
  return finish();
}
