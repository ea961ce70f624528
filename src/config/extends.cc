#include "config/extends.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/deep_merge.h"
#include "config/keyword_reader.h"
#include "util/suggest.h"

namespace slipway {

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

class ExtendsResolver {
 public:
  ExtendsResolver(std::vector<MapEntry>* entries, Diagnostics* diags)
      : entries_(*entries),
        diags_(diags),
        state_(entries->size(), State::kUnvisited),
        height_(entries->size(), -2),
        extensible_(entries->size()),
        resolved_(entries->size()),
        parents_(entries->size()) {
    for (size_t i = 0; i < entries_.size(); ++i) {
      index_[entries_[i].key] = i;
      extensible_[i] = entries_[i].value.IsMap() && entries_[i].value.Find("extends") != nullptr;
    }
  }

  bool Run() {
    bool ok = true;
    for (size_t i = 0; i < entries_.size() && !abandoned_; ++i) ok = Resolve(i, 0) && ok;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (resolved_[i]) entries_[i].value = std::move(*resolved_[i]);
    }
    return ok;
  }

 private:
  enum class State { kUnvisited, kInProgress, kDone, kFailed };

  // Whether entry i extends something; fixed before resolution starts.
  bool Extensible(size_t i) const { return extensible_[i]; }

  // The value of a resolved entry: its merge for one that extends, else the
  // entry itself (not copied: it never changes during resolution).
  const Node& Resolved(size_t i) const { return resolved_[i] ? *resolved_[i] : entries_[i].value; }

  // Parent indexes of entry i, or nullopt after reporting why not.
  std::optional<std::vector<size_t>> Parents(size_t i) {
    const MapEntry& entry = entries_[i];
    const Node& extends = *entry.value.Find("extends");
    KeywordReader reader(diags_, entry.key);
    auto names = reader.StringOrStringArray(extends, "extends");
    if (!names) return std::nullopt;
    std::vector<std::string> unknown, invalid;
    std::vector<size_t> parents;
    for (const std::string& name : *names) {
      auto it = index_.find(name);
      if (it == index_.end()) {
        unknown.push_back(name);
      } else if (!Resolved(it->second).IsMap()) {
        invalid.push_back(name);
      } else {
        parents.push_back(it->second);
      }
    }
    if (!unknown.empty()) {
      std::string hint;
      if (unknown.size() == 1) {
        std::vector<std::string_view> known;
        for (const MapEntry& e : entries_) known.push_back(e.key);
        hint = DidYouMean(unknown[0], known);
      }
      reader.Error(extends.mark, "extends",
                   "unknown keys in `extends` (" + JoinNames(unknown) + ")" + hint);
      return std::nullopt;
    }
    if (!invalid.empty()) {
      reader.Error(extends.mark, "extends",
                   "invalid base hashes in `extends` (" + JoinNames(invalid) + ")");
      return std::nullopt;
    }
    return parents;
  }

  // The largest number of ancestors at which an extending entry is reached
  // when resolving i (-1 when i does not extend anything). Only called on
  // acyclic graphs.
  int Height(size_t i) {
    if (height_[i] != -2) return height_[i];
    if (!Extensible(i)) return height_[i] = -1;
    int h = 0;
    for (size_t p : parents_[i]) h = std::max(h, Height(p) + 1);
    return height_[i] = h;
  }

  // depth: how many entries are being resolved above i (each waits for its
  // parents).
  bool Resolve(size_t i, int depth) {
    switch (state_[i]) {
      case State::kDone:
        return true;
      case State::kFailed:
        return false;
      case State::kInProgress: {
        const Node& extends = *entries_[i].value.Find("extends");
        diags_->Error(extends.mark, "circular dependency detected in `extends`", entries_[i].key,
                      "extends");
        state_[i] = State::kFailed;
        return false;
      }
      case State::kUnvisited:
        break;
    }
    if (!Extensible(i)) {
      state_[i] = State::kDone;
      return true;
    }
    if (depth > kMaxExtendsRecursion) {
      // Far past GitLab's limit, which Height reports below for shorter
      // chains: stop before the recursion itself becomes the problem, and
      // report it once (a chain of 100,000 would report every 100th entry).
      diags_->Error(entries_[i].value.Find("extends")->mark, "nesting too deep in `extends`",
                    entries_[i].key, "extends");
      state_[i] = State::kFailed;
      abandoned_ = true;
      return false;
    }
    state_[i] = State::kInProgress;
    auto parents = Parents(i);
    if (!parents) {
      state_[i] = State::kFailed;
      return false;
    }
    parents_[i] = *parents;
    Node merged = Node::Map(entries_[i].value.mark);
    bool ok = true;
    for (size_t p : *parents) {
      if (!Resolve(p, depth + 1)) {
        ok = false;
        continue;
      }
      DeepMerge(&merged, Resolved(p));
    }
    if (!ok || state_[i] == State::kFailed) {
      state_[i] = State::kFailed;
      return false;
    }
    if (Height(i) > kMaxExtendsNesting) {
      diags_->Error(entries_[i].value.Find("extends")->mark, "nesting too deep in `extends`",
                    entries_[i].key, "extends");
      state_[i] = State::kFailed;
      return false;
    }
    // The entry's own keys are needed no more once merged on top: every
    // later read of entry i goes through Resolved(i).
    DeepMerge(&merged, std::move(entries_[i].value));
    resolved_[i] = std::move(merged);
    state_[i] = State::kDone;
    return true;
  }

  // Entries resolving one another recursively; chains up to here get
  // Height's error on the entry that starts them.
  static constexpr int kMaxExtendsRecursion = 100;

  std::vector<MapEntry>& entries_;
  Diagnostics* diags_;
  bool abandoned_ = false;  // A chain passed kMaxExtendsRecursion.
  std::unordered_map<std::string, size_t> index_;
  std::vector<State> state_;
  std::vector<int> height_;
  std::vector<bool> extensible_;
  // Set only for the entries that extend something, once merged.
  std::vector<std::optional<Node>> resolved_;
  std::vector<std::vector<size_t>> parents_;
};

}  // namespace

bool ResolveExtends(std::vector<MapEntry>* entries, Diagnostics* diags) {
  return ExtendsResolver(entries, diags).Run();
}

}  // namespace slipway
