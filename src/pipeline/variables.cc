#include "pipeline/variables.h"

#include <algorithm>

namespace slipway {

const Variable* VariableList::Find(std::string_view name) const {
  for (const Variable& v : items_) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

const std::string* VariableList::Get(std::string_view name) const {
  const Variable* v = Find(name);
  return v ? &v->value : nullptr;
}

void VariableList::Set(Variable v) {
  for (Variable& existing : items_) {
    if (existing.name == v.name) {
      existing = std::move(v);
      return;
    }
  }
  items_.push_back(std::move(v));
}

void VariableList::Set(std::string name, std::string value) {
  Variable v;
  v.name = std::move(name);
  v.value = std::move(value);
  Set(std::move(v));
}

void VariableList::Merge(const VariableList& other) {
  for (const Variable& v : other.items_) Set(v);
}

bool VariableList::Erase(std::string_view name) {
  auto it = std::find_if(items_.begin(), items_.end(),
                         [&](const Variable& v) { return v.name == name; });
  if (it == items_.end()) return false;
  items_.erase(it);
  return true;
}

}  // namespace slipway
