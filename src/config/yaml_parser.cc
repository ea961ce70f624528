// ParseYaml: yaml-cpp's event API feeding a builder that produces slipway::Node
// trees directly. Working from events rather than YAML::Node is what gives us a
// mark for every node, the plain/quoted distinction, explicit tags, and every
// duplicate key (YAML::Node silently keeps one of them).
#include <cstddef>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "config/block_scalar_rewrite.h"
#include "config/loader.h"

namespace slipway {
namespace {

// Deeper nesting than this is rejected. Real pipelines stay below 20 levels;
// the bound keeps recursive copies and destructors far from the stack limit.
constexpr size_t kMaxDepth = 256;
// Upper bound on nodes per document, counting every copy made for an alias, so
// that "billion laughs" inputs fail fast instead of exhausting memory.
constexpr size_t kMaxNodes = 1'000'000;

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

// Thrown by the handler to stop yaml-cpp mid-stream; never escapes ParseYaml.
struct ParseAbort {
  Mark mark;
  std::string message;
};

size_t CountNodes(const Node& node) {
  size_t n = 1;
  for (const Node& item : node.items) n += CountNodes(item);
  for (const MapEntry& e : node.entries) n += 1 + CountNodes(e.value);
  return n;
}

// One `<<` occurrence: its sources, and how many explicit entries preceded it
// (the position where its keys are inserted).
struct MergeSite {
  size_t position = 0;
  std::vector<Node> sources;
};

// A collection under construction.
struct Frame {
  Node node;
  YAML::anchor_t anchor = 0;
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
};

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, Diagnostics* diags) : file_(file), diags_(diags) {}

  std::vector<Node> TakeDocuments() { return std::move(documents_); }
  Mark ToMark(const YAML::Mark& m) const {
    Mark out;
    out.file = file_;
    if (!m.is_null()) {
      out.line = m.line + 1;
      out.column = m.column + 1;
    }
    return out;
  }

  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp 0.7 can get stuck on a token it cannot place (`- a\n,\n`):
    // it then reports empty documents at the same position forever.
    if (!documents_.empty() && mark.pos == last_document_pos_) {
      throw ParseAbort{ToMark(mark), "unexpected text; the YAML parser cannot continue here"};
    }
    last_document_pos_ = mark.pos;
    stack_.clear();
    anchors_.clear();
    root_.reset();
    node_count_ = 0;
    document_mark_ = ToMark(mark);
  }

  void OnDocumentEnd() override {
    documents_.push_back(root_ ? std::move(*root_) : Node::Null(document_mark_));
    root_.reset();
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node node = Node::Null(ToMark(mark));
    Count(1, node.mark);
    Complete(std::move(node), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      throw ParseAbort{ToMark(mark), "unknown alias"};
    }
    if (!it->second.complete) {
      throw ParseAbort{ToMark(mark), "alias '*" + it->second.name +
                                         "' refers to a node that contains it (recursive alias)"};
    }
    Count(it->second.size, ToMark(mark));
    // The copy's root points at the alias, where the value is used; the nodes
    // inside keep the marks of the text they were written in.
    Node copy = it->second.node;
    copy.mark = ToMark(mark);
    Complete(std::move(copy), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node node = Node::Scalar(value, ToMark(mark), tag == "?");
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

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Push(Node::Sequence(ToMark(mark)), tag, anchor);
  }
  void OnSequenceEnd() override { Pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Push(Node::Map(ToMark(mark)), tag, anchor);
  }
  void OnMapEnd() override {
    ApplyMerges(&stack_.back());
    Pop();
  }

  void OnAnchor(const YAML::Mark&, const std::string& anchor_name) override {
    pending_anchor_name_ = anchor_name;
  }

 private:
  void Count(size_t n, const Mark& mark) {
    node_count_ += n;
    if (node_count_ > kMaxNodes) {
      throw ParseAbort{mark, "document too large: more than " + std::to_string(kMaxNodes) +
                                 " nodes after expanding aliases"};
    }
  }

  void Push(Node node, const std::string& tag, YAML::anchor_t anchor) {
    if (stack_.size() >= kMaxDepth) {
      throw ParseAbort{node.mark,
                       "nesting too deep: more than " + std::to_string(kMaxDepth) + " levels"};
    }
    Count(1, node.mark);
    if (tag != "?" && tag != "!" && tag.rfind(kCoreTagPrefix, 0) != 0) node.tag = tag;
    if (anchor != 0) StartAnchor(anchor);
    Frame frame;
    frame.node = std::move(node);
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
  }

  void Pop() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    FinishAnchor(frame.anchor, frame.node);
    Attach(std::move(frame.node));
  }

  void StartAnchor(YAML::anchor_t anchor) {
    AnchorSlot& slot = anchors_[anchor];
    slot = AnchorSlot{};
    slot.name = std::move(pending_anchor_name_);
    pending_anchor_name_.clear();
  }

  void FinishAnchor(YAML::anchor_t anchor, const Node& node) {
    if (anchor == 0) return;
    AnchorSlot& slot = anchors_[anchor];
    slot.node = node;
    slot.size = CountNodes(node);
    slot.complete = true;
  }

  // A scalar, null or alias: it is complete as soon as it is seen.
  void Complete(Node node, YAML::anchor_t anchor) {
    if (anchor != 0) {
      StartAnchor(anchor);
      FinishAnchor(anchor, node);
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
          throw ParseAbort{item.mark, "merge key '<<' needs a mapping or a list of mappings; "
                                      "this list item is " + item.TypeName()};
        }
        site.sources.push_back(std::move(item));
      }
    } else {
      throw ParseAbort{value.mark,
                       "merge key '<<' needs a mapping or a list of mappings, not " +
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
  std::unordered_map<YAML::anchor_t, AnchorSlot> anchors_;
  std::string pending_anchor_name_;
  size_t node_count_ = 0;
  Mark document_mark_;
  int last_document_pos_ = -1;
};

}  // namespace

namespace {

std::optional<std::vector<Node>> ParseOnce(std::string_view text, const std::string& file,
                                           Diagnostics* diags) {
  std::istringstream input{std::string(text)};
  TreeBuilder builder(file, diags);
  try {
    YAML::Parser parser(input);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const ParseAbort& abort) {
    diags->Error(abort.mark, abort.message);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diags->Error(builder.ToMark(e.mark), e.msg);
    return std::nullopt;
  } catch (const std::exception& e) {
    diags->Error(Mark{file, 0, 0}, std::string("cannot parse YAML: ") + e.what());
    return std::nullopt;
  }
  return builder.TakeDocuments();
}

void Append(const Diagnostics& from, Diagnostics* to) {
  for (const Diagnostic& d : from.items()) to->Add(d);
}

}  // namespace

std::optional<std::vector<Node>> ParseYaml(std::string_view text, const std::string& file,
                                           Diagnostics* diags) {
  Diagnostics first;
  std::optional<std::vector<Node>> docs = ParseOnce(text, file, &first);
  if (!docs) {
    // Only text that yaml-cpp rejects is rewritten, so valid input is never
    // touched; if the rewrite does not help, the original error stands.
    if (std::optional<std::string> rewritten = RewriteBlockScalarsAfterProperties(text)) {
      Diagnostics second;
      docs = ParseOnce(*rewritten, file, &second);
      if (docs) {
        Append(second, diags);
        return docs;
      }
    }
  }
  Append(first, diags);
  return docs;
}

}  // namespace slipway
