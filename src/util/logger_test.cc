#include "util/logger.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "util/test_dir.h"

namespace slipway {
namespace {

using nlohmann::json;

// The log pointed at a file of a temporary directory; back at stderr
// (info, text) afterwards.
class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Sub("log");
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ConfigureLog(LogLevel::kInfo, LogFormat::kText, 2);
    close(fd_);
  }
  std::vector<std::string> Lines() {
    std::istringstream in(Slurp(path_));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(LoggerTest, JsonLineHasTimeSeverityEventAndFieldsInOrder) {
  ConfigureLog(LogLevel::kInfo, LogFormat::kJson, fd_);
  LogLine(LogLevel::kWarn, "request")
      .Str("method", "GET")
      .Int("status", 404)
      .Num("duration_s", 0.25)
      .Bool("cached", false);
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  json line = json::parse(lines[0]);
  EXPECT_EQ(line["severity"], "WARN");
  EXPECT_EQ(line["event"], "request");
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["status"], 404);
  EXPECT_EQ(line["duration_s"], 0.25);
  EXPECT_EQ(line["cached"], false);
  // ISO 8601 UTC with milliseconds: 2026-12-05T09:00:00.123Z.
  std::string time = line["time"];
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(lines[0].find("{\"time\":"), 0u);
  EXPECT_LT(lines[0].find("\"method\""), lines[0].find("\"status\""));
}

TEST_F(LoggerTest, BelowTheLevelNothingIsWritten) {
  ConfigureLog(LogLevel::kWarn, LogFormat::kJson, fd_);
  LogLine(LogLevel::kInfo, "request").Str("method", "GET");
  LogLine(LogLevel::kDebug, "detail");
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  LogLine(LogLevel::kError, "broken");
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(json::parse(lines[0])["event"], "broken");
}

// A value a client chose (a path, a user agent) cannot break the line or
// the JSON: quotes, newlines, control bytes and bytes that are not UTF-8
// are escaped; a long value is cut.
TEST_F(LoggerTest, HostileValuesStayOneValidJsonLine) {
  ConfigureLog(LogLevel::kInfo, LogFormat::kJson, fd_);
  std::string hostile = "a\"b\\c\nd\re\tf\x01g\x7f h\xff\xc3(i\xe2\x82\xacj\xed\xa0\x80k";
  LogLine(LogLevel::kInfo, "request").Str("path", hostile).Str("ua", std::string(5000, 'x'));
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  json line = json::parse(lines[0]);  // Throws on invalid JSON or UTF-8.
  EXPECT_EQ(line["path"],
            "a\"b\\c\nd\re\tf\x01g\x7f h\xef\xbf\xbd\xef\xbf\xbd(i\xe2\x82\xacj"
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdk");
  EXPECT_EQ(line["ua"].get<std::string>().size(), LogLine::kMaxValueBytes);
}

TEST_F(LoggerTest, TextLineQuotesOnlyWhatNeedsIt) {
  ConfigureLog(LogLevel::kDebug, LogFormat::kText, fd_);
  LogLine(LogLevel::kDebug, "webhook")
      .Str("forge", "gitlab")
      .Str("reason", "no new commits")
      .Str("empty", "")
      .Int("status", 200);
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(24),
            " DEBUG webhook forge=gitlab reason=\"no new commits\" empty=\"\" status=200");
}

// Lines written by several threads at once arrive whole: one write(2) each.
TEST_F(LoggerTest, ConcurrentLinesDoNotInterleave) {
  ConfigureLog(LogLevel::kInfo, LogFormat::kJson, fd_);
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        LogLine(LogLevel::kInfo, "request").Int("thread", t).Str("pad", std::string(300, 'p'));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  for (const std::string& line : lines) {
    EXPECT_TRUE(json::accept(line)) << line;
  }
}

TEST(LoggerParseTest, LevelsAndFormats) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &format));
}

}  // namespace
}  // namespace slipway
