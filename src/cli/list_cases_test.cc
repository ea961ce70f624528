// Golden cases for `slipway list` and `slipway lint`, most taken from the
// examples in GitLab's CI/CD YAML documentation. Each directory under
// tests/cases/ is a project: its files are committed to a fresh git repository
// on branch `main`, then the command in `cmd` (default: `list`) runs there.
// `expected.txt` starts with `# exit N`; the rest is the exact stdout when N is
// 0, and the exact stderr otherwise.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "util/test_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

const fs::path kCasesDir = fs::path(SLIPWAY_SOURCE_DIR) / "tests" / "cases";

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line; stdout and stderr captured through files.
CommandResult RunShell(const std::string& command, const fs::path& tmp) {
  fs::path out = tmp / "stdout", err = tmp / "stderr";
  std::string line = command + " >" + out.string() + " 2>" + err.string();
  int status = std::system(line.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  if (!fs::exists(kCasesDir)) return names;
  for (const auto& entry : fs::directory_iterator(kCasesDir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ListCaseTest : public testing::TestWithParam<std::string> {};

TEST_P(ListCaseTest, MatchesExpected) {
  const fs::path src = kCasesDir / GetParam();
  // A fresh directory per run: two test runs at once must not share it.
  std::string pattern = (fs::path(testing::TempDir()) / "slipway-case-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path tmp = pattern;
  const fs::path repo = tmp / "repo";
  fs::create_directories(repo);
  fs::copy(src, repo, fs::copy_options::recursive);
  std::string expected = Slurp(repo / "expected.txt");
  std::string cmd = fs::exists(repo / "cmd") ? Slurp(repo / "cmd") : "list";
  while (!cmd.empty() && (cmd.back() == '\n' || cmd.back() == ' ')) cmd.pop_back();
  fs::remove(repo / "expected.txt");
  fs::remove(repo / "cmd");

  CommandResult git = RunShell("cd " + repo.string() +
                                   " && git init -q -b main && git add -A && git -c user.name=t "
                                   "-c user.email=t@example.invalid commit -qm 'case commit' && "
                                   "git remote add origin https://gitlab.example.com/g/p.git",
                               tmp);
  ASSERT_EQ(git.exit_code, 0) << git.err;

  CommandResult r = RunShell("cd " + repo.string() + " && " SLIPWAY_BINARY " " + cmd, tmp);
  size_t nl = expected.find('\n');
  ASSERT_NE(nl, std::string::npos) << "expected.txt needs a '# exit N' first line";
  ASSERT_EQ(expected.rfind("# exit ", 0), 0u) << "expected.txt needs a '# exit N' first line";
  int want_exit = std::stoi(expected.substr(7, nl - 7));
  std::string want = expected.substr(nl + 1);
  EXPECT_EQ(r.exit_code, want_exit) << "stdout:\n" << r.out << "stderr:\n" << r.err;
  if (want_exit == 0) {
    EXPECT_EQ(r.out, want) << "stderr:\n" << r.err;
  } else {
    EXPECT_EQ(r.err, want);
  }
  fs::remove_all(tmp);
}

std::string CaseName(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, ListCaseTest, testing::ValuesIn(CaseNames()), CaseName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ListCaseTest);

}  // namespace
}  // namespace slipway
