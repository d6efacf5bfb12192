/* Pooled read slabs.
 *
 * A connection reads into a slab; the requests parsed from it are offsets into
 * it, and JS sees the slab as a Uint8Array over the same ArrayBuffer, so
 * nothing is copied to reach JS.  A slab is reference-counted: the connection
 * reading into it holds one reference, and each request of it that is still
 * unanswered (async handler) holds one more.  At zero it returns to the pool.
 * Idle connections hold no slab, so 10k idle sockets cost no slab memory.
 *
 * Slabs are ArrayBuffers allocated by V8 and kept alive by a persistent
 * reference; the 16 bytes of padding past `cap` keep any 16-byte load that
 * starts inside the data within the allocation.
 */
#ifndef SALVO_ARENA_H
#define SALVO_ARENA_H

#include <napi.h>

#include <vector>

#include "ids.h"

namespace salvo {

struct Slab {
  char* data;
  size_t cap;  // usable bytes; the allocation is cap + kSlabPadding
  int refs;
  int id;
  Napi::Reference<Napi::Uint8Array> view;
};

class SlabPool {
 public:
  static constexpr size_t kSlabSize = 64 * 1024;
  static constexpr size_t kSlabPadding = 16;
  /* Free standard slabs kept for reuse; more than this are given back to V8. */
  static constexpr size_t kMaxFree = 256;

  explicit SlabPool(Napi::Env env) : env_(env) {}
  ~SlabPool();

  /* A slab with at least `min_cap` usable bytes and one reference. */
  Slab* Acquire(size_t min_cap = kSlabSize);
  void Ref(Slab* s) { s->refs++; }
  void Unref(Slab* s);
  Slab* ById(int id) const { return slabs_.Get(id); }
  size_t live() const { return live_; }

 private:
  Napi::Env env_;
  IdTable<Slab> slabs_;
  std::vector<Slab*> free_;      // standard-size slabs ready for reuse
  size_t live_ = 0;
};

}  // namespace salvo

#endif
