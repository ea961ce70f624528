// Which tag a CI/CD component's version names, as GitLab's catalog resolves
// it (lib/gitlab/ci/components/instance_path.rb): `~latest` is the highest
// released version; a partial version `1` or `1.2` the highest released
// 1.x.y or 1.2.y; anything else is a ref (a tag, a branch, a commit id) used
// as written. Released versions are the tags that are semantic versions
// MAJOR.MINOR.PATCH without a pre-release part (GitLab's catalog publishes
// releases of such tags).
#ifndef SLIPWAY_CONFIG_COMPONENT_VERSION_H_
#define SLIPWAY_CONFIG_COMPONENT_VERSION_H_

#include <optional>
#include <string>
#include <vector>

namespace slipway {

// True for `~latest`, `1` and `1.2`: versions resolved against the tags.
bool NeedsTagList(const std::string& version);

// The tag of tags (short names, "1.2.3") that version names, for versions
// NeedsTagList accepts; nullopt when none matches.
std::optional<std::string> ResolveComponentVersion(const std::vector<std::string>& tags,
                                                   const std::string& version);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_COMPONENT_VERSION_H_
