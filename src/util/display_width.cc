#include "util/display_width.h"

#include <algorithm>
#include <iterator>

namespace slipway {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// East Asian Wide (W) and Fullwidth (F) characters, Unicode 15, merged into
// ranges: CJK, Hangul, kana, fullwidth forms and the emoji presentation blocks.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18AFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F202}, {0x1F210, 0x1F23B},
    {0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320},
    {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA},
    {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E},
    {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E},
    {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4},
    {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
    {0x1F6D5, 0x1F6D7}, {0x1F6DC, 0x1F6DF}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC},
    {0x1F7E0, 0x1F7EB}, {0x1F7F0, 0x1F7F0}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

// Combining marks, format characters and variation selectors: drawn on the
// previous character's cell.
constexpr Range kZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF},   {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F},   {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED},   {0x0900, 0x0902},
    {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D},   {0x0951, 0x0957},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1160, 0x11FF},   {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064},   {0x20D0, 0x20FF},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0x1F3FB, 0x1F3FF}, {0xE0000, 0xE0FFF},
};

bool InRanges(const Range* begin, const Range* end, char32_t c) {
  const Range* it =
      std::upper_bound(begin, end, c, [](char32_t v, const Range& r) { return v < r.first; });
  return it != begin && c <= std::prev(it)->last;
}

// Decodes the UTF-8 sequence at text[i]; returns its length, or 0 when the
// bytes there are not a valid (shortest, non-surrogate) sequence.
size_t Decode(std::string_view text, size_t i, char32_t* out) {
  unsigned char b = static_cast<unsigned char>(text[i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cont = static_cast<unsigned char>(text[i + k]);
    if ((cont >> 6) != 0x2) return 0;
    c = (c << 6) | (cont & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *out = c;
  return len;
}

// Length of the escape sequence at text[i] (text[i] is ESC): CSI up to its
// final byte, OSC up to BEL or ST, otherwise ESC and one byte.
size_t EscapeLength(std::string_view text, size_t i) {
  size_t j = i + 1;
  if (j >= text.size()) return 1;
  if (text[j] == '[') {
    for (++j; j < text.size(); ++j) {
      unsigned char b = static_cast<unsigned char>(text[j]);
      if (b >= 0x40 && b <= 0x7E) return j + 1 - i;
      if (b < 0x20 || b > 0x3F) return j - i;  // Malformed: stop before it.
    }
    return text.size() - i;
  }
  if (text[j] == ']') {
    for (++j; j < text.size(); ++j) {
      if (text[j] == '\a') return j + 1 - i;
      if (text[j] == '\033' && j + 1 < text.size() && text[j + 1] == '\\') return j + 2 - i;
    }
    return text.size() - i;
  }
  return 2;
}

// Walks text one display unit at a time (an escape sequence, a character or
// an invalid byte): calls fn(begin, length, columns); stops when fn returns
// false.
template <typename Fn>
void Walk(std::string_view text, Fn fn) {
  for (size_t i = 0; i < text.size();) {
    size_t len;
    int columns;
    char32_t c = 0;
    if (text[i] == '\033') {
      len = EscapeLength(text, i);
      columns = 0;
    } else if ((len = Decode(text, i, &c)) > 0) {
      columns = CodePointWidth(c);
    } else {
      len = 1;
      columns = 1;
    }
    if (!fn(i, len, columns)) return;
    i += len;
  }
}

}  // namespace

int CodePointWidth(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
  if (c < 0x300) return 1;
  if (InRanges(std::begin(kZero), std::end(kZero), c)) return 0;
  if (InRanges(std::begin(kWide), std::end(kWide), c)) return 2;
  return 1;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  Walk(text, [&](size_t, size_t, int columns) {
    width += static_cast<size_t>(columns);
    return true;
  });
  return width;
}

std::string_view TruncateToWidth(std::string_view text, size_t max_columns) {
  size_t width = 0;
  size_t end = 0;
  Walk(text, [&](size_t begin, size_t len, int columns) {
    if (width + static_cast<size_t>(columns) > max_columns) return false;
    width += static_cast<size_t>(columns);
    end = begin + len;
    return true;
  });
  return text.substr(0, end);
}

std::string PadToWidth(std::string text, size_t width) {
  size_t columns = DisplayWidth(text);
  if (columns < width) text.append(width - columns, ' ');
  return text;
}

std::string PrintableLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t c = 0;
    size_t len = Decode(text, i, &c);
    if (len == 0 || c < 0x20 || (c >= 0x7F && c < 0xA0)) {
      out += '?';
      i += len == 0 ? 1 : len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace slipway
