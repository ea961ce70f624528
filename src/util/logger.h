// The server's structured log: one line per event on stderr (or another
// descriptor), JSON lines or `key=value` text, each line written with one
// write(2) so that lines from several threads never interleave. A line
// holds the time, the severity, the event's name and the fields the caller
// adds; docs/server.md ("Log") lists the events and their fields.
//
// Never give it a secret: callers pass paths without their query, ids and
// names, never tokens, header values or variable values.
//
//   LogLine(LogLevel::kInfo, "request").Str("method", "GET").Int("status", 200);
//
// The line is written when the LogLine is destroyed (at the end of the
// statement); below the configured level nothing is formatted.
#ifndef SLIPWAY_UTIL_LOGGER_H_
#define SLIPWAY_UTIL_LOGGER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace slipway {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error" / "text", "json". False for anything else.
bool ParseLogLevel(std::string_view text, LogLevel* level);
bool ParseLogFormat(std::string_view text, LogFormat* format);

// Process-wide settings; until called: info, text, fd 2. fd stays the
// caller's (not closed). Call before the threads that log start; safe to
// call later too (the settings are atomics).
void ConfigureLog(LogLevel level, LogFormat format, int fd = 2);
bool LogEnabled(LogLevel level);

class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  ~LogLine();  // Writes the line.
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  // Values longer than kMaxValueBytes are cut (a line stays far below the
  // size a pipe writes at once). Bytes that are not UTF-8 become U+FFFD.
  LogLine& Str(std::string_view key, std::string_view value);
  LogLine& Int(std::string_view key, int64_t value);
  LogLine& Num(std::string_view key, double value);  // Six decimals; null if not finite.
  LogLine& Bool(std::string_view key, bool value);

  static constexpr size_t kMaxValueBytes = 1024;

 private:
  void Key(std::string_view key);

  bool enabled_;
  LogFormat format_ = LogFormat::kText;
  std::string line_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_LOGGER_H_
