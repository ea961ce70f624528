// How many terminal columns text takes: UTF-8 decoded, East Asian wide and
// fullwidth characters count 2, combining marks and zero-width characters 0,
// ANSI escape sequences (CSI "ESC [ ... final", OSC "ESC ] ... BEL/ST" and
// two-byte "ESC x") nothing. Bytes that are not valid UTF-8 count 1 each, as
// terminals show them as one replacement glyph each.
#ifndef SLIPWAY_UTIL_DISPLAY_WIDTH_H_
#define SLIPWAY_UTIL_DISPLAY_WIDTH_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace slipway {

// Columns of one code point: 0, 1 or 2 (control characters: 0).
int CodePointWidth(char32_t c);

// Columns text takes on a terminal.
size_t DisplayWidth(std::string_view text);

// The longest prefix of text that takes at most max_columns columns, cut
// between characters (never inside a UTF-8 sequence or an escape sequence).
// Escape sequences up to the cut are kept.
std::string_view TruncateToWidth(std::string_view text, size_t max_columns);

// text followed by blanks up to width columns (unchanged when wider), for
// tables and aligned prefixes.
std::string PadToWidth(std::string text, size_t width);

// text with control characters (C0, DEL, C1) replaced by '?', so that it
// can be shown inside a single line (a job name in the status line).
std::string PrintableLine(std::string_view text);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_DISPLAY_WIDTH_H_
