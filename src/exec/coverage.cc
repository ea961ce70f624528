#include "exec/coverage.h"

#include <cctype>
#include <fstream>

namespace slipway {
namespace {

// The first `\d+(\.\d+)?` in text.
std::optional<std::string> FirstNumber(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) continue;
    size_t end = i;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end + 1 < text.size() && text[end] == '.' &&
        std::isdigit(static_cast<unsigned char>(text[end + 1]))) {
      ++end;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    }
    return std::string(text.substr(i, end - i));
  }
  return std::nullopt;
}

std::optional<std::string> CoverageInLine(std::string_view line, const RubyRegexp& regexp) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::optional<std::string> match = regexp.LastMatch(line);
  return match ? FirstNumber(*match) : std::nullopt;
}

}  // namespace

std::optional<std::string> CoverageInLog(std::string_view log, const RubyRegexp& regexp) {
  std::optional<std::string> last;
  size_t start = 0;
  while (start <= log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    if (auto found = CoverageInLine(log.substr(start, end - start), regexp)) last = found;
    start = end + 1;
  }
  return last;
}

std::optional<std::string> CoverageInLogFile(const std::string& path, const RubyRegexp& regexp) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::optional<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    if (auto found = CoverageInLine(line, regexp)) last = found;
  }
  return last;
}

}  // namespace slipway
