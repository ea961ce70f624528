#include "exec/dotenv.h"

#include <string>

#include "exec/file_tree.h"

namespace slipway {
namespace {

// Ruby's String#strip: leading and trailing whitespace and NULs.
std::string_view Strip(std::string_view s) {
  const char* kSpace = " \t\n\v\f\r";
  size_t start = s.find_first_not_of(kSpace);
  if (start == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(std::string_view(" \t\n\v\f\r\0", 7));
  return s.substr(start, end - start + 1);
}

bool ValidKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status ParseDotenv(std::string_view content, VariableList* vars) {
  if (content.size() >= kDotenvSizeLimit) {
    return Status::Error("Dotenv Artifact Too Big. Maximum Allowable Size: " +
                         std::to_string(kDotenvSizeLimit));
  }
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  size_t start = 0;
  while (start < content.size()) {
    size_t newline = content.find('\n', start);
    size_t end = newline == std::string_view::npos ? content.size() : newline;
    std::string_view line = content.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Status::Error("Invalid Format");
    std::string_view key = Strip(line.substr(0, eq));
    if (!ValidKey(key)) return Status::Error("Key can contain only letters, digits and '_'.");
    vars->Set(std::string(key), std::string(Strip(line.substr(eq + 1))));
  }
  return Status::Ok();
}

Status CheckDotenvLimit(const VariableList& vars) {
  if (vars.size() > kDotenvVariableLimit) {
    return Status::Error("Dotenv files cannot have more than " +
                         std::to_string(kDotenvVariableLimit) + " variables");
  }
  return Status::Ok();
}

VariableList ReadDotenvReports(const std::string& job_dir) {
  VariableList vars;
  std::string dir = JoinPath(job_dir, "reports/dotenv");
  if (!PathExists(dir)) return vars;
  StatusOr<std::vector<TreeEntry>> entries = ListTree(dir);
  if (!entries.ok()) return vars;
  for (const TreeEntry& e : *entries) {
    if (e.type != EntryType::kFile) continue;
    StatusOr<std::string> content = ReadFile(JoinPath(dir, e.path), kDotenvSizeLimit);
    if (content.ok()) (void)ParseDotenv(*content, &vars);
  }
  return vars;
}

}  // namespace slipway
