// Test helper: builds a PipelineConfig from YAML text named "ci.yml".
#ifndef SLIPWAY_PIPELINE_BUILDER_TEST_UTIL_H_
#define SLIPWAY_PIPELINE_BUILDER_TEST_UTIL_H_

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/yaml_parser.h"
#include "pipeline/builder.h"

namespace slipway {

struct BuildResult {
  std::optional<PipelineConfig> config;
  Diagnostics diags;

  const Job& job(std::string_view name) const {
    static const Job kMissing;
    const Job* j = config ? config->FindJob(name) : nullptr;
    if (j == nullptr) {
      ADD_FAILURE() << "no job '" << name << "'\n" << diags.FormatAll();
      return kMissing;
    }
    return *j;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    if (config) {
      for (const Job& j : config->jobs) out.push_back(j.name);
    }
    return out;
  }
};

inline BuildResult BuildYaml(const std::string& text) {
  BuildResult result;
  auto docs = ParseYaml(text, "ci.yml", &result.diags);
  if (!docs || docs->empty()) {
    ADD_FAILURE() << "YAML did not parse: " << result.diags.FormatAll();
    return result;
  }
  result.config = BuildPipelineConfig(docs->back(), &result.diags);
  return result;
}

// Builds text expecting success; the test fails with the diagnostics if not.
inline BuildResult BuildOk(const std::string& text) {
  BuildResult result = BuildYaml(text);
  EXPECT_TRUE(result.config.has_value()) << result.diags.FormatAll();
  return result;
}

// Builds text expecting failure; returns every diagnostic, one per line.
inline std::string BuildErrors(const std::string& text) {
  BuildResult result = BuildYaml(text);
  EXPECT_FALSE(result.config.has_value());
  return result.diags.FormatAll();
}

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_BUILDER_TEST_UTIL_H_
