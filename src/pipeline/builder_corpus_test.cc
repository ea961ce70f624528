// Builds every self-contained pipeline of the shared corpus and compares its
// static job names with gitlab-ci-local's listing. glcl lists the jobs left
// after rules are evaluated, so each of its jobs must be among ours (same
// name, same stage); jobs that rules remove are InstantiatePipeline's
// concern and are compared there.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/loader.h"
#include "pipeline/builder.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(SLIPWAY_SOURCE_DIR) / ".." / "shared" / "corpus";

// The corpus entries whose includes are all local (MANIFEST.md).
const char* const kSelfContained[] = {
    "03", "04", "05", "06", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35"};

std::optional<fs::path> CorpusDir(const std::string& prefix) {
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().filename().string().starts_with(prefix + "-")) return entry.path();
  }
  return std::nullopt;
}

// glcl's job list when its run exited 0: (name, stage) pairs.
std::optional<std::vector<std::pair<std::string, std::string>>> GlclJobs(const fs::path& dir) {
  for (const char* file : {"glcl-list.txt", "glcl-list-alt.txt"}) {
    std::ifstream in(dir / file);
    if (!in) continue;
    std::string first;
    std::getline(in, first);
    if (first != "# exit 0") continue;
    std::stringstream rest;
    rest << in.rdbuf();
    std::string text = rest.str();
    size_t start = text.find("\n[");
    if (text.starts_with("[")) start = 0;
    if (start == std::string::npos) continue;
    nlohmann::json json = nlohmann::json::parse(text.substr(start), nullptr, false);
    if (!json.is_array()) continue;
    std::vector<std::pair<std::string, std::string>> jobs;
    for (const auto& job : json) {
      jobs.emplace_back(job.value("name", ""), job.value("stage", ""));
    }
    return jobs;
  }
  return std::nullopt;
}

// glcl joins matrix values with "," where GitLab writes ", " (as the
// reference shows: "deploystacks: [aws, monitoring]").
const Job* FindJobGlclStyle(const PipelineConfig& config, const std::string& glcl_name) {
  if (const Job* job = config.FindJob(glcl_name)) return job;
  for (const Job& job : config.jobs) {
    std::string squeezed = job.name;
    for (size_t pos; (pos = squeezed.find(", ")) != std::string::npos;) squeezed.erase(pos + 1, 1);
    if (job.parallel_total > 0 && squeezed == glcl_name) return &job;
  }
  return nullptr;
}

class BuilderCorpusTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BuilderCorpusTest, BuildsWithoutErrorsAndHasGlclJobs) {
  if (!fs::exists(kCorpus)) GTEST_SKIP() << "no corpus at " << kCorpus;
  std::optional<fs::path> dir = CorpusDir(GetParam());
  ASSERT_TRUE(dir.has_value());
  LoadOptions options;
  options.project_dir = dir->string();
  options.variables.Set("CI_COMMIT_BRANCH", "main");
  options.variables.Set("CI_COMMIT_REF_NAME", "main");
  options.variables.Set("CI_DEFAULT_BRANCH", "main");
  options.variables.Set("CI_PIPELINE_SOURCE", "push");
  options.variables.Set("CI_PROJECT_PATH", "g/p");
  options.variables.Set("CI_PROJECT_NAMESPACE", "g");
  options.variables.Set("CI_SERVER_HOST", "gitlab.example.com");
  Diagnostics diags;
  std::optional<Node> root = LoadConfig(options, &diags);
  ASSERT_TRUE(root.has_value()) << diags.FormatAll();
  std::optional<PipelineConfig> config = BuildPipelineConfig(*root, &diags);
  ASSERT_TRUE(config.has_value()) << diags.FormatAll();
  EXPECT_EQ(diags.ErrorCount(), 0) << diags.FormatAll();
  EXPECT_FALSE(config->jobs.empty());

  auto glcl = GlclJobs(*dir);
  if (!glcl) return;  // glcl could not list this pipeline.
  for (const auto& [name, stage] : *glcl) {
    const Job* job = FindJobGlclStyle(*config, name);
    if (job == nullptr) {
      ADD_FAILURE() << "glcl lists '" << name << "' which slipway does not build";
      continue;
    }
    EXPECT_EQ(job->stage, stage) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, BuilderCorpusTest, ::testing::ValuesIn(kSelfContained),
                         [](const auto& info) { return std::string("c") + info.param; });

}  // namespace
}  // namespace slipway
