/* The route table, compiled at listen() and matched in C++ while the batch is
 * parsed, so the hot path builds no JS string for the path.  JS registers
 * every route whose pattern fits (method id, pattern, id); the row then says
 * which route matched and where its parameters are (offsets into the slab).
 *
 * Static paths: one hash lookup (FNV-1a, open addressing, load <= 1/2).
 * Parametric and wildcard paths: a segment tree walked with the same
 * precedence as the JS router (src/router.ts): static > :param > *, with
 * backtracking.  A path with a '%' escape is left to the JS router, which
 * decodes segments before comparing them.  Lookups allocate nothing. */
#ifndef SALVO_ROUTES_H
#define SALVO_ROUTES_H

#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

namespace salvo {

constexpr int kMaxRouteParams = 8;
constexpr int kMethodIds = 10;  // layout::Method; id 0 (other methods) is JS-only

class Routes {
 public:
  /* method: 1..9, or -1 for every method ("all"). */
  bool Add(int method, const std::string& pattern, int id);
  /* Returns the route id or -1; params receives (offset from `base`, length)
   * pairs, *np their number. */
  int Find(int method, const char* base, const char* path, size_t n, int32_t* params,
           int* np) const;

 private:
  struct Node {
    std::vector<std::pair<std::string, int>> statics;
    int param = -1;
    int routes[kMethodIds];
    int all = -1;
    int wild[kMethodIds];
    int wild_all = -1;
    Node() {
      for (int i = 0; i < kMethodIds; i++) routes[i] = wild[i] = -1;
    }
  };
  struct Static {
    int method;
    std::string path;
    int id;
  };
  static int Pick(const int* by_method, int all, int method) {
    int r = by_method[method];
    if (r < 0 && method == 2) r = by_method[1];  // HEAD is answered by GET (RFC 9110 9.3.2)
    return r >= 0 ? r : all;
  }
  static size_t Hash(int method, const char* p, size_t n) {
    uint32_t h = 2166136261u ^ static_cast<uint32_t>(method);
    for (size_t i = 0; i < n; i++) h = (h ^ static_cast<uint8_t>(p[i])) * 16777619u;
    return h;
  }
  int FindStatic(int method, const char* p, size_t n) const;
  void Rebuild();
  int Walk(int node, int method, const char* base, const char* p, size_t n, int32_t* params,
           int np, int* out_np) const;

  std::vector<Static> statics_;
  std::vector<int> table_;
  std::vector<Node> nodes_{Node()};
  bool any_dynamic_ = false;
};

}  // namespace salvo

#endif
