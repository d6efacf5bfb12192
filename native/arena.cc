/* The slab pool (arena.h): pure C++, no N-API, so the native tests link it. */
#include "arena.h"

namespace salvo {

SlabPool::~SlabPool() {
  for (Slab* s : slabs_.all())
    if (s) Destroy(s);
}

void SlabPool::Destroy(Slab* s) {
  backing_->Drop(s);
  delete s;
}

Slab* SlabPool::Acquire(size_t min_cap) {
  Slab* s;
  if (min_cap <= kSlabSize && !free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    s = new Slab();
    s->cap = min_cap <= kSlabSize ? kSlabSize : min_cap;
    if (!backing_->Make(s, s->cap + kSlabPadding)) {
      delete s;
      return nullptr;
    }
    s->id = slabs_.Add(s);
  }
  s->in_use = true;
  live_++;
  return s;
}

void SlabPool::Release(Slab** owner) {
  Slab* s = *owner;
  if (s == nullptr) return;
  *owner = nullptr;
  if (!s->in_use || slabs_.Get(s->id) != s) {
    refused_++;
    return;
  }
  s->in_use = false;
  live_--;
  if (s->cap == kSlabSize && free_.size() < kMaxFree) {
    free_.push_back(s);
    return;
  }
  slabs_.Remove(s->id);
  Destroy(s);
}

}  // namespace salvo
