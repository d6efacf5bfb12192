#include "routes.h"

namespace salvo {

bool Routes::Add(int method, const std::string& pattern, int id) {
  if (pattern.empty() || pattern[0] != '/' || method == 0 || method >= kMethodIds) return false;
  bool dynamic = pattern.find(':') != std::string::npos || pattern.find('*') != std::string::npos;
  if (!dynamic) {
    // "All methods" and HEAD-from-GET are resolved by the tree; the hash holds
    // exact (method, path) pairs only.
    if (method > 0) {
      statics_.push_back({method, pattern, id});
      Rebuild();
    }
  }
  int node = 0, nparams = 0;
  size_t i = 1;
  for (;;) {
    size_t e = pattern.find('/', i);
    if (e == std::string::npos) e = pattern.size();
    std::string seg = pattern.substr(i, e - i);
    bool last = e == pattern.size();
    if (seg == "*" && last) {
      if (++nparams > kMaxRouteParams) return false;
      any_dynamic_ = true;
      if (method < 0) nodes_[node].wild_all = id;
      else nodes_[node].wild[method] = id;
      return true;
    }
    int next = -1;
    if (!seg.empty() && seg[0] == ':') {
      if (++nparams > kMaxRouteParams) return false;
      if (nodes_[node].param < 0) {
        nodes_[node].param = static_cast<int>(nodes_.size());
        nodes_.emplace_back();
      }
      next = nodes_[node].param;
      any_dynamic_ = true;
    } else {
      for (auto& s : nodes_[node].statics)
        if (s.first == seg) next = s.second;
      if (next < 0) {
        next = static_cast<int>(nodes_.size());
        nodes_[node].statics.emplace_back(seg, next);
        nodes_.emplace_back();
      }
    }
    node = next;
    if (last) break;
    i = e + 1;
  }
  if (method < 0) nodes_[node].all = id;
  else nodes_[node].routes[method] = id;
  if (method < 0 || method == 1) any_dynamic_ = true;  // resolved by the tree
  return true;
}

void Routes::Rebuild() {
  size_t size = 16;
  while (size < statics_.size() * 2) size <<= 1;
  table_.assign(size, -1);
  for (size_t e = 0; e < statics_.size(); e++) {
    const Static& s = statics_[e];
    size_t i = Hash(s.method, s.path.data(), s.path.size()) & (size - 1);
    while (table_[i] >= 0) i = (i + 1) & (size - 1);
    table_[i] = static_cast<int>(e);
  }
}

int Routes::FindStatic(int method, const char* p, size_t n) const {
  if (table_.empty()) return -1;
  size_t mask = table_.size() - 1;
  for (size_t i = Hash(method, p, n) & mask;; i = (i + 1) & mask) {
    int e = table_[i];
    if (e < 0) return -1;
    const Static& s = statics_[e];
    if (s.method == method && s.path.size() == n && memcmp(s.path.data(), p, n) == 0) return s.id;
  }
}

int Routes::Find(int method, const char* base, const char* path, size_t n, int32_t* params,
                 int* np) const {
  *np = 0;
  if (method <= 0 || method >= kMethodIds || n == 0 || path[0] != '/') return -1;
  int r = FindStatic(method, path, n);
  if (r >= 0 || !any_dynamic_) return r;
  if (memchr(path, '%', n)) return -1;  // the JS router decodes before matching
  return Walk(0, method, base, path, n, params, 0, np);
}

/* p starts with '/' (or n == 0: the path ended at this node). */
int Routes::Walk(int node, int method, const char* base, const char* p, size_t n,
                 int32_t* params, int np, int* out_np) const {
  const Node& nd = nodes_[node];
  if (n == 0) {
    int r = Pick(nd.routes, nd.all, method);
    if (r >= 0) {
      *out_np = np;
      return r;
    }
  } else {
    const char* s = p + 1;
    size_t rest = n - 1;
    const char* slash = static_cast<const char*>(memchr(s, '/', rest));
    size_t seg = slash ? static_cast<size_t>(slash - s) : rest;
    for (const auto& st : nd.statics) {
      if (st.first.size() == seg && memcmp(st.first.data(), s, seg) == 0) {
        int r = Walk(st.second, method, base, s + seg, rest - seg, params, np, out_np);
        if (r >= 0) return r;
      }
    }
    if (nd.param >= 0 && seg > 0) {
      params[np * 2] = static_cast<int32_t>(s - base);
      params[np * 2 + 1] = static_cast<int32_t>(seg);
      int r = Walk(nd.param, method, base, s + seg, rest - seg, params, np + 1, out_np);
      if (r >= 0) return r;
    }
  }
  int w = Pick(nd.wild, nd.wild_all, method);
  if (w >= 0) {
    // The tail after this node's '/', or "" when the path ends here.
    const char* t = n > 0 ? p + 1 : p;
    params[np * 2] = static_cast<int32_t>(t - base);
    params[np * 2 + 1] = static_cast<int32_t>(n > 0 ? n - 1 : 0);
    *out_np = np + 1;
    return w;
  }
  return -1;
}

}  // namespace salvo
