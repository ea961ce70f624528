// artifacts:reports:junit: the test cases of a JUnit XML file, as GitLab's
// test report lists them (status, name, classname, file, execution_time,
// system_output), and their counts by result (total, success, failed,
// skipped, error).
//
// Not a general XML parser: one pass over the tags, skipping comments,
// processing instructions and quoted attribute values, and keeping the text
// and CDATA inside <failure>, <error> and <skipped>, which is all JUnit
// files need. It keeps no stack, so nesting depth costs nothing; the input's
// size is the caller's to bound (reports are read with a limit), and the
// number of cases and the text kept per case are bounded here. A
// <testcase> is failed if it has a <failure> child, else error if it has an
// <error>, else skipped if it has a <skipped>, else success — GitLab's
// precedence (Gitlab::Ci::Parsers::Test::Junit#create_test_case).
#ifndef SLIPWAY_EXEC_JUNIT_H_
#define SLIPWAY_EXEC_JUNIT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace slipway {

struct TestCounts {
  int total = 0;
  int success = 0;
  int failed = 0;
  int skipped = 0;
  int error = 0;

  void Add(const TestCounts& other);
  // "junit: 10 total, 7 success, 2 failed, 0 skipped, 1 error".
  std::string Summary() const;
};

struct JunitCase {
  std::string status = "success";  // success, failed, skipped or error (GitLab's words).
  std::string name, classname, file;
  double execution_time = 0;  // Seconds, from time=""; 0 when absent or not a number.
  // The text of the <failure>, <error> or <skipped> that decided the status
  // (its message attribute when it has no text), entities decoded, cut at
  // kMaxJunitOutputBytes; none for a success.
  std::optional<std::string> system_output;
};

inline constexpr size_t kMaxJunitCases = 100000;           // Per file.
inline constexpr size_t kMaxJunitOutputBytes = 64 * 1024;  // Per case's system_output.

// Error for XML that ends inside a tag, comment, CDATA section or test
// case, and for a file of more than kMaxJunitCases test cases.
StatusOr<std::vector<JunitCase>> ParseJunitCases(std::string_view xml);
StatusOr<TestCounts> ParseJunit(std::string_view xml);

// Counts of cases by status.
TestCounts CountCases(const std::vector<JunitCase>& cases);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JUNIT_H_
