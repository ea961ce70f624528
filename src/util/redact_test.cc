#include "util/redact.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(RedactTest, MasksTheUserAndPasswordOfEveryUrlAsGitLabDoes) {
  EXPECT_EQ(RedactUrlCredentials("https://user:token@example.com/group/app.git"),
            "https://*****:*****@example.com/group/app.git");
  EXPECT_EQ(RedactUrlCredentials("https://glpat-secret@example.com/app.git"),
            "https://*****@example.com/app.git");
  EXPECT_EQ(RedactUrlCredentials("ssh://git:pw@host:2222/x"), "ssh://*****:*****@host:2222/x");
  EXPECT_EQ(RedactUrlCredentials("https://user:@host/x"), "https://*****:*****@host/x");
  // A password holding '@' (it should be %40, but git takes it): the last
  // '@' of the authority ends the userinfo.
  EXPECT_EQ(RedactUrlCredentials("https://u:p@ss@host/x"), "https://*****:*****@host/x");
  // In a message, each URL; the text around them is kept.
  EXPECT_EQ(RedactUrlCredentials("cannot fetch https://a:b@h1/r: fatal: unable to access "
                                 "'http://c:d@h2/r/': 401\nand git+ssh://e@h3/r"),
            "cannot fetch https://*****:*****@h1/r: fatal: unable to access "
            "'http://*****:*****@h2/r/': 401\nand git+ssh://*****@h3/r");
}

TEST(RedactTest, LeavesWhatHasNoCredentialsAsItIs) {
  for (const char* text :
       {"https://example.com/app.git", "git@github.com:group/app.git", "/srv/repos/app",
        "https://example.com/a@b", "https://example.com?to=a:b@c", "://user:pw@host",
        "see https://example.com. then x@y", "", "https://", "file:///srv/x@y"}) {
    EXPECT_EQ(RedactUrlCredentials(text), text) << text;
  }
}

}  // namespace
}  // namespace slipway
