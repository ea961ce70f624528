#include "util/logger.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace slipway {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::atomic<int> g_fd{2};

const char* SeverityName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

// The length of the UTF-8 sequence at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;
  if (n == 3) {
    unsigned second = byte(i + 1);
    if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second >= 0xA0)) return 0;
  }
  if (n == 4) {
    unsigned second = byte(i + 1);
    if ((c == 0xF0 && second < 0x90) || c > 0xF4 || (c == 0xF4 && second >= 0x90)) return 0;
  }
  return n;
}

// value as JSON string content (quotes not included); text mode uses the
// same escapes inside its quotes.
void AppendEscaped(std::string_view value, std::string* out) {
  if (value.size() > LogLine::kMaxValueBytes) value = value.substr(0, LogLine::kMaxValueBytes);
  for (size_t i = 0; i < value.size();) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      size_t n = Utf8Length(value, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(value.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", c);
          out->append(hex);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

// Text mode quotes a value only when it needs it.
bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == '"' || u == '=' || u == '\\' || u >= 0x7F) return true;
  }
  return false;
}

void AppendTime(std::string* out) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(now.tv_nsec / 1000000));
  out->append(text);
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") {
    *level = LogLevel::kDebug;
  } else if (text == "info") {
    *level = LogLevel::kInfo;
  } else if (text == "warn") {
    *level = LogLevel::kWarn;
  } else if (text == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

bool ParseLogFormat(std::string_view text, LogFormat* format) {
  if (text == "json") {
    *format = LogFormat::kJson;
  } else if (text == "text") {
    *format = LogFormat::kText;
  } else {
    return false;
  }
  return true;
}

void ConfigureLog(LogLevel level, LogFormat format, int fd) {
  g_level = static_cast<int>(level);
  g_format = static_cast<int>(format);
  g_fd = fd;
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

LogLine::LogLine(LogLevel level, std::string_view event) : enabled_(LogEnabled(level)) {
  if (!enabled_) return;
  format_ = static_cast<LogFormat>(g_format.load(std::memory_order_relaxed));
  line_.reserve(256);
  if (format_ == LogFormat::kJson) {
    line_.append("{\"time\":\"");
    AppendTime(&line_);
    line_.append("\",\"severity\":\"");
    line_.append(SeverityName(level));
    line_.append("\",\"event\":\"");
    AppendEscaped(event, &line_);
    line_.push_back('"');
  } else {
    AppendTime(&line_);
    line_.push_back(' ');
    line_.append(SeverityName(level));
    line_.push_back(' ');
    line_.append(event);
  }
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_.append(format_ == LogFormat::kJson ? "}\n" : "\n");
  // One write: a line reaches a pipe or an O_APPEND file whole, whatever
  // other threads write meanwhile. A short write (a full disk) loses the
  // rest of the line; a log must not block the server or throw.
  int fd = g_fd.load(std::memory_order_relaxed);
  const char* p = line_.data();
  size_t left = line_.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void LogLine::Key(std::string_view key) {
  if (format_ == LogFormat::kJson) {
    line_.append(",\"");
    line_.append(key);
    line_.append("\":");
  } else {
    line_.push_back(' ');
    line_.append(key);
    line_.push_back('=');
  }
}

LogLine& LogLine::Str(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  if (format_ == LogFormat::kJson || NeedsQuotes(value)) {
    line_.push_back('"');
    AppendEscaped(value, &line_);
    line_.push_back('"');
  } else {
    AppendEscaped(value, &line_);
  }
  return *this;
}

LogLine& LogLine::Int(std::string_view key, int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  line_.append(std::to_string(value));
  return *this;
}

LogLine& LogLine::Num(std::string_view key, double value) {
  if (!enabled_) return *this;
  Key(key);
  if (!std::isfinite(value)) {
    line_.append("null");
    return *this;
  }
  char text[64];
  // Six decimals, as GitLab's durations in seconds.
  std::snprintf(text, sizeof text, "%.6f", value);
  line_.append(text);
  return *this;
}

LogLine& LogLine::Bool(std::string_view key, bool value) {
  if (!enabled_) return *this;
  Key(key);
  line_.append(value ? "true" : "false");
  return *this;
}

}  // namespace slipway
