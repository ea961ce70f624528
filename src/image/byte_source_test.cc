#include "image/byte_source.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <memory>
#include <string>

#include "image/test_image.h"

namespace slipway {
namespace {

std::string Zstd(const std::string& data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(n);
  return out;
}

// Reads all of input through a DecompressingSource, chunk bytes at a time.
StatusOr<std::string> Drain(const std::string& input, size_t chunk = 4096,
                            size_t max_bytes = size_t{1} << 30) {
  DecompressingSource source(std::make_unique<MemorySource>(input), "layer L", max_bytes);
  std::string out;
  std::string buf(chunk, '\0');
  while (true) {
    StatusOr<size_t> got = source.Read(buf.data(), buf.size());
    if (!got.ok()) return got.status();
    if (*got == 0) return out;
    out.append(buf.data(), *got);
  }
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  return s;
}

TEST(DecompressingSourceTest, PlainGzipAndZstdGiveTheSameBytes) {
  std::string data = Pattern(300000);
  for (const std::string& input : {data, Gzip(data), Zstd(data)}) {
    StatusOr<std::string> got = Drain(input);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, data);
  }
}

TEST(DecompressingSourceTest, ZstdReadOneByteAtATimeAndSeveralFrames) {
  std::string a = Pattern(70000), b = "second frame";
  StatusOr<std::string> got = Drain(Zstd(a) + Zstd(b, 19), 1);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, a + b);
}

TEST(DecompressingSourceTest, TruncatedOrCorruptZstdIsAnErrorNamingTheLayer) {
  std::string z = Zstd(Pattern(200000));
  StatusOr<std::string> cut = Drain(z.substr(0, z.size() / 2));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().message(), "layer L is not valid zstd: it ends in the middle of a frame");
  std::string corrupt = z;
  for (size_t i = 20; i < corrupt.size(); i += 97) corrupt[i] = static_cast<char>(~corrupt[i]);
  StatusOr<std::string> bad = Drain(corrupt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("layer L is not valid zstd: ", 0), 0u)
      << bad.status().message();
}

// A small input that decompresses past the limit stops at the limit: the
// whole output is never held or written.
TEST(DecompressingSourceTest, ABombStopsAtTheLimitInEveryFormat) {
  std::string zeros(8 << 20, '\0');
  for (const std::string& input : {Gzip(zeros), Zstd(zeros)}) {
    ASSERT_LT(input.size(), 10000u);
    StatusOr<std::string> got = Drain(input, 4096, 1 << 20);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), "layer L unpacks to more than 1048576 bytes");
  }
  StatusOr<std::string> plain = Drain(zeros, 4096, 1 << 20);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().message(), "layer L is larger than 1048576 bytes");
}

}  // namespace
}  // namespace slipway
