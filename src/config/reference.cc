#include "config/reference.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace slipway {
namespace {

constexpr std::string_view kReferenceTag = "!reference";
// Bound on nodes copied by references, so that references that double a
// value at every level cannot exhaust memory.
constexpr size_t kMaxCopiedNodes = 1'000'000;

// Ruby's #inspect of the tag's data, as GitLab's messages show it.
std::string Inspect(const Node& node) {
  if (node.IsNull()) return "nil";
  if (node.IsScalar()) return "\"" + node.scalar + "\"";
  std::string out = node.IsSequence() ? "[" : "{";
  bool first = true;
  for (const Node& item : node.items) {
    out += (first ? "" : ", ") + Inspect(item);
    first = false;
  }
  for (const MapEntry& e : node.entries) {
    out += (first ? "\"" : ", \"") + e.key + "\"=>" + Inspect(e.value);
    first = false;
  }
  return out + (node.IsSequence() ? "]" : "}");
}

bool IsReference(const Node& node) { return node.tag == kReferenceTag; }

class Resolver {
 public:
  Resolver(const Node& original, Diagnostics* diags) : original_(original), diags_(diags) {}

  bool ok() const { return ok_; }

  // Resolves the references in node, which `depth` sequences and maps of
  // the final tree enclose. Depths are absolute, so that descending through
  // references ends at kMaxNodeDepth whatever the chain.
  void ResolveTree(Node* node, size_t depth) {
    if (depth > kMaxNodeDepth) {
      Abandon(node->mark, "!reference tags nest the configuration deeper than " +
                              std::to_string(kMaxNodeDepth) + " levels");
      *node = Node::Null(node->mark);
      return;
    }
    if (IsReference(*node)) {
      std::optional<Node> value = Resolve(*node, depth, /*splice=*/false);
      *node = value ? std::move(*value) : Node::Null(node->mark);
      return;
    }
    if (node->IsSequence()) {
      std::vector<Node> items;
      for (Node& item : node->items) {
        if (!IsReference(item)) {
          ResolveTree(&item, depth + 1);
          items.push_back(std::move(item));
          continue;
        }
        std::optional<Node> value = Resolve(item, depth + 1, /*splice=*/true);
        if (value && value->IsSequence()) {
          for (Node& spliced : value->items) items.push_back(std::move(spliced));
        } else {
          items.push_back(value ? std::move(*value) : Node::Null(item.mark));
        }
      }
      node->items = std::move(items);
    }
    for (MapEntry& e : node->entries) ResolveTree(&e.value, depth + 1);
  }

 private:
  // The value of reference, which `depth` sequences and maps enclose (for
  // an item of a sequence, splice: a sequence value stands in for its
  // parent's items, one level up).
  std::optional<Node> Resolve(const Node& reference, size_t depth, bool splice) {
    if (abandoned_) return std::nullopt;
    std::string text = std::string(kReferenceTag) + " " + Inspect(reference);
    bool valid = reference.IsSequence() && !reference.items.empty();
    for (const Node& item : reference.items) valid = valid && item.IsScalar();
    if (!valid) return Fail(reference.mark, text + " is not valid");
    if (in_progress_.count(text))
      return Fail(reference.mark, text + " is part of a circular chain");
    if (in_progress_.size() >= kMaxReferenceNesting) {
      return Abandon(reference.mark, text + ": more than " + std::to_string(kMaxReferenceNesting) +
                                         " !reference tags resolve through one another");
    }
    if (auto done = resolved_.find(text); done != resolved_.end()) {
      size_t at = splice && done->second.IsSequence() ? depth - 1 : depth;
      if (!Fits(done->second, at, reference.mark, text)) return std::nullopt;
      if (!Charge(done->second, reference.mark, text)) return std::nullopt;
      return done->second;
    }

    const Node* target = &original_;
    for (const Node& key : reference.items) {
      target = FindIn(*target, key.scalar);
      if (target == nullptr) break;
    }
    if (target == nullptr || target->IsNull()) {
      return Fail(reference.mark, text + " could not be found");
    }
    if (!Charge(*target, reference.mark, text)) return std::nullopt;
    size_t at = splice && target->IsSequence() ? depth - 1 : depth;
    Node copy = *target;
    in_progress_.insert(text);
    ResolveTree(&copy, at);
    in_progress_.erase(text);
    if (!Fits(copy, at, reference.mark, text)) return std::nullopt;
    resolved_.emplace(text, copy);
    return copy;
  }

  // map.Find(key) in the original tree, through an index for large maps:
  // 100,000 references into a map of 100,000 keys must not cost 10^10
  // comparisons.
  const Node* FindIn(const Node& map, const std::string& key) {
    constexpr size_t kIndexFrom = 32;
    if (!map.IsMap() || map.entries.size() < kIndexFrom) return map.Find(key);
    std::unordered_map<std::string_view, const Node*>& index = indexes_[&map];
    if (index.empty()) {
      for (const MapEntry& e : map.entries) index.emplace(e.key, &e.value);
    }
    auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
  }

  // Whether value, enclosed by `depth` sequences and maps, stays within
  // kMaxNodeDepth.
  bool Fits(const Node& value, size_t depth, const Mark& mark, const std::string& text) {
    if (depth + NestingDepth(value) <= kMaxNodeDepth) return true;
    Abandon(mark, text + " nests the configuration deeper than " + std::to_string(kMaxNodeDepth) +
                      " levels");
    return false;
  }

  // Reports a bound exceeded and stops resolving: an input built to exceed
  // one would exceed it again at every further reference.
  std::optional<Node> Abandon(const Mark& mark, std::string message) {
    if (!abandoned_) Fail(mark, std::move(message));
    abandoned_ = true;
    return std::nullopt;
  }

  bool Charge(const Node& value, const Mark& mark, const std::string& text) {
    if (exhausted_) return false;  // Reported once.
    copied_ += CountNodes(value);
    if (copied_ <= kMaxCopiedNodes) return true;
    exhausted_ = true;
    Fail(mark, text + ": the configuration grows beyond " + std::to_string(kMaxCopiedNodes) +
                   " nodes when !reference tags are resolved");
    return false;
  }

  std::optional<Node> Fail(const Mark& mark, std::string message) {
    diags_->Error(mark, std::move(message));
    ok_ = false;
    return std::nullopt;
  }

  const Node& original_;
  Diagnostics* diags_;
  std::set<std::string> in_progress_;
  std::map<std::string, Node> resolved_;
  // Key indexes of the original tree's large maps (which never change).
  std::unordered_map<const Node*, std::unordered_map<std::string_view, const Node*>> indexes_;
  size_t copied_ = 0;
  bool exhausted_ = false;
  bool abandoned_ = false;
  bool ok_ = true;
};

}  // namespace

bool ResolveReferences(Node* root, Diagnostics* diags) {
  const Node original = *root;
  Resolver resolver(original, diags);
  resolver.ResolveTree(root, 0);
  return resolver.ok();
}

}  // namespace slipway
