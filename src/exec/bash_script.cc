#include "exec/bash_script.h"

namespace slipway {
namespace {

std::string_view Trim(std::string_view s) {
  const char* kSpace = " \t\r\n";
  size_t start = s.find_first_not_of(kSpace);
  if (start == std::string_view::npos) return {};
  return s.substr(start, s.find_last_not_of(kSpace) - start + 1);
}

}  // namespace

std::string EchoLine(std::string_view command) {
  std::string_view trimmed = Trim(command);
  size_t newline = trimmed.find('\n');
  if (newline == std::string_view::npos) return "$ " + std::string(trimmed);
  return "$ " + std::string(Trim(trimmed.substr(0, newline))) + " # collapsed multi-line command";
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string BuildBashScript(const std::vector<std::string>& commands) {
  std::string script =
      "set -o pipefail\n"
      "set -o errexit\n"
      "set +o noclobber\n";
  for (const std::string& command : commands) {
    if (Trim(command).empty()) continue;
    script += "printf '%s\\n' " + ShellQuote(EchoLine(command)) + "\n";
    script += command;
    script += "\n";
  }
  return script;
}

}  // namespace slipway
