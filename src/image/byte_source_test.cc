#include "image/byte_source.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "image/read_ahead_source.h"
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

// Reads all of source, chunk bytes at a time.
StatusOr<std::string> DrainSource(ByteSource* source, size_t chunk = 4096) {
  std::string out;
  std::string buf(chunk, '\0');
  while (true) {
    StatusOr<size_t> got = source->Read(buf.data(), buf.size());
    if (!got.ok()) return got.status();
    if (*got == 0) return out;
    out.append(buf.data(), *got);
  }
}

// Reads all of input through a DecompressingSource, chunk bytes at a time.
StatusOr<std::string> Drain(const std::string& input, size_t chunk = 4096,
                            size_t max_bytes = size_t{1} << 30) {
  DecompressingSource source(std::make_unique<MemorySource>(input), "layer L", max_bytes);
  return DrainSource(&source, chunk);
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

// gzip's trailer (CRC-32, then the length) is checked for each member, and
// the deflate stream itself; a member may follow another, even when the
// reader takes one byte at a time (ISA-L gives back what it read ahead).
TEST(DecompressingSourceTest, GzipMembersTrailersAndStreamAreChecked) {
  std::string data = Pattern(100000);
  for (size_t chunk : {size_t{1}, size_t{4096}, size_t{1} << 20}) {
    StatusOr<std::string> two = Drain(Gzip(data) + Gzip("and a second member"), chunk);
    ASSERT_TRUE(two.ok()) << two.status().message();
    EXPECT_EQ(*two, data + "and a second member");
  }
  std::string bad_crc = Gzip(data);
  bad_crc[bad_crc.size() - 8] = static_cast<char>(~bad_crc[bad_crc.size() - 8]);
  StatusOr<std::string> crc = Drain(bad_crc + Gzip("and a second member"));
  ASSERT_FALSE(crc.ok());
  EXPECT_EQ(crc.status().message(), "layer L is not valid gzip: incorrect data check");
  std::string bad_length = Gzip(data);
  bad_length[bad_length.size() - 1] ^= 1;
  StatusOr<std::string> length = Drain(bad_length);
  ASSERT_FALSE(length.ok());
  EXPECT_EQ(length.status().message(), "layer L is not valid gzip: incorrect data check");
  std::string corrupt = Gzip(data);
  for (size_t i = 20; i < corrupt.size() - 8; i += 97) corrupt[i] = static_cast<char>(~corrupt[i]);
  StatusOr<std::string> broken = Drain(corrupt);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().rfind("layer L is not valid gzip: ", 0), 0u);
  std::string whole = Gzip(data);
  for (size_t cut : {size_t{2}, size_t{10}, whole.size() / 2, whole.size() - 4}) {
    StatusOr<std::string> truncated = Drain(whole.substr(0, cut));
    ASSERT_FALSE(truncated.ok()) << cut;
    EXPECT_EQ(truncated.status().message(),
              "layer L is not valid gzip: it ends in the middle of the stream")
        << cut;
  }
  StatusOr<std::string> garbage = Drain(whole + "garbage after the member");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message().rfind("layer L is not valid gzip: ", 0), 0u);
}

// A source whose reads give few bytes each, then fail (or end).
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string data, bool fail) : data_(std::move(data)), fail_(fail) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    if (at_ == data_.size()) {
      if (fail_) return Status::Error("cannot read the blob: Input/output error");
      return size_t{0};
    }
    size_t take = std::min({n, data_.size() - at_, size_t{7}});
    std::memcpy(buf, data_.data() + at_, take);
    at_ += take;
    return take;
  }

 private:
  std::string data_;
  bool fail_;
  size_t at_ = 0;
};

TEST(ReadAheadSourceTest, GivesTheBytesInOrderAcrossChunksThenTheEnd) {
  std::string data = Pattern(100003);
  for (size_t read : {size_t{1}, size_t{10}, size_t{4096}, size_t{1} << 20}) {
    ReadAheadSource source(std::make_unique<TrickleSource>(data, false), 1000, 3);
    StatusOr<std::string> got = DrainSource(&source, read);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, data);
    StatusOr<size_t> again = source.Read(&data[0], 1);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0u);
  }
}

TEST(ReadAheadSourceTest, AnErrorComesAfterTheBytesReadBeforeIt) {
  std::string data = Pattern(5000);
  ReadAheadSource source(std::make_unique<TrickleSource>(data, true), 1024, 2);
  std::string got;
  char buf[300];
  while (true) {
    StatusOr<size_t> n = source.Read(buf, sizeof buf);
    if (!n.ok()) {
      EXPECT_EQ(n.status().message(), "cannot read the blob: Input/output error");
      break;
    }
    ASSERT_GT(*n, 0u) << "the end instead of the error";
    got.append(buf, *n);
  }
  EXPECT_EQ(got, data);
}

// A reader that stops early (an unpack that failed) does not wait for the
// rest: the thread, blocked on a full queue, is stopped.
TEST(ReadAheadSourceTest, DestroyedBeforeTheEndStopsItsThread) {
  auto source = std::make_unique<ReadAheadSource>(
      std::make_unique<TrickleSource>(Pattern(1 << 20), false), 100, 2);
  char buf[10];
  ASSERT_TRUE(source->Read(buf, sizeof buf).ok());
  source.reset();
}

}  // namespace
}  // namespace slipway
