/* Objects addressed by small integer ids that JS holds (connections, slabs):
 * a vector by id plus a free list, so an id is reused only after its object
 * is gone and lookups are one index. */
#ifndef SALVO_IDS_H
#define SALVO_IDS_H

#include <stddef.h>

#include <vector>

namespace salvo {

template <typename T>
class IdTable {
 public:
  int Add(T* item) {
    int id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      items_[id] = item;
    } else {
      id = static_cast<int>(items_.size());
      items_.push_back(item);
    }
    return id;
  }
  void Remove(int id) {
    items_[id] = nullptr;
    free_.push_back(id);
  }
  T* Get(int id) const {
    return id >= 0 && static_cast<size_t>(id) < items_.size() ? items_[id] : nullptr;
  }
  size_t count() const { return items_.size() - free_.size(); }
  /* Every slot, nullptr where free (iterate and skip). */
  const std::vector<T*>& all() const { return items_; }

 private:
  std::vector<T*> items_;
  std::vector<int> free_;
};

}  // namespace salvo

#endif
