// Store records as GitLab v4 API JSON (docs/api.md): field names, status
// values and timestamps as GitLab returns them, plus the few fields slipway
// adds (documented). base_url is "http://host:port" of the request, used for
// web_url fields.
#ifndef SLIPWAY_SERVER_GITLAB_JSON_H_
#define SLIPWAY_SERVER_GITLAB_JSON_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace slipway {

// Unix milliseconds as GitLab's "2026-11-28T13:45:00.123Z".
std::string IsoTime(int64_t unix_ms);
// Parses ISO 8601 ("2026-11-28", "2026-11-28T13:45:00Z", "...00.123Z",
// "...00+02:00") to Unix milliseconds.
std::optional<int64_t> ParseIsoTime(const std::string& text);

nlohmann::json ProjectJson(const ProjectRecord& project, const std::string& base_url);
nlohmann::json UserJson(const TokenRecord& token, const std::string& base_url);
nlohmann::json PipelineJson(const PipelineRecord& pipeline, const ProjectRecord& project,
                            const std::string& base_url);
// GitLab's runner object: an instance runner (slipway's runners serve every
// project). active false: revoked (paused).
nlohmann::json RunnerJson(int64_t id, const std::string& description, bool active, bool online);
nlohmann::json JobJson(const JobRecord& job, const PipelineRecord& pipeline,
                       const ProjectRecord& project, const std::vector<ArtifactRecord>& artifacts,
                       const std::string& base_url);

// JSON text of a string, with invalid UTF-8 replaced by U+FFFD.
std::string JsonString(std::string_view text);
// Serialises j (invalid UTF-8 in strings is replaced).
std::string DumpJson(const nlohmann::json& j);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_GITLAB_JSON_H_
