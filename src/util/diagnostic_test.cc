#include "util/diagnostic.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(DiagnosticTest, FormatsFileLineColumnJobAndKey) {
  Diagnostic d{Severity::kError, {".gitlab-ci.yml", 3, 5}, "build", "script", "must be set"};
  EXPECT_EQ(d.Format(), ".gitlab-ci.yml:3:5: error: job 'build', key 'script': must be set");
}

TEST(DiagnosticTest, FormatsWithoutJob) {
  Diagnostic d{Severity::kWarning, {"a.yml", 2, 0}, "", "", "duplicate key"};
  EXPECT_EQ(d.Format(), "a.yml:2: warning: duplicate key");
}

TEST(DiagnosticsTest, CountsErrorsAndWarnings) {
  Diagnostics diags;
  diags.Warning({"a.yml", 1, 1}, "w");
  EXPECT_FALSE(diags.HasErrors());
  diags.Error({"a.yml", 2, 1}, "e");
  EXPECT_EQ(diags.ErrorCount(), 1);
  EXPECT_EQ(diags.WarningCount(), 1);
}

}  // namespace
}  // namespace slipway
