// End-to-end: `slipway run --secret`, attacked by a job that tries every
// usual way of printing a secret. The real binary, real bash; the job log on
// disk, the live output and the report are searched for the value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/run_e2e_test_util.h"
#include "util/base64.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "glpat-Xy9/z+Q7?w_e!3Rt";
constexpr char kKey[] =
    "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nBKcwggSjAgEAAoIBAQC7\n"
    "-----END KEY-----";

// The forms of kToken a leak would show, cut short of the characters at
// their ends that an encoding shares with the bytes around the value.
std::vector<std::string> LeakedForms() {
  std::string token = kToken;
  std::string hex;
  for (unsigned char c : token) {
    hex += "0123456789abcdef"[c >> 4];
    hex += "0123456789abcdef"[c & 0xf];
  }
  std::vector<std::string> forms = {token, hex, "glpat-Xy9%2Fz%2BQ7%3Fw_e%213Rt"};
  for (std::string prefix : {"", "x", "xy"}) {
    std::string b64 = Base64Encode(prefix + token);
    forms.push_back(b64.substr(4, b64.size() - 8));
  }
  forms.push_back("MIIEvQIBADANBgkqhkiG9w0B");
  forms.push_back("BKcwggSjAgEAAoIBAQC7");
  return forms;
}

TEST_F(RunE2eTest, SecretsAreMaskedHoweverAJobPrintsThem) {
  Pipeline(
      "leak:\n"
      "  script:\n"
      "    - echo \"plain $TOKEN\"\n"
      "    - printf '%s\\n' \"$TOKEN\" | base64\n"
      "    - printf 'x%s' \"$TOKEN\" | base64 -w0; echo\n"
      "    - printf 'xy%s' \"$TOKEN\" | base64 -w0 | tr '+/' '-_'; echo\n"
      "    - printf '%s' \"$TOKEN\" | od -An -v -tx1 | tr -d ' \\n'; echo\n"
      "    - python3 -c 'import os, urllib.parse; "
      "print(urllib.parse.quote(os.environ[\"TOKEN\"], safe=\"\"))'\n"
      // Two writes with a pause between them: two chunks of output.
      "    - printf 'split %s' \"${TOKEN:0:9}\"; sleep 0.3; printf '%s\\n' \"${TOKEN:9}\"\n"
      "    - printf '%s\\n' \"$KEY\" | sed 's/^/key= /'\n"
      "    - set -x; true \"$TOKEN\"; set +x\n"
      "    - echo \"$TOKEN\" >&2\n"
      "    - exit 3\n");
  RunOutcome out = Run({"--secret", std::string("TOKEN=") + kToken, "--secret", "KEY"},
                       {std::string("KEY=") + kKey});
  EXPECT_EQ(out.status, (Statuses{{"leak", "failed"}})) << out.output;
  std::string log = Log(out, "leak");
  EXPECT_THAT(log, HasSubstr("plain [MASKED]\n"));
  EXPECT_THAT(log, HasSubstr("split [MASKED]\n"));
  EXPECT_THAT(log, HasSubstr("key= [MASKED]\n"));
  for (const std::string& form : LeakedForms()) {
    EXPECT_THAT(log, Not(HasSubstr(form))) << form;
    EXPECT_THAT(out.output, Not(HasSubstr(form))) << form;
    EXPECT_THAT(out.report.dump(), Not(HasSubstr(form))) << form;
  }
}

TEST_F(RunE2eTest, SecretsThatCannotBeMaskedAreRefused) {
  Pipeline("job:\n  script: echo hi\n");
  RunOutcome short_value = Run({"--secret", "PIN=1234"});
  EXPECT_EQ(short_value.exit_code, 2);
  EXPECT_THAT(short_value.output,
              HasSubstr("PIN: a masked value must be at least 8 characters long"));
  RunOutcome unset = Run({"--secret", "SLIPWAY_TEST_UNSET_SECRET"});
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_THAT(unset.output, HasSubstr("SLIPWAY_TEST_UNSET_SECRET is not set in slipway's "
                                      "environment"));
}

// A secret reaches the job as a variable (rules see it too) while its
// value stays out of the log.
TEST_F(RunE2eTest, ASecretIsAVariableForRulesAndJobs) {
  Pipeline(
      "deploy:\n  rules:\n    - if: $TOKEN\n  script:\n"
      "    - test \"$TOKEN\" = \"$EXPECTED\" && echo same\n");
  RunOutcome out = Run({"--secret", std::string("TOKEN=") + kToken, "--variable",
                        std::string("EXPECTED=") + kToken});
  EXPECT_EQ(out.status, (Statuses{{"deploy", "success"}})) << out.output;
  EXPECT_THAT(Log(out, "deploy"), HasSubstr("\nsame\n"));
}

}  // namespace
}  // namespace slipway
