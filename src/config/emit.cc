// EmitYaml: block-style YAML that ParseYaml reads back into an equal tree
// (same kinds, keys, order, tags and scalar meanings).
#include "config/emit.h"

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>

namespace slipway {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whether a plain scalar with this text would be read as something other
// than a string under YAML 1.1 or 1.2 (GitLab reads YAML 1.1 with Psych, so
// `yes`, `on` and `0x1F` count too).
bool LooksTyped(std::string_view s) {
  static constexpr std::string_view kWords[] = {
      "~",     "null",  "Null",  "NULL",  "true", "True", "TRUE", "false", "False", "FALSE",
      "yes",   "Yes",   "YES",   "no",    "No",   "NO",   "on",   "On",    "ON",    "off",
      "Off",   "OFF",   "y",     "Y",     "n",    "N",    "<<",   ".inf",  ".Inf",  ".INF",
      "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN", "="};
  for (std::string_view w : kWords) {
    if (s == w) return true;
  }
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') ++i;
  return i < s.size() && IsDigit(s[i]);
}

// The length of the UTF-8 sequence at s[i] if it encodes a character that the
// YAML reader would take as a line break (NEL, LS, PS) or reject as
// non-printable (other C1 controls, U+FFFE, U+FFFF), or the BOM; 0 otherwise.
// Such characters must be escaped. *code receives the code point.
size_t SpecialCharLength(std::string_view s, size_t i, unsigned* code) {
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  if (at(0) == 0xC2 && at(1) >= 0x80 && at(1) <= 0x9F) {
    *code = at(1);
    return 2;
  }
  if (at(0) == 0xE2 && at(1) == 0x80 && (at(2) == 0xA8 || at(2) == 0xA9)) {
    *code = 0x2000 + (at(2) - 0x80);
    return 3;
  }
  if (at(0) == 0xEF && ((at(1) == 0xBF && at(2) >= 0xBE) || (at(1) == 0xBB && at(2) == 0xBF))) {
    *code = at(1) == 0xBF ? 0xFF00 + (at(2) - 0x80) + 0xC0 : 0xFEFF;
    return 3;
  }
  return 0;
}

bool HasSpecialChar(std::string_view s) {
  unsigned code = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (SpecialCharLength(s, i, &code) != 0) return true;
  }
  return false;
}

// Whether s is well-formed UTF-8 (a YAML stream must be; text read from a
// file need not be).
bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Whether text can be written as a plain scalar and read back unchanged.
bool PlainSafe(std::string_view s, bool flow) {
  if (!IsUtf8(s)) return false;
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  // "..." at the start of a line ends the document (as "---" starts one).
  if (s.starts_with("...")) return false;
  static constexpr std::string_view kBadFirst = "-?:,[]{}#&*!|>'\"%@`";
  if (kBadFirst.find(s.front()) != std::string_view::npos) {
    // "-x" and "?x" and ":x" are plain in block context; keep it simple
    // and only allow the common "-x" form outside flow collections.
    if (!(s.front() == '-' && s.size() > 1 && s[1] != ' ' && s[1] != '-' && !flow)) return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ' ') return false;
    if (c == '#' && i > 0 && s[i - 1] == ' ') return false;
    // libyaml reads ':' inside a flow collection as a key indicator in more
    // places than the spec says ("s::a" included): quote every such scalar.
    if (flow && (c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == ':')) {
      return false;
    }
  }
  return !HasSpecialChar(s);
}

// A tag as YAML writes it: a local tag ("!name") as itself, any other (a URI
// from %TAG or !<...>) in the verbatim form "!<uri>". Bytes a tag may not
// hold are %-escaped, as the parser (libyaml) unescapes them: a tag read
// from "!a%22b" is !a"b and must be written back escaped.
std::string TagText(std::string_view tag) {
  bool local = tag.size() > 1 && tag[0] == '!';
  std::string_view body = local ? tag.substr(1) : tag;
  std::string out = local ? "!" : "!<";
  for (unsigned char c : body) {
    // What libyaml's scanner takes in a tag (YAML's URI characters but '#').
    bool word = std::isalnum(c) || c == '-';
    bool uri =
        std::string_view(";/?:@&=+$_.~*'()").find(static_cast<char>(c)) != std::string_view::npos;
    // In a local tag, '!' and the flow indicators ",[]{}" end the tag.
    bool allowed =
        word || uri ||
        (!local && std::string_view(",![]").find(static_cast<char>(c)) != std::string_view::npos);
    if (allowed) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return local ? out : out + ">";
}

std::string DoubleQuoted(std::string_view s) {
  // Bytes that are not UTF-8 are written as \xNN escapes so that the output
  // stays a valid YAML stream.
  const bool escape_high = !IsUtf8(s);
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    unsigned char c = static_cast<unsigned char>(ch);
    unsigned code = 0;
    if (size_t len = SpecialCharLength(s, i, &code)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04X", code);
      out += buf;
      i += len - 1;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f || (escape_high && c >= 0x80)) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string ScalarText(const Node& node, bool flow) {
  if (node.IsNull()) return "null";
  const std::string& s = node.scalar;
  bool typed_ok = node.plain;  // A plain scalar keeps its typed meaning.
  if (PlainSafe(s, flow) && (typed_ok || !LooksTyped(s))) return s;
  return DoubleQuoted(s);
}

// A multi-line string that a literal block scalar can carry exactly.
bool UseLiteral(const Node& node) {
  if (!node.IsScalar() || node.scalar.find('\n') == std::string::npos) return false;
  if (!IsUtf8(node.scalar)) return false;
  const std::string& s = node.scalar;
  if (HasSpecialChar(s)) return false;
  size_t first_content = s.find_first_not_of('\n');
  if (first_content == std::string::npos || s[first_content] == ' ' || s[first_content] == '\t') {
    return false;
  }
  if (first_content != 0) return false;  // Leading blank lines would be ambiguous.
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
  }
  // Lines of only blanks would lose or change their content in a block.
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string_view line(s.data() + start, end - start);
    if (!line.empty() && line.find_first_not_of(" \t") == std::string_view::npos) return false;
    start = end + 1;
  }
  return true;
}

void EmitLiteral(const std::string& s, int indent, std::string* out) {
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  *out += trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n";
  std::string_view body(s.data(), s.size() - trailing);
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    if (!line.empty()) *out += std::string(indent, ' ');
    *out += line;
    *out += '\n';
    start = end + 1;
  }
  for (size_t i = 1; i < trailing; ++i) *out += '\n';
}

bool IsFlowSequence(const Node& node) {
  if (!node.IsSequence() || node.tag.empty()) return false;
  for (const Node& item : node.items) {
    if (!item.IsScalar() && !item.IsNull()) return false;
    if (item.IsScalar() && item.scalar.find('\n') != std::string::npos) return false;
  }
  return true;
}

// The one-line form of node, or "" when it needs a block.
std::string InlineText(const Node& node) {
  std::string prefix = node.tag.empty() ? "" : TagText(node.tag) + " ";
  if (node.IsNull() || (node.IsScalar() && !UseLiteral(node))) {
    return prefix + ScalarText(node, false);
  }
  if (node.IsMap() && node.entries.empty()) return prefix + "{}";
  if (node.IsSequence() && node.items.empty()) return prefix + "[]";
  if (IsFlowSequence(node)) {
    std::string out = prefix + "[";
    for (size_t i = 0; i < node.items.size(); ++i) {
      if (i) out += ", ";
      out += ScalarText(node.items[i], true);
    }
    return out + "]";
  }
  return "";
}

void EmitBlock(const Node& node, int indent, std::string* out);

// Writes the value that follows "key:" or "-" (the caller wrote that much).
// Collections continue on the next lines at `indent`.
void EmitValue(const Node& value, int indent, bool after_dash, std::string* out) {
  std::string inline_text = InlineText(value);
  if (!inline_text.empty()) {
    *out += " " + inline_text + "\n";
    return;
  }
  std::string tag = value.tag.empty() ? "" : " " + TagText(value.tag);
  if (UseLiteral(value)) {
    *out += tag + " ";
    EmitLiteral(value.scalar, indent, out);
    return;
  }
  if (after_dash && tag.empty()) {
    // Compact form: the first line of the nested block follows "- ".
    std::string nested;
    EmitBlock(value, indent, &nested);
    *out += " " + nested.substr(static_cast<size_t>(indent));
    return;
  }
  *out += tag + "\n";
  EmitBlock(value, indent, out);
}

void EmitBlock(const Node& node, int indent, std::string* out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (node.IsMap()) {
    for (const MapEntry& e : node.entries) {
      Node key = Node::Scalar(e.key);
      *out +=
          pad +
          (e.key.find('\n') != std::string::npos ? DoubleQuoted(e.key) : ScalarText(key, false)) +
          ":";
      EmitValue(e.value, indent + 2, false, out);
    }
  } else {
    for (const Node& item : node.items) {
      *out += pad + "-";
      EmitValue(item, indent + 2, true, out);
    }
  }
}

}  // namespace

std::string EmitYaml(const Node& node) {
  std::string out;
  if ((node.IsMap() && !node.entries.empty()) ||
      (node.IsSequence() && !node.items.empty() && InlineText(node).empty())) {
    if (!node.tag.empty()) out += TagText(node.tag) + "\n";
    EmitBlock(node, 0, &out);
    return out;
  }
  if (UseLiteral(node)) {
    EmitLiteral(node.scalar, 2, &out);
    return out;
  }
  return InlineText(node) + "\n";
}

}  // namespace slipway
