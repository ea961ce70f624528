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

TEST(JunitTest, AddsCounts) {
  TestCounts a{3, 2, 1, 0, 0};
  a.Add(TestCounts{2, 0, 0, 1, 1});
  EXPECT_EQ(a.Summary(), "junit: 5 total, 2 success, 1 failed, 1 skipped, 1 error");
}

}  // namespace
}  // namespace slipway
