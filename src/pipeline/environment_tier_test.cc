#include "pipeline/environment_tier.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(EnvironmentTierTest, TheDeclaredTierWins) {
  EXPECT_EQ(EnvironmentTier("MON-B-MTEST", "production"), "production");
}

TEST(EnvironmentTierTest, GuessesFromTheNameAsGitLabDoes) {
  struct Case {
    const char* name;
    const char* tier;
  } cases[] = {{"production", "production"},
               {"PROD-east", "production"},
               {"live", "production"},
               {"staging", "staging"},
               {"pre-prod", "staging"},
               {"nonprod", "staging"},
               {"demo", "staging"},
               {"test", "testing"},
               {"qa-env-2", "testing"},
               {"MON-B-MTEST", "testing"},
               {"review/feature-x", "development"},
               {"dev", "development"},
               {"customer-portal", "other"},
               {"", "other"}};
  for (const Case& c : cases) EXPECT_EQ(EnvironmentTier(c.name, ""), c.tier) << c.name;
}

}  // namespace
}  // namespace slipway
