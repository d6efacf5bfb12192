/* What the native tests share: pass/fail counting, printable inputs, and a
 * buffer whose data ends right before a PROT_NONE page, so any read past an
 * input's last byte crashes (the habit of picohttpparser's test.c).  Test
 * programs only: the addon itself has no globals. */
#ifndef SALVO_TEST_HARNESS_H
#define SALVO_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../parser.h"

inline int g_passed = 0;
inline int g_failed = 0;

inline void check(bool ok, const std::string& what) {
  if (ok) {
    g_passed++;
  } else {
    g_failed++;
    if (g_failed <= 50) fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

/* Printable form of an input for failure messages. */
inline std::string show(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c >= 0x7F) {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else out += static_cast<char>(c);
  }
  if (out.size() > 300) out = out.substr(0, 300) + "...";
  return out;
}

/* A writable data region followed by one PROT_NONE page (next_message
 * decodes chunked bodies in place, so the copy must be writable). */
class GuardedBuffer {
 public:
  static constexpr size_t kDataPages = 96;
  GuardedBuffer() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_ = kDataPages * page_;
    void* m = mmap(nullptr, size_ + page_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) { perror("mmap"); exit(2); }
    base_ = static_cast<char*>(m);
    if (mprotect(base_ + size_, page_, PROT_NONE) != 0) {
      perror("mprotect");
      exit(2);
    }
  }
  ~GuardedBuffer() { munmap(base_, size_ + page_); }
  /* Copies `s` so that it ends at the guard page; returns its first byte. */
  char* place(const std::string& s) {
    if (s.size() > size_) { fprintf(stderr, "input too long\n"); exit(2); }
    char* p = base_ + size_ - s.size();
    memcpy(p, s.data(), s.size());
    return p;
  }

 private:
  size_t page_ = 0, size_ = 0;
  char* base_ = nullptr;
};

inline GuardedBuffer* g_buf = nullptr;

/* A seeded PRNG (xorshift64*) for the random-mutation tests: fixed seeds make
 * every run test the same inputs. */
struct Rng {
  uint64_t s;
  uint64_t next() {  // xorshift64*
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

/* The parser paths every case runs on: scalar, and SSE4.2 where the CPU has it. */
inline std::vector<salvo::ParserImpl> g_impls;

inline void init_impls() {
  g_impls.push_back(salvo::ParserImpl::kScalar);
  if (salvo::cpu_has_sse42()) {
    g_impls.push_back(salvo::ParserImpl::kSse42);
    printf("impls: scalar, sse42\n");
  } else {
    printf("impls: scalar (SKIP sse42: CPU has no SSE4.2)\n");
  }
}

/* The closing line CI reads, and the exit status. */
inline int finish() {
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

#endif
