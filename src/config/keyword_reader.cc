#include "config/keyword_reader.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "util/duration.h"
#include "util/suggest.h"

namespace slipway {
namespace {

constexpr int kMaxScriptNesting = 10;

std::string JoinKey(const std::string& prefix, const std::string& key) {
  if (key.empty()) return prefix;
  return prefix.empty() ? key : prefix + ":" + key;
}

// Appends the strings of a script node. On a non-string, or on nesting
// deeper than GitLab allows, returns the offending node and sets *path to
// its place (":1:0" for the first item of the second item).
const Node* FlattenScript(const Node& n, int depth, std::vector<std::string>* out,
                          std::string* path) {
  if (IsStringScalar(n)) {
    out->push_back(n.scalar);
    return nullptr;
  }
  if (!n.IsSequence() || depth > kMaxScriptNesting) return &n;
  for (size_t i = 0; i < n.items.size(); ++i) {
    if (const Node* bad = FlattenScript(n.items[i], depth + 1, out, path)) {
      *path = ":" + std::to_string(i) + *path;
      return bad;
    }
  }
  return nullptr;
}

bool IsYaml11Bool(const std::string& s, bool* value) {
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                               "YES",  "on",   "On",   "ON"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                "NO",    "off",   "Off",   "OFF"};
  for (std::string_view t : kTrue) {
    if (s == t) return *value = true, true;
  }
  for (std::string_view f : kFalse) {
    if (s == f) return *value = false, true;
  }
  return false;
}

// Ruby's Float#to_s: shortest round-trip digits, fixed notation for decimal
// exponents in [-4, 16), otherwise "d.ddde+XX".
std::string RubyFloatToString(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // e.g. "-1.2345e+03"
  bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(0, e_pos);
  int exponent = std::atoi(sci.c_str() + e_pos + 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent >= 16 || exponent < -4) {
    out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0");
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    return out + exp_buf;
  }
  if (exponent < 0) {
    return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  size_t int_len = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_len) {
    return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  }
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

}  // namespace

const Node* FindValue(const Node& map, std::string_view key) {
  const Node* n = map.Find(key);
  return n == nullptr || n->IsPlainNullScalar() ? nullptr : n;
}

bool IsStringScalar(const Node& n) { return n.IsScalar() && n.TypeName() == "string"; }

std::string ScalarToGitLabString(const Node& n) {
  if (!n.IsScalar() || n.IsPlainNullScalar()) return "";
  if (!n.plain) return n.scalar;
  bool b = false;
  if (IsYaml11Bool(n.scalar, &b)) return b ? "true" : "false";
  std::string_view s = n.scalar;
  bool negative = !s.empty() && (s[0] == '-' || s[0] == '+');
  std::string_view body = negative ? s.substr(1) : s;
  auto parse_base = [&](std::string_view digits, int base) -> std::optional<std::string> {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) {
      return std::nullopt;
    }
    if (s[0] == '-') v = -v;
    return std::to_string(v);
  };
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    if (auto r = parse_base(body.substr(2), 16)) return *r;
  }
  if (body.size() > 1 && body[0] == '0' &&
      std::all_of(body.begin(), body.end(), [](char c) { return c >= '0' && c <= '7'; })) {
    if (auto r = parse_base(body.substr(1), 8)) return *r;
  }
  if (auto i = n.AsInt()) return std::to_string(*i);
  if (n.TypeName() == "float") return RubyFloatToString(std::strtod(n.scalar.c_str(), nullptr));
  return n.scalar;
}

void KeywordReader::Error(const Mark& mark, const std::string& key, std::string message) {
  ++errors_;
  diags_->Error(mark, std::move(message), job_, JoinKey(key_prefix_, key));
}

void KeywordReader::Warning(const Mark& mark, const std::string& key, std::string message) {
  diags_->Warning(mark, std::move(message), job_, JoinKey(key_prefix_, key));
}

bool KeywordReader::CheckKeys(const Node& map, std::span<const std::string_view> allowed,
                              const std::string& prefix) {
  bool ok = true;
  for (const MapEntry& e : map.entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    Error(e.key_mark.line > 0 ? e.key_mark : e.value.mark, JoinKey(prefix, e.key),
          "unknown key" + DidYouMean(e.key, allowed));
    ok = false;
  }
  return ok;
}

bool KeywordReader::ExpectMap(const Node& n, const std::string& key) {
  if (n.IsMap()) return true;
  Error(n.mark, key, "should be a hash");
  return false;
}

std::optional<std::string> KeywordReader::String(const Node& n, const std::string& key) {
  if (IsStringScalar(n)) return n.scalar;
  Error(n.mark, key, "should be a string");
  return std::nullopt;
}

std::optional<bool> KeywordReader::Bool(const Node& n, const std::string& key) {
  if (auto b = n.AsBool()) return b;
  Error(n.mark, key, "should be a boolean value");
  return std::nullopt;
}

std::optional<int64_t> KeywordReader::Int(const Node& n, const std::string& key) {
  if (auto i = n.AsInt()) return i;
  Error(n.mark, key, "should be an integer");
  return std::nullopt;
}

std::optional<std::vector<std::string>> KeywordReader::StringArray(const Node& n,
                                                                   const std::string& key) {
  std::vector<std::string> out;
  bool ok = n.IsSequence();
  if (ok) {
    for (const Node& item : n.items) {
      if (!IsStringScalar(item)) {
        ok = false;
        break;
      }
      out.push_back(item.scalar);
    }
  }
  if (ok) return out;
  Error(n.mark, key, "should be an array of strings");
  return std::nullopt;
}

std::optional<std::vector<std::string>> KeywordReader::StringOrStringArray(const Node& n,
                                                                           const std::string& key) {
  if (IsStringScalar(n)) return std::vector<std::string>{n.scalar};
  std::vector<std::string> out;
  bool ok = n.IsSequence();
  for (size_t i = 0; ok && i < n.items.size(); ++i) {
    ok = IsStringScalar(n.items[i]);
    if (ok) out.push_back(n.items[i].scalar);
  }
  if (ok) return out;
  Error(n.mark, key, "should be a string or an array of strings");
  return std::nullopt;
}

std::optional<std::vector<int>> KeywordReader::IntOrIntArray(const Node& n,
                                                             const std::string& key) {
  std::vector<int> out;
  if (auto i = n.AsInt()) return std::vector<int>{static_cast<int>(*i)};
  bool ok = n.IsSequence();
  for (size_t i = 0; ok && i < n.items.size(); ++i) {
    auto v = n.items[i].AsInt();
    ok = v.has_value();
    if (ok) out.push_back(static_cast<int>(*v));
  }
  if (ok) return out;
  Error(n.mark, key, "should be an integer or an array of integers");
  return std::nullopt;
}

std::optional<int64_t> KeywordReader::Duration(const Node& n, const std::string& key,
                                               std::optional<int64_t> limit_seconds) {
  StatusOr<int64_t> seconds = n.IsScalar() && !n.IsPlainNullScalar()
                                  ? ParseDuration(n.scalar)
                                  : StatusOr<int64_t>(Status::Error("not a scalar"));
  if (!seconds.ok()) {
    Error(n.mark, key, "should be a duration");
    return std::nullopt;
  }
  if (limit_seconds && *seconds > *limit_seconds) {
    Error(n.mark, key, "should not exceed the limit");
    return std::nullopt;
  }
  return *seconds;
}

std::optional<std::vector<std::string>> KeywordReader::Script(const Node& n,
                                                              const std::string& key) {
  std::vector<std::string> out;
  std::string path;
  const Node* bad = FlattenScript(n, 1, &out, &path);
  if (bad == nullptr) return out;
  // The item itself, not the list, is pointed at: in a long script the
  // line of the list says little.
  Error(bad->mark.line > 0 ? bad->mark : n.mark, key + path,
        "should be a string or a nested array of strings up to 10 levels deep");
  return std::nullopt;
}

}  // namespace slipway
