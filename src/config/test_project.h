// Test helpers: a project in a temporary directory, loaded with LoadConfig.
#ifndef SLIPWAY_CONFIG_TEST_PROJECT_H_
#define SLIPWAY_CONFIG_TEST_PROJECT_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "config/emit.h"
#include "config/loader.h"

namespace slipway {

// A project directory in a temporary folder, removed at the end of a test.
class TempProject {
 public:
  TempProject() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("slipway_loader_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempProject() { std::filesystem::remove_all(dir_); }

  void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories((dir_ / path).parent_path());
    std::ofstream(dir_ / path) << text;
  }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

struct Loaded {
  std::optional<Node> config;
  std::string yaml;         // EmitYaml of the config, or "" on failure.
  std::string diagnostics;  // All diagnostics, formatted.
};

inline Loaded Load(const TempProject& project, VariableList variables = {}, Node inputs = {}) {
  LoadOptions options;
  options.project_dir = project.dir();
  options.variables = std::move(variables);
  options.inputs = std::move(inputs);
  Diagnostics diags;
  Loaded out;
  out.config = LoadConfig(options, &diags);
  if (out.config) out.yaml = EmitYaml(*out.config);
  out.diagnostics = diags.FormatAll();
  return out;
}

// Loads project with fetcher for its non-local includes, listing what was read.
struct FetchedLoad {
  Loaded loaded;
  std::vector<IncludeSource> sources;
};
inline FetchedLoad LoadWithFetcher(const TempProject& project, IncludeFetcher* fetcher) {
  LoadOptions options;
  options.project_dir = project.dir();
  options.fetcher = fetcher;
  FetchedLoad out;
  options.sources = &out.sources;
  Diagnostics diags;
  out.loaded.config = LoadConfig(options, &diags);
  if (out.loaded.config) out.loaded.yaml = EmitYaml(*out.loaded.config);
  out.loaded.diagnostics = diags.FormatAll();
  return out;
}

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_TEST_PROJECT_H_
