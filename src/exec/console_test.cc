#include "exec/console.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "exec/nested_output.h"
#include "util/display_width.h"

namespace slipway {
namespace {

// Captures what the console prints.
class Capture {
 public:
  Capture() : file_(std::tmpfile()) {}
  ~Capture() { std::fclose(file_); }
  std::FILE* file() { return file_; }
  std::string Text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) text.append(buf, n);
    return text;
  }

 private:
  std::FILE* file_;
};

class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleTest() {
    build_.name = "build";
    build_.stage = "build";
    test_.name = "unit tests";
    test_.stage = "test";
  }
  JobRun Run(const Job& job, CiStatus status) {
    JobRun run;
    run.job = &job;
    run.status = status;
    return run;
  }
  Capture capture_;
  FakeClock clock_;
  Job build_;
  Job test_;
};

TEST_F(ConsoleTest, PrefixesAlignedLinesAndBuffersPartialOnes) {
  Console console(capture_.file(), {"build", "unit tests"}, &clock_, {});
  console.Write("build", "$ make\nhal");
  console.Write("unit tests", "ok\r\n");
  console.Write("build", "f a line\n");
  console.Write("build", "unterminated");
  console.Finish();
  EXPECT_EQ(capture_.Text(),
            "build      | $ make\n"
            "unit tests | ok\n"
            "build      | half a line\n"
            "build      | unterminated\n");
}

TEST_F(ConsoleTest, AnnouncesStatusChanges) {
  Console console(capture_.file(), {"build", "unit tests"}, &clock_, {});
  console.OnJobUpdate(Run(build_, CiStatus::kPending));
  console.OnJobUpdate(Run(build_, CiStatus::kRunning));
  console.Write("build", "partial");
  JobRun failed = Run(build_, CiStatus::kFailed);
  failed.exit_code = 2;
  failed.failure_reason = "script_failure";
  failed.duration_s = 1.5;
  console.OnJobUpdate(failed);
  console.OnJobUpdate(Run(test_, CiStatus::kSkipped));
  EXPECT_EQ(capture_.Text(),
            "build      > started (stage build)\n"
            "build      | partial\n"
            "build      > failed: exit code 2 (script_failure) in 1.50 s\n"
            "unit tests > skipped\n");
}

TEST_F(ConsoleTest, AnnouncesRetries) {
  Console console(capture_.file(), {"build"}, &clock_, {});
  console.OnJobUpdate(Run(build_, CiStatus::kRunning));
  JobRun retry = Run(build_, CiStatus::kPending);
  retry.failure_reason = "script_failure";
  retry.retries = 1;
  console.OnJobUpdate(retry);
  retry.status = CiStatus::kRunning;
  console.OnJobUpdate(retry);
  EXPECT_EQ(capture_.Text(),
            "build > started (stage build)\n"
            "build > failed (script_failure), will retry\n"
            "build > started (attempt 2)\n");
}

TEST_F(ConsoleTest, ColorsAndStatusLineOnATerminal) {
  ConsoleOptions options;
  options.color = true;
  options.status_line = true;
  Console console(capture_.file(), {"build", "unit tests"}, &clock_, options);
  console.OnJobUpdate(Run(build_, CiStatus::kRunning));
  clock_.Advance(std::chrono::milliseconds(2500));
  console.Tick();
  console.Write("build", "$ make\n");
  console.Finish();
  EXPECT_EQ(capture_.Text(),
            "\033[36mbuild     \033[0m > started (stage build)\n"
            "\r\033[K1 running: build 0s | 1 waiting | 0/2 done, 0s"
            "\r\033[K1 running: build 2s | 1 waiting | 0/2 done, 2s"
            "\r\033[K\033[36mbuild     \033[0m | \033[32m$ make\033[0m\n"
            "\r\033[K1 running: build 2s | 1 waiting | 0/2 done, 2s"
            "\r\033[K");
}

// Jobs started one second apart, as a 40-job pipeline run 8 at a time shows them.
class ConsoleStatusTest : public ConsoleTest {
 protected:
  ConsoleStatusTest() {
    for (int i = 0; i < 40; ++i) {
      names_.push_back(i == 1   ? "t\xC3\xABst-\xC3\xBCnicode"     // tëst-ünicode
                       : i == 2 ? "\xE6\xA7\x8B\xE7\xAF\x89-wide"  // 構築-wide
                       : i == 3 ? "evil\033[2J\nname"
                                : "job-with-a-long-name-" + std::to_string(i));
    }
    jobs_.resize(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) jobs_[i].name = names_[i];
  }
  void Start(Console* console, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      console->OnJobUpdate(Run(jobs_[i], CiStatus::kRunning));
      clock_.Advance(std::chrono::seconds(1));
    }
  }
  std::vector<std::string> names_;
  std::vector<Job> jobs_;
};

TEST_F(ConsoleStatusTest, FitsEveryWidthAndShowsWhatRunsAndWaits) {
  ConsoleOptions options;
  options.status_line = true;
  Console console(capture_.file(), names_, &clock_, options);
  Start(&console, 8);
  console.OnJobUpdate(Run(jobs_[0], CiStatus::kSuccess));
  clock_.Advance(std::chrono::seconds(65));
  for (size_t columns = 1; columns <= 400; ++columns) {
    console.Resize(columns);
    std::string text = console.StatusText();
    ASSERT_LE(DisplayWidth(text), columns > 0 ? columns - 1 : 0) << columns << ": " << text;
    EXPECT_EQ(text.find('\033'), std::string::npos) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  }
  console.Resize(100);
  EXPECT_EQ(console.StatusText(),
            "7 running: t\xC3\xABst-\xC3\xBCnicode 1m12s, \xE6\xA7\x8B\xE7\xAF\x89-wide 1m11s, "
            "\xE2\x80\xA6 | 32 waiting | 1/40 done, 1m13s");
  console.Resize(300);
  EXPECT_EQ(console.StatusText(),
            "7 running: t\xC3\xABst-\xC3\xBCnicode 1m12s, \xE6\xA7\x8B\xE7\xAF\x89-wide 1m11s, "
            "evil?[2J?name 1m10s, job-with-a-long-name-4 1m09s, job-with-a-long-name-5 1m08s, "
            "job-with-a-long-name-6 1m07s, job-with-a-long-name-7 1m06s | 32 waiting | "
            "1/40 done, 1m13s");
  // Too narrow for any whole name: the first is shortened.
  console.Resize(60);
  EXPECT_EQ(console.StatusText(),
            "7 running: t\xC3\xABst-\xC3\xBC\xE2\x80\xA6 1m12s, \xE2\x80\xA6 | 32 waiting | "
            "1/40 done, 1m13s");
  console.Resize(52);
  EXPECT_EQ(console.StatusText(), "7 running: \xE2\x80\xA6 | 32 waiting | 1/40 done, 1m13s");
  console.Resize(20);
  EXPECT_EQ(console.StatusText(), "7 running | 32 wait");
}

TEST_F(ConsoleStatusTest, WithoutUnicodeElidesWithDots) {
  ConsoleOptions options;
  options.status_line = true;
  options.unicode = false;
  options.columns = 90;
  Console console(capture_.file(), names_, &clock_, options);
  Start(&console, 3);
  EXPECT_EQ(console.StatusText(),
            "3 running: job-with-a-long-name-0 3s, t\xC3\xABst-\xC3\xBCnicode 2s, ... | "
            "37 waiting | 0/40 done, 3s");
}

TEST_F(ConsoleStatusTest, ResizeErasesTheRowsAReflowingTerminalMade) {
  ConsoleOptions options;
  options.status_line = true;
  options.columns = 100;
  Console console(capture_.file(), names_, &clock_, options);
  Start(&console, 1);
  console.Write("job-with-a-long-name-0", "line\n");
  std::string before = capture_.Text();
  // 60 columns drawn; at 25 columns they take 3 rows, the cursor on the last.
  std::string drawn = "1 running: job-with-a-long-name-0 1s | 39 waiting | 0/40 done, 1s";
  ASSERT_EQ(before.substr(before.size() - drawn.size()), drawn);
  console.Resize(25);
  console.Resize(200);  // Wider: one row.
  console.Finish();
  EXPECT_EQ(capture_.Text().substr(before.size()),
            "\r\033[2A\033[J1 running | 39 waiting |"
            "\r\033[K1 running: job-with-a-long-name-0 1s | 39 waiting | 0/40 done, 1s"
            "\r\033[K");
}

// A line printed after the terminal narrowed but before its SIGWINCH is
// answered (Resize not called yet) still erases every row the status line
// now takes: the console asks the width before each erase.
TEST_F(ConsoleStatusTest, ALinePrintedBeforeTheResizeIsAnsweredStillErasesTheReflow) {
  size_t terminal_columns = 100;
  ConsoleOptions options;
  options.status_line = true;
  options.columns = 100;
  options.current_columns = [&] { return terminal_columns; };
  Console console(capture_.file(), names_, &clock_, options);
  Start(&console, 1);
  console.Write("job-with-a-long-name-0", "one\n");
  std::string before = capture_.Text();
  terminal_columns = 25;  // 60 columns drawn: 3 rows now.
  console.Write("job-with-a-long-name-0", "two\n");
  console.Resize(25);  // The SIGWINCH, answered late: nothing left to do.
  EXPECT_THAT(capture_.Text().substr(before.size()),
              ::testing::StartsWith("\r\033[2A\033[Jjob-with-a-long-name-0  | two\n"
                                    "\r\033[K1 running | 39 waiting |"));
  EXPECT_EQ(capture_.Text().find("1 running | 39 waiting |", before.size() + 60), std::string::npos)
      << "drawn twice: " << capture_.Text();
}

// A child pipeline's jobs show under their trigger job, through
// NestedOutput, and count in the status line once created.
TEST_F(ConsoleTest, ShowsAChildPipelinesJobsUnderTheirTriggerJob) {
  ConsoleOptions options;
  options.status_line = true;
  options.columns = 200;
  Console console(capture_.file(), {"build"}, &clock_, options);
  NestedOutput child(&console, &console, "deploy");
  NestedOutput grandchild(&child, &child, "more");
  console.AddJobs({child.Name("unit tests"), child.Name("more")});
  console.AddJobs({child.Name(grandchild.Name("deeper"))});
  console.OnJobUpdate(Run(build_, CiStatus::kSuccess));
  child.OnJobUpdate(Run(test_, CiStatus::kRunning));
  child.Write("unit tests", "ok\n");
  Job deeper;
  deeper.name = "deeper";
  deeper.stage = "test";
  grandchild.OnJobUpdate(Run(deeper, CiStatus::kRunning));
  EXPECT_EQ(console.StatusText(),
            "2 running: deploy > unit tests 0s, deploy > more > deeper 0s | 1 waiting | "
            "1/4 done, 0s");
  child.OnJobUpdate(Run(test_, CiStatus::kSuccess));
  console.Finish();
  std::string text = capture_.Text();
  EXPECT_THAT(text, testing::HasSubstr("deploy > unit tests > started (stage test)\n"));
  EXPECT_THAT(text, testing::HasSubstr("deploy > unit tests | ok\n"));
  EXPECT_THAT(text, testing::HasSubstr("deploy > more > deeper > started (stage test)\n"));
  EXPECT_THAT(text, testing::HasSubstr("deploy > unit tests > success in 0.00 s\n"));
}

}  // namespace
}  // namespace slipway
