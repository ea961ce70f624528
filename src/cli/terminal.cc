#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace slipway {
namespace {

std::string_view Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string_view() : std::string_view(value);
}

bool DumbTerminal() { return Env("TERM") == "dumb"; }

}  // namespace

std::optional<ColorMode> ParseColorMode(const std::string& text) {
  if (text == "auto") return ColorMode::kAuto;
  if (text == "always") return ColorMode::kAlways;
  if (text == "never") return ColorMode::kNever;
  return std::nullopt;
}

bool UseColor(ColorMode mode, bool is_terminal) {
  switch (mode) {
    case ColorMode::kAlways:
      return true;
    case ColorMode::kNever:
      return false;
    case ColorMode::kAuto:
      return is_terminal && Env("NO_COLOR").empty() && !DumbTerminal();
  }
  return false;
}

bool UseStatusLine(bool is_terminal) { return is_terminal && !DumbTerminal(); }

std::optional<size_t> TerminalColumns(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return std::nullopt;
  return size.ws_col;
}

bool LocaleIsUtf8() {
  std::string_view locale = Env("LC_ALL");
  if (locale.empty()) locale = Env("LC_CTYPE");
  if (locale.empty()) locale = Env("LANG");
  std::string lower(locale);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

}  // namespace slipway
