#include "util/git_bundle.h"

#include <string>

namespace slipway {

StatusOr<size_t> ParseBundleHeader(std::string_view head, std::string_view commit) {
  head = head.substr(0, kMaxBundleHeader);
  size_t end = head.find("\n\n");
  if (end == std::string_view::npos) return Status::Error("not a git bundle (no end of header)");
  std::string_view lines = head.substr(0, end + 1);  // Each line ends with '\n'.
  size_t first_end = lines.find('\n');
  std::string_view signature = lines.substr(0, first_end);
  if (signature != "# v2 git bundle" && signature != "# v3 git bundle") {
    return Status::Error("not a git bundle of version 2 or 3");
  }
  bool has = false;
  for (size_t at = first_end + 1; at < lines.size();) {
    size_t next = lines.find('\n', at);
    std::string_view line = lines.substr(at, next - at);
    at = next + 1;
    if (line.starts_with("@")) {
      if (line != "@object-format=sha1") {
        return Status::Error("unsupported bundle " + std::string(line.substr(0, 100)));
      }
    } else if (line.starts_with("-")) {
      return Status::Error("the bundle needs commits this repository does not have");
    } else {
      has = has || line.substr(0, line.find(' ')) == commit;
    }
  }
  if (!has) return Status::Error("the bundle does not hold commit " + std::string(commit));
  return end + 2;
}

}  // namespace slipway
