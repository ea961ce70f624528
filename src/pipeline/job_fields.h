// The structured job keywords that are more than one value: artifacts,
// cache, environment, retry and allow_failure, with GitLab's validation.
#ifndef SLIPWAY_PIPELINE_JOB_FIELDS_H_
#define SLIPWAY_PIPELINE_JOB_FIELDS_H_

#include <optional>
#include <string>
#include <vector>

#include "config/keyword_reader.h"
#include "config/node.h"
#include "pipeline/job.h"

namespace slipway {

// GitLab's limit on `cache:` entries per job.
inline constexpr size_t kMaxCaches = 4;

// Each returns nullopt after reporting an error through reader.
std::optional<Artifacts> ParseArtifacts(const Node& node, KeywordReader* reader);
// A map (one cache) or a list of maps; `cache: []` means no cache.
std::optional<std::vector<Cache>> ParseCaches(const Node& node, KeywordReader* reader);
std::optional<Environment> ParseEnvironment(const Node& node, KeywordReader* reader);
std::optional<Retry> ParseRetry(const Node& node, KeywordReader* reader);
std::optional<AllowFailure> ParseAllowFailure(const Node& node, KeywordReader* reader);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_JOB_FIELDS_H_
