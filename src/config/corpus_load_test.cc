// Loads every pipeline of the shared corpus (real projects' .gitlab-ci.yml
// with their local includes). Local includes must resolve; the only errors
// allowed are "cannot fetch" errors for the non-local includes that the
// corpus MANIFEST lists for that pipeline.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "config/loader.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The MANIFEST table row of a corpus entry ("| 07 | ...").
std::string ManifestRow(const std::string& manifest, const std::string& number) {
  size_t pos = manifest.find("\n| " + number + " |");
  if (pos == std::string::npos) return "";
  size_t end = manifest.find('\n', pos + 1);
  return manifest.substr(pos + 1, end - pos - 1);
}

TEST(CorpusLoadTest, EveryPipelineLoads) {
  fs::path corpus = fs::path(SLIPWAY_SOURCE_DIR) / "../shared/corpus";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "no corpus at " << corpus;
  std::string manifest = ReadText(corpus / "MANIFEST.md");
  int pipelines = 0;
  int fully_loaded = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    if (!entry.is_directory()) continue;
    std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    std::string row = ManifestRow(manifest, name.substr(0, 2));
    ASSERT_FALSE(row.empty());
    LoadOptions options;
    options.project_dir = entry.path().string();
    Diagnostics diags;
    std::optional<Node> config = LoadConfig(options, &diags);
    ++pipelines;
    for (const Diagnostic& d : diags.items()) {
      if (d.severity != Severity::kError) continue;
      const std::string prefix = "cannot fetch `";
      ASSERT_EQ(d.message.rfind(prefix, 0), 0u) << d.Format();
      std::string what =
          d.message.substr(prefix.size(), d.message.find('`', prefix.size()) - prefix.size());
      // The MANIFEST writes a project include without `ref` with "@HEAD".
      EXPECT_TRUE(row.find("`" + what + "`") != std::string::npos ||
                  row.find("`" + what + "@") != std::string::npos)
          << what << " is not a non-local include of " << name;
    }
    bool self_contained = row.find("| yes |") != std::string::npos;
    if (self_contained) {
      EXPECT_TRUE(config.has_value()) << diags.FormatAll();
      if (config) {
        EXPECT_TRUE(config->IsMap());
        EXPECT_GT(config->entries.size(), 1u);
        ++fully_loaded;
      }
    }
  }
  EXPECT_EQ(pipelines, 40);
  EXPECT_EQ(fully_loaded, 32);
}

}  // namespace
}  // namespace slipway
