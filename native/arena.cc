#include "arena.h"

namespace salvo {

SlabPool::~SlabPool() {
  for (Slab* s : slabs_.all()) delete s;  // the references die with the environment
}

Slab* SlabPool::Acquire(size_t min_cap) {
  if (min_cap <= kSlabSize && !free_.empty()) {
    Slab* s = free_.back();
    free_.pop_back();
    s->refs = 1;
    live_++;
    return s;
  }
  size_t cap = min_cap <= kSlabSize ? kSlabSize : min_cap;
  Napi::HandleScope scope(env_);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env_, cap + kSlabPadding);
  Slab* s = new Slab();
  s->data = static_cast<char*>(ab.Data());
  s->cap = cap;
  s->refs = 1;
  s->view = Napi::Persistent(Napi::Uint8Array::New(env_, cap, ab, 0));
  s->id = slabs_.Add(s);
  live_++;
  return s;
}

void SlabPool::Unref(Slab* s) {
  if (--s->refs > 0) return;
  live_--;
  if (s->cap == kSlabSize && free_.size() < kMaxFree) {
    free_.push_back(s);
    return;
  }
  slabs_.Remove(s->id);
  delete s;  // drops the persistent reference; V8 frees the buffer
}

}  // namespace salvo
