#include "exec/junit.h"

namespace slipway {
namespace {

enum class CaseResult { kSuccess, kSkipped, kError, kFailed };

// The tag name starting at s[i] (after '<' or "</").
std::string_view TagName(std::string_view s, size_t i) {
  size_t end = i;
  while (end < s.size() && s[end] != '>' && s[end] != '/' && s[end] != ' ' && s[end] != '\t' &&
         s[end] != '\n' && s[end] != '\r') {
    ++end;
  }
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

void Count(CaseResult r, TestCounts* counts) {
  ++counts->total;
  switch (r) {
    case CaseResult::kSuccess:
      ++counts->success;
      break;
    case CaseResult::kSkipped:
      ++counts->skipped;
      break;
    case CaseResult::kError:
      ++counts->error;
      break;
    case CaseResult::kFailed:
      ++counts->failed;
      break;
  }
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

StatusOr<TestCounts> ParseJunit(std::string_view xml) {
  TestCounts counts;
  bool in_case = false;
  CaseResult current = CaseResult::kSuccess;
  size_t i = 0;
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    std::string_view rest = xml.substr(i);
    std::string_view terminator;
    if (rest.starts_with("<!--")) {
      terminator = "-->";
    } else if (rest.starts_with("<![CDATA[")) {
      terminator = "]]>";
    } else if (rest.starts_with("<?")) {
      terminator = "?>";
    }
    if (!terminator.empty()) {
      size_t end = xml.find(terminator, i + 2);
      if (end == std::string_view::npos) return Status::Error("JUnit XML: unterminated section");
      i = end + terminator.size();
      continue;
    }
    size_t end = TagEnd(xml, i);
    if (end == std::string_view::npos) return Status::Error("JUnit XML: unterminated tag");
    bool closing = rest.starts_with("</");
    bool self_closing = xml[end - 1] == '/';
    std::string_view name = TagName(xml, i + (closing ? 2 : 1));
    if (name == "testcase") {
      if (closing) {
        if (in_case) Count(current, &counts);
        in_case = false;
      } else if (self_closing) {
        Count(CaseResult::kSuccess, &counts);
      } else {
        in_case = true;
        current = CaseResult::kSuccess;
      }
    } else if (in_case && !closing) {
      CaseResult r = name == "failure"   ? CaseResult::kFailed
                     : name == "error"   ? CaseResult::kError
                     : name == "skipped" ? CaseResult::kSkipped
                                         : CaseResult::kSuccess;
      if (r > current) current = r;
    }
    i = end + 1;
  }
  if (in_case) return Status::Error("JUnit XML: unterminated testcase");
  return counts;
}

}  // namespace slipway
