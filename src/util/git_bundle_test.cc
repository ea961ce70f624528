#include "util/git_bundle.h"

#include <gtest/gtest.h>

#include <string>

namespace slipway {
namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

TEST(GitBundleTest, TheHeaderNamesTheCommitAndThePackFollowsIt) {
  std::string v2 = "# v2 git bundle\n" + kCommit + " refs/slipway/job\n\nPACK";
  EXPECT_EQ(*ParseBundleHeader(v2, kCommit), v2.size() - 4);
  std::string v3 = "# v3 git bundle\n@object-format=sha1\n" + kCommit + " refs/x\n\nPACK";
  EXPECT_EQ(*ParseBundleHeader(v3, kCommit), v3.size() - 4);
}

TEST(GitBundleTest, WhatARunnerCannotUseIsRefusedSayingWhy) {
  std::string other(40, 'f');
  EXPECT_EQ(
      ParseBundleHeader("# v2 git bundle\n" + other + " refs/x\n\n", kCommit).status().message(),
      "the bundle does not hold commit " + kCommit);
  EXPECT_EQ(
      ParseBundleHeader("# v3 git bundle\n@object-format=sha256\n" + kCommit + " r\n\n", kCommit)
          .status()
          .message(),
      "unsupported bundle @object-format=sha256");
  EXPECT_EQ(ParseBundleHeader("# v2 git bundle\n-" + other + "\n" + kCommit + " r\n\n", kCommit)
                .status()
                .message(),
            "the bundle needs commits this repository does not have");
  EXPECT_EQ(ParseBundleHeader("# v4 git bundle\n" + kCommit + " r\n\n", kCommit).status().message(),
            "not a git bundle of version 2 or 3");
  EXPECT_EQ(ParseBundleHeader("\n\n", kCommit).status().message(),
            "not a git bundle of version 2 or 3");
  // The end must come within kMaxBundleHeader bytes.
  std::string long_ref = "# v2 git bundle\n" + kCommit + " " + std::string(kMaxBundleHeader, 'r');
  EXPECT_EQ(ParseBundleHeader(long_ref + "\n\n", kCommit).status().message(),
            "not a git bundle (no end of header)");
}

}  // namespace
}  // namespace slipway
