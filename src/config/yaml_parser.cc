// ParseYaml: libyaml's event parser feeding a builder that produces
// slipway::Node trees directly. Working from events rather than a document
// model is what gives us a mark for every node, the plain/quoted distinction,
// explicit tags, and every duplicate key. libyaml is a C library that reports
// errors through return values, so nothing here throws across it.
#include "config/yaml_parser.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <yaml.h>

namespace slipway {
namespace {

// Upper bound on nodes per document, counting every copy made for an alias, so
// that "billion laughs" inputs fail fast instead of exhausting memory.
constexpr size_t kMaxNodes = 1'000'000;

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

// Thrown by the builder to stop reading events; caught in ParseYaml and never
// thrown through libyaml.
struct ParseAbort {
  Mark mark;
  std::string message;
};

// One `<<` occurrence: its sources, and how many explicit entries preceded it
// (the position where its keys are inserted).
struct MergeSite {
  size_t position = 0;
  std::vector<Node> sources;
};

// A collection under construction.
struct Frame {
  Node node;
  std::string anchor;  // empty: none
  // kMap: the key read but whose value has not arrived yet.
  bool has_key = false;
  bool key_is_merge = false;
  std::string key;
  Mark key_mark;
  std::unordered_map<std::string, size_t> index;  // explicit key -> entries index
  std::vector<MergeSite> merges;
};

struct AnchorSlot {
  std::string name;
  bool complete = false;
  Node node;
  size_t size = 0;
  size_t depth = 0;  // NestingDepth(node).
};

std::string_view Text(const yaml_char_t* text) {
  return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view();
}

// The tag as the builder sees it: the explicit tag (libyaml resolves `!!x` and
// %TAG handles; `!reference` stays "!reference"), or the YAML non-specific tag,
// "?" for a plain scalar or a collection and "!" for a quoted or block scalar.
std::string TagOf(const yaml_char_t* tag, bool non_plain_scalar) {
  if (tag) return std::string(Text(tag));
  return non_plain_scalar ? "!" : "?";
}

bool IsNullText(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

class TreeBuilder {
 public:
  TreeBuilder(const std::string& file, Diagnostics* diags) : file_(file), diags_(diags) {}

  std::vector<Node> TakeDocuments() { return std::move(documents_); }
  // libyaml's marks are 0-based.
  Mark ToMark(const yaml_mark_t& m) const {
    Mark out;
    out.file = file_;
    out.line = static_cast<int>(m.line) + 1;
    out.column = static_cast<int>(m.column) + 1;
    return out;
  }

  void OnEvent(const yaml_event_t& event) {
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        OnDocumentStart(event.start_mark);
        break;
      case YAML_DOCUMENT_END_EVENT:
        OnDocumentEnd();
        break;
      case YAML_ALIAS_EVENT:
        OnAlias(event.start_mark, Text(event.data.alias.anchor));
        break;
      case YAML_SCALAR_EVENT: {
        const auto& sc = event.data.scalar;
        std::string value(reinterpret_cast<const char*>(sc.value), sc.length);
        OnScalar(event.start_mark, TagOf(sc.tag, sc.style != YAML_PLAIN_SCALAR_STYLE),
                 Text(sc.anchor), std::move(value));
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
        Push(Node::Sequence(ToMark(event.start_mark)), TagOf(event.data.sequence_start.tag, false),
             Text(event.data.sequence_start.anchor));
        break;
      case YAML_SEQUENCE_END_EVENT:
        Pop();
        break;
      case YAML_MAPPING_START_EVENT:
        Push(Node::Map(ToMark(event.start_mark)), TagOf(event.data.mapping_start.tag, false),
             Text(event.data.mapping_start.anchor));
        break;
      case YAML_MAPPING_END_EVENT:
        ApplyMerges(&stack_.back());
        Pop();
        break;
      default:  // stream start/end, no event
        break;
    }
  }

 private:
  void OnDocumentStart(const yaml_mark_t& mark) {
    stack_.clear();
    anchors_.clear();
    root_.reset();
    node_count_ = 0;
    document_mark_ = ToMark(mark);
  }

  void OnDocumentEnd() {
    documents_.push_back(root_ ? std::move(*root_) : Node::Null(document_mark_));
    root_.reset();
  }

  void OnAlias(const yaml_mark_t& mark, std::string_view name) {
    auto it = anchors_.find(std::string(name));
    if (it == anchors_.end()) {
      throw ParseAbort{ToMark(mark), "the referenced anchor is not defined"};
    }
    if (!it->second.complete) {
      throw ParseAbort{ToMark(mark), "alias '*" + it->second.name +
                                         "' refers to a node that contains it (recursive alias)"};
    }
    Count(it->second.size, ToMark(mark));
    // A copy nests as deep as its anchor where the alias stands.
    if (stack_.size() + it->second.depth > kMaxNodeDepth) TooDeep(ToMark(mark));
    // The copy's root points at the alias, where the value is used; the nodes
    // inside keep the marks of the text they were written in.
    Node copy = it->second.node;
    copy.mark = ToMark(mark);
    Complete(std::move(copy), {});
  }

  void OnScalar(const yaml_mark_t& yaml_mark, const std::string& tag, std::string_view anchor,
                std::string value) {
    Mark mark = ToMark(yaml_mark);
    // Plain `null`, `~` and empty values without a tag are YAML nulls.
    Node node = tag == "?" && IsNullText(value) ? Node::Null(mark)
                                                : Node::Scalar(std::move(value), mark, tag == "?");
    if (tag == kStrTag) {
      node.plain = false;
    } else if (tag.rfind(kCoreTagPrefix, 0) == 0) {
      node.plain = true;  // !!int, !!bool ...: read with the core schema.
    } else if (tag != "?" && tag != "!") {
      node.tag = tag;
    }
    Count(1, node.mark);
    Complete(std::move(node), anchor);
  }

 private:
  void Count(size_t n, const Mark& mark) {
    node_count_ += n;
    if (node_count_ > kMaxNodes) {
      throw ParseAbort{mark, "document too large: more than " + std::to_string(kMaxNodes) +
                                 " nodes after expanding aliases"};
    }
  }

  [[noreturn]] void TooDeep(const Mark& mark) {
    throw ParseAbort{mark,
                     "nesting too deep: more than " + std::to_string(kMaxNodeDepth) + " levels"};
  }

  void Push(Node node, const std::string& tag, std::string_view anchor) {
    if (stack_.size() >= kMaxNodeDepth) TooDeep(node.mark);
    Count(1, node.mark);
    if (tag != "?" && tag != "!" && tag.rfind(kCoreTagPrefix, 0) != 0) node.tag = tag;
    if (!anchor.empty()) StartAnchor(anchor);
    Frame frame;
    frame.node = std::move(node);
    frame.anchor = std::string(anchor);
    stack_.push_back(std::move(frame));
  }

  void Pop() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    FinishAnchor(frame.anchor, frame.node);
    Attach(std::move(frame.node));
  }

  // A later anchor of the same name replaces the earlier one from here on.
  void StartAnchor(std::string_view anchor) {
    AnchorSlot& slot = anchors_[std::string(anchor)];
    slot = AnchorSlot{};
    slot.name = std::string(anchor);
  }

  void FinishAnchor(const std::string& anchor, const Node& node) {
    if (anchor.empty()) return;
    AnchorSlot& slot = anchors_[anchor];
    slot.node = node;
    slot.size = CountNodes(node);
    slot.depth = NestingDepth(node);
    slot.complete = true;
  }

  // A scalar, null or alias: it is complete as soon as it is seen.
  void Complete(Node node, std::string_view anchor) {
    if (!anchor.empty()) {
      StartAnchor(anchor);
      FinishAnchor(std::string(anchor), node);
    }
    Attach(std::move(node));
  }

  void Attach(Node node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.node.IsSequence()) {
      parent.node.items.push_back(std::move(node));
    } else if (!parent.has_key) {
      TakeKey(&parent, std::move(node));
    } else {
      AddEntry(&parent, std::move(node));
    }
  }

  void TakeKey(Frame* frame, Node key) {
    if (key.IsSequence() || key.IsMap()) {
      throw ParseAbort{key.mark, "a mapping key must be a scalar, not " +
                                     std::string(key.IsMap() ? "a mapping" : "a sequence")};
    }
    frame->has_key = true;
    frame->key_is_merge = key.IsScalar() && key.plain && key.scalar == "<<";
    frame->key = key.IsScalar() ? std::move(key.scalar) : std::string();
    frame->key_mark = std::move(key.mark);
  }

  void AddEntry(Frame* frame, Node value) {
    frame->has_key = false;
    if (frame->key_is_merge) {
      AddMergeSite(frame, std::move(value));
      return;
    }
    auto [it, inserted] = frame->index.emplace(frame->key, frame->node.entries.size());
    if (!inserted) {
      MapEntry& earlier = frame->node.entries[it->second];
      diags_->Warning(frame->key_mark, "duplicate key '" + frame->key + "' (first at line " +
                                           std::to_string(earlier.key_mark.line) +
                                           "); the later value is used");
      earlier.key_mark = frame->key_mark;
      earlier.value = std::move(value);
      return;
    }
    frame->node.entries.push_back({std::move(frame->key), frame->key_mark, std::move(value)});
  }

  void AddMergeSite(Frame* frame, Node value) {
    MergeSite site;
    site.position = frame->node.entries.size();
    if (value.IsMap()) {
      site.sources.push_back(std::move(value));
    } else if (value.IsSequence()) {
      for (Node& item : value.items) {
        if (!item.IsMap()) {
          throw ParseAbort{item.mark,
                           "merge key '<<' needs a mapping or a list of mappings; "
                           "this list item is " +
                               item.TypeName()};
        }
        site.sources.push_back(std::move(item));
      }
    } else {
      throw ParseAbort{value.mark, "merge key '<<' needs a mapping or a list of mappings, not " +
                                       value.TypeName()};
    }
    frame->merges.push_back(std::move(site));
  }

  // Inserts merged keys where their `<<` stood. Explicit keys win wherever
  // they are written; among merged maps the first one that has a key wins.
  static void ApplyMerges(Frame* frame) {
    if (frame->merges.empty()) return;
    std::vector<MapEntry> explicit_entries = std::move(frame->node.entries);
    std::unordered_set<std::string> taken;
    for (const MapEntry& e : explicit_entries) taken.insert(e.key);
    std::vector<MapEntry> out;
    size_t next_merge = 0;
    auto emit_merges_at = [&](size_t position) {
      for (; next_merge < frame->merges.size() && frame->merges[next_merge].position == position;
           ++next_merge) {
        for (Node& source : frame->merges[next_merge].sources) {
          for (MapEntry& e : source.entries) {
            if (taken.insert(e.key).second) out.push_back(std::move(e));
          }
        }
      }
    };
    for (size_t i = 0; i < explicit_entries.size(); ++i) {
      emit_merges_at(i);
      out.push_back(std::move(explicit_entries[i]));
    }
    emit_merges_at(explicit_entries.size());
    frame->node.entries = std::move(out);
  }

  const std::string& file_;
  Diagnostics* diags_;
  std::vector<Node> documents_;
  std::vector<Frame> stack_;
  std::optional<Node> root_;
  std::unordered_map<std::string, AnchorSlot> anchors_;
  size_t node_count_ = 0;
  Mark document_mark_;
};

}  // namespace

namespace {

// libyaml's reader errors (bad encoding) carry a byte offset, not a mark.
Mark MarkAtOffset(std::string_view text, size_t offset, const std::string& file) {
  std::string_view before = text.substr(0, std::min(offset, text.size()));
  size_t last_newline = before.rfind('\n');
  Mark mark;
  mark.file = file;
  mark.line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  mark.column = 1 + static_cast<int>(last_newline == std::string_view::npos
                                         ? before.size()
                                         : before.size() - last_newline - 1);
  return mark;
}

// Owns a libyaml parser for one ParseYaml call.
class LibYamlParser {
 public:
  explicit LibYamlParser(std::string_view text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  ~LibYamlParser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  LibYamlParser(const LibYamlParser&) = delete;
  LibYamlParser& operator=(const LibYamlParser&) = delete;

  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_;
  bool ok_ = false;
};

// Owns one event from yaml_parser_parse.
struct EventHolder {
  yaml_event_t event;
  ~EventHolder() { yaml_event_delete(&event); }
};

}  // namespace

std::optional<std::vector<Node>> ParseYaml(std::string_view text, const std::string& file,
                                           Diagnostics* diags) {
  TreeBuilder builder(file, diags);
  LibYamlParser parser(text);
  if (!parser.ok()) {
    diags->Error(Mark{file, 0, 0}, "cannot parse YAML: out of memory");
    return std::nullopt;
  }
  try {
    while (true) {
      EventHolder holder;
      if (!yaml_parser_parse(parser.get(), &holder.event)) {
        // yaml_parser_parse leaves the event zeroed on failure, so deleting
        // it is safe.
        const yaml_parser_t& p = *parser.get();
        std::string problem = p.problem ? p.problem : "cannot parse YAML";
        if (p.error == YAML_READER_ERROR) {
          diags->Error(MarkAtOffset(text, p.problem_offset, file), problem);
        } else {
          diags->Error(builder.ToMark(p.problem_mark), problem);
        }
        return std::nullopt;
      }
      if (holder.event.type == YAML_STREAM_END_EVENT) break;
      builder.OnEvent(holder.event);
    }
  } catch (const ParseAbort& abort) {
    diags->Error(abort.mark, abort.message);
    return std::nullopt;
  }
  return builder.TakeDocuments();
}

}  // namespace slipway
