// What slipway asks of the terminal it prints to: its width, and whether to
// colour (--color=auto|always|never and NO_COLOR, https://no-color.org).
#ifndef SLIPWAY_CLI_TERMINAL_H_
#define SLIPWAY_CLI_TERMINAL_H_

#include <cstddef>
#include <optional>
#include <string>

namespace slipway {

enum class ColorMode { kAuto, kAlways, kNever };

// "auto", "always" or "never"; nullopt for anything else.
std::optional<ColorMode> ParseColorMode(const std::string& text);

// Whether to write ANSI colours: always and never are obeyed; auto colours
// when the output is a terminal, NO_COLOR is unset or empty and TERM is not
// "dumb". An explicit --color=always wins over NO_COLOR, as no-color.org
// asks of command-line flags.
bool UseColor(ColorMode mode, bool is_terminal);

// Whether a redrawn status line ("\r", "ESC[K") suits the output: a
// terminal whose TERM is not "dumb".
bool UseStatusLine(bool is_terminal);

// The width of the terminal fd refers to (TIOCGWINSZ), or nullopt when fd
// is not a terminal or reports 0 columns.
std::optional<size_t> TerminalColumns(int fd);

// Whether the locale (LC_ALL, else LC_CTYPE, else LANG) is UTF-8, so that
// "…" can be printed.
bool LocaleIsUtf8();

}  // namespace slipway

#endif  // SLIPWAY_CLI_TERMINAL_H_
