#include "pipeline/predefined.h"

#include <gtest/gtest.h>

#include "util/test_repo.h"

namespace slipway {
namespace {

std::string Get(const VariableList& vars, std::string_view name) {
  const std::string* v = vars.Get(name);
  return v ? *v : "<unset>";
}

VariableList Predefined(const std::string& dir, PredefinedOptions options = {}) {
  options.project_dir = dir;
  options.created_at = "2026-02-03T04:05:06Z";
  StatusOr<VariableList> vars = PredefinedVariables(options);
  EXPECT_TRUE(vars.ok()) << vars.status().message();
  return vars.ok() ? *vars : VariableList();
}

TEST(SlugifyTest, GitLabRules) {
  EXPECT_EQ(Slugify("main"), "main");
  EXPECT_EQ(Slugify("Feature/JIRA-123_Foo.bar"), "feature-jira-123-foo-bar");
  EXPECT_EQ(Slugify("--v1.0--"), "v1-0");
  EXPECT_EQ(Slugify("über"), "ber");  // Each UTF-8 byte of ü becomes "-".
  EXPECT_EQ(Slugify("///"), "");
  EXPECT_EQ(Slugify(std::string(70, 'a')), std::string(63, 'a'));
  // Cut to 63 first, then trimmed: a '-' at byte 63 disappears.
  EXPECT_EQ(Slugify(std::string(62, 'a') + "/b"), std::string(62, 'a'));
}

TEST(PredefinedTest, BranchPipeline) {
  TestRepo repo;
  repo.Git({"remote", "add", "origin", "https://gitlab.example.com/g/p.git"});
  repo.Commit("first");
  std::string sha = repo.Commit("Add the thing\n\nLonger description\nover two lines.\n");
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI"), "true");
  EXPECT_EQ(Get(v, "GITLAB_CI"), "true");
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), sha);
  EXPECT_EQ(Get(v, "CI_COMMIT_SHORT_SHA"), sha.substr(0, 8));
  EXPECT_EQ(Get(v, "CI_COMMIT_BEFORE_SHA"), std::string(40, '0'));
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), "main");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_SLUG"), "main");
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "main");
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "<unset>");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_PROTECTED"), "true");
  EXPECT_EQ(Get(v, "CI_COMMIT_MESSAGE"), "Add the thing\n\nLonger description\nover two lines.");
  EXPECT_EQ(Get(v, "CI_COMMIT_TITLE"), "Add the thing");
  EXPECT_EQ(Get(v, "CI_COMMIT_DESCRIPTION"), "\nLonger description\nover two lines.");
  EXPECT_EQ(Get(v, "CI_COMMIT_AUTHOR"), "Ada Lovelace <ada@example.com>");
  EXPECT_EQ(Get(v, "CI_COMMIT_TIMESTAMP"), "2026-01-02T03:04:05Z");
  EXPECT_EQ(Get(v, "CI_DEFAULT_BRANCH"), "main");
  EXPECT_EQ(Get(v, "CI_PIPELINE_SOURCE"), "push");
  EXPECT_EQ(Get(v, "CI_PIPELINE_ID"), "1");
  EXPECT_EQ(Get(v, "CI_PIPELINE_IID"), "1");
  EXPECT_EQ(Get(v, "CI_PIPELINE_CREATED_AT"), "2026-02-03T04:05:06Z");
  EXPECT_EQ(Get(v, "CI_PIPELINE_URL"), "https://gitlab.example.com/g/p/-/pipelines/1");
  EXPECT_EQ(Get(v, "CI_PROJECT_NAME"), "p");
  EXPECT_EQ(Get(v, "CI_PROJECT_PATH"), "g/p");
  EXPECT_EQ(Get(v, "CI_PROJECT_PATH_SLUG"), "g-p");
  EXPECT_EQ(Get(v, "CI_PROJECT_NAMESPACE"), "g");
  EXPECT_EQ(Get(v, "CI_PROJECT_URL"), "https://gitlab.example.com/g/p");
  EXPECT_EQ(Get(v, "CI_PROJECT_DIR"), std::filesystem::canonical(repo.dir()).string());
  EXPECT_EQ(Get(v, "CI_SERVER_HOST"), "gitlab.example.com");
  EXPECT_EQ(Get(v, "CI_SERVER_URL"), "https://gitlab.example.com");
  EXPECT_EQ(Get(v, "CI_API_V4_URL"), "https://gitlab.example.com/api/v4");
  EXPECT_EQ(Get(v, "CI_REPOSITORY_URL"),
            "https://gitlab-ci-token:[MASKED]@gitlab.example.com/g/p.git");
  EXPECT_EQ(Get(v, "CI_CONFIG_PATH"), ".gitlab-ci.yml");
  EXPECT_EQ(Get(v, "GITLAB_USER_NAME"), "Ada Lovelace");
  EXPECT_EQ(Get(v, "GITLAB_USER_EMAIL"), "ada@example.com");
  EXPECT_EQ(Get(v, "CI_OPEN_MERGE_REQUESTS"), "<unset>");
  EXPECT_EQ(Get(v, "CI_MERGE_REQUEST_ID"), "<unset>");
}

TEST(PredefinedTest, FeatureBranchIsNotProtectedAndSlugged) {
  TestRepo repo;
  repo.Commit("first");
  repo.Git({"checkout", "-q", "-b", "Feature/Big_Thing"});
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), "Feature/Big_Thing");
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "Feature/Big_Thing");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_SLUG"), "feature-big-thing");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_PROTECTED"), "false");
  EXPECT_EQ(Get(v, "CI_DEFAULT_BRANCH"), "main");
  EXPECT_EQ(Get(v, "CI_COMMIT_DESCRIPTION"), "");
}

TEST(PredefinedTest, DetachedAtTagIsATagPipeline) {
  TestRepo repo;
  std::string sha = repo.Commit("first");
  repo.Commit("second");
  repo.Git({"tag", "v1.2.0", sha});
  repo.Git({"checkout", "-q", "--detach", "v1.2.0"});
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), sha);
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "v1.2.0");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), "v1.2.0");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_SLUG"), "v1-2-0");
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "<unset>");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_PROTECTED"), "false");
}

TEST(PredefinedTest, DetachedAtABranchTipUsesTheBranch) {
  TestRepo repo;
  repo.Commit("first");
  repo.Git({"tag", "v1"});
  repo.Git({"checkout", "-q", "--detach"});
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "main");
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "<unset>");
}

TEST(PredefinedTest, DetachedElsewhereUsesTheShortSha) {
  TestRepo repo;
  std::string sha = repo.Commit("first");
  repo.Commit("second");
  repo.Git({"checkout", "-q", "--detach", sha});
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), sha.substr(0, 8));
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), sha.substr(0, 8));
}

TEST(PredefinedTest, TagOptionMakesATagPipelineOnABranch) {
  TestRepo repo;
  repo.Commit("first");
  PredefinedOptions options;
  options.tag = "v9";
  options.pipeline_source = "web";
  options.pipeline_id = 42;
  VariableList v = Predefined(repo.dir(), options);
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "v9");
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "<unset>");
  EXPECT_EQ(Get(v, "CI_PIPELINE_SOURCE"), "web");
  EXPECT_EQ(Get(v, "CI_PIPELINE_ID"), "42");
}

// `slipway run --ref REV`: everything describes REV's commit, not HEAD.
VariableList AtRevision(const std::string& dir, const std::string& revision) {
  PredefinedOptions options;
  options.revision = revision;
  return Predefined(dir, options);
}

TEST(PredefinedTest, RevisionNamingABranchIsABranchPipelineForItsTip) {
  TestRepo repo;
  repo.Commit("on main");
  repo.Git({"checkout", "-q", "-b", "feature/x"});
  std::string tip = repo.Commit("Feature work\n\nin detail\n");
  repo.Git({"checkout", "-q", "main"});
  repo.Commit("later on main");
  for (const char* revision : {"feature/x", "refs/heads/feature/x"}) {
    VariableList v = AtRevision(repo.dir(), revision);
    EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), tip) << revision;
    EXPECT_EQ(Get(v, "CI_COMMIT_SHORT_SHA"), tip.substr(0, 8));
    EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "feature/x");
    EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), "feature/x");
    EXPECT_EQ(Get(v, "CI_COMMIT_REF_SLUG"), "feature-x");
    EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "<unset>");
    EXPECT_EQ(Get(v, "CI_COMMIT_REF_PROTECTED"), "false");
    EXPECT_EQ(Get(v, "CI_COMMIT_MESSAGE"), "Feature work\n\nin detail");
    EXPECT_EQ(Get(v, "CI_COMMIT_TITLE"), "Feature work");
    EXPECT_EQ(Get(v, "CI_COMMIT_DESCRIPTION"), "\nin detail");
  }
}

TEST(PredefinedTest, RevisionNamingATagIsATagPipelineWithTheTagMessage) {
  TestRepo repo;
  std::string first = repo.Commit("first");
  repo.Git({"tag", "-a", "-m", "Release 1.0\n\nnotes", "v1.0"});
  repo.Git({"tag", "light", first});
  repo.Commit("second");
  VariableList v = AtRevision(repo.dir(), "v1.0");
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), first);
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "v1.0");
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG_MESSAGE"), "Release 1.0\n\nnotes");
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), "v1.0");
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "<unset>");
  EXPECT_EQ(Get(v, "CI_COMMIT_MESSAGE"), "first");
  // A lightweight tag has no message of its own (not the commit's).
  v = AtRevision(repo.dir(), "light");
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "light");
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG_MESSAGE"), "");
}

TEST(PredefinedTest, RevisionNamingARemoteBranchIsThatBranch) {
  TestRepo repo;
  std::string sha = repo.Commit("first");
  repo.Git({"update-ref", "refs/remotes/origin/release", sha});
  repo.Commit("second");
  VariableList v = AtRevision(repo.dir(), "origin/release");
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), sha);
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "release");
}

TEST(PredefinedTest, RevisionThatIsACommitTakesARefPointingAtIt) {
  TestRepo repo;
  std::string first = repo.Commit("first");
  repo.Git({"tag", "v1", first});
  std::string second = repo.Commit("second");
  std::string third = repo.Commit("third");
  // A tag at the commit: a tag pipeline, as for a detached HEAD.
  VariableList v = AtRevision(repo.dir(), first);
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), first);
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "v1");
  // A branch tip: that branch (HEAD~0 is no name, but main points at it).
  v = AtRevision(repo.dir(), "HEAD~0");
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), third);
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "main");
  // No ref at it: the short SHA stands in as the branch name.
  v = AtRevision(repo.dir(), second.substr(0, 12));
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), second);
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), second.substr(0, 8));
  EXPECT_EQ(Get(v, "CI_COMMIT_TAG"), "<unset>");
  EXPECT_EQ(Get(v, "CI_COMMIT_MESSAGE"), "second");
}

TEST(PredefinedTest, RevisionThatNamesNoCommitIsAnError) {
  TestRepo repo;
  repo.Commit("first");
  for (const char* revision : {"no-such-branch", "--upload-pack=x"}) {
    PredefinedOptions options;
    options.project_dir = repo.dir();
    options.revision = revision;
    StatusOr<RepositoryInfo> info = ReadRepositoryInfo(options);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().message(),
              std::string("--ref ") + revision + ": not a commit in " + repo.dir());
  }
  TestRepo plain(/*init=*/false);
  PredefinedOptions options;
  options.project_dir = plain.dir();
  options.revision = "main";
  StatusOr<RepositoryInfo> info = ReadRepositoryInfo(options);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().message(), "--ref main: " + plain.dir() + " is not a git repository");
}

TEST(PredefinedTest, RepositoryWithoutCommits) {
  TestRepo repo(/*init=*/true, "trunk");
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), std::string(40, '0'));
  EXPECT_EQ(Get(v, "CI_COMMIT_SHORT_SHA"), "00000000");
  EXPECT_EQ(Get(v, "CI_COMMIT_BRANCH"), "trunk");
  EXPECT_EQ(Get(v, "CI_COMMIT_MESSAGE"), "");
  // No origin/HEAD, no init.defaultBranch, neither main nor master exists.
  EXPECT_EQ(Get(v, "CI_DEFAULT_BRANCH"), "main");
}

TEST(PredefinedTest, NotARepository) {
  TestRepo dir(/*init=*/false);
  VariableList v = Predefined(dir.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_SHA"), std::string(40, '0'));
  EXPECT_EQ(Get(v, "CI_COMMIT_REF_NAME"), "main");
  EXPECT_EQ(Get(v, "CI_DEFAULT_BRANCH"), "main");
  std::string name = std::filesystem::path(dir.dir()).filename().string();
  EXPECT_EQ(Get(v, "CI_PROJECT_PATH"), "local/" + name);
  EXPECT_EQ(Get(v, "CI_PROJECT_NAME"), name);
}

TEST(PredefinedTest, MissingDirectoryIsAnError) {
  PredefinedOptions options;
  options.project_dir = "/nonexistent/slipway-test";
  StatusOr<VariableList> v = PredefinedVariables(options);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "project directory '/nonexistent/slipway-test' does not exist");
}

TEST(PredefinedTest, DefaultBranchFromOriginHead) {
  TestRepo repo(/*init=*/true, "work");
  repo.Commit("first");
  repo.Git({"update-ref", "refs/remotes/origin/develop", "HEAD"});
  repo.Git({"symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/develop"});
  EXPECT_EQ(Get(Predefined(repo.dir()), "CI_DEFAULT_BRANCH"), "develop");
}

TEST(PredefinedTest, DefaultBranchFromInitConfigThenExistingMaster) {
  TestRepo repo(/*init=*/true, "master");
  repo.Commit("first");
  repo.Git({"checkout", "-q", "-b", "topic"});
  EXPECT_EQ(Get(Predefined(repo.dir()), "CI_DEFAULT_BRANCH"), "master");
  repo.Git({"config", "init.defaultBranch", "trunk"});
  EXPECT_EQ(Get(Predefined(repo.dir()), "CI_DEFAULT_BRANCH"), "trunk");
}

TEST(PredefinedTest, ScpStyleRemote) {
  TestRepo repo;
  repo.Commit("first");
  repo.Git({"remote", "add", "origin", "git@gitlab.gnome.org:GNOME/sub/glib.git"});
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_SERVER_HOST"), "gitlab.gnome.org");
  EXPECT_EQ(Get(v, "CI_PROJECT_PATH"), "GNOME/sub/glib");
  EXPECT_EQ(Get(v, "CI_PROJECT_NAMESPACE"), "GNOME/sub");
  EXPECT_EQ(Get(v, "CI_PROJECT_ROOT_NAMESPACE"), "GNOME");
  EXPECT_EQ(Get(v, "CI_PROJECT_NAME"), "glib");
}

TEST(PredefinedTest, LongTitleMakesTheWholeMessageTheDescription) {
  TestRepo repo;
  std::string title(100, 't');
  repo.Commit(title + "\n\nbody");
  VariableList v = Predefined(repo.dir());
  EXPECT_EQ(Get(v, "CI_COMMIT_TITLE"), title);
  EXPECT_EQ(Get(v, "CI_COMMIT_DESCRIPTION"), title + "\n\nbody");
}

TEST(JobPredefinedTest, ParallelJobAndEnvironment) {
  VariableList pipeline;
  pipeline.Set("CI_PROJECT_URL", "https://gitlab.example.com/g/p");
  pipeline.Set("CI_COMMIT_REF_SLUG", "feature-x");
  Job job;
  job.name = "test 2/3";
  job.stage = "test";
  job.parallel_index = 2;
  job.parallel_total = 3;
  job.when = When::kManual;
  job.environment = Environment{};
  job.environment->name = "review/$CI_COMMIT_REF_SLUG";
  job.environment->url = "https://$CI_COMMIT_REF_SLUG.$DOMAIN";
  VariableList job_vars;
  job_vars.Set("DOMAIN", "example.org");
  VariableList v = JobPredefinedVariables(job, 17, pipeline, job_vars);
  EXPECT_EQ(Get(v, "CI_JOB_ID"), "17");
  EXPECT_EQ(Get(v, "CI_JOB_NAME"), "test 2/3");
  EXPECT_EQ(Get(v, "CI_JOB_NAME_SLUG"), "test-2-3");
  EXPECT_EQ(Get(v, "CI_JOB_STAGE"), "test");
  EXPECT_EQ(Get(v, "CI_JOB_URL"), "https://gitlab.example.com/g/p/-/jobs/17");
  EXPECT_EQ(Get(v, "CI_JOB_MANUAL"), "true");
  EXPECT_EQ(Get(v, "CI_NODE_INDEX"), "2");
  EXPECT_EQ(Get(v, "CI_NODE_TOTAL"), "3");
  EXPECT_EQ(Get(v, "CI_ENVIRONMENT_NAME"), "review/feature-x");
  EXPECT_EQ(Get(v, "CI_ENVIRONMENT_SLUG"), "review-feature-x");
  EXPECT_EQ(Get(v, "CI_ENVIRONMENT_URL"), "https://feature-x.example.org");
  EXPECT_EQ(Get(v, "CI_ENVIRONMENT_ACTION"), "start");
}

TEST(JobPredefinedTest, PlainJob) {
  Job job;
  job.name = "build";
  VariableList v = JobPredefinedVariables(job, 1, {}, {});
  EXPECT_EQ(Get(v, "CI_NODE_INDEX"), "<unset>");
  EXPECT_EQ(Get(v, "CI_NODE_TOTAL"), "1");
  EXPECT_EQ(Get(v, "CI_JOB_MANUAL"), "<unset>");
  EXPECT_EQ(Get(v, "CI_JOB_TIMEOUT"), "3600");
  EXPECT_EQ(Get(v, "CI_ENVIRONMENT_NAME"), "<unset>");
}

}  // namespace
}  // namespace slipway
