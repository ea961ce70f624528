#include "exec/junit.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(JunitTest, CountsCasesByResultWithGitLabPrecedence) {
  StatusOr<TestCounts> counts = ParseJunit(R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <!-- <testcase name="commented out"/> -->
  <testsuite name="s1" tests="5">
    <testcase classname="a" name="ok"/>
    <testcase classname="a" name="ok too" time="0.1"></testcase>
    <testcase name="fails"><failure message="x &gt; y">trace <![CDATA[ <testcase> ]]></failure></testcase>
    <testcase name="errors"><error type="E"/></testcase>
    <testcase name="both"><error/><failure/></testcase>
  </testsuite>
  <testsuite name="s2">
    <testcase name="skip" attr="a>b"><skipped/></testcase>
  </testsuite>
</testsuites>)");
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(counts->Summary(), "junit: 6 total, 2 success, 2 failed, 1 skipped, 1 error");
}

TEST(JunitTest, NamespacedAndEmptyDocuments) {
  StatusOr<TestCounts> counts = ParseJunit("<x:testcase name='a'><x:skipped/></x:testcase>");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->skipped, 1);
  StatusOr<TestCounts> empty = ParseJunit("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->total, 0);
}

TEST(JunitTest, TruncatedXmlIsAnError) {
  EXPECT_EQ(ParseJunit("<testsuite><testcase name=\"a").status().message(),
            "JUnit XML: unterminated tag");
  EXPECT_EQ(ParseJunit("<testcase><!-- x").status().message(), "JUnit XML: unterminated section");
  EXPECT_EQ(ParseJunit("<testcase><failure/>").status().message(),
            "JUnit XML: unterminated testcase");
}

// What GitLab's test report shows of each case: names and times from the
// attributes, entities decoded, and the text (or else the message) of the
// element that decided the status.
TEST(JunitTest, CasesKeepTheirNamesTimesAndOutput) {
  StatusOr<std::vector<JunitCase>> cases = ParseJunitCases(R"(<testsuites>
  <testsuite name="s1">
    <testcase classname="pkg.A" name="adds &amp; subtracts" time="0.25" file="a.py"/>
    <testcase classname="pkg.A" name="fails" time="1.5"><failure message="short">expected 1&#10;got <![CDATA[<2>]]></failure><system-out>noise</system-out></testcase>
    <testcase name="errs" time="x"><error message="boom"/></testcase>
    <testcase name="skips"><skipped message="later"></skipped></testcase>
  </testsuite>
</testsuites>)");
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_EQ(cases->size(), 4u);
  const JunitCase& ok = (*cases)[0];
  EXPECT_EQ(ok.status, "success");
  EXPECT_EQ(ok.name, "adds & subtracts");
  EXPECT_EQ(ok.classname, "pkg.A");
  EXPECT_EQ(ok.file, "a.py");
  EXPECT_DOUBLE_EQ(ok.execution_time, 0.25);
  EXPECT_FALSE(ok.system_output.has_value());
  EXPECT_EQ((*cases)[1].status, "failed");
  EXPECT_DOUBLE_EQ((*cases)[1].execution_time, 1.5);
  EXPECT_EQ((*cases)[1].system_output, "expected 1\ngot <2>");
  EXPECT_EQ((*cases)[2].status, "error");
  EXPECT_EQ((*cases)[2].execution_time, 0);
  EXPECT_EQ((*cases)[2].system_output, "boom");
  EXPECT_EQ((*cases)[3].status, "skipped");
  EXPECT_EQ((*cases)[3].system_output, "later");
}

// The parser's bounds: a file of more test cases than kMaxJunitCases is
// refused, a case's output is cut at kMaxJunitOutputBytes, and deep
// nesting costs nothing (no stack is kept).
TEST(JunitTest, CasesAndOutputAreBounded) {
  std::string many = "<testsuite>";
  for (size_t i = 0; i <= kMaxJunitCases; ++i) many += "<testcase/>";
  many += "</testsuite>";
  EXPECT_EQ(ParseJunitCases(many).status().message(), "JUnit XML: more than 100000 test cases");
  std::string big =
      "<testcase><failure>" + std::string(kMaxJunitOutputBytes * 2, 'x') + "</failure></testcase>";
  auto cases = ParseJunitCases(big);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->at(0).system_output->size(), kMaxJunitOutputBytes);
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<testsuite>";
  deep += "<testcase name='deep'/>";
  auto nested = ParseJunitCases(deep);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->at(0).name, "deep");
}

TEST(JunitTest, AddsCounts) {
  TestCounts a{3, 2, 1, 0, 0};
  a.Add(TestCounts{2, 0, 0, 1, 1});
  EXPECT_EQ(a.Summary(), "junit: 5 total, 2 success, 1 failed, 1 skipped, 1 error");
}

}  // namespace
}  // namespace slipway
