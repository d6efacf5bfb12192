/* Pooled read slabs.
 *
 * A connection reads into a slab; the requests parsed from it are offsets into
 * it, and JS sees the slab as a Uint8Array over the same memory, so nothing is
 * copied to reach JS.  A slab has exactly one owner, the connection reading
 * into it: JS never keeps a slab past the dispatch call that showed it (a
 * request that outlives its batch copies its own bytes, src/request.ts), so no
 * slab is ever shared and the next read may overwrite it.
 *
 * Release takes the owner's pointer and clears it, so releasing twice through
 * one owner is a no-op; a release of a slab that is not in use (a stale copy
 * of the pointer) is refused and counted, never a second entry in the free
 * list (two connections reading into one buffer).  native/test/pool_test.cc
 * checks both.
 *
 * How slab memory is made is the Backing's business: V8 ArrayBuffers in the
 * addon (NapiBacking in arena.cc), malloc in the native tests.  16 bytes of
 * padding past `cap` keep any 16-byte load that starts inside the data within
 * the allocation (the SSE4.2 parser).
 */
#ifndef SALVO_ARENA_H
#define SALVO_ARENA_H

#include <stddef.h>

#include <vector>

#include "ids.h"

namespace salvo {

struct Slab {
  char* data = nullptr;
  size_t cap = 0;         // usable bytes; the allocation is cap + kSlabPadding
  bool in_use = false;
  int id = -1;
  void* handle = nullptr;  // the backing's (the addon: a napi_ref to the Uint8Array view)
};

class SlabBacking {
 public:
  virtual ~SlabBacking() = default;
  /* Allocates `bytes` for s: sets s->data (and s->handle); false on failure. */
  virtual bool Make(Slab* s, size_t bytes) = 0;
  virtual void Drop(Slab* s) = 0;
};

class SlabPool {
 public:
  static constexpr size_t kSlabSize = 64 * 1024;
  static constexpr size_t kSlabPadding = 16;
  /* Free standard slabs kept for reuse; more than this are given back. */
  static constexpr size_t kMaxFree = 256;

  explicit SlabPool(SlabBacking* backing) : backing_(backing) {}
  ~SlabPool();
  SlabPool(const SlabPool&) = delete;
  SlabPool& operator=(const SlabPool&) = delete;

  /* A slab with at least `min_cap` usable bytes, in use by the caller; null
   * when memory cannot be had. */
  Slab* Acquire(size_t min_cap = kSlabSize);
  /* Gives *owner back and clears it (idempotent per owner). */
  void Release(Slab** owner);
  size_t live() const { return live_; }
  size_t free_count() const { return free_.size(); }
  /* Releases refused because the slab was not in use (should stay 0). */
  size_t refused() const { return refused_; }

 private:
  void Destroy(Slab* s);
  SlabBacking* backing_;
  IdTable<Slab> slabs_;
  std::vector<Slab*> free_;  // standard-size slabs ready for reuse
  size_t live_ = 0;
  size_t refused_ = 0;
};

}  // namespace salvo

#endif
