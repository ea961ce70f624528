#include "config/inputs.h"

#include <map>
#include <optional>
#include <string_view>

#include <re2/re2.h>

namespace slipway {
namespace {

enum class InputType { kString, kNumber, kBoolean, kArray };

constexpr int kMaxFunctions = 3;
constexpr size_t kMaxAccessBytes = 1024;
constexpr size_t kMaxAccessObjects = 5;

std::optional<InputType> ParseType(const Node* type) {
  if (type == nullptr || type->IsNull()) return InputType::kString;
  if (!type->IsScalar()) return std::nullopt;
  if (type->scalar == "string") return InputType::kString;
  if (type->scalar == "number") return InputType::kNumber;
  if (type->scalar == "boolean") return InputType::kBoolean;
  if (type->scalar == "array") return InputType::kArray;
  return std::nullopt;
}

const char* TypeNoun(InputType type) {
  switch (type) {
    case InputType::kString:
      return "a string";
    case InputType::kNumber:
      return "a number";
    case InputType::kBoolean:
      return "a boolean";
    case InputType::kArray:
      return "an array";
  }
  return "";
}

bool HasType(const Node& value, InputType type) {
  std::string name = value.TypeName();
  switch (type) {
    case InputType::kString:
      return name == "string";
    case InputType::kNumber:
      return name == "integer" || name == "float";
    case InputType::kBoolean:
      return name == "boolean";
    case InputType::kArray:
      return name == "array";
  }
  return false;
}

bool SameScalar(const Node& a, const Node& b) {
  return a.IsScalar() && b.IsScalar() && a.scalar == b.scalar;
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

// Ruby's String#inspect for the characters that matter in CI text.
std::string RubyInspect(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The text an input value becomes inside a longer string (Ruby's to_s).
std::string ToText(const Node& value, bool nested) {
  if (value.IsNull()) return nested ? "nil" : "";
  if (value.IsScalar()) {
    if (!nested || value.TypeName() != "string") return value.scalar;
    return RubyInspect(value.scalar);
  }
  std::vector<std::string> parts;
  if (value.IsSequence()) {
    for (const Node& item : value.items) parts.push_back(ToText(item, true));
    return "[" + Join(parts, ", ") + "]";
  }
  for (const MapEntry& e : value.entries) {
    parts.push_back(RubyInspect(e.key) + "=>" + ToText(e.value, true));
  }
  return "{" + Join(parts, ", ") + "}";
}

std::string Strip(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\n");
  if (begin == std::string_view::npos) return "";
  size_t end = s.find_last_not_of(" \t\n");
  return std::string(s.substr(begin, end - begin + 1));
}

std::vector<std::string> Split(std::string_view s, char separator, size_t max_parts) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(separator, start);
    if (pos == std::string_view::npos || parts.size() + 1 == max_parts) {
      parts.emplace_back(s.substr(start));
      return parts;
    }
    parts.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// GitLab's ExpandVariables.expand_existing: $NAME and ${NAME} of defined
// variables become their raw values; anything else stays as written.
std::string ExpandExisting(const std::string& text, const VariableList& variables) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '$' && i + 1 < text.size()) {
      bool braced = text[i + 1] == '{';
      size_t start = i + (braced ? 2 : 1);
      size_t end = start;
      if (end < text.size() && IsNameStart(text[end])) {
        while (end < text.size() && IsNameChar(text[end])) ++end;
        bool closed = !braced || (end < text.size() && text[end] == '}');
        const std::string* value = variables.Get(std::string_view(text).substr(start, end - start));
        if (closed && value != nullptr) {
          out += *value;
          i = end + (braced ? 1 : 0);
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

// Ruby's str[offset, length] on UTF-8 characters.
std::string Truncate(const std::string& s, size_t offset, size_t length) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (offset >= starts.size()) return "";
  size_t begin = starts[offset];
  size_t end = offset + length >= starts.size() ? s.size() : starts[offset + length];
  return s.substr(begin, end - begin);
}

// Ruby's Shellwords.shellescape.
std::string PosixEscape(const std::string& s) {
  if (s.empty()) return "''";
  std::string out;
  for (char c : s) {
    bool safe = IsNameChar(c) || c == '-' || c == '.' || c == ',' || c == ':' || c == '+' ||
                c == '/' || c == '@' || static_cast<unsigned char>(c) >= 0x80;
    if (c == '\n') {
      out += "'\n'";
    } else {
      if (!safe) out += '\\';
      out += c;
    }
  }
  return out;
}

class Interpolator {
 public:
  Interpolator(const std::map<std::string, Node>& values, const VariableList& variables,
               Diagnostics* diags)
      : values_(values), variables_(variables), diags_(diags) {}

  bool ok() const { return ok_; }

  void Walk(Node* node) {
    if (node->IsScalar()) {
      std::optional<Node> whole;
      std::string text;
      if (Interpolate(node->scalar, node->mark, &text, &whole)) {
        if (whole) {
          Mark mark = node->mark;
          *node = std::move(*whole);
          node->mark = std::move(mark);
        } else {
          node->scalar = std::move(text);
          node->plain = false;
        }
      }
    }
    for (Node& item : node->items) Walk(&item);
    for (MapEntry& e : node->entries) {
      std::optional<Node> whole;
      std::string text;
      if (Interpolate(e.key, e.key_mark, &text, &whole)) {
        e.key = whole ? ToText(*whole, false) : std::move(text);
      }
      Walk(&e.value);
    }
  }

 private:
  // Returns false when text has no block to replace (or on error).
  bool Interpolate(const std::string& text, const Mark& mark, std::string* out,
                   std::optional<Node>* whole) {
    if (text.find("$[[") == std::string::npos) return false;
    bool changed = false;
    size_t pos = 0;
    while (true) {
      size_t open = text.find("$[[", pos);
      if (open == std::string::npos) break;
      size_t close = text.find("]]", open + 3);
      if (close == std::string::npos) break;
      std::string data = Strip(std::string_view(text).substr(open + 3, close - open - 3));
      size_t block_end = close + 2;
      if (data.size() < 2) {  // GitLab's block pattern needs two characters.
        *out += text.substr(pos, block_end - pos);
        pos = block_end;
        continue;
      }
      *out += text.substr(pos, open - pos);
      std::optional<Node> value = Evaluate(data, mark);
      if (!value) {
        *out += text.substr(open, block_end - open);  // Matrix block or error.
      } else if (open == 0 && block_end == text.size()) {
        *whole = std::move(*value);
      } else {
        *out += ToText(*value, false);
      }
      changed = changed || value.has_value();
      pos = block_end;
    }
    *out += text.substr(pos);
    return changed;
  }

  void Fail(const Mark& mark, std::string message) {
    ok_ = false;
    diags_->Error(mark, std::move(message));
  }

  std::optional<Node> Evaluate(const std::string& data, const Mark& mark) {
    std::vector<std::string> parts = Split(data, '|', 0);
    for (std::string& p : parts) p = Strip(p);
    const std::string& access = parts[0];
    std::vector<std::string> objects = Split(access, '.', kMaxAccessObjects);
    if (objects[0] == "matrix") return std::nullopt;  // Resolved per parallel:matrix job.
    if (objects.size() <= 1) {
      Fail(mark, "invalid interpolation access pattern");
      return std::nullopt;
    }
    if (access.size() > kMaxAccessBytes) {
      Fail(mark, "maximum interpolation expression size exceeded");
      return std::nullopt;
    }
    if (objects[0] != "inputs") {
      Fail(mark, "unknown interpolation key: `" + objects[0] + "`");
      return std::nullopt;
    }
    auto it = values_.find(objects[1]);
    if (it == values_.end()) {
      Fail(mark, "unknown interpolation key: `" + objects[1] + "`");
      return std::nullopt;
    }
    const Node* value = &it->second;
    for (size_t i = 2; i < objects.size(); ++i) {
      value = value->Find(objects[i]);
      if (value == nullptr) {
        Fail(mark, "unknown interpolation key: `" + objects[i] + "`");
        return std::nullopt;
      }
    }
    if (parts.size() - 1 > kMaxFunctions) {
      Fail(mark, "too many functions in interpolation block");
      return std::nullopt;
    }
    Node result = *value;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (!ApplyFunction(parts[i], mark, &result)) return std::nullopt;
    }
    return result;
  }

  bool ApplyFunction(const std::string& function, const Mark& mark, Node* value) {
    static const RE2 kTruncate(R"(^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)?$)");
    std::string name;
    size_t offset = 0;
    size_t length = 0;
    if (function == "expand_vars" || function == "posix_escape") {
      name = function;
    } else if (RE2::FullMatch(function, kTruncate, &offset, &length)) {
      name = "truncate";
    } else {
      Fail(mark, "no function matching `" + function +
                     "`: check that the function name, arguments, and types are correct");
      return false;
    }
    if (value->TypeName() != "string") {
      Fail(mark, "error in `" + name + "` function: invalid input type: " + name +
                     " can only be used with string inputs");
      return false;
    }
    std::string text = value->scalar;
    if (name == "expand_vars") {
      text = ExpandExisting(text, variables_);
    } else if (name == "truncate") {
      text = Truncate(text, offset, length);
    } else {
      text = PosixEscape(text);
    }
    *value = Node::Scalar(std::move(text), value->mark, false);
    return true;
  }

  const std::map<std::string, Node>& values_;
  const VariableList& variables_;
  Diagnostics* diags_;
  bool ok_ = true;
};

// Checks one input's value (given, or its default) against its spec.
void CheckInput(const std::string& name, const Node* spec, const Node* given,
                const InputsSource& source, std::map<std::string, Node>* values, Diagnostics* diags,
                bool* ok) {
  auto fail = [&](const Mark& mark, const std::string& message) {
    diags->Error(mark, source.prefix + "`" + name + "` input: " + message);
    *ok = false;
  };
  const Node* default_value = spec && spec->IsMap() ? spec->Find("default") : nullptr;
  std::optional<InputType> type = ParseType(spec && spec->IsMap() ? spec->Find("type") : nullptr);
  if (!type) {
    diags->Error(spec->Find("type")->mark, source.prefix + "unknown input specification for `" +
                                               name +
                                               "` (valid types: array, boolean, number, string)");
    *ok = false;
    return;
  }
  if (given == nullptr && default_value == nullptr) {
    fail(source.mark, "required value has not been provided");
    return;
  }
  const Node& value = given ? *given : *default_value;
  const Mark& mark = given ? source.mark : default_value->mark;
  std::string which = given ? "provided" : "default";
  if (!HasType(value, *type)) {
    fail(mark, which + " value is not " + TypeNoun(*type));
    return;
  }
  if (const Node* options = spec && spec->IsMap() ? spec->Find("options") : nullptr) {
    bool allowed = false;
    for (const Node& option : options->items) allowed = allowed || SameScalar(option, value);
    if (options->IsSequence() && !allowed) {
      fail(mark, "`" + ToText(value, false) +
                     "` cannot be used because it is not in the list of allowed options");
      return;
    }
  }
  if (const Node* regex = spec && spec->IsMap() ? spec->Find("regex") : nullptr) {
    RE2 re(regex->scalar, RE2::Quiet);
    if (!re.ok()) {
      fail(regex->mark, "invalid regular expression");
      return;
    }
    if (*type == InputType::kString && !RE2::PartialMatch(value.scalar, re)) {
      fail(mark, which + " value does not match required RegEx pattern");
      return;
    }
  }
  values->emplace(name, value);
}

}  // namespace

bool HasSpecHeader(const std::vector<Node>& documents) {
  return documents.size() > 1 && documents[0].IsMap() && documents[0].Find("spec") != nullptr;
}

bool ApplyInputs(const Node& header, const Node* args, const InputsSource& source,
                 const VariableList& variables, Node* content, Diagnostics* diags) {
  static const Node kNoInputs = Node::Map();
  const Node* spec = header.Find("spec");
  const Node* inputs = spec && spec->IsMap() ? spec->Find("inputs") : nullptr;
  if (spec && !spec->IsMap() && !spec->IsNull()) {
    diags->Error(spec->mark, source.prefix + "header:spec config should be a hash");
    return false;
  }
  if (inputs == nullptr || inputs->IsNull()) inputs = &kNoInputs;
  if (!inputs->IsMap()) {
    diags->Error(inputs->mark, source.prefix + "spec:inputs config should be a hash");
    return false;
  }
  if (args != nullptr && !args->IsNull() && !args->IsMap()) {
    diags->Error(args->mark, source.prefix + "inputs config should be a hash");
    return false;
  }
  bool ok = true;
  std::vector<std::string> unknown;
  if (args != nullptr) {
    for (const MapEntry& e : args->entries) {
      if (inputs->Find(e.key) == nullptr) unknown.push_back(e.key);
    }
  }
  if (!unknown.empty()) {
    diags->Error(source.mark, source.prefix + "unknown input arguments: " + Join(unknown, ", "));
    ok = false;
  }
  std::map<std::string, Node> values;
  for (const MapEntry& e : inputs->entries) {
    const Node* given = args ? args->Find(e.key) : nullptr;
    CheckInput(e.key, &e.value, given, source, &values, diags, &ok);
  }
  if (!ok) return false;
  Interpolator interpolator(values, variables, diags);
  interpolator.Walk(content);
  return interpolator.ok();
}

}  // namespace slipway
