#include "server/incident_links.h"

#include <cctype>

namespace slipway {

std::optional<std::string> RootCauseSha(std::string_view text) {
  static constexpr std::string_view kLabel = "root cause:";
  for (size_t at = 0; at + kLabel.size() <= text.size(); ++at) {
    bool match = true;
    for (size_t i = 0; i < kLabel.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(text[at + i])) == kLabel[i];
    }
    if (!match) continue;
    size_t pos = at + kLabel.size();
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    size_t end = pos;
    while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end]))) ++end;
    bool word_ends = end == text.size() || !std::isalnum(static_cast<unsigned char>(text[end]));
    if (end - pos >= 7 && end - pos <= 40 && word_ends)
      return std::string(text.substr(pos, end - pos));
  }
  return std::nullopt;
}

StatusOr<std::optional<int64_t>> DeploymentOfRootCause(Store* store, int64_t project_id,
                                                       std::string_view text) {
  std::optional<std::string> sha = RootCauseSha(text);
  if (!sha) return std::optional<int64_t>();
  StatusOr<std::optional<DeploymentRecord>> found = store->DeploymentOfCommit(project_id, *sha);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<int64_t>();
  return std::optional<int64_t>((*found)->id);
}

}  // namespace slipway
