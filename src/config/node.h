// The YAML tree slipway works on. Every node keeps where it came from, so that
// any later error can point at file:line:col. Nodes are values: copying one
// copies the whole subtree (aliases are resolved into copies, never shared).
#ifndef SLIPWAY_CONFIG_NODE_H_
#define SLIPWAY_CONFIG_NODE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/diagnostic.h"

namespace slipway {

struct MapEntry;

class Node {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Node() = default;
  static Node Null(Mark mark = {});
  static Node Scalar(std::string value, Mark mark = {}, bool plain = false);
  static Node Sequence(Mark mark = {});
  static Node Map(Mark mark = {});

  Kind kind = Kind::kNull;
  Mark mark;
  // The explicit tag, e.g. "!reference"; empty when the node has none.
  std::string tag;
  // kScalar: the text after YAML unescaping.
  std::string scalar;
  // kScalar: true when written unquoted, so that `true`, `12` and `null`
  // carry their YAML meaning; "true" (quoted) is always a string.
  bool plain = false;
  // kSequence: the items in order.
  std::vector<Node> items;
  // kMap: the entries in source order. Keys are unique once loaded (a
  // duplicate key is a warning and the later value replaces the earlier one
  // in place of the earlier).
  std::vector<MapEntry> entries;

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMap() const { return kind == Kind::kMap; }

  // kMap lookups; nullptr when absent or when this is not a map.
  const Node* Find(std::string_view key) const;
  Node* Find(std::string_view key);
  const MapEntry* FindEntry(std::string_view key) const;
  // Sets key to value, replacing an existing entry in place or appending.
  void Set(std::string key, Node value, Mark key_mark = {});
  // Removes key if present; returns whether it was.
  bool Erase(std::string_view key);

  // YAML core-schema readings of a plain scalar. A quoted scalar is only ever
  // a string: AsBool/AsInt return nullopt for it.
  std::optional<bool> AsBool() const;
  std::optional<int64_t> AsInt() const;
  bool IsPlainNullScalar() const;  // plain `null`, `~` or empty

  // The type name GitLab uses in its messages: "string", "boolean",
  // "integer", "float", "array", "hash" or "null".
  std::string TypeName() const;
};

struct MapEntry {
  std::string key;
  Mark key_mark;
  Node value;
};

// Trees never nest more sequences and maps inside one another than this: the
// YAML parser refuses deeper text and deeper alias copies, !reference
// resolution deeper results. Real pipelines stay below 20 levels; the bound
// keeps the recursive copies, destructors and walks over a tree far from the
// stack limit.
inline constexpr size_t kMaxNodeDepth = 256;

// How many sequences and maps are nested in node, itself included (0 for a
// scalar or null). Recursive: only for trees within kMaxNodeDepth.
size_t NestingDepth(const Node& node);
// The nodes of node's tree, map keys included. Recursive, as NestingDepth.
size_t CountNodes(const Node& node);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_NODE_H_
