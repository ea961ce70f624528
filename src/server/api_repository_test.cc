// The repository API (api_repository.cc) and CI Lint (api_lint.cc) on a
// real git repository through the server's mirror: branches, commits and
// files as GitLab answers them, names and paths from requests that try to be
// git options, pathspec magic or revision syntax, and lint of the project's
// file and of given text with local includes from the project.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/api_test_util.h"
#include "server/pipeline_service.h"
#include "util/base64.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

using json = nlohmann::json;

class ApiRepositoryTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "slipway-repo-api-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    work_dir_ = tmpl;
    repo_.Write(".gitlab-ci.yml", "job:\n  script: echo hi\n");
    first_ = repo_.Commit("first\n\nthe body", "docs/readme.md");
    repo_.Git({"checkout", "-q", "-b", "feature/x"});
    feature_ = repo_.Commit("feature work", "src/a.c");
    repo_.Git({"checkout", "-q", "main"});
    repo_.Git({"branch", "merged-one", first_});
    repo_.Write("run.sh", "#!/bin/sh\necho run\n");
    std::filesystem::permissions(repo_.dir() + "/run.sh", std::filesystem::perms::owner_exec,
                                 std::filesystem::perm_options::add);
    std::filesystem::create_symlink("/etc/passwd", repo_.dir() + "/passwd");
    head_ = repo_.Commit("second", "docs/readme.md");

    ProjectRecord p;
    p.name = "repo";
    p.path_with_namespace = "group/repo";
    p.repo_url = repo_.dir();
    auto created = store_->CreateProject(p);
    ASSERT_TRUE(created.ok()) << created.status().message();
    base_ = "/api/v4/projects/" + std::to_string(created->id) + "/repository/";
    ServiceOptions options;
    options.data_dir = work_dir_ + "/data";
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);
    ApiOptions api_options;
    api_options.clock = &clock_;
    api_ = std::make_unique<Api>(store_.get(), service_.get(), &hub_, api_options);
  }
  void TearDown() override {
    api_.reset();
    service_.reset();
    std::error_code ec;
    if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ec);
  }
  json Get(const std::string& path, int want = 200) {
    HttpResponse r = Call("GET", base_ + path, read_);
    EXPECT_EQ(r.status, want) << path << ": " << r.body;
    return Json(r);
  }

  std::string work_dir_;
  TestRepo repo_;
  std::string first_, feature_, head_, base_;
  std::unique_ptr<PipelineService> service_;
};

TEST_F(ApiRepositoryTest, BranchesWithTheirTipsAndState) {
  json all = Get("branches");
  ASSERT_EQ(all.size(), 3u) << all;
  EXPECT_EQ(all[0]["name"], "feature/x");
  EXPECT_EQ(all[0]["commit"]["id"], feature_);
  EXPECT_FALSE(all[0]["merged"].get<bool>());
  EXPECT_EQ(all[1]["name"], "main");
  EXPECT_TRUE(all[1]["default"].get<bool>());
  EXPECT_TRUE(all[1]["protected"].get<bool>());
  EXPECT_EQ(all[1]["commit"]["title"], "second");
  EXPECT_EQ(all[2]["name"], "merged-one");
  EXPECT_TRUE(all[2]["merged"].get<bool>());
  EXPECT_EQ(all[2]["commit"]["message"], "first\n\nthe body");
  EXPECT_EQ(all[2]["commit"]["title"], "first");
  EXPECT_EQ(all[2]["commit"]["author_name"], "Ada Lovelace");

  EXPECT_EQ(Get("branches?search=^feat").size(), 1u);
  EXPECT_EQ(Get("branches?search=one$").size(), 1u);
  HttpResponse paged = Call("GET", base_ + "branches?per_page=2&page=2", read_);
  EXPECT_EQ(Json(paged).size(), 1u);
  EXPECT_EQ(Header(paged, "X-Total"), "3");
  // A name with a slash is one segment, encoded.
  EXPECT_EQ(Get("branches/feature%2Fx")["commit"]["id"], feature_);
  EXPECT_EQ(Get("branches/nope", 404)["message"], "404 Branch Not Found");
  // The mirror is fetched on each request: a new branch is there at once.
  repo_.Git({"branch", "late"});
  EXPECT_EQ(Get("branches/late")["commit"]["id"], head_);
}

TEST_F(ApiRepositoryTest, CommitsOfARefAPathAndOne) {
  json log = Get("commits");
  ASSERT_EQ(log.size(), 2u) << log;
  EXPECT_EQ(log[0]["id"], head_);
  EXPECT_EQ(log[0]["parent_ids"], json::array({first_}));
  EXPECT_EQ(log[0]["short_id"], head_.substr(0, 8));
  EXPECT_EQ(Get("commits?ref_name=feature/x").size(), 2u);
  EXPECT_EQ(Get("commits?ref_name=feature/x")[0]["id"], feature_);
  EXPECT_EQ(Get("commits?path=run.sh").size(), 1u);
  HttpResponse paged = Call("GET", base_ + "commits?per_page=1&page=2", read_);
  ASSERT_EQ(Json(paged).size(), 1u);
  EXPECT_EQ(Json(paged)[0]["id"], first_);
  EXPECT_EQ(Header(paged, "X-Total"), "2");
  EXPECT_EQ(Get("commits/" + head_.substr(0, 10))["id"], head_);
  EXPECT_EQ(Get("commits/main")["id"], head_);
  EXPECT_EQ(Get("commits?ref_name=nope", 404)["message"], "404 Reference Not Found");
  EXPECT_EQ(Get("commits/" + std::string(40, 'f'), 404)["message"], "404 Commit Not Found");
}

TEST_F(ApiRepositoryTest, FilesAsJsonAndRaw) {
  json file = Get("files/docs%2Freadme.md?ref=main");
  EXPECT_EQ(file["file_name"], "readme.md");
  EXPECT_EQ(file["file_path"], "docs/readme.md");
  EXPECT_EQ(file["encoding"], "base64");
  EXPECT_EQ(file["content"], Base64Encode("second"));
  EXPECT_EQ(file["size"], 6);
  EXPECT_EQ(file["commit_id"], head_);
  EXPECT_EQ(file["last_commit_id"], head_);
  EXPECT_FALSE(file["execute_filemode"].get<bool>());
  EXPECT_EQ(Get("files/docs%2Freadme.md?ref=" + first_)["content"],
            Base64Encode("first\n\nthe body"));
  EXPECT_TRUE(Get("files/run.sh?ref=main")["execute_filemode"].get<bool>());
  EXPECT_EQ(Get("files/run.sh?ref=main")["last_commit_id"], head_);

  HttpResponse raw = Call("GET", base_ + "files/run.sh/raw", read_);
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body, "#!/bin/sh\necho run\n");
  EXPECT_EQ(Header(raw, "X-Content-Type-Options"), "nosniff");

  EXPECT_EQ(Call("GET", base_ + "files/run.sh", read_).status, 400);            // ref is required
  EXPECT_EQ(Get("files/docs?ref=main", 404)["message"], "404 File Not Found");  // a directory
  EXPECT_EQ(Get("files/nope?ref=main", 404)["message"], "404 File Not Found");
  EXPECT_EQ(Get("files/run.sh?ref=nope", 404)["message"], "404 Commit Not Found");
}

// Requests that try to make git read something else than a file of a
// commit of the project: each gets a 404, and the server's files stay its own.
TEST_F(ApiRepositoryTest, HostileNamesAndPathsReadNothingElse) {
  // A symbolic link is its blob: the target's name, not the target.
  HttpResponse link = Call("GET", base_ + "files/passwd/raw", read_);
  EXPECT_EQ(link.status, 200);
  EXPECT_EQ(link.body, "/etc/passwd");
  for (std::string path : {"..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", ":(glob)**%2Freadme.md",
                           "*.md", "docs%2F*", "docs%2F..%2Frun.sh", ".%2Frun.sh"}) {
    EXPECT_EQ(Call("GET", base_ + "files/" + path + "/raw", read_).status, 404) << path;
  }
  for (std::string ref : {"--output=%2Ftmp%2Fx", "-h", "main:docs", "main%5E", "main~1",
                          "HEAD@%7B0%7D", "main%20--all", "%3A%2Fsecond"}) {
    EXPECT_EQ(Call("GET", base_ + "files/run.sh/raw?ref=" + ref, read_).status, 404) << ref;
    EXPECT_EQ(Call("GET", base_ + "commits/" + ref, read_).status, 404) << ref;
    EXPECT_EQ(Call("GET", base_ + "commits?ref_name=" + ref, read_).status, 404) << ref;
  }
  EXPECT_EQ(Get("commits?path=:(glob)**", 200).size(), 0u);
  // Reads need a token like every /api/v4 route.
  EXPECT_EQ(Call("GET", base_ + "branches", "").status, 401);
}

TEST_F(ApiRepositoryTest, LintOfTheProjectFileAndOfGivenContent) {
  std::string lint = base_.substr(0, base_.size() - std::string("repository/").size()) + "ci/lint";
  HttpResponse got = Call("GET", lint + "?include_jobs=true", read_);
  ASSERT_EQ(got.status, 200) << got.body;
  json j = Json(got);
  EXPECT_TRUE(j["valid"].get<bool>()) << j;
  EXPECT_EQ(j["errors"], json::array());
  EXPECT_NE(j["merged_yaml"].get<std::string>().find("echo hi"), std::string::npos) << j;
  ASSERT_EQ(j["jobs"].size(), 1u);
  EXPECT_EQ(j["jobs"][0]["name"], "job");
  EXPECT_EQ(j["jobs"][0]["script"], json::array({"echo hi"}));
  EXPECT_FALSE(Json(Call("GET", lint, read_)).contains("jobs"));

  // Given text, its local include read from the project's commit.
  std::string content =
      "include: docs/readme.md\nbuild:\n  script: make\n  rules:\n    - if: $CI_COMMIT_BRANCH == "
      "\"release\"\n";
  HttpResponse posted = Call("POST", lint, read_, json({{"content", content}}).dump(),
                             {{"content-type", "application/json"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  j = Json(posted);
  // docs/readme.md is "second": not a map, GitLab's "Invalid configuration format".
  EXPECT_FALSE(j["valid"].get<bool>());
  ASSERT_EQ(j["errors"].size(), 1u) << j;
  EXPECT_NE(j["errors"][0].get<std::string>().find("docs/readme.md"), std::string::npos) << j;

  content = "build:\n  script: make\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"release\"\n";
  j = Json(Call("POST", lint, read_, json({{"content", content}, {"include_jobs", true}}).dump(),
                {{"content-type", "application/json"}}));
  EXPECT_TRUE(j["valid"].get<bool>()) << j;
  EXPECT_EQ(j["jobs"], json::array());
  // A dry run says that rules leave nothing for main, and a release branch
  // gets the job.
  j = Json(Call("POST", lint, read_, json({{"content", content}, {"dry_run", true}}).dump(),
                {{"content-type", "application/json"}}));
  EXPECT_FALSE(j["valid"].get<bool>());
  EXPECT_NE(j["errors"][0].get<std::string>().find("Pipeline will not run"), std::string::npos);
  repo_.Git({"branch", "release"});
  j = Json(Call("POST", lint, read_,
                json({{"content", content}, {"ref", "release"}, {"include_jobs", true}}).dump(),
                {{"content-type", "application/json"}}));
  ASSERT_EQ(j["jobs"].size(), 1u) << j;

  j = Json(Call("POST", lint, read_, json({{"content", "build: [\n"}}).dump(),
                {{"content-type", "application/json"}}));
  EXPECT_FALSE(j["valid"].get<bool>());
  EXPECT_NE(j["errors"][0].get<std::string>().find(".gitlab-ci.yml:"), std::string::npos) << j;
  EXPECT_TRUE(j["merged_yaml"].is_null());
  EXPECT_EQ(Call("POST", lint, read_, "{}", {{"content-type", "application/json"}}).status, 400);
  EXPECT_EQ(Call("GET", lint + "?sha=" + std::string(40, 'f'), read_).status, 400);
}

}  // namespace
}  // namespace slipway
