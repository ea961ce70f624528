// Loads, builds and instantiates every corpus pipeline that gitlab-ci-local
// could list, with the setup of its reference run (branch main, default
// branch main, origin https://gitlab.example.com/g/p.git, a push pipeline),
// and compares the created jobs with that listing. Where the two disagree,
// kDeviations records which side GitLab's documentation supports; the test
// asserts slipway's result.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "config/loader.h"
#include "pipeline/builder.h"
#include "pipeline/instantiate.h"
#include "pipeline/predefined.h"

namespace slipway {
namespace {

const std::filesystem::path kCorpus = SLIPWAY_SOURCE_DIR "/../shared/corpus";

struct CorpusCase {
  const char* dir;
  const char* listing;  // glcl-list.txt, or glcl-list-alt.txt where only it succeeded.
  // The alt run created refs/remotes/origin/main at HEAD, so changes are
  // computed against it: nothing changed.
  bool no_changes = false;
};

// "job|field|ours|glcl" lines where slipway deliberately differs from
// gitlab-ci-local, read from testdata/corpus_glcl_deviations.txt, whose
// header explains each reason with GitLab's documentation.
std::map<std::string, std::vector<std::string>> ReadDeviations() {
  std::map<std::string, std::vector<std::string>> deviations;
  std::ifstream in(SLIPWAY_SOURCE_DIR "/src/pipeline/testdata/corpus_glcl_deviations.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t dir_end = line.find('|');
    size_t reason = line.rfind('|');
    deviations[line.substr(0, dir_end)].push_back(line.substr(dir_end + 1, reason - dir_end - 1));
  }
  return deviations;
}

struct Listed {
  std::string stage;
  std::string when;
  bool allow_failure = false;
};

// Reads the JSON array of a glcl listing: the created jobs (when != never)
// in listed order.
std::vector<std::pair<std::string, Listed>> ReadListing(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  size_t start = s.find("\n[");
  EXPECT_NE(start, std::string::npos) << path;
  nlohmann::json json = nlohmann::json::parse(s.substr(start + 1), nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << path;
  std::vector<std::pair<std::string, Listed>> jobs;
  for (const auto& j : json) {
    Listed l;
    l.stage = j.value("stage", "");
    l.when = j.value("when", "on_success");
    // An object is allow_failure:exit_codes, which is false for other codes.
    const auto af = j.find("allow_failure");
    l.allow_failure = af != j.end() && af->is_boolean() && af->get<bool>();
    if (l.when != "never") jobs.emplace_back(j.value("name", ""), l);
  }
  return jobs;
}

void PrintTo(const CorpusCase& c, std::ostream* os) { *os << c.dir; }

class CorpusInstantiateTest : public testing::TestWithParam<CorpusCase> {};

TEST_P(CorpusInstantiateTest, MatchesGitlabCiLocalUpToDocumentedDeviations) {
  const CorpusCase& c = GetParam();
  std::filesystem::path dir = kCorpus / c.dir;
  if (!std::filesystem::exists(dir / ".gitlab-ci.yml")) GTEST_SKIP() << dir << " not present";

  RepositoryInfo repo;
  repo.is_git = true;
  repo.has_commit = true;
  repo.sha = "0123456789abcdef0123456789abcdef01234567";
  repo.ref = "main";
  repo.default_branch = "main";
  repo.message = "init";
  repo.author = "slipway <slipway@example.com>";
  repo.timestamp = "2026-01-01T00:00:00Z";
  repo.origin_url = "https://gitlab.example.com/g/p.git";
  PredefinedOptions options;
  options.project_dir = dir.string();
  options.created_at = "2026-01-01T00:00:00Z";

  PipelineContext context;
  context.project_dir = dir.string();
  context.predefined = PredefinedVariablesFor(repo, options);
  if (c.no_changes) context.changed_files = std::vector<std::string>{};

  Diagnostics diags;
  LoadOptions load;
  load.project_dir = dir.string();
  load.variables = context.predefined;
  std::optional<Node> root = LoadConfig(load, &diags);
  ASSERT_TRUE(root.has_value()) << diags.FormatAll();
  std::optional<PipelineConfig> config = BuildPipelineConfig(*root, &diags);
  ASSERT_TRUE(config.has_value()) << diags.FormatAll();
  std::optional<Pipeline> pipeline = InstantiatePipeline(*config, context, &diags);
  ASSERT_TRUE(pipeline.has_value()) << diags.FormatAll();

  std::vector<std::pair<std::string, Listed>> listed = ReadListing(dir / c.listing);
  std::map<std::string, Listed> glcl(listed.begin(), listed.end());
  std::vector<std::string> differences;
  std::set<std::string> ours;
  for (const Job& job : pipeline->jobs) {
    ours.insert(job.name);
    auto it = glcl.find(job.name);
    if (it == glcl.end()) {
      differences.push_back(job.name + "|created|yes|no");
      continue;
    }
    if (job.stage != it->second.stage) {
      differences.push_back(job.name + "|stage|" + job.stage + "|" + it->second.stage);
    }
    if (WhenName(job.when) != it->second.when) {
      differences.push_back(job.name + "|when|" + WhenName(job.when) + "|" + it->second.when);
    }
    if (job.allow_failure.value != it->second.allow_failure) {
      differences.push_back(job.name + "|allow_failure|" +
                            (job.allow_failure.value ? "true" : "false") + "|" +
                            (it->second.allow_failure ? "true" : "false"));
    }
  }
  for (const auto& [name, l] : listed) {
    if (!ours.count(name)) differences.push_back(name + "|created|no|yes");
  }
  // GitLab creates jobs stage by stage, in YAML order within a stage; glcl
  // lists them in YAML order. So within each stage the orders must agree.
  std::map<std::string, std::vector<std::string>> our_order;
  std::map<std::string, std::vector<std::string>> glcl_order;
  for (const Job& job : pipeline->jobs) {
    if (glcl.count(job.name)) our_order[job.stage].push_back(job.name);
  }
  for (const auto& [name, l] : listed) {
    if (ours.count(name)) glcl_order[l.stage].push_back(name);
  }
  EXPECT_EQ(our_order, glcl_order);

  static const std::map<std::string, std::vector<std::string>> deviations = ReadDeviations();
  auto expected = deviations.find(c.dir);
  EXPECT_EQ(differences,
            expected == deviations.end() ? std::vector<std::string>{} : expected->second);
  EXPECT_TRUE(pipeline->created || pipeline->jobs.empty()) << pipeline->not_created_reason;
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, CorpusInstantiateTest,
    testing::Values(CorpusCase{"04-Kitware-CMake", "glcl-list-alt.txt"},
                    CorpusCase{"05-Kitware-ParaView", "glcl-list-alt.txt"},
                    CorpusCase{"06-gromacs-gromacs", "glcl-list.txt"},
                    CorpusCase{"09-trezor-trezor-firmware", "glcl-list.txt"},
                    CorpusCase{"11-paritytech-polkadot", "glcl-list.txt"},
                    CorpusCase{"12-rocq-prover-rocq", "glcl-list-alt.txt"},
                    CorpusCase{"13-u-boot-u-boot", "glcl-list.txt"},
                    CorpusCase{"14-GNOME-glib", "glcl-list.txt"},
                    CorpusCase{"15-GNOME-gnome-build-meta", "glcl-list-alt.txt"},
                    CorpusCase{"16-OpenMW-openmw", "glcl-list-alt.txt"},
                    CorpusCase{"17-bram2w-baserow", "glcl-list.txt"},
                    CorpusCase{"18-petsc-petsc", "glcl-list.txt"},
                    CorpusCase{"20-f-droid-fdroidserver", "glcl-list-alt.txt", true},
                    CorpusCase{"21-f-droid-fdroidclient", "glcl-list-alt.txt", true},
                    CorpusCase{"22-gnutls-gnutls", "glcl-list.txt"},
                    CorpusCase{"23-mbroz-cryptsetup", "glcl-list.txt"},
                    CorpusCase{"25-ligolang-ligo", "glcl-list.txt"},
                    CorpusCase{"26-dCache-dcache", "glcl-list.txt"},
                    CorpusCase{"27-espressomd-espresso", "glcl-list-alt.txt"},
                    CorpusCase{"28-CalcProgrammer1-OpenRGB", "glcl-list.txt"},
                    CorpusCase{"29-mayan-edms-Mayan-EDMS", "glcl-list.txt"},
                    CorpusCase{"30-NVIDIA-nvidia-container-toolkit", "glcl-list.txt"},
                    CorpusCase{"31-torproject-tor", "glcl-list.txt"},
                    CorpusCase{"32-archlinux-aurweb", "glcl-list.txt"},
                    CorpusCase{"33-archlinux-arch-boxes", "glcl-list.txt"},
                    CorpusCase{"34-alpinelinux-apk-tools", "glcl-list.txt"},
                    CorpusCase{"35-minetest-minetest", "glcl-list.txt"}),
    [](const testing::TestParamInfo<CorpusCase>& info) {
      return "c" + std::string(info.param.dir).substr(0, 2);
    });

}  // namespace
}  // namespace slipway
