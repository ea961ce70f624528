#include "server/job_users.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace slipway {
namespace {

// Fixture subuid/subgid files in a temporary directory. The users are the
// ones every Debian system has: root (0), daemon (1) and nobody (65534).
class JobUsersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/slipway-jobusers-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.subuid_file = dir_ + "/subuid";
    options_.subgid_file = dir_ + "/subgid";
    options_.server_uid = 0;
    options_.user = "nobody";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  std::string dir_;
  JobUserOptions options_;
};

TEST_F(JobUsersTest, RangesInBothFilesGiveEachProjectItsOwnIds) {
  // Owners by name and by numeric uid, comments, other users and a line
  // shadow would not parse before ours.
  Write(options_.subuid_file,
        "# comment\nroot:100000:65536\ngarbage\nnobody:200000:1000\n"
        "nobody:900000:65536\n");
  Write(options_.subgid_file, "\n65534:300000:2000\n");
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_TRUE(users.ok()) << users.status().message();
  EXPECT_TRUE(users->isolated());
  EXPECT_TRUE(users->switches_user());
  EXPECT_TRUE(users->warnings().empty());
  EXPECT_EQ(users->user(), "nobody");

  StatusOr<JobIdentity> five = users->ForProject(5);
  ASSERT_TRUE(five.ok()) << five.status().message();
  EXPECT_EQ(five->uid, 200005u);
  EXPECT_EQ(five->gid, 300005u);
  EXPECT_EQ(five->user, "nobody");
  EXPECT_EQ(five->umask, 022u);
  EXPECT_TRUE(users->ForProject(999).ok());

  // The smaller range (1000 uids) bounds the project ids.
  StatusOr<JobIdentity> too_big = users->ForProject(1000);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().message(),
            "project 1000 has no uid of its own: the subordinate ranges of the job user "
            "'nobody' (" +
                options_.subuid_file + ": 1000 ids, " + options_.subgid_file +
                ": 2000 ids) must hold more ids than the highest project id; widen them");
  EXPECT_FALSE(users->ForProject(0).ok());
}

TEST_F(JobUsersTest, WithoutBothRangesEveryProjectRunsAsTheJobUserAndItSaysSo) {
  Write(options_.subuid_file, "nobody:200000:1000\n");
  // No subgid file at all.
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_TRUE(users.ok()) << users.status().message();
  EXPECT_FALSE(users->isolated());
  EXPECT_TRUE(users->switches_user());
  StatusOr<JobIdentity> one = users->ForProject(1);
  StatusOr<JobIdentity> two = users->ForProject(70000);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(one->uid, 65534u);
  EXPECT_EQ(two->uid, 65534u);
  EXPECT_EQ(two->gid, 65534u);
  ASSERT_EQ(users->warnings().size(), 1u);
  EXPECT_EQ(users->warnings()[0],
            "the job user 'nobody' (uid 65534) has no subordinate id range in " +
                options_.subgid_file +
                ": the jobs of every project run as this one uid and can reach each other's "
                "workspaces while they run. Give it a range in both files "
                "(scripts/install-deps.sh does) so that each project runs as its own uid");
}

TEST_F(JobUsersTest, MalformedRangeOfTheJobUserIsAnErrorWithFileAndLine) {
  Write(options_.subuid_file, "root:1:2\n\nnobody:20x0:1000\n");
  Write(options_.subgid_file, "nobody:300000:2000\n");
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().message(),
            options_.subuid_file +
                ":3: the subordinate range of 'nobody' must be owner:start:count with decimal "
                "numbers, not 'nobody:20x0:1000'");

  Write(options_.subuid_file, "nobody:0:1000\n");
  users = JobUsers::Resolve(options_);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().message(),
            options_.subuid_file +
                ":1: the subordinate range of 'nobody' must lie within 1 .. 4294967294, not "
                "start at 0 with 1000 ids");

  Write(options_.subuid_file, "nobody:4294967290:10\n");
  EXPECT_FALSE(JobUsers::Resolve(options_).ok());
  Write(options_.subuid_file, "nobody:100:0\n");
  EXPECT_FALSE(JobUsers::Resolve(options_).ok());
}

TEST_F(JobUsersTest, RootServerRefusesAMissingDefaultUserAndSaysHowToCreateIt) {
  options_.user = "";
  options_.default_user = "slipway-no-such-user";
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_FALSE(users.ok());
  EXPECT_NE(users.status().message().find(
                "jobs run as the user 'slipway-no-such-user', which does not exist. Create it "
                "with `bash scripts/install-deps.sh`"),
            std::string::npos)
      << users.status().message();
  EXPECT_NE(users.status().message().find("--job-user USER"), std::string::npos);

  options_.user = "slipway-no-such-user";
  users = JobUsers::Resolve(options_);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().message(), "--job-user slipway-no-such-user: no such user");
}

TEST_F(JobUsersTest, JobUserRootIsAnExplicitWarnedOptOut) {
  Write(options_.subuid_file, "root:100000:65536\n");
  Write(options_.subgid_file, "root:100000:65536\n");
  options_.user = "root";
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_TRUE(users.ok()) << users.status().message();
  EXPECT_FALSE(users->switches_user());
  EXPECT_FALSE(users->isolated());  // Ranges do not apply to root.
  EXPECT_EQ(users->ForProject(3)->uid, 0u);
  ASSERT_EQ(users->warnings().size(), 1u);
  EXPECT_EQ(users->warnings()[0].rfind("jobs run as root (--job-user root): they can read", 0), 0u);
}

TEST_F(JobUsersTest, NumericJobUserIsLookedUp) {
  options_.user = "1";  // daemon
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_TRUE(users.ok()) << users.status().message();
  EXPECT_EQ(users->user(), "daemon");
  EXPECT_EQ(users->uid(), 1u);
}

TEST_F(JobUsersTest, NonRootServerRunsJobsAsItselfAndWarns) {
  options_.server_uid = 65534;
  options_.user = "";
  StatusOr<JobUsers> users = JobUsers::Resolve(options_);
  ASSERT_TRUE(users.ok()) << users.status().message();
  EXPECT_EQ(users->user(), "nobody");
  EXPECT_FALSE(users->switches_user());
  EXPECT_FALSE(users->isolated());
  ASSERT_EQ(users->warnings().size(), 1u);
  EXPECT_EQ(users->warnings()[0].rfind(
                "jobs run as 'nobody' (uid 65534), the server's own user: they can read and "
                "change its data directory",
                0),
            0u)
      << users->warnings()[0];

  // Naming itself is fine; anyone else is impossible without root.
  options_.user = "nobody";
  EXPECT_TRUE(JobUsers::Resolve(options_).ok());
  options_.user = "daemon";
  users = JobUsers::Resolve(options_);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().message(),
            "--job-user daemon: only a server running as root can run jobs as another user; "
            "this one runs as 'nobody' (uid 65534)");
}

TEST_F(JobUsersTest, SelfIsTheCallingUser) {
  StatusOr<JobUsers> self = JobUsers::Self();
  ASSERT_TRUE(self.ok()) << self.status().message();
  EXPECT_EQ(self->uid(), geteuid());
  EXPECT_FALSE(self->switches_user());
  EXPECT_EQ(self->ForProject(42)->uid, geteuid());
}

}  // namespace
}  // namespace slipway
