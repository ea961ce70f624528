// artifacts:reports:junit: counts of test cases by result, the numbers
// GitLab shows in its test report (total, success, failed, skipped, error).
// Not a general XML parser: it reads tags, skipping comments, CDATA,
// processing instructions and quoted attribute values, which is all JUnit
// files need. A <testcase> is failed if it has a <failure> child, else error
// if it has an <error>, else skipped if it has a <skipped>, else success —
// GitLab's precedence.
#ifndef SLIPWAY_EXEC_JUNIT_H_
#define SLIPWAY_EXEC_JUNIT_H_

#include <string>
#include <string_view>

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

// Error for XML that ends inside a tag, comment or CDATA section.
StatusOr<TestCounts> ParseJunit(std::string_view xml);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JUNIT_H_
