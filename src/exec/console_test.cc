#include "exec/console.h"

#include <gtest/gtest.h>

#include <cstdio>

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
  JobRun Run(const Job& job, JobStatus status) {
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
  console.OnJobUpdate(Run(build_, JobStatus::kPending));
  console.OnJobUpdate(Run(build_, JobStatus::kRunning));
  console.Write("build", "partial");
  JobRun failed = Run(build_, JobStatus::kFailed);
  failed.exit_code = 2;
  failed.failure_reason = "script_failure";
  failed.duration_s = 1.5;
  console.OnJobUpdate(failed);
  console.OnJobUpdate(Run(test_, JobStatus::kSkipped));
  EXPECT_EQ(capture_.Text(),
            "build      > started (stage build)\n"
            "build      | partial\n"
            "build      > failed: exit code 2 (script_failure) in 1.50 s\n"
            "unit tests > skipped\n");
}

TEST_F(ConsoleTest, AnnouncesRetries) {
  Console console(capture_.file(), {"build"}, &clock_, {});
  console.OnJobUpdate(Run(build_, JobStatus::kRunning));
  JobRun retry = Run(build_, JobStatus::kPending);
  retry.failure_reason = "script_failure";
  retry.retries = 1;
  console.OnJobUpdate(retry);
  retry.status = JobStatus::kRunning;
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
  Console console(capture_.file(), {"build"}, &clock_, options);
  console.OnJobUpdate(Run(build_, JobStatus::kRunning));
  clock_.Advance(std::chrono::milliseconds(2500));
  console.Tick();
  console.Write("build", "$ make\n");
  console.Finish();
  EXPECT_EQ(capture_.Text(),
            "\033[36mbuild\033[0m > started (stage build)\n"
            "\r\033[K1 running, 0/1 done, 0.0 s: build"
            "\r\033[K1 running, 0/1 done, 2.5 s: build"
            "\r\033[K\033[36mbuild\033[0m | \033[32m$ make\033[0m\n"
            "\r\033[K1 running, 0/1 done, 2.5 s: build"
            "\r\033[K");
}

}  // namespace
}  // namespace slipway
