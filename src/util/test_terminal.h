// Test helper (header-only, tests only): a small model of a terminal that
// reflows its lines on resize, as tmux, VTE, kitty and xterm.js do, to check
// what a program's output leaves on screen and in the scrollback. It knows
// printable UTF-8 (wide characters take two cells), CR, LF, and the CSI
// sequences a status line uses: K (erase to end of row), J (erase to end of
// screen), A (up), m (ignored, as are other escapes). There is no height:
// everything stays in one scrollback.
//
// Text is kept as logical lines (what was written between line feeds); a
// line wider than the terminal takes several rows, so a resize rewraps it
// (that is the reflow) and the cursor keeps its place in its line.
#ifndef SLIPWAY_UTIL_TEST_TERMINAL_H_
#define SLIPWAY_UTIL_TEST_TERMINAL_H_

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "util/display_width.h"

namespace slipway {

class TestTerminal {
 public:
  explicit TestTerminal(size_t columns) : columns_(columns), lines_(1) {}

  void Resize(size_t columns) {
    columns_ = columns;
    if (offset_ % columns_ != 0) pending_wrap_ = false;
  }

  void Feed(std::string_view bytes) {
    for (size_t i = 0; i < bytes.size();) {
      char c = bytes[i];
      if (c == '\r') {
        offset_ = Row() * columns_;
        pending_wrap_ = false;
        ++i;
      } else if (c == '\n') {
        LineFeed();
        ++i;
      } else if (c == '\033') {
        i += Escape(bytes.substr(i));
      } else if (static_cast<unsigned char>(c) < 0x20) {
        ++i;  // Other controls (BEL, TAB …) are not used by the code under test.
      } else {
        size_t len = 1;
        while (i + len < bytes.size() &&
               (static_cast<unsigned char>(bytes[i + len]) & 0xC0) == 0x80)
          ++len;
        Print(bytes.substr(i, len));
        i += len;
      }
    }
  }

  // Every logical line, trailing blanks removed (a trailing empty line, where
  // the cursor waits, is left out).
  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (const Line& line : lines_) {
      std::string text;
      for (const std::string& cell : line) text += cell;
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out.push_back(text);
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
  }

  // How many times a character went past the last column onto a new row.
  size_t wraps() const { return wraps_; }

 private:
  using Line = std::vector<std::string>;  // One cell each; a wide character's second is "".

  // The cursor's row inside its logical line.
  size_t Row() const {
    size_t row = offset_ / columns_;
    return pending_wrap_ && row > 0 ? row - 1 : row;
  }
  size_t Rows(const Line& line) const {
    return std::max<size_t>(1, (line.size() + columns_ - 1) / columns_);
  }

  void Print(std::string_view ch) {
    int width = static_cast<int>(DisplayWidth(ch));
    Line& line = lines_[line_];
    if (width == 0) {  // A combining mark joins the cell before.
      if (offset_ > 0 && offset_ <= line.size()) line[offset_ - 1] += std::string(ch);
      return;
    }
    if (pending_wrap_ || (width == 2 && offset_ % columns_ == columns_ - 1)) {
      if (!pending_wrap_) offset_ += 1;
      pending_wrap_ = false;
      ++wraps_;
    }
    if (line.size() < offset_ + width) line.resize(offset_ + width, " ");
    line[offset_] = std::string(ch);
    if (width == 2) line[offset_ + 1] = "";
    offset_ += width;
    if (offset_ % columns_ == 0) pending_wrap_ = true;
  }

  void LineFeed() {
    size_t column = pending_wrap_ ? columns_ - 1 : offset_ % columns_;
    size_t row = Row();
    pending_wrap_ = false;
    if (row + 1 < Rows(lines_[line_])) {
      offset_ = (row + 1) * columns_ + column;
      return;
    }
    ++line_;
    if (line_ == lines_.size()) lines_.emplace_back();
    offset_ = column;
  }

  void Up(size_t n) {
    size_t column = pending_wrap_ ? columns_ - 1 : offset_ % columns_;
    size_t row = Row();
    pending_wrap_ = false;
    for (; n > 0; --n) {
      if (row > 0) {
        --row;
      } else if (line_ > 0) {
        --line_;
        row = Rows(lines_[line_]) - 1;
      }
    }
    offset_ = row * columns_ + column;
  }

  void EraseRow() {
    Line& line = lines_[line_];
    size_t row_end = (Row() + 1) * columns_;
    if (offset_ >= line.size()) return;
    if (row_end >= line.size()) {
      line.resize(offset_);
    } else {
      std::fill(line.begin() + offset_, line.begin() + row_end, " ");
    }
  }

  // Handles the escape sequence at the start of s; returns its length.
  size_t Escape(std::string_view s) {
    if (s.size() < 2 || s[1] != '[') return std::min<size_t>(2, s.size());
    size_t end = 2;
    while (end < s.size() && !(s[end] >= 0x40 && s[end] <= 0x7E)) ++end;
    if (end == s.size()) return end;
    std::string params(s.substr(2, end - 2));
    size_t n = params.empty() ? 1 : std::stoul(params);
    switch (s[end]) {
      case 'K':
        EraseRow();
        break;
      case 'J':
        lines_[line_].resize(std::min(lines_[line_].size(), offset_));
        lines_.resize(line_ + 1);
        break;
      case 'A':
        Up(n);
        break;
      default:
        break;
    }
    return end + 1;
  }

  size_t columns_;
  std::vector<Line> lines_;
  size_t line_ = 0;
  size_t offset_ = 0;  // Cell offset of the cursor in its logical line.
  // The last column was just written; the next character goes to a new row.
  bool pending_wrap_ = false;
  size_t wraps_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_TERMINAL_H_
