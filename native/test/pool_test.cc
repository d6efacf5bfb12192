/* The slab pool (native/arena.cc) with a malloc backing: one owner per
 * slab, a release is idempotent per owner, a stale release is refused and
 * never puts a slab on the free list twice (which would let two connections
 * read into one buffer: security issue, item 3). */
#include <stdlib.h>

#include <set>
#include <vector>

#include "../arena.h"
#include "harness.h"

namespace {

using salvo::Slab;
using salvo::SlabPool;

class MallocBacking : public salvo::SlabBacking {
 public:
  int made = 0, dropped = 0;
  bool fail = false;
  bool Make(Slab* s, size_t bytes) override {
    if (fail) return false;
    s->data = static_cast<char*>(malloc(bytes));
    made++;
    return s->data != nullptr;
  }
  void Drop(Slab* s) override {
    free(s->data);
    s->data = nullptr;
    dropped++;
  }
};

void test_release_is_idempotent_per_owner() {
  MallocBacking b;
  SlabPool pool(&b);
  Slab* owner = pool.Acquire();
  check(owner != nullptr && pool.live() == 1, "acquire: one live slab");
  pool.Release(&owner);
  check(owner == nullptr, "release clears the owner's pointer");
  check(pool.live() == 0 && pool.free_count() == 1, "released once: back in the pool");
  pool.Release(&owner);  // the same owner again: a no-op
  check(pool.live() == 0 && pool.free_count() == 1 && pool.refused() == 0,
        "a second release through the same owner changes nothing");
}

void test_stale_release_is_refused() {
  MallocBacking b;
  SlabPool pool(&b);
  Slab* a = pool.Acquire();
  Slab* stale = a;  // a copy of the pointer kept elsewhere (the bug the audit found)
  pool.Release(&a);
  pool.Release(&stale);
  check(pool.live() == 0, "the live count never goes below zero");
  check(pool.free_count() == 1, "the slab is on the free list once");
  check(pool.refused() == 1, "the stale release is refused and counted");
  // Two connections acquiring now get two different slabs.
  Slab* x = pool.Acquire();
  Slab* y = pool.Acquire();
  check(x != nullptr && y != nullptr && x != y && x->data != y->data,
        "two owners never share a slab after a double release");
  pool.Release(&x);
  pool.Release(&y);
}

void test_reuse_and_bounds() {
  MallocBacking b;
  SlabPool pool(&b);
  std::vector<Slab*> owners;
  std::set<Slab*> distinct;
  for (size_t i = 0; i < SlabPool::kMaxFree + 10; i++) {
    owners.push_back(pool.Acquire());
    distinct.insert(owners.back());
  }
  check(distinct.size() == owners.size(), "live slabs are all distinct");
  check(pool.live() == owners.size(), "live counts every owner");
  for (Slab*& s : owners) pool.Release(&s);
  check(pool.live() == 0, "all released");
  check(pool.free_count() == SlabPool::kMaxFree, "at most kMaxFree kept for reuse");
  check(b.dropped == 10, "the rest given back");
  Slab* big = pool.Acquire(SlabPool::kSlabSize * 4);
  check(big != nullptr && big->cap == SlabPool::kSlabSize * 4, "a large slab has its size");
  pool.Release(&big);
  check(b.dropped == 11, "a large slab is not kept");
  Slab* again = pool.Acquire();
  check(again != nullptr && again->in_use && again->cap == SlabPool::kSlabSize, "reuse from the free list");
  pool.Release(&again);
}

void test_out_of_memory() {
  MallocBacking b;
  SlabPool pool(&b);
  b.fail = true;
  Slab* s = pool.Acquire();
  check(s == nullptr && pool.live() == 0, "no memory: null, nothing counted");
  pool.Release(&s);
  check(pool.refused() == 0, "releasing a null owner is a no-op");
}

}  // namespace

int main() {
  test_release_is_idempotent_per_owner();
  test_stale_release_is_refused();
  test_reuse_and_bounds();
  test_out_of_memory();
  return finish();
}
