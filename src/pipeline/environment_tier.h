// GitLab's deployment tier of an environment: environment:deployment_tier
// when the job sets it, else guessed from the environment's name as GitLab's
// Environment#guess_tier does, the first of these (case-insensitive
// substrings) that matches: development (dev, review, trunk), testing (test,
// tst, int, acpt, accept, qa, qc, control, quality), staging (stg, stag,
// mdl, model, pre, demo, non), production (prd, prod, live); else other.
// So "review/x" is development, "nonprod" staging, "MON-B-MTEST" testing.
#ifndef SLIPWAY_PIPELINE_ENVIRONMENT_TIER_H_
#define SLIPWAY_PIPELINE_ENVIRONMENT_TIER_H_

#include <string>
#include <string_view>

namespace slipway {

std::string EnvironmentTier(std::string_view name, std::string_view declared_tier);

// Whether tier is one of GitLab's: production, staging, testing,
// development, other.
bool IsEnvironmentTier(std::string_view tier);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_ENVIRONMENT_TIER_H_
