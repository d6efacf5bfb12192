/* libFuzzer target for the request path: next_message() (head parser,
 * framing rules, chunked bodies) run the way the connection runs it.
 *
 * Input: one configuration byte, then the bytes as read from a socket.
 *   bit 0     which parser impl is "primary" (run first; the other must agree)
 *   bits 1-2  max_headers       1, 4, 16, 100
 *   bits 3-4  max_header_bytes  32, 128, 1024, 16384 (max_target: half of it)
 *   bits 5-6  max_body          0, 8, 100, 1 MiB
 *   bit 7     prepend a head with "Transfer-Encoding: chunked", so the rest
 *             of the input is a chunked body (reaches chunked.cc in one step)
 *
 * For each impl, on its own exact-size heap copy (ASan catches a read past
 * the end): consume messages until one is incomplete, an error, or not
 * keep-alive, checking the contract of framing.h on every result.  Then the
 * two impls must agree on every result, every offset and the final buffer
 * (the chunked bodies are decoded in place), else abort.  Each complete
 * message is also re-framed from a fresh copy of exactly its bytes and of
 * shorter prefixes: the parser is stateless, so the connection, which calls
 * again as bytes arrive, must see the same message, and -2 before it.  A
 * chunked body (complete, unfinished or refused) is also fed in reads,
 * carrying the ChunkScan as the connection does: the same answer, and every
 * incomplete call stopped at the end of its read.  (The 16 KiB caps on
 * extensions and trailers are past -max_len; the native tests cover them.)
 *
 * Build and run: make -C native/fuzz run SECONDS=60.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "../chunked.h"
#include "../framing.h"

using namespace salvo;

namespace {

struct Record {
  int result;
  size_t pos, head_len, body_len, consumed, need, num_headers;
  size_t method, method_len, target, target_len;
  int major, minor;
  bool chunked, keep_alive, expect_continue;
  std::vector<size_t> fields;  // name, name_len, value, value_len, as offsets
  bool operator==(const Record& o) const {
    return result == o.result && pos == o.pos && head_len == o.head_len &&
           body_len == o.body_len && consumed == o.consumed && need == o.need &&
           num_headers == o.num_headers && method == o.method &&
           method_len == o.method_len && target == o.target && target_len == o.target_len &&
           major == o.major && minor == o.minor && chunked == o.chunked &&
           keep_alive == o.keep_alive && expect_continue == o.expect_continue &&
           fields == o.fields;
  }
};

[[noreturn]] void fail(const char* what, size_t pos, int result) {
  fprintf(stderr, "fuzz_request: %s (message at %zu, result %d)\n", what, pos, result);
  abort();
}

bool known_result(int r) {
  switch (r) {
    case -2: case -400: case -413: case -414: case -417: case -431: case -501: case -505:
      return true;
    default: return r > 0;
  }
}

int frame_copy(ParserImpl impl, const char* p, size_t n, const Limits& limits,
               std::vector<HeaderField>& fields) {
  std::vector<char> copy(p, p + n);
  Message m;
  return next_message(impl, copy.data(), n, limits, fields.data(), &m);
}

/* The connection resumes a chunked scan across reads (Conn::chunk).  Feeds
 * the message's first `total` bytes to next_message in three reads, and in
 * one-byte reads when it is short, carrying the whole ChunkScan from call to
 * call; each feed must end with `want`, the result of the bytes arriving at
 * once, and each incomplete call must have stopped at the end of its read
 * (each body byte is examined once).  Leaves the last feed's buffer and
 * Message in *copy and *mm. */
bool resumes_alike(ParserImpl impl, const char* msg, size_t total, size_t head_len, int want,
                   const Limits& limits, std::vector<HeaderField>& fields,
                   std::vector<char>* copy, Message* mm, size_t pos) {
  const size_t body = total - head_len;
  std::vector<std::vector<size_t>> feeds = {{head_len + body / 3, head_len + 2 * body / 3}};
  if (total <= 512) {
    feeds.emplace_back();
    for (size_t cut = head_len; cut < total; cut++) feeds.back().push_back(cut);
  }
  for (const std::vector<size_t>& cuts : feeds) {
    copy->assign(msg, msg + total);
    ChunkScan chunk;
    int last = kParseIncomplete;
    for (size_t i = 0; i <= cuts.size(); i++) {
      const size_t cut = i < cuts.size() ? cuts[i] : total;
      *mm = Message{};
      mm->chunk = chunk;
      last = next_message(impl, copy->data(), cut, limits, fields.data(), mm);
      chunk = mm->chunk;
      if (last != kParseIncomplete) break;
      if (chunk.resume != cut - head_len)
        fail("an incomplete chunked scan did not stop at the end of its read", pos, last);
    }
    if (last != want) return false;
  }
  return true;
}

/* The connection's loop over one buffer; returns the records and leaves the
 * buffer as the connection would (chunked bodies decoded in place). */
std::vector<Record> run(ParserImpl impl, std::vector<char>& buf, const std::vector<char>& orig,
                        const Limits& limits) {
  std::vector<Record> out;
  std::vector<HeaderField> fields(limits.max_headers);
  const size_t len = buf.size();
  size_t pos = 0;
  while (pos < len) {
    Message m{};  // zeroed, with a fresh ChunkScan (its default member initializers)
    char* base = buf.data() + pos;
    const size_t avail = len - pos;
    int r = next_message(impl, base, avail, limits, fields.data(), &m);
    if (!known_result(r)) fail("result outside the contract", pos, r);
    Record rec{};
    rec.result = r;
    rec.pos = pos;
    if (r == kParseIncomplete) {
      rec.need = m.need;
      if (m.need != 0 && m.need <= avail) fail("need is not more than buffered", pos, r);
    }
    if (r > 0) {
      const Framing& f = m.framing;
      if (m.consumed != static_cast<size_t>(r) || m.consumed > avail)
        fail("consumed out of range", pos, r);
      if (m.head_len > limits.max_header_bytes) fail("head past max_header_bytes", pos, r);
      if (m.head.target_len > limits.max_target) fail("target past max_target", pos, r);
      if (m.body_len > limits.max_body) fail("body past max_body", pos, r);
      if (m.head_len + m.body_len > m.consumed) fail("head + body past consumed", pos, r);
      if (!f.chunked && m.head_len + m.body_len != m.consumed)
        fail("Content-Length message length", pos, r);
      if (f.chunked && m.consumed - m.head_len > chunked_wire_limit(limits.max_body))
        fail("chunked body past the wire limit", pos, r);
      if (m.num_headers > limits.max_headers) fail("too many fields", pos, r);
      if (f.status != 0 || m.head.major_version != 1) fail("refused head completed", pos, r);
      /* Every result points into the head. */
      auto inside = [&](const char* p, size_t n) {
        return p >= base && n <= m.head_len && p + n <= base + m.head_len;
      };
      if (!inside(m.head.method, m.head.method_len) || !inside(m.head.target, m.head.target_len))
        fail("request line outside the head", pos, r);
      rec.head_len = m.head_len;
      rec.body_len = m.body_len;
      rec.consumed = m.consumed;
      rec.num_headers = m.num_headers;
      rec.method = static_cast<size_t>(m.head.method - base);
      rec.method_len = m.head.method_len;
      rec.target = static_cast<size_t>(m.head.target - base);
      rec.target_len = m.head.target_len;
      rec.major = m.head.major_version;
      rec.minor = m.head.minor_version;
      rec.chunked = f.chunked;
      rec.keep_alive = f.keep_alive;
      rec.expect_continue = f.expect_continue;
      for (size_t i = 0; i < m.num_headers; i++) {
        const HeaderField& h = fields[i];
        if (!inside(h.name, h.name_len) || !inside(h.value, h.value_len))
          fail("field outside the head", pos, r);
        rec.fields.push_back(static_cast<size_t>(h.name - base));
        rec.fields.push_back(h.name_len);
        rec.fields.push_back(static_cast<size_t>(h.value - base));
        rec.fields.push_back(h.value_len);
      }
      /* Stateless: the same bytes, alone, are the same message; any
       * shorter prefix is incomplete. */
      const char* o = orig.data() + pos;
      std::vector<HeaderField> scratch(limits.max_headers);
      if (frame_copy(impl, o, m.consumed, limits, scratch) != r)
        fail("the message alone frames differently", pos, r);
      for (size_t cut : {m.consumed - 1, m.consumed / 2, m.head_len - 1}) {
        int p = frame_copy(impl, o, cut, limits, scratch);
        if (p != kParseIncomplete) fail("a prefix of a message is not incomplete", pos, p);
      }
      if (f.chunked) {
        std::vector<char> copy;
        Message mm{};
        if (!resumes_alike(impl, o, m.consumed, m.head_len, r, limits, scratch, &copy, &mm, pos) ||
            mm.body_len != m.body_len ||
            memcmp(copy.data() + m.head_len, base + m.head_len, m.body_len) != 0)
          fail("a chunked body resumed across reads frames differently", pos, r);
      }
    }
    /* An unfinished or refused chunked body too: the same answer, resumed. */
    if (r < 0 && m.head_len > 0 && m.framing.chunked && m.framing.status == 0) {
      std::vector<HeaderField> scratch(limits.max_headers);
      std::vector<char> copy;
      Message mm{};
      if (!resumes_alike(impl, orig.data() + pos, avail, m.head_len, r, limits, scratch, &copy,
                         &mm, pos))
        fail("a chunked body resumed across reads is refused differently", pos, r);
    }
    out.push_back(rec);
    if (r <= 0) break;
    pos += static_cast<size_t>(r);
    if (!m.framing.keep_alive) break;  // the connection reads nothing after it
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t cfg = data[0];
  static const size_t kHeaders[] = {1, 4, 16, 100};
  static const size_t kHeadBytes[] = {32, 128, 1024, 16384};
  static const size_t kBody[] = {0, 8, 100, 1024 * 1024};
  Limits limits;
  limits.max_headers = kHeaders[(cfg >> 1) & 3];
  limits.max_header_bytes = kHeadBytes[(cfg >> 3) & 3];
  limits.max_body = kBody[(cfg >> 5) & 3];
  limits.max_target = limits.max_header_bytes / 2;  // so 414 is reachable too

  std::vector<char> input;
  if (cfg & 0x80) {
    static const char kHead[] =
        "POST /f HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n";
    input.assign(kHead, kHead + sizeof kHead - 1);
    if (limits.max_header_bytes < 1024) limits.max_header_bytes = 1024;
  }
  input.insert(input.end(), data + 1, data + size);

  static const bool sse = cpu_has_sse42();
  ParserImpl impls[2] = {ParserImpl::kScalar, ParserImpl::kSse42};
  if (cfg & 1) { impls[0] = ParserImpl::kSse42; impls[1] = ParserImpl::kScalar; }
  const int n_impls = sse ? 2 : 1;
  if (!sse) impls[0] = ParserImpl::kScalar;

  std::vector<char> bufs[2];
  std::vector<Record> recs[2];
  for (int i = 0; i < n_impls; i++) {
    bufs[i] = input;  // exact size: ASan sees any read past the end
    recs[i] = run(impls[i], bufs[i], input, limits);
  }
  if (n_impls == 2) {
    if (recs[0].size() != recs[1].size()) fail("impls disagree on the message count", 0, 0);
    for (size_t i = 0; i < recs[0].size(); i++)
      if (!(recs[0][i] == recs[1][i]))
        fail("impls disagree", recs[0][i].pos, recs[0][i].result);
    if (bufs[0] != bufs[1]) fail("impls leave different buffers", 0, 0);
  }
  return 0;
}
