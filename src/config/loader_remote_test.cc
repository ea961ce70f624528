// include:remote and include:template through the real NetworkFetcher,
// against a real HTTPS server on loopback with a CA the test makes.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/network_fetcher.h"
#include "config/test_project.h"
#include "util/test_https_server.h"

namespace slipway {
namespace {

using RemoteLoad = FetchedLoad;

class RemoteIncludeTest : public ::testing::Test {
 protected:
  RemoteIncludeTest() {
    cache_dir_ = project_.dir() + "-cache";
    options_.http.ca_file = server_.ca_file();
    options_.cache_dir = cache_dir_;
    options_.template_source = server_.Url("/templates");
  }
  ~RemoteIncludeTest() override { std::filesystem::remove_all(cache_dir_); }

  RemoteLoad LoadWith(const FetchOptions& fetch) {
    NetworkFetcher fetcher(fetch);
    return LoadWithFetcher(project_, &fetcher);
  }
  Loaded Load() { return LoadWith(options_).loaded; }

  TestHttpsServer server_;
  TempProject project_;
  std::string cache_dir_;
  FetchOptions options_;
};

TEST_F(RemoteIncludeTest, MergesARemoteFileAndItsNestedIncludes) {
  server_.Write("ci/base.yml", "include:\n  - remote: " + server_.Url("/ci/nested.yml") +
                                   "\n  - template: Lint.gitlab-ci.yml\n"
                                   "variables:\n  FROM: base\nbuild:\n  script: make\n");
  server_.Write("ci/nested.yml", "variables:\n  NESTED: yes\n");
  server_.Write("templates/Lint.gitlab-ci.yml", "lint:\n  script: lint\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/ci/base.yml") +
                                       "\n  - " + server_.Url("/ci/nested.yml") +
                                       "\ntest:\n  script: test\n");
  Loaded r = Load();
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml,
            "variables:\n  NESTED: yes\n  FROM: base\n"
            "lint:\n  script: lint\nbuild:\n  script: make\ntest:\n  script: test\n");
  // Marks name the URL.
  EXPECT_EQ(r.config->Find("build")->mark.file, server_.Url("/ci/base.yml"));
}

TEST_F(RemoteIncludeTest, ALocalIncludeInARemoteFileOrTemplateHasNoProject) {
  // GitLab drops the project context in remote files and templates.
  project_.Write("x.yml", "x:\n  script: x\n");
  server_.Write("r.yml", "include:\n  - local: x.yml\nr:\n  script: r\n");
  server_.Write("templates/T.gitlab-ci.yml", "include: x.yml\nt:\n  script: t\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/r.yml") +
                                       "\n  - template: T.gitlab-ci.yml\n");
  EXPECT_EQ(Load().diagnostics,
            server_.Url("/r.yml") +
                ":2:5: error: Local file `x.yml` does not have project!\n"
                "T.gitlab-ci.yml:1:10: error: Local file `x.yml` does not have project!\n");
}

TEST_F(RemoteIncludeTest, ASecondLoadReadsTheCacheAndOfflineNeedsNoServer) {
  server_.Write("ci/a.yml", "a:\n  script: a\n");
  project_.Write(".gitlab-ci.yml", "include: " + server_.Url("/ci/a.yml") + "\n");
  RemoteLoad first = LoadWith(options_);
  ASSERT_EQ(first.loaded.diagnostics, "");
  ASSERT_EQ(first.sources.size(), 2u);
  EXPECT_FALSE(first.sources[1].from_cache);
  std::filesystem::remove(server_.root() + "/ci/a.yml");
  RemoteLoad second = LoadWith(options_);
  EXPECT_EQ(second.loaded.diagnostics, "");
  EXPECT_EQ(second.loaded.yaml, first.loaded.yaml);
  EXPECT_TRUE(second.sources[1].from_cache);
  FetchOptions offline = options_;
  offline.offline = true;
  offline.http.ca_file = "/nonexistent";  // Never used.
  EXPECT_EQ(LoadWith(offline).loaded.yaml, first.loaded.yaml);
  // --refresh-includes asks again (and the file is gone now).
  FetchOptions refresh = options_;
  refresh.refresh = true;
  EXPECT_EQ(LoadWith(refresh).loaded.diagnostics,
            ".gitlab-ci.yml:1:10: error: Remote file `" + server_.Url("/ci/a.yml") +
                "` could not be fetched because of HTTP code `404` error!\n");
}

TEST_F(RemoteIncludeTest, OfflineNamesTheIncludeTheCacheLacks) {
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/ci/b.yml") + "\n");
  FetchOptions offline = options_;
  offline.offline = true;
  EXPECT_EQ(LoadWith(offline).loaded.diagnostics,
            ".gitlab-ci.yml:2:5: error: Remote file `" + server_.Url("/ci/b.yml") +
                "` is not available offline: --offline, and the include cache `" + cache_dir_ +
                "` has no copy of it\n");
  EXPECT_EQ(server_.Requests(), "");
}

TEST_F(RemoteIncludeTest, ReportsGitLabsMessages) {
  server_.Write("empty.yml", "\n");
  server_.Write("list.yml", "- a\n");
  server_.Write("bad.yml", "a: [\n");
  project_.Write(".gitlab-ci.yml",
                 "include:\n"
                 "  - remote: " +
                     server_.Url("/missing.yml") +
                     "\n"
                     "  - remote: " +
                     server_.Url("/empty.yml") +
                     "\n"
                     "  - remote: " +
                     server_.Url("/list.yml") +
                     "\n"
                     "  - remote: " +
                     server_.Url("/notyaml.txt") +
                     "\n"
                     "  - remote: https://:0/x.yml\n"
                     "  - template: Nope.gitlab-ci.yml\n"
                     "  - template: Bash.yml\n"
                     "job:\n  script: x\n");
  std::string url = server_.Url("");
  EXPECT_EQ(Load().diagnostics,
            ".gitlab-ci.yml:2:5: error: Remote file `" + url +
                "/missing.yml` could not be fetched because of HTTP code `404` error!\n"
                ".gitlab-ci.yml:3:5: error: Included file `" +
                url +
                "/empty.yml` is empty or does not exist!\n"
                ".gitlab-ci.yml:4:5: error: Included file `" +
                url +
                "/list.yml` does not have valid YAML syntax!\n"
                ".gitlab-ci.yml:5:5: error: Included file `" +
                url +
                "/notyaml.txt` does not have YAML extension!\n"
                ".gitlab-ci.yml:6:5: error: Remote file `https://:0/x.yml` does not have a valid "
                "address!\n"
                ".gitlab-ci.yml:7:5: error: Included file `Nope.gitlab-ci.yml` is empty or does "
                "not exist!\n"
                ".gitlab-ci.yml:8:5: error: Template file `Bash.yml` is not a valid location!\n");
}

TEST_F(RemoteIncludeTest, RefusesACertificateTheCaStoreDoesNotVouchFor) {
  server_.Write("a.yml", "a:\n  script: a\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/a.yml") + "\n");
  FetchOptions wrong = options_;
  wrong.http.ca_file = server_.dir() + "/other_ca.crt";
  std::string diagnostics = LoadWith(wrong).loaded.diagnostics;
  EXPECT_EQ(diagnostics.rfind(".gitlab-ci.yml:2:5: error: Remote file `" + server_.Url("/a.yml") +
                                  "` could not be fetched because of HTTP error! (",
                              0),
            0u)
      << diagnostics;
  EXPECT_NE(diagnostics.find("certificate verify failed"), std::string::npos) << diagnostics;
  // Nothing was cached from the failed attempt.
  FetchOptions offline = options_;
  offline.offline = true;
  EXPECT_NE(LoadWith(offline).loaded.diagnostics.find("is not available offline"),
            std::string::npos);
}

TEST_F(RemoteIncludeTest, RefusesPlainHttpUnlessAllowed) {
  TestHttpsServer plain(/*tls=*/false);
  plain.Write("a.yml", "a:\n  script: a\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + plain.Url("/a.yml") + "\n");
  EXPECT_EQ(Load().diagnostics,
            ".gitlab-ci.yml:2:5: error: Remote file could not be fetched because URL '" +
                plain.Url("/a.yml") +
                "' is blocked: only HTTPS is allowed (--allow-http-includes allows HTTP)!\n");
  EXPECT_EQ(plain.Requests(), "");
  FetchOptions allowed = options_;
  allowed.http.allow_http = true;
  EXPECT_EQ(LoadWith(allowed).loaded.diagnostics, "");
  // A copy cached while HTTP was allowed is not a way around the refusal.
  EXPECT_NE(Load().diagnostics, "");
}

TEST_F(RemoteIncludeTest, NeverShowsCredentials) {
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: https://user:secret@127.0.0.1:" +
                                       std::to_string(server_.port()) + "/auth/missing.yml\n");
  RemoteLoad r = LoadWith(options_);
  EXPECT_EQ(r.loaded.diagnostics,
            ".gitlab-ci.yml:2:5: error: Remote file `https://*****:*****@127.0.0.1:" +
                std::to_string(server_.port()) +
                "/auth/missing.yml` could not be fetched because of HTTP code `404` error!\n");
  server_.Write("missing.yml", "a:\n  script: a\n");
  r = LoadWith(options_);
  EXPECT_EQ(r.loaded.diagnostics, "");
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[1].name.find("secret"), std::string::npos);
  EXPECT_EQ(r.loaded.yaml.find("secret"), std::string::npos);
  // Nor does the cache keep them, in names or content.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(cache_dir_)) {
    EXPECT_EQ(entry.path().string().find("secret"), std::string::npos);
  }
}

TEST_F(RemoteIncludeTest, ReadsTemplatesFromTheConfiguredSource) {
  server_.Write("templates/Jobs/Build.gitlab-ci.yml", "build:\n  script: build\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - template: Jobs/Build.gitlab-ci.yml\n");
  RemoteLoad r = LoadWith(options_);
  EXPECT_EQ(r.loaded.diagnostics, "");
  EXPECT_EQ(r.loaded.yaml, "build:\n  script: build\n");
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[1].name, "Jobs/Build.gitlab-ci.yml");
  EXPECT_EQ(r.sources[1].origin, server_.Url("/templates/Jobs/Build.gitlab-ci.yml"));
}

TEST_F(RemoteIncludeTest, AnIncludeCycleStopsAtGitLabsLimit) {
  server_.Write("loop.yml", "include: " + server_.Url("/loop.yml") + "\na:\n  script: a\n");
  project_.Write(".gitlab-ci.yml", "include: " + server_.Url("/loop.yml") + "\n");
  std::string diagnostics = Load().diagnostics;
  EXPECT_NE(diagnostics.find("error: Maximum of 150 nested includes are allowed!"),
            std::string::npos)
      << diagnostics;
}

TEST_F(RemoteIncludeTest, AllFetchesShareOneTimeBound) {
  server_.Write("a.yml", "a:\n  script: a\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/a.yml") + "\n");
  FetchOptions spent = options_;
  spent.total_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(LoadWith(spent).loaded.diagnostics,
            ".gitlab-ci.yml:2:5: error: Remote file `" + server_.Url("/a.yml") +
                "` could not be fetched because of a timeout error! (Resolving config took longer "
                "than expected (0 s for all fetched includes))\n");
  EXPECT_EQ(server_.Requests(), "");
}

// A file's includes are fetched at once: the server answers none of the
// four until all four are waiting (a load fetching one after another gets
// 504 for the first). Their order in the result is still the file's.
TEST_F(RemoteIncludeTest, AFilesIncludesAreFetchedAtOnce) {
  std::string includes;
  for (int i = 1; i <= 4; ++i) {
    std::string name = "p" + std::to_string(i) + ".yml";
    server_.Write(name, "variables:\n  V: \"" + std::to_string(i) + "\"\n");
    includes += "  - remote: " + server_.Url("/barrier/4/" + name) + "\n";
  }
  project_.Write(".gitlab-ci.yml", "include:\n" + includes + "job:\n  script: x\n");
  Loaded r = Load();
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "variables:\n  V: \"4\"\njob:\n  script: x\n");
}

TEST_F(RemoteIncludeTest, InputsReachARemoteFilesSpec) {
  server_.Write("spec.yml",
                "spec:\n  inputs:\n    stage:\n      options: [build, test]\n---\n"
                "job:\n  stage: $[[ inputs.stage ]]\n  script: x\n");
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/spec.yml") +
                                       "\n    inputs:\n      stage: deploy\n");
  std::string diagnostics = Load().diagnostics;
  EXPECT_NE(diagnostics.find("`stage` input: `deploy` cannot be used because it is not in the "
                             "list of allowed options"),
            std::string::npos)
      << diagnostics;
  project_.Write(".gitlab-ci.yml", "include:\n  - remote: " + server_.Url("/spec.yml") +
                                       "\n    inputs:\n      stage: test\n");
  EXPECT_EQ(Load().yaml, "job:\n  stage: test\n  script: x\n");
}

}  // namespace
}  // namespace slipway
