#include "exec/junit.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace slipway {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The tag name starting at s[i] (after '<' or "</").
std::string_view TagName(std::string_view s, size_t i) {
  size_t end = i;
  while (end < s.size() && s[end] != '>' && s[end] != '/' && !IsSpace(s[end])) ++end;
  std::string_view name = s.substr(i, end - i);
  size_t colon = name.find(':');  // Namespace prefixes are irrelevant here.
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Index of the '>' ending the tag that starts at open, honouring quotes.
size_t TagEnd(std::string_view s, size_t open) {
  char quote = 0;
  for (size_t i = open + 1; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Appends text with XML's five entities and character references decoded
// (anything else is kept as written), up to `limit` bytes in *out.
void AppendDecoded(std::string_view text, size_t limit, std::string* out) {
  for (size_t i = 0; i < text.size() && out->size() < limit; ++i) {
    if (text[i] != '&') {
      out->push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    std::string_view ref =
        semi == std::string_view::npos || semi - i > 10 ? "" : text.substr(i + 1, semi - i - 1);
    char named = ref == "lt"     ? '<'
                 : ref == "gt"   ? '>'
                 : ref == "amp"  ? '&'
                 : ref == "quot" ? '"'
                 : ref == "apos" ? '\''
                                 : 0;
    uint32_t cp = 0;
    bool numeric = false;
    if (ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      numeric = !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
    }
    if (named != 0) {
      out->push_back(named);
    } else if (numeric) {
      AppendUtf8(cp, out);
    } else {
      out->push_back('&');
      continue;
    }
    i = semi;
  }
  if (out->size() > limit) out->resize(limit);
}

// The value of attribute `key` in the tag text (between '<' and '>'),
// decoded; empty when absent.
std::string Attribute(std::string_view tag, std::string_view key) {
  size_t i = 0;
  // Skip the tag name.
  while (i < tag.size() && !IsSpace(tag[i])) ++i;
  while (i < tag.size()) {
    while (i < tag.size() && (IsSpace(tag[i]) || tag[i] == '/')) ++i;
    size_t name_start = i;
    while (i < tag.size() && tag[i] != '=' && !IsSpace(tag[i]) && tag[i] != '/') ++i;
    std::string_view name = tag.substr(name_start, i - name_start);
    while (i < tag.size() && IsSpace(tag[i])) ++i;
    if (i >= tag.size() || tag[i] != '=') {
      if (i == name_start) ++i;  // A stray character: go on past it.
      continue;
    }
    ++i;
    while (i < tag.size() && IsSpace(tag[i])) ++i;
    if (i >= tag.size()) break;
    char quote = tag[i];
    std::string_view value;
    if (quote == '"' || quote == '\'') {
      size_t close = tag.find(quote, i + 1);
      if (close == std::string_view::npos) close = tag.size();
      value = tag.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      size_t start = i;
      while (i < tag.size() && !IsSpace(tag[i])) ++i;
      value = tag.substr(start, i - start);
    }
    size_t colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name == key) {
      std::string out;
      AppendDecoded(value, kMaxJunitOutputBytes, &out);
      return out;
    }
  }
  return "";
}

double Seconds(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v) || v < 0) return 0;
  return v;
}

int Rank(const std::string& status) {
  return status == "failed" ? 3 : status == "error" ? 2 : status == "skipped" ? 1 : 0;
}

}  // namespace

void TestCounts::Add(const TestCounts& o) {
  total += o.total;
  success += o.success;
  failed += o.failed;
  skipped += o.skipped;
  error += o.error;
}

std::string TestCounts::Summary() const {
  return "junit: " + std::to_string(total) + " total, " + std::to_string(success) + " success, " +
         std::to_string(failed) + " failed, " + std::to_string(skipped) + " skipped, " +
         std::to_string(error) + " error";
}

StatusOr<std::vector<JunitCase>> ParseJunitCases(std::string_view xml) {
  std::vector<JunitCase> cases;
  std::optional<JunitCase> current;
  // Inside the <failure>, <error> or <skipped> that decides current's
  // status: its name, and its text so far.
  std::string_view outcome_tag;
  std::string outcome_text;
  auto start_case = [&](std::string_view tag) -> Status {
    if (cases.size() >= kMaxJunitCases) {
      return Status::Error("JUnit XML: more than " + std::to_string(kMaxJunitCases) +
                           " test cases");
    }
    current.emplace();
    current->name = Attribute(tag, "name");
    current->classname = Attribute(tag, "classname");
    current->file = Attribute(tag, "file");
    current->execution_time = Seconds(Attribute(tag, "time"));
    return Status::Ok();
  };
  size_t i = 0;
  while (true) {
    size_t open = xml.find('<', i);
    if (!outcome_tag.empty()) {
      AppendDecoded(
          xml.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i),
          kMaxJunitOutputBytes, &outcome_text);
    }
    if (open == std::string_view::npos) break;
    i = open;
    std::string_view rest = xml.substr(i);
    std::string_view terminator;
    if (rest.starts_with("<!--")) {
      terminator = "-->";
    } else if (rest.starts_with("<![CDATA[")) {
      terminator = "]]>";
    } else if (rest.starts_with("<?") || rest.starts_with("<!")) {
      terminator = rest.starts_with("<?") ? "?>" : ">";
    }
    if (!terminator.empty()) {
      size_t end = xml.find(terminator, i + 2);
      if (end == std::string_view::npos) return Status::Error("JUnit XML: unterminated section");
      if (!outcome_tag.empty() && rest.starts_with("<![CDATA[")) {
        std::string_view data = xml.substr(i + 9, end - i - 9);
        size_t room = kMaxJunitOutputBytes - std::min(kMaxJunitOutputBytes, outcome_text.size());
        outcome_text.append(data.substr(0, room));
      }
      i = end + terminator.size();
      continue;
    }
    size_t end = TagEnd(xml, i);
    if (end == std::string_view::npos) return Status::Error("JUnit XML: unterminated tag");
    bool closing = rest.starts_with("</");
    bool self_closing = xml[end - 1] == '/';
    std::string_view tag = xml.substr(i + (closing ? 2 : 1), end - i - (closing ? 2 : 1));
    std::string_view name = TagName(xml, i + (closing ? 2 : 1));
    i = end + 1;
    if (name == "testcase") {
      if (closing) {
        if (current) cases.push_back(std::move(*current));
        current.reset();
        outcome_tag = {};
      } else {
        if (current) cases.push_back(std::move(*current));  // Unclosed: ends at the next.
        outcome_tag = {};
        if (Status s = start_case(tag); !s.ok()) return s;
        if (self_closing) {
          cases.push_back(std::move(*current));
          current.reset();
        }
      }
      continue;
    }
    if (!current) continue;
    if (closing) {
      if (!outcome_tag.empty() && name == outcome_tag) {
        // Its text, or the message attribute kept when it had none.
        if (outcome_text.find_first_not_of(" \t\r\n") != std::string::npos) {
          current->system_output = std::move(outcome_text);
        }
        outcome_text.clear();
        outcome_tag = {};
      }
      continue;
    }
    std::string status = name == "failure"   ? "failed"
                         : name == "error"   ? "error"
                         : name == "skipped" ? "skipped"
                                             : "";
    // Only the first element of the winning kind gives the output.
    if (status.empty() || Rank(status) <= Rank(current->status)) continue;
    current->status = status;
    std::string message = Attribute(tag, "message");
    current->system_output = message;
    if (!self_closing) {
      outcome_tag = name;
      outcome_text.clear();
    }
  }
  if (current) return Status::Error("JUnit XML: unterminated testcase");
  return cases;
}

TestCounts CountCases(const std::vector<JunitCase>& cases) {
  TestCounts counts;
  for (const JunitCase& c : cases) {
    ++counts.total;
    if (c.status == "failed") {
      ++counts.failed;
    } else if (c.status == "error") {
      ++counts.error;
    } else if (c.status == "skipped") {
      ++counts.skipped;
    } else {
      ++counts.success;
    }
  }
  return counts;
}

StatusOr<TestCounts> ParseJunit(std::string_view xml) {
  StatusOr<std::vector<JunitCase>> cases = ParseJunitCases(xml);
  if (!cases.ok()) return cases.status();
  return CountCases(*cases);
}

}  // namespace slipway
