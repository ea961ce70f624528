#include "config/node.h"

#include <algorithm>
#include <charconv>

namespace slipway {

Node Node::Null(Mark mark) {
  Node n;
  n.mark = std::move(mark);
  return n;
}

Node Node::Scalar(std::string value, Mark mark, bool plain) {
  Node n;
  n.kind = Kind::kScalar;
  n.scalar = std::move(value);
  n.mark = std::move(mark);
  n.plain = plain;
  return n;
}

Node Node::Sequence(Mark mark) {
  Node n;
  n.kind = Kind::kSequence;
  n.mark = std::move(mark);
  return n;
}

Node Node::Map(Mark mark) {
  Node n;
  n.kind = Kind::kMap;
  n.mark = std::move(mark);
  return n;
}

const MapEntry* Node::FindEntry(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const MapEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const Node* Node::Find(std::string_view key) const {
  const MapEntry* e = FindEntry(key);
  return e ? &e->value : nullptr;
}

Node* Node::Find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->Find(key));
}

void Node::Set(std::string key, Node value, Mark key_mark) {
  for (MapEntry& e : entries) {
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  }
  entries.push_back({std::move(key), std::move(key_mark), std::move(value)});
}

bool Node::Erase(std::string_view key) {
  auto it =
      std::find_if(entries.begin(), entries.end(), [&](const MapEntry& e) { return e.key == key; });
  if (it == entries.end()) return false;
  entries.erase(it);
  return true;
}

std::optional<bool> Node::AsBool() const {
  if (kind != Kind::kScalar || !plain) return std::nullopt;
  const std::string& s = scalar;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

std::optional<int64_t> Node::AsInt() const {
  if (kind != Kind::kScalar || !plain || scalar.empty()) return std::nullopt;
  std::string_view s = scalar;
  if (s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool Node::IsPlainNullScalar() const {
  if (kind == Kind::kNull) return true;
  if (kind != Kind::kScalar || !plain) return false;
  return scalar.empty() || scalar == "~" || scalar == "null" || scalar == "Null" ||
         scalar == "NULL";
}

std::string Node::TypeName() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kSequence:
      return "array";
    case Kind::kMap:
      return "hash";
    case Kind::kScalar:
      break;
  }
  if (IsPlainNullScalar()) return "null";
  if (AsBool()) return "boolean";
  if (AsInt()) return "integer";
  if (plain) {
    double d;
    auto [ptr, ec] = std::from_chars(scalar.data(), scalar.data() + scalar.size(), d);
    if (ec == std::errc() && ptr == scalar.data() + scalar.size()) return "float";
  }
  return "string";
}

size_t NestingDepth(const Node& node) {
  if (!node.IsSequence() && !node.IsMap()) return 0;
  size_t deepest = 0;
  for (const Node& item : node.items) deepest = std::max(deepest, NestingDepth(item));
  for (const MapEntry& e : node.entries) deepest = std::max(deepest, NestingDepth(e.value));
  return deepest + 1;
}

size_t CountNodes(const Node& node) {
  size_t n = 1;
  for (const Node& item : node.items) n += CountNodes(item);
  for (const MapEntry& e : node.entries) n += 1 + CountNodes(e.value);
  return n;
}

}  // namespace slipway
