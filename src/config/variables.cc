#include "config/variables.h"

#include <algorithm>
#include <string>
#include <vector>

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
  auto it =
      std::find_if(items_.begin(), items_.end(), [&](const Variable& v) { return v.name == name; });
  if (it == items_.end()) return false;
  items_.erase(it);
  return true;
}

namespace {

// Bounds the chain of variables whose values reference further variables.
// Deep enough for any real pipeline; small enough that an adversarial chain
// cannot exhaust the stack or blow up the output.
constexpr int kMaxExpansionDepth = 32;
// Values such as A="$B$B", B="$C$C", ... grow exponentially; past this size
// further references are left as written instead of expanded.
constexpr size_t kMaxExpandedSize = 1 << 20;

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

class Expander {
 public:
  Expander(const VariableList& vars, bool keep_unknown)
      : vars_(vars), keep_unknown_(keep_unknown) {}

  void Expand(std::string_view text, int depth, std::string* out) {
    size_t i = 0;
    while (i < text.size()) {
      size_t dollar = text.find('$', i);
      if (dollar == std::string_view::npos) {
        out->append(text.substr(i));
        return;
      }
      out->append(text.substr(i, dollar - i));
      i = dollar + 1;
      if (i < text.size() && text[i] == '$') {  // "$$" is a literal dollar.
        out->push_back('$');
        ++i;
        continue;
      }
      std::string_view name;
      size_t end = i;
      if (i < text.size() && text[i] == '{') {
        size_t j = i + 1;
        if (j < text.size() && IsNameStart(text[j])) {
          while (j < text.size() && IsNameChar(text[j])) ++j;
          if (j < text.size() && text[j] == '}') {
            name = text.substr(i + 1, j - i - 1);
            end = j + 1;
          }
        }
      } else if (i < text.size() && IsNameStart(text[i])) {
        size_t j = i;
        while (j < text.size() && IsNameChar(text[j])) ++j;
        name = text.substr(i, j - i);
        end = j;
      }
      if (name.empty()) {  // Not a reference: keep the dollar as written.
        out->push_back('$');
        continue;
      }
      AppendValue(name, text.substr(dollar, end - dollar), depth, out);
      i = end;
    }
  }

 private:
  // Appends the expanded value of variable `name`. A reference back into a
  // variable that is being expanded (a cycle) or past the depth bound is
  // left as written, which is what a single level of expansion would give.
  void AppendValue(std::string_view name, std::string_view reference, int depth, std::string* out) {
    const Variable* v = vars_.Find(name);
    if (v == nullptr) {
      if (keep_unknown_) out->append(reference);
      return;
    }
    if (!v->expand || v->value.find('$') == std::string::npos) {
      out->append(v->value);
      return;
    }
    bool cyclic = std::find(active_.begin(), active_.end(), v) != active_.end();
    if (cyclic || depth >= kMaxExpansionDepth || out->size() > kMaxExpandedSize) {
      out->append(reference);
      return;
    }
    active_.push_back(v);
    Expand(v->value, depth + 1, out);
    active_.pop_back();
  }

  const VariableList& vars_;
  const bool keep_unknown_;
  std::vector<const Variable*> active_;
};

}  // namespace

std::string ExpandVariables(std::string_view text, const VariableList& vars) {
  std::string out;
  out.reserve(text.size());
  Expander(vars, /*keep_unknown=*/false).Expand(text, 0, &out);
  return out;
}

std::string ExpandExistingVariables(std::string_view text, const VariableList& vars) {
  std::string out;
  out.reserve(text.size());
  Expander(vars, /*keep_unknown=*/true).Expand(text, 0, &out);
  return out;
}

}  // namespace slipway
