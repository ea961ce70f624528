#include "util/secret_mask.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "util/base64.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "s3cr3t-T0ken/with+odd?chars";

// What a job printing text in chunks of the given sizes shows.
std::string Stream(const MaskPatterns& patterns, std::string_view text,
                   const std::vector<size_t>& chunks) {
  StreamMasker masker(&patterns);
  std::string out;
  size_t pos = 0;
  for (size_t i = 0; pos < text.size(); ++i) {
    size_t n = chunks.empty() ? text.size() : chunks[i % chunks.size()];
    masker.Write(text.substr(pos, n), &out);
    pos += n;
  }
  masker.Flush(&out);
  return out;
}

TEST(SecretMaskTest, MasksTheValueWhereverItIs) {
  MaskPatterns patterns({kSecret});
  EXPECT_EQ(patterns.Mask(std::string("token=") + kSecret + "\n"), "token=[MASKED]\n");
  EXPECT_EQ(patterns.Mask(std::string(kSecret) + kSecret), "[MASKED][MASKED]");
  EXPECT_EQ(patterns.Mask("nothing secret here"), "nothing secret here");
  EXPECT_EQ(patterns.Mask(""), "");
}

TEST(SecretMaskTest, ShortValuesAreRefusedAndNotMasked) {
  EXPECT_EQ(ValidateMaskedValue("1234567"), "a masked value must be at least 8 characters long");
  EXPECT_EQ(ValidateMaskedValue("12345678"), "");
  MaskPatterns patterns({"short", ""});
  EXPECT_TRUE(patterns.empty());
  EXPECT_EQ(patterns.Mask("a short word"), "a short word");
}

// A value split over two writes at every possible place, and written one
// byte at a time, is masked as if written at once.
TEST(SecretMaskTest, AValueSplitAcrossWritesIsStillMasked) {
  MaskPatterns patterns({kSecret});
  std::string text = std::string("before ") + kSecret + " after\n";
  for (size_t split = 1; split < text.size(); ++split) {
    EXPECT_EQ(Stream(patterns, text, {split, text.size()}), "before [MASKED] after\n") << split;
  }
  EXPECT_EQ(Stream(patterns, text, {1}), "before [MASKED] after\n");
}

// Bytes held back because they could begin the value come out, unchanged,
// once the next write (or the end) shows they do not.
TEST(SecretMaskTest, HeldBackBytesAreReleased) {
  MaskPatterns patterns({kSecret});
  StreamMasker masker(&patterns);
  std::string out;
  masker.Write("progress: s3cr", &out);
  EXPECT_EQ(out, "progress: ");
  masker.Write("een\n", &out);
  EXPECT_EQ(out, "progress: s3creen\n");
  masker.Write("s3c", &out);
  masker.Flush(&out);
  EXPECT_EQ(out, "progress: s3creen\ns3c");
}

// At one place the longest value wins, so no part of it shows.
TEST(SecretMaskTest, TheLongestMatchWins) {
  MaskPatterns patterns({"abcdefgh", "abcdefghijkl"});
  EXPECT_EQ(patterns.Mask("xabcdefghijklx"), "x[MASKED]x");
  EXPECT_EQ(Stream(patterns, "xabcdefghijklx", {1}), "x[MASKED]x");
  EXPECT_EQ(Stream(patterns, "xabcdefghijkx", {9}), "x[MASKED]ijkx");
}

// base64 of the value, wherever it falls in the encoded data (after 0, 1 or
// 2 other bytes), in both alphabets: of its encoding only the characters
// that also carry bits of the bytes around it may show (at most one on each
// side beyond what those bytes alone give).
TEST(SecretMaskTest, MasksTheValueInBase64AtEveryAlignment) {
  MaskPatterns patterns({kSecret});
  for (std::string prefix : {"", "a", "ab"}) {
    std::string encoded = Base64Encode(prefix + kSecret + "\n");
    std::string url_safe = encoded;
    for (char& c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
    for (const std::string& form : {encoded, url_safe}) {
      std::string masked = patterns.Mask(form);
      EXPECT_THAT(masked, HasSubstr("[MASKED]")) << prefix << " " << form;
      size_t at = masked.find("[MASKED]");
      EXPECT_LE(at, 4u) << masked;
      EXPECT_LE(masked.size() - at - 8, 4u) << masked;
    }
  }
}

TEST(SecretMaskTest, MasksTheValueInHexAndPercentEncoding) {
  MaskPatterns patterns({kSecret});
  // printf %s "$S" | od -An -tx1 | tr -d ' \n', and xxd -p | tr a-f A-F.
  std::string hex;
  for (unsigned char c : std::string(kSecret)) {
    static const char* digits = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 0xf];
  }
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(patterns.Mask("hex " + hex + "\n"), "hex [MASKED]\n");
  EXPECT_EQ(patterns.Mask("HEX " + upper + "\n"), "HEX [MASKED]\n");
  // urllib.parse.quote(s, safe=""), and JavaScript's encodeURIComponent
  // (which leaves some sub-delims alone: the '?' and '+' here are encoded
  // by both).
  EXPECT_EQ(patterns.Mask("url s3cr3t-T0ken%2Fwith%2Bodd%3Fchars\n"), "url [MASKED]\n");
  EXPECT_EQ(patterns.Mask("url s3cr3t-T0ken%2fwith%2bodd%3fchars\n"), "url [MASKED]\n");
  MaskPatterns spaced({"pass word here"});
  EXPECT_EQ(spaced.Mask("pass+word+here pass%20word%20here"), "[MASKED] [MASKED]");
}

// A multi-line value (a private key) printed line by line with something
// between the lines, and with its trailing newline dropped.
TEST(SecretMaskTest, MasksEachLineOfAMultiLineValue) {
  std::string key =
      "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\nBKcwggSjAgEAAoIBAQC7\nab\n"
      "-----END KEY-----\n";
  MaskPatterns patterns({key});
  std::string shown =
      "12:00:01 -----BEGIN KEY-----\n12:00:01 MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
      "12:00:02 BKcwggSjAgEAAoIBAQC7\n";
  EXPECT_EQ(patterns.Mask(shown), "12:00:01 [MASKED]\n12:00:01 [MASKED]\n12:00:02 [MASKED]\n");
  // A line shorter than 8 characters is not masked on its own.
  EXPECT_EQ(patterns.Mask("ab\n"), "ab\n");
  std::string whole = key.substr(0, key.size() - 1);
  EXPECT_EQ(patterns.Mask("[" + whole + "]"), "[[MASKED]]");
}

// Property: for random text sprinkled with secrets and random chunkings,
// streaming gives what one pass gives, and no secret is left.
TEST(SecretMaskTest, StreamingEqualsOnePassForRandomChunkings) {
  std::vector<std::string> secrets = {"alpha-secret-1", "alpha-secret-12", "zzzzzzzz",
                                      "line one!\nline two!\n"};
  MaskPatterns patterns(secrets);
  std::mt19937 random(42);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    int pieces = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < pieces; ++i) {
      if (random() % 3 == 0) {
        text += secrets[random() % secrets.size()];
      } else {
        std::string filler = "alpha-sec zz line one! z";
        size_t from = random() % filler.size();
        text += filler.substr(from, random() % (filler.size() - from + 1));
      }
    }
    std::vector<size_t> chunks;
    for (int i = 0; i < 5; ++i) chunks.push_back(1 + random() % 9);
    std::string once = patterns.Mask(text);
    EXPECT_EQ(Stream(patterns, text, chunks), once) << text;
    for (const std::string& s : secrets) EXPECT_THAT(once, Not(HasSubstr(s))) << text;
  }
}

}  // namespace
}  // namespace slipway
