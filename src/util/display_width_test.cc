#include "util/display_width.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(DisplayWidthTest, CountsColumnsNotBytes) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("build 12s"), 9u);
  EXPECT_EQ(DisplayWidth("t\xC3\xABst"), 4u);               // tëst: 5 bytes, 4 columns.
  EXPECT_EQ(DisplayWidth("\xE6\xA7\x8B\xE7\xAF\x89"), 4u);  // 構築: two wide characters.
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);                 // e + combining acute.
  EXPECT_EQ(DisplayWidth("\xF0\x9F\x9A\x80"), 2u);          // U+1F680 rocket.
  EXPECT_EQ(DisplayWidth("\xE2\x80\xA6"), 1u);              // U+2026 ellipsis.
}

TEST(DisplayWidthTest, EscapeSequencesTakeNoColumns) {
  EXPECT_EQ(DisplayWidth("\033[36mbuild\033[0m"), 5u);
  EXPECT_EQ(DisplayWidth("\r\033[Kok"), 2u);
  EXPECT_EQ(DisplayWidth("\033]8;;http://x\033\\link\033]8;;\a"), 4u);  // OSC 8 hyperlink.
  EXPECT_EQ(DisplayWidth("\033[1;32"), 0u);                             // Cut off at the end.
}

TEST(DisplayWidthTest, InvalidUtf8CountsOneColumnPerByte) {
  EXPECT_EQ(DisplayWidth("a\xFF\xFE!"), 4u);
  EXPECT_EQ(DisplayWidth("\xC3"), 1u);          // Truncated sequence.
  EXPECT_EQ(DisplayWidth("\xC0\xAF"), 2u);      // Overlong '/'.
  EXPECT_EQ(DisplayWidth("\xED\xA0\x80"), 3u);  // A surrogate.
}

TEST(DisplayWidthTest, TruncatesBetweenCharacters) {
  EXPECT_EQ(TruncateToWidth("build", 3), "bui");
  EXPECT_EQ(TruncateToWidth("build", 9), "build");
  // A wide character that does not fit whole is left out.
  EXPECT_EQ(TruncateToWidth("a\xE6\xA7\x8B"
                            "b",
                            2),
            "a");
  EXPECT_EQ(TruncateToWidth("a\xE6\xA7\x8B"
                            "b",
                            3),
            "a\xE6\xA7\x8B");
  EXPECT_EQ(TruncateToWidth("t\xC3\xABst", 2), "t\xC3\xAB");
  // Combining marks stay with their character; escapes are kept whole.
  EXPECT_EQ(TruncateToWidth("e\xCC\x81x", 1), "e\xCC\x81");
  EXPECT_EQ(TruncateToWidth("\033[36mbuild\033[0m", 2), "\033[36mbu");
  EXPECT_EQ(TruncateToWidth("abc", 0), "");
}

TEST(DisplayWidthTest, PadsToColumns) {
  EXPECT_EQ(PadToWidth("ab", 4), "ab  ");
  EXPECT_EQ(PadToWidth("t\xC3\xABst", 6), "t\xC3\xABst  ");
  EXPECT_EQ(PadToWidth("\xE6\xA7\x8B", 3), "\xE6\xA7\x8B ");
  EXPECT_EQ(PadToWidth("toolong", 3), "toolong");
}

TEST(DisplayWidthTest, PrintableLineReplacesControlCharacters) {
  EXPECT_EQ(PrintableLine("a\nb\tc\033[2J"), "a?b?c?[2J");
  EXPECT_EQ(PrintableLine("t\xC3\xABst \xE6\xA7\x8B"), "t\xC3\xABst \xE6\xA7\x8B");
  EXPECT_EQ(PrintableLine("\xC2\x9B"
                          "x\xFF"),
            "?x?");  // C1 CSI and an invalid byte.
}

}  // namespace
}  // namespace slipway
