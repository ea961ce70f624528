#include "config/reference.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace slipway {
namespace {

constexpr std::string_view kReferenceTag = "!reference";
// Bound on nodes copied by references, so that references that double a
// value at every level cannot exhaust memory.
constexpr size_t kMaxCopiedNodes = 1'000'000;

size_t CountNodes(const Node& node) {
  size_t n = 1;
  for (const Node& item : node.items) n += CountNodes(item);
  for (const MapEntry& e : node.entries) n += 1 + CountNodes(e.value);
  return n;
}

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

  void ResolveTree(Node* node) {
    if (IsReference(*node)) {
      std::optional<Node> value = Resolve(*node);
      *node = value ? std::move(*value) : Node::Null(node->mark);
      return;
    }
    if (node->IsSequence()) {
      std::vector<Node> items;
      for (Node& item : node->items) {
        if (!IsReference(item)) {
          ResolveTree(&item);
          items.push_back(std::move(item));
          continue;
        }
        std::optional<Node> value = Resolve(item);
        if (value && value->IsSequence()) {
          for (Node& spliced : value->items) items.push_back(std::move(spliced));
        } else {
          items.push_back(value ? std::move(*value) : Node::Null(item.mark));
        }
      }
      node->items = std::move(items);
    }
    for (MapEntry& e : node->entries) ResolveTree(&e.value);
  }

 private:
  std::optional<Node> Resolve(const Node& reference) {
    std::string text = std::string(kReferenceTag) + " " + Inspect(reference);
    bool valid = reference.IsSequence() && !reference.items.empty();
    for (const Node& item : reference.items) valid = valid && item.IsScalar();
    if (!valid) return Fail(reference.mark, text + " is not valid");
    if (in_progress_.count(text)) return Fail(reference.mark, text + " is part of a circular chain");
    if (auto done = resolved_.find(text); done != resolved_.end()) {
      if (!Charge(done->second, reference.mark, text)) return std::nullopt;
      return done->second;
    }

    const Node* target = &original_;
    for (const Node& key : reference.items) {
      target = target->Find(key.scalar);
      if (target == nullptr) break;
    }
    if (target == nullptr || target->IsNull()) {
      return Fail(reference.mark, text + " could not be found");
    }
    if (!Charge(*target, reference.mark, text)) return std::nullopt;
    Node copy = *target;
    in_progress_.insert(text);
    ResolveTree(&copy);
    in_progress_.erase(text);
    resolved_.emplace(text, copy);
    return copy;
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
  size_t copied_ = 0;
  bool exhausted_ = false;
  bool ok_ = true;
};

}  // namespace

bool ResolveReferences(Node* root, Diagnostics* diags) {
  const Node original = *root;
  Resolver resolver(original, diags);
  resolver.ResolveTree(root);
  return resolver.ok();
}

}  // namespace slipway
