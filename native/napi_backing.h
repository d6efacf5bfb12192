/* Slab memory for the addon: each slab is a V8 ArrayBuffer, kept alive by a
 * reference to a Uint8Array view of its usable bytes, which is what dispatch
 * hands to JS.  Per environment (one per Server), no globals. */
#ifndef SALVO_NAPI_BACKING_H
#define SALVO_NAPI_BACKING_H

#include <node_api.h>

#include "arena.h"

namespace salvo {

class NapiBacking : public SlabBacking {
 public:
  explicit NapiBacking(napi_env env) : env_(env) {}
  bool Make(Slab* s, size_t bytes) override {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env_, &scope) != napi_ok) return false;
    void* data = nullptr;
    napi_value ab, view;
    napi_ref ref = nullptr;
    bool ok = napi_create_arraybuffer(env_, bytes, &data, &ab) == napi_ok &&
              napi_create_typedarray(env_, napi_uint8_array, s->cap, ab, 0, &view) == napi_ok &&
              napi_create_reference(env_, view, 1, &ref) == napi_ok;
    napi_close_handle_scope(env_, scope);
    if (!ok) return false;
    s->data = static_cast<char*>(data);
    s->handle = ref;
    return true;
  }
  void Drop(Slab* s) override {
    // Once the reference is gone, V8 frees the buffer.
    if (s->handle) napi_delete_reference(env_, static_cast<napi_ref>(s->handle));
    s->handle = nullptr;
  }
  napi_value View(Slab* s) const {
    napi_value v = nullptr;
    napi_get_reference_value(env_, static_cast<napi_ref>(s->handle), &v);
    return v;
  }

 private:
  napi_env env_;
};

}  // namespace salvo

#endif
