#include "pipeline/job.h"

namespace slipway {

const char* WhenName(When w) {
  switch (w) {
    case When::kOnSuccess:
      return "on_success";
    case When::kOnFailure:
      return "on_failure";
    case When::kAlways:
      return "always";
    case When::kManual:
      return "manual";
    case When::kDelayed:
      return "delayed";
    case When::kNever:
      return "never";
  }
  return "on_success";
}

std::optional<When> ParseWhen(std::string_view s) {
  if (s == "on_success") return When::kOnSuccess;
  if (s == "on_failure") return When::kOnFailure;
  if (s == "always") return When::kAlways;
  if (s == "manual") return When::kManual;
  if (s == "delayed") return When::kDelayed;
  if (s == "never") return When::kNever;
  return std::nullopt;
}

const Job* PipelineConfig::FindJob(std::string_view name) const {
  for (const Job& j : jobs) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

}  // namespace slipway
