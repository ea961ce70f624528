// End-to-end, with the real `slipway` binary: what the server's files look
// like to others (data directory, database, secrets key, builds directory),
// whether secrets reach the disk or a log in plain text, and a job that
// attacks the server and another project's running job (docs/server.md,
// "Security model"). The attack needs a server running as root with a job
// user that has a subordinate id range (scripts/install-deps.sh), as the
// tests run here; elsewhere it is skipped with the reason.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/serve_test_util.h"
#include "server/job_users.h"
#include "store/store.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using serve_test::HmacSha256Hex;
using serve_test::Http;
using serve_test::HttpReply;
using serve_test::MarkerDir;
using serve_test::RunSlipway;
using serve_test::Server;

// The two halves never appear together anywhere but in the project's row.
constexpr char kSecretHead[] = "victim-webhook-";
constexpr char kSecretTail[] = "7f3a91e2c4";
const std::string kSecret = std::string(kSecretHead) + kSecretTail;

struct stat Stat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}
mode_t Mode(const std::string& path) { return Stat(path).st_mode & 07777; }

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class ServeSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Who the server under test runs jobs as, as it resolves it: a root
    // server needs its job user (scripts/install-deps.sh makes it).
    StatusOr<JobUsers> users = JobUsers::Resolve(JobUserOptions{});
    if (!users.ok()) GTEST_SKIP() << "the server would not start: " << users.status().message();
    users_ = std::move(*users);
    char tmpl[] = "/tmp/slipway-security-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Jobs run as other users: they must be able to pass through to the
    // builds directory (the server refuses to start otherwise).
    ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);
    data_ = dir_ + "/data";
    builds_ = dir_ + "/data-builds";
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  std::string AddProject(const std::string& name, const std::string& repo,
                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"project", "add", "--data", data_, name, repo};
    args.insert(args.end(), extra.begin(), extra.end());
    int rc = 0;
    std::string err;
    std::string id = RunSlipway(args, &rc, &err);
    EXPECT_EQ(rc, 0) << err;
    add_stderr_ += err;
    return id;
  }

  // Two pipelines at once: an attacker's and its victim's.
  int StartServer() {
    server_log_ = dir_ + "/server.log";
    server_ =
        std::make_unique<Server>(data_, server_log_, "127.0.0.1:0", std::vector<std::string>{},
                                 std::vector<std::string>{"--max-pipelines", "2"});
    return server_->WaitForPort();
  }

  // Creates a pipeline through the API and waits until it has finished;
  // returns its jobs' logs by name.
  std::map<std::string, std::string> RunPipeline(int port, const std::string& token, int project) {
    HttpReply created =
        Http(port, "POST", "/api/v4/projects/" + std::to_string(project) + "/pipeline?ref=main",
             {"PRIVATE-TOKEN: " + token});
    EXPECT_EQ(created.status, 201) << created.body;
    if (created.status != 201) return {};
    return WaitForPipeline(nlohmann::json::parse(created.body)["id"].get<int64_t>());
  }

  std::map<std::string, std::string> WaitForPipeline(int64_t id) {
    auto store = OpenStore("sqlite:" + data_ + "/slipway.db");
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (!store.ok()) return {};
    EXPECT_TRUE(WaitFor([&] {
      auto p = (*store)->GetPipeline(id);
      return p.ok() && *p && !IsActive((*p)->status);
    })) << Slurp(server_log_);
    JobFilter filter;
    filter.pipeline_id = id;
    std::map<std::string, std::string> logs;
    StatusOr<Page<JobRecord>> jobs = (*store)->ListJobs(filter);
    EXPECT_TRUE(jobs.ok()) << jobs.status().message();
    if (!jobs.ok()) return logs;
    for (const JobRecord& job : jobs->items) {
      logs[job.name] = (*store)->ReadLog(job.id, 0, 1 << 20)->bytes;
      EXPECT_EQ(job.status, CiStatus::kSuccess) << job.name << ": " << logs[job.name];
    }
    return logs;
  }

  std::string Token() {
    int rc = 0;
    std::string token =
        RunSlipway({"token", "create", "--data", data_, "--name", "t", "--role", "admin"}, &rc);
    EXPECT_EQ(rc, 0);
    return token;
  }

  std::optional<JobUsers> users_;
  std::string dir_, data_, builds_, server_log_, add_stderr_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServeSecurityTest, DataDirIsTheServersAloneAndSecretsStayOutOfFilesAndLogs) {
  TestRepo repo;
  repo.Write(".gitlab-ci.yml", R"yml(
who:
  script:
    - echo "umask=$(umask) uid=$(id -u) home=$HOME user=$USER"
    - stat -c 'home %u:%g %a' "$HOME"
    - if [ -e "$HOME/kept" ]; then echo "found-$(cat "$HOME/kept")"; fi
    - echo "hello" > "$HOME/kept"
)yml");
  std::string sha = repo.Commit("one job");
  // An existing data directory that others could read is narrowed.
  fs::create_directories(data_);
  ASSERT_EQ(chmod(data_.c_str(), 0755), 0);
  ASSERT_EQ(AddProject("app", repo.dir(), {"--webhook-secret", kSecret}), "1");
  EXPECT_NE(add_stderr_.find("the data directory " + data_ + " was 0755"), std::string::npos)
      << add_stderr_;
  EXPECT_EQ(Mode(data_), 0700u);
  EXPECT_EQ(Mode(data_ + "/slipway.db"), 0600u);
  EXPECT_EQ(Mode(data_ + "/secrets.key"), 0600u);
  EXPECT_EQ(Stat(data_ + "/slipway.db").st_uid, geteuid());
  std::string token = Token();

  int port = StartServer();
  ASSERT_GT(port, 0) << Slurp(server_log_);
  // While the server runs, SQLite's log and shared memory follow the database.
  EXPECT_EQ(Mode(data_ + "/slipway.db-wal"), 0600u);
  EXPECT_EQ(Mode(data_ + "/slipway.db-shm"), 0600u);
  EXPECT_EQ(Mode(builds_), 0711u);
  EXPECT_EQ(Stat(builds_).st_uid, geteuid());

  // A signed push webhook: the secret is the HMAC key, never sent or logged.
  std::string push = R"({"ref":"refs/heads/main","before":")" + std::string(40, '0') +
                     R"(","after":")" + sha + R"("})";
  HttpReply forged =
      Http(port, "POST", "/hooks/github/1",
           {"X-GitHub-Event: push", "X-Hub-Signature-256: sha256=" + HmacSha256Hex("wrong", push)},
           push);
  EXPECT_EQ(forged.status, 401) << forged.body;
  HttpReply signed_push =
      Http(port, "POST", "/hooks/github/1",
           {"X-GitHub-Event: push", "X-Hub-Signature-256: sha256=" + HmacSha256Hex(kSecret, push)},
           push);
  ASSERT_EQ(signed_push.status, 201) << signed_push.body;
  EXPECT_EQ(signed_push.body.find(kSecret), std::string::npos);
  std::map<std::string, std::string> logs =
      WaitForPipeline(nlohmann::json::parse(signed_push.body)["id"].get<int64_t>());
  std::map<std::string, std::string> again = RunPipeline(port, token, 1);

  // The job runs as its project's uid (the server's own when the server is
  // not root) with a login's umask, not the server's 077; its HOME is its
  // own, beside its workspace, the job's uid's alone, and gone after it (the
  // second pipeline's job does not find the first's file); USER is the job
  // user.
  JobIdentity identity = *users_->ForProject(1);
  std::string home = builds_ + "/1/builds/0/app.home";
  std::string expected = "umask=0022 uid=" + std::to_string(identity.uid) + " home=" + home +
                         " user=" + identity.user + "\n";
  for (const std::string& log : {logs["who"], again["who"]}) {
    EXPECT_NE(log.find(expected), std::string::npos) << log;
    EXPECT_NE(log.find("\nhome " + std::to_string(identity.uid) + ":" +
                       std::to_string(identity.gid) + " 700\n"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("\nfound-hello"), std::string::npos) << log;  // An earlier job's HOME.
  }
  EXPECT_FALSE(fs::exists(home));

  // Owners and modes of the project's directories.
  bool shared = identity.uid != geteuid();
  struct stat root = Stat(builds_ + "/1");
  EXPECT_EQ(root.st_mode & 07777, shared ? 0750u : 0700u);
  EXPECT_EQ(root.st_uid, geteuid());
  EXPECT_EQ(root.st_gid, identity.gid);
  EXPECT_FALSE(fs::exists(builds_ + "/1/variables/1/"));  // Removed when the run ends.
  EXPECT_FALSE(fs::exists(data_ + "/workspaces"));        // Jobs do not run in DATA.

  // Everything the server wrote in the data directory is its user's alone.
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(data_)) {
    if (entry.is_symlink()) continue;
    EXPECT_EQ(Mode(entry.path()) & 077, 0u) << entry.path();
    EXPECT_EQ(Stat(entry.path()).st_uid, geteuid()) << entry.path();
  }

  // The secret is in no file of the data directory (database, its log,
  // mirrors, run directories) and in no log.
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(data_)) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(Bytes(entry.path()).find(kSecret), std::string::npos) << entry.path();
  }
  EXPECT_EQ(Slurp(server_log_).find(kSecret), std::string::npos);
  EXPECT_EQ(add_stderr_.find(kSecret), std::string::npos);
  for (const auto& [name, log] : logs) EXPECT_EQ(log.find(kSecret), std::string::npos) << name;
  for (const auto& [name, log] : again) EXPECT_EQ(log.find(kSecret), std::string::npos) << name;
}

TEST_F(ServeSecurityTest, AJobCannotReachTheDataDirOrAnotherProjectsWorkspace) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the server runs jobs as other users only when it runs as root; as uid "
                 << geteuid() << " its jobs run as itself and can read its data directory "
                 << "(it warns at start)";
  }
  if (!users_->isolated()) {
    GTEST_SKIP() << "every project's jobs run as one uid (" << users_->uid()
                 << "): they can reach each other's workspaces, as the server warned at start. "
                 << "Give the job user a subordinate id range (scripts/install-deps.sh).";
  }
  // Where the two jobs meet: the victim says it runs (and its pid), the
  // test says when the attack is over.
  std::string meet = MarkerDir(dir_);
  // Project 1 attacks while a job of project 2, the victim, runs: the
  // victim has files in its workspace and its HOME.
  TestRepo attacker;
  attacker.Write(".gitlab-ci.yml", std::string(R"yml(
attack:
  script:
    - BUILDS=$(cd "$CI_BUILDS_DIR/../.." && pwd); DATA=${BUILDS%-builds}; SLOT=${CI_PROJECT_DIR%/*}
    - echo "uid=$(id -u) umask=$(umask)"
    - echo "head=$(git log -1 --format=%H)"
    - if [ -z "$(git status --porcelain)" ]; then echo "status=clean"; fi
    - VICTIM=$(cat )yml") + meet + R"yml(/victim.pid)
    - try() { if eval "$2" >/dev/null 2>&1; then echo "ALLOWED $1"; else echo "DENIED $1"; fi; }
    - try "read the database" 'cat "$DATA/slipway.db"'
    - try "list the data directory" 'ls "$DATA"'
    - try "read the secrets key" 'cat "$DATA/secrets.key"'
    - try "read a job log" 'cat "$DATA"/runs/1/jobs/*/log'
    - try "read the mirror's config" 'cat "$DATA/repos/1.git/config"'
    - try "list the builds directory" 'ls "$BUILDS"'
    - try "enter another project" 'ls "$BUILDS/2"'
    - try "read another project's workspace" 'cat "$BUILDS"/2/builds/0/victim/victim.txt'
    - try "read another project's home" 'cat "$BUILDS"/2/builds/0/victim.home/private'
    - try "read another project's objects" 'ls "$BUILDS/2/git-objects"'
    - try "see another project's job's files" 'ls /proc/$VICTIM/cwd/'
    - try "read another project's job's environment" 'cat /proc/$VICTIM/environ'
    - try "stop another project's job" 'kill -STOP $VICTIM'
    - try "resume another project's job" 'kill -CONT $VICTIM'
    - try "write into the builds directory" 'touch "$BUILDS/planted"'
    - try "write into its project's directory" 'touch "$BUILDS/1/planted"'
    - try "write into its pool" 'touch "$CI_BUILDS_DIR/planted"'
    - try "write beside its workspace" 'touch "$SLOT/planted"'
    - try "change its step script" 'echo "echo INJECTED" >> "$SLOT/step_script.sh"'
    - try "replace its step script" 'mv "$SLOT/step_script.sh" "$SLOT/moved.sh"'
    - try "replace its workspace" 'mv "$CI_PROJECT_DIR" "$SLOT/moved"'
    - try "write into the snapshot" 'touch "$BUILDS/1/source-ref/planted"'
    - try "change the snapshot" 'echo INJECTED >> "$BUILDS/1/source-ref/.gitlab-ci.yml"'
    - try "write into the shared objects" 'touch "$BUILDS/1/git-objects/planted"'
    - try "change a shared object" 'for f in "$BUILDS"/1/git-objects/pack/*.idx; do echo x >> "$f"; done'
    - S=")yml" + kSecretHead + R"yml("; S="${S})yml" +
                                       kSecretTail + R"yml("
    - if grep -rqa -- "$S" "$DATA" 2>/dev/null; then echo "FOUND the webhook secret"; else echo "no webhook secret in plain text"; fi
)yml");
  std::string attacker_sha = attacker.Commit("attack");
  TestRepo victim;
  victim.Write("victim.txt", "victim's source\n");
  victim.Write(".gitlab-ci.yml", R"yml(
work:
  script:
    - echo "uid=$(id -u)"
    - echo "head=$(git log -1 --format=%H)"
    - if [ -z "$(git status --porcelain)" ]; then echo "status=clean"; fi
    - echo "private" > "$HOME/private" && echo "home=$HOME"
    - MEET=)yml" + meet + R"yml(
    - echo $$ > "$MEET/victim.tmp" && mv "$MEET/victim.tmp" "$MEET/victim.pid"
    - for i in $(seq 1200); do [ -d "$MEET" ] && [ ! -e "$MEET/attack.done" ] || break; sleep 0.1; done
)yml");
  std::string victim_sha = victim.Commit("victim");
  ASSERT_EQ(AddProject("attacker", attacker.dir()), "1");
  ASSERT_EQ(AddProject("victim", victim.dir(), {"--webhook-secret", kSecret}), "2");
  std::string token = Token();
  int port = StartServer();
  ASSERT_GT(port, 0) << Slurp(server_log_);

  HttpReply created =
      Http(port, "POST", "/api/v4/projects/2/pipeline?ref=main", {"PRIVATE-TOKEN: " + token});
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_TRUE(WaitFor([&] { return fs::exists(meet + "/victim.pid"); })) << Slurp(server_log_);
  std::string log = RunPipeline(port, token, 1)["attack"];
  std::ofstream(meet + "/attack.done") << "done\n";
  std::string victim_log =
      WaitForPipeline(nlohmann::json::parse(created.body)["id"].get<int64_t>())["work"];
  // The attack aimed at the victim's HOME while it held the file.
  ASSERT_NE(victim_log.find("\nhome=" + builds_ + "/2/builds/0/victim.home\n"), std::string::npos)
      << victim_log;

  // Each project's jobs run as its own uid, neither root, with umask 022.
  JobIdentity victim_identity = *users_->ForProject(2);
  JobIdentity attacker_identity = *users_->ForProject(1);
  ASSERT_NE(attacker_identity.uid, victim_identity.uid);
  ASSERT_NE(attacker_identity.uid, 0u);
  ASSERT_NE(victim_identity.uid, 0u);
  EXPECT_NE(log.find("uid=" + std::to_string(attacker_identity.uid) + " umask=0022\n"),
            std::string::npos)
      << log;
  EXPECT_NE(victim_log.find("uid=" + std::to_string(victim_identity.uid) + "\n"), std::string::npos)
      << victim_log;
  // git works in both workspaces: the objects come from the project's copy.
  EXPECT_NE(log.find("\nhead=" + attacker_sha + "\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\nstatus=clean\n"), std::string::npos) << log;
  EXPECT_NE(victim_log.find("\nhead=" + victim_sha + "\n"), std::string::npos) << victim_log;
  EXPECT_NE(victim_log.find("\nstatus=clean\n"), std::string::npos) << victim_log;
  EXPECT_EQ(Slurp(builds_ + "/2/builds/0/victim/.git/objects/info/alternates"),
            builds_ + "/2/git-objects\n");

  for (const char* what : {"read the database",
                           "list the data directory",
                           "read the secrets key",
                           "read a job log",
                           "read the mirror's config",
                           "list the builds directory",
                           "enter another project",
                           "read another project's workspace",
                           "read another project's home",
                           "read another project's objects",
                           "see another project's job's files",
                           "read another project's job's environment",
                           "stop another project's job",
                           "resume another project's job",
                           "write into the builds directory",
                           "write into its project's directory",
                           "write into its pool",
                           "write beside its workspace",
                           "change its step script",
                           "replace its step script",
                           "replace its workspace",
                           "write into the snapshot",
                           "change the snapshot",
                           "write into the shared objects",
                           "change a shared object"}) {
    EXPECT_NE(log.find(std::string("DENIED ") + what), std::string::npos) << what << "\n" << log;
  }
  EXPECT_EQ(log.find("\nALLOWED "), std::string::npos) << log;
  EXPECT_NE(log.find("no webhook secret in plain text"), std::string::npos) << log;
  EXPECT_EQ(log.find(kSecret), std::string::npos);
  for (const char* planted : {"/planted", "/1/planted", "/1/builds/planted", "/1/builds/0/planted",
                              "/1/source-ref/planted", "/1/git-objects/planted"}) {
    EXPECT_FALSE(fs::exists(builds_ + planted)) << planted;
  }
  std::string script = Slurp(builds_ + "/1/builds/0/step_script.sh");
  EXPECT_FALSE(script.ends_with("echo INJECTED\n")) << script;
  EXPECT_EQ(Slurp(builds_ + "/1/source-ref/.gitlab-ci.yml"),
            Slurp(attacker.dir() + "/.gitlab-ci.yml"));

  // Who owns what in the project's directory.
  auto owner = [](const std::string& path) {
    struct stat st = Stat(path);
    char text[64];
    std::snprintf(text, sizeof text, "%u:%u %04o", st.st_uid, st.st_gid, st.st_mode & 07777);
    return std::string(text);
  };
  std::string server = std::to_string(geteuid()) + ":" + std::to_string(attacker_identity.gid);
  std::string job =
      std::to_string(attacker_identity.uid) + ":" + std::to_string(attacker_identity.gid);
  EXPECT_EQ(owner(builds_ + "/1/builds"), server + " 0750");
  EXPECT_EQ(owner(builds_ + "/1/builds/0"), server + " 0750");
  EXPECT_EQ(owner(builds_ + "/1/builds/0/step_script.sh"), server + " 0640");
  EXPECT_EQ(owner(builds_ + "/1/builds/0/attacker").substr(0, job.size()), job);
  EXPECT_EQ(owner(builds_ + "/1/builds/0/attacker/.gitlab-ci.yml").substr(0, job.size()), job);
  EXPECT_EQ(owner(builds_ + "/1/git-objects"), server + " 0750");
  EXPECT_EQ(Stat(builds_ + "/1/source-ref").st_uid, geteuid());
  EXPECT_EQ(Mode(builds_ + "/1/source-ref") & 022, 0u);
  for (const fs::directory_entry& entry :
       fs::recursive_directory_iterator(builds_ + "/1/git-objects")) {
    EXPECT_EQ(owner(entry.path()), server + (entry.is_directory() ? " 0750" : " 0440"))
        << entry.path();
  }
}

TEST_F(ServeSecurityTest, ServeRefusesToStartWhenItCannotKeepItsPromises) {
  auto serve = [&](const std::vector<std::string>& extra, std::string* err) {
    std::vector<std::string> args = {"serve", "--data", data_, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    int rc = 0;
    RunSlipway(args, &rc, err);
    return rc;
  };
  std::string err;
  EXPECT_EQ(serve({"--job-user", "slipway-no-such-user"}, &err), 1);
  EXPECT_NE(err.find("--job-user slipway-no-such-user: "), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(data_));  // Refused before anything was made.

  EXPECT_EQ(serve({"--builds-dir", data_ + "/builds"}, &err), 1);
  EXPECT_NE(err.find("slipway: the builds directory '" + data_ +
                     "/builds' must be outside the data directory, which jobs cannot enter"),
            std::string::npos)
      << err;

  // Jobs that run as other users must be able to reach the builds directory.
  if (users_->switches_user()) {
    ASSERT_EQ(chmod(dir_.c_str(), 0700), 0);
    EXPECT_EQ(serve({}, &err), 1);
    EXPECT_NE(err.find("slipway: jobs cannot reach the builds directory " + builds_ + ": '" + dir_ +
                       "' is 0700"),
              std::string::npos)
        << err;
    ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);
  }

  // A key file others can read, then another key than the database's.
  ASSERT_EQ(AddProject("app", "/nonexistent/repo", {"--webhook-secret", kSecret, "--no-check"}),
            "1");
  ASSERT_EQ(chmod((data_ + "/secrets.key").c_str(), 0644), 0);
  EXPECT_EQ(serve({}, &err), 1);
  EXPECT_NE(err.find("has mode 0644: others than its owner may read it"), std::string::npos) << err;
  std::string other = dir_ + "/other.key";
  std::ofstream(other) << std::string(64, 'a') << "\n";
  ASSERT_EQ(chmod(other.c_str(), 0600), 0);
  EXPECT_EQ(serve({"--secrets-key-file", other}, &err), 1);
  EXPECT_NE(err.find("is not the key this database's secrets are encrypted with"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace slipway
