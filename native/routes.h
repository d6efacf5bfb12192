/* Static routes matched in C++ while the batch is parsed, so the hot path
 * needs no JS string for the path: JS registers (method, exact path) pairs at
 * listen() and reads the route id from the request row.  Parametric and
 * wildcard routes, and anything not found here, go to the JS router.
 *
 * Open addressing over a power-of-two table; FNV-1a over the path bytes.
 * Lookups allocate nothing. */
#ifndef SALVO_ROUTES_H
#define SALVO_ROUTES_H

#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

namespace salvo {

class StaticRoutes {
 public:
  void Clear() {
    entries_.clear();
    table_.clear();
  }
  void Add(int method, const std::string& path, int id) {
    entries_.push_back({method, path, id});
    Rebuild();
  }
  int Find(int method, const char* p, size_t n) const {
    if (table_.empty()) return -1;
    size_t mask = table_.size() - 1;
    for (size_t i = Hash(method, p, n) & mask;; i = (i + 1) & mask) {
      int e = table_[i];
      if (e < 0) return -1;
      const Entry& en = entries_[e];
      if (en.method == method && en.path.size() == n && memcmp(en.path.data(), p, n) == 0)
        return en.id;
    }
  }

 private:
  struct Entry {
    int method;
    std::string path;
    int id;
  };
  static size_t Hash(int method, const char* p, size_t n) {
    uint32_t h = 2166136261u ^ static_cast<uint32_t>(method);
    for (size_t i = 0; i < n; i++) h = (h ^ static_cast<uint8_t>(p[i])) * 16777619u;
    return h;
  }
  void Rebuild() {
    size_t size = 16;
    while (size < entries_.size() * 2) size <<= 1;  // load factor <= 1/2
    table_.assign(size, -1);
    for (size_t e = 0; e < entries_.size(); e++) {
      const Entry& en = entries_[e];
      size_t i = Hash(en.method, en.path.data(), en.path.size()) & (size - 1);
      while (table_[i] >= 0) i = (i + 1) & (size - 1);
      table_[i] = static_cast<int>(e);
    }
  }
  std::vector<Entry> entries_;
  std::vector<int> table_;
};

}  // namespace salvo

#endif
