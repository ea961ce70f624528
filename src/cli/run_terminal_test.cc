// End-to-end: the real `slipway run` on a pseudo-terminal of a given size,
// resized while it runs (TIOCSWINSZ, so the kernel sends SIGWINCH), and
// what its output leaves on a terminal that reflows on resize
// (util/test_terminal.h); and colours under NO_COLOR and --color.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>

#include "cli/cli_test_util.h"
#include "util/display_width.h"
#include "util/test_repo.h"
#include "util/test_terminal.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// `slipway ARGS` in dir on a new pseudo-terminal columns wide, with env
// (NAME=VALUE) added to a small fixed environment.
class PtyProcess {
 public:
  PtyProcess(const std::string& dir, unsigned short columns, std::vector<std::string> args,
             std::vector<std::string> env) {
    struct winsize size {};
    size.ws_col = columns;
    size.ws_row = 30;
    std::vector<std::string> argv_storage = {SLIPWAY_BINARY};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<std::string> env_storage = {"PATH=/usr/bin:/bin", "HOME=" + dir,
                                            "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"};
    env_storage.insert(env_storage.end(), env.begin(), env.end());
    pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(127);
      std::vector<char*> argv;
      for (std::string& a : argv_storage) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (std::string& e : env_storage) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    EXPECT_GT(pid_, 0);
  }
  ~PtyProcess() {
    if (pid_ > 0 && exit_code_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }

  // Reads output until done(output) holds or the terminal closes (the
  // process ended); false then, or after two minutes.
  bool ReadUntil(const std::function<bool(const std::string&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!done(output_)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      struct pollfd pfd {
        master_, POLLIN, 0
      };
      if (::poll(&pfd, 1, 1000) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return false;  // EIO: the process and its terminal are gone.
      output_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  // Reads to the end and returns the exit code.
  int Finish() {
    ReadUntil([](const std::string&) { return false; });
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }
  // Reads what has been written so far without waiting.
  void Drain() {
    struct pollfd pfd {
      master_, POLLIN, 0
    };
    char buf[4096];
    while (::poll(&pfd, 1, 0) > 0) {
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return;
      output_.append(buf, static_cast<size_t>(n));
    }
  }
  void Resize(unsigned short columns) {
    struct winsize size {};
    size.ws_col = columns;
    size.ws_row = 30;
    ASSERT_EQ(::ioctl(master_, TIOCSWINSZ, &size), 0);
  }
  const std::string& output() const { return output_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string output_;
};

// A status line as drawn: the text after "\r" + an erase sequence, up to the
// next control character.
struct StatusDraw {
  size_t offset;  // Where it starts in the output.
  std::string text;
};

std::vector<StatusDraw> StatusDraws(const std::string& output) {
  static const std::regex kDraw("\r\033\\[(K|[0-9]+A\033\\[J)([^\r\n\033]*)");
  std::vector<StatusDraw> draws;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), kDraw);
       it != std::sregex_iterator(); ++it) {
    if ((*it)[2].length() > 0) {
      draws.push_back({static_cast<size_t>(it->position(2)), (*it)[2].str()});
    }
  }
  return draws;
}

bool HasColor(const std::string& output) {
  return std::regex_search(output, std::regex("\033\\[[0-9;]*m"));
}

class RunTerminalTest : public ::testing::Test {
 protected:
  void Pipeline(const std::string& yaml) {
    repo_.Write(".gitlab-ci.yml", yaml);
    repo_.Git({"add", "-A"});
    repo_.Git({"commit", "-q", "-m", "pipeline"});
  }
  TestRepo repo_;
};

// 12 jobs run 4 at a time on a 100-column terminal narrowed to 50 while the
// first 4 run: every status line fits the width it was drawn for, and once
// the run ends no status line is left on screen or in the scrollback.
TEST_F(RunTerminalTest, StatusLineFitsTheTerminalAndFollowsResizes) {
  std::string go = repo_.dir() + "-go";
  std::string yaml = "variables:\n  GO: " + go + "\n";
  for (int i = 1; i <= 12; ++i) {
    std::string name = i == 2 ? "t\xC3\xABst-\xC3\xBCnicode-\xE6\xA7\x8B\xE7\xAF\x89"
                              : "job-with-a-long-name-" + std::to_string(i);
    yaml += "\"" + name + "\":\n  script:\n    - until [ -e \"$GO\" ]; do sleep 0.05; done\n";
  }
  Pipeline(yaml);
  PtyProcess run(repo_.dir(), 100, {"run", "--jobs", "4"}, {"TERM=xterm", "LANG=C.UTF-8"});
  // Resized once the four jobs have printed all they print before waiting
  // (the command, echoed before it runs) and what was written has been read:
  // from then on the terminal (the test) is 50 wide, as a real one would be.
  static const std::string kWaiting = "$ until [ -e \"$GO\" ]";
  ASSERT_TRUE(run.ReadUntil([](const std::string& out) {
    std::vector<StatusDraw> draws = StatusDraws(out);
    size_t last = out.rfind(kWaiting);
    size_t count = 0;
    for (size_t at = out.find(kWaiting); at != std::string::npos; at = out.find(kWaiting, at + 1)) {
      ++count;
    }
    return count == 4 && !draws.empty() && draws.back().offset > last &&
           draws.back().text.starts_with("4 running: ");
  })) << run.output();
  run.Drain();
  size_t resized_at = run.output().size();
  run.Resize(50);
  // Followed: a line drawn for 50 columns comes after the resize.
  ASSERT_TRUE(run.ReadUntil([&](const std::string& out) {
    for (const StatusDraw& d : StatusDraws(out)) {
      if (d.offset > resized_at && DisplayWidth(d.text) <= 49) return true;
    }
    return false;
  })) << run.output();
  std::ofstream(go) << "";
  ASSERT_EQ(run.Finish(), 0) << run.output();
  std::filesystem::remove(go);

  // Each line fits the width it was drawn for: 100 columns until the first
  // line drawn for 50 after the resize, 50 from then on.
  bool narrow = false;
  for (const StatusDraw& d : StatusDraws(run.output())) {
    narrow = narrow || (d.offset > resized_at && DisplayWidth(d.text) <= 49);
    EXPECT_LE(DisplayWidth(d.text), narrow ? 49u : 99u) << d.text;
  }
  // On a terminal that reflows what is on screen when it narrows.
  TestTerminal terminal(100);
  terminal.Feed(std::string_view(run.output()).substr(0, resized_at));
  terminal.Resize(50);
  terminal.Feed(std::string_view(run.output()).substr(resized_at));
  std::vector<std::string> lines = terminal.Lines();
  std::string screen;
  for (const std::string& line : lines) screen += line + "\n";
  EXPECT_THAT(screen, Not(HasSubstr(" running"))) << screen;
  EXPECT_THAT(screen, Not(HasSubstr(" waiting"))) << screen;
  EXPECT_THAT(screen, HasSubstr("job-with-a-long-name-12 > success in "));
  EXPECT_THAT(lines.back(), HasSubstr("pipeline success in "));
  EXPECT_THAT(run.output(), HasSubstr("\r\033[1A\033[J4 running: \xE2\x80\xA6 | 8 waiting | "
                                      "0/12 done, "))
      << "no line drawn for 50 columns right after the resize";
}

TEST_F(RunTerminalTest, ColoursOnATerminalUnlessNoColorOrNever) {
  Pipeline("hello:\n  script: echo hi\n");
  auto run = [&](std::vector<std::string> args, std::vector<std::string> env) {
    args.insert(args.begin(), "run");
    env.push_back("TERM=xterm");
    PtyProcess process(repo_.dir(), 80, args, env);
    EXPECT_EQ(process.Finish(), 0) << process.output();
    return process.output();
  };
  std::string plain_tty = run({}, {});
  EXPECT_TRUE(HasColor(plain_tty)) << plain_tty;
  EXPECT_THAT(plain_tty, HasSubstr("\r\033[K"));  // The status line.

  std::string no_color = run({}, {"NO_COLOR=1"});
  EXPECT_FALSE(HasColor(no_color)) << no_color;
  EXPECT_THAT(no_color, HasSubstr("hello > success in "));
  EXPECT_THAT(no_color, HasSubstr("\r\033[K"));   // Not colour: still drawn.
  EXPECT_TRUE(HasColor(run({}, {"NO_COLOR="})));  // Empty: as if unset.
  EXPECT_TRUE(HasColor(run({"--color=always"}, {"NO_COLOR=1"})));
  EXPECT_FALSE(HasColor(run({"--color=never"}, {})));
  EXPECT_FALSE(HasColor(run({"--color", "never"}, {})));

  std::string dumb = run({}, {"TERM=dumb"});
  EXPECT_FALSE(HasColor(dumb)) << dumb;
  EXPECT_THAT(dumb, Not(HasSubstr("\033[K")));
}

TEST_F(RunTerminalTest, ColourToAPipeOnlyWhenAlways) {
  Pipeline("hello:\n  script: echo hi\n");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "run");
    CliResult r = RunSlipway(args, repo_.dir(), {"TERM=xterm"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  std::string plain = run({});
  EXPECT_FALSE(HasColor(plain)) << plain;
  EXPECT_THAT(plain, Not(HasSubstr("\033[K")));
  std::string always = run({"--color=always"});
  EXPECT_TRUE(HasColor(always)) << always;
  EXPECT_THAT(always, Not(HasSubstr("\033[K")));  // No status line off a terminal.
  CliResult bad = RunSlipway({"run", "--color=sometimes"}, repo_.dir());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "error: --color: sometimes not in {auto,always,never}\n"
            "Run `slipway help run` for usage.\n");
}

}  // namespace
}  // namespace slipway
