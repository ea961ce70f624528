#include "config/deep_merge.h"

#include <unordered_map>
#include <utility>

namespace slipway {

void DeepMerge(Node* base, Node overlay) {
  if (!base->IsMap() || !overlay.IsMap()) {
    *base = std::move(overlay);
    return;
  }
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < base->entries.size(); ++i) index.emplace(base->entries[i].key, i);
  for (MapEntry& entry : overlay.entries) {
    auto it = index.find(entry.key);
    if (it == index.end()) {
      index.emplace(entry.key, base->entries.size());
      base->entries.push_back(std::move(entry));
      continue;
    }
    MapEntry& existing = base->entries[it->second];
    if (existing.value.IsMap() && entry.value.IsMap()) {
      DeepMerge(&existing.value, std::move(entry.value));
    } else {
      existing.key_mark = std::move(entry.key_mark);
      existing.value = std::move(entry.value);
    }
  }
}

}  // namespace slipway
