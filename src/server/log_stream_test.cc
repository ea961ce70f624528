// LogStream: the stored log and live chunks joined by offset into SSE events.
#include "server/log_stream.h"

#include <gtest/gtest.h>

#include "server/api_test_util.h"

namespace slipway {
namespace {

TEST(LogStreamFormatTest, EventsAndUtf8Boundaries) {
  EXPECT_EQ(SseAppendEvent(12, "a\"b\n"), "event: append\nid: 12\ndata: \"a\\\"b\\n\"\n\n");
  EXPECT_EQ(SseEndEvent("success"), "event: end\ndata: {\"status\": \"success\"}\n\n");
  EXPECT_EQ(SseAppendEvent(1, "\xff"), "event: append\nid: 1\ndata: \"\xef\xbf\xbd\"\n\n");
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xc3"), 1u);  // é cut after its lead byte.
  EXPECT_EQ(CompleteUtf8Prefix("a\xc3\xa9"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xe2\x82"), 1u);         // € cut after two bytes.
  EXPECT_EQ(CompleteUtf8Prefix("\xf0\x9f\x98\x80"), 4u);  // A whole emoji.
  EXPECT_EQ(CompleteUtf8Prefix("a\x80"), 2u);             // A stray continuation byte.
}

class LogStreamTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    PipelineRecord p =
        AddPipeline("main", CiStatus::kRunning, {{"build", "build", CiStatus::kRunning}});
    job_ = Jobs(p.id)[0].id;
  }
  // Appends like the engine: store first, then the hub's chunk.
  std::pair<int64_t, std::string> Append(const std::string& bytes) {
    auto size = store_->AppendLog(job_, bytes);
    EXPECT_TRUE(size.ok());
    return {*size - static_cast<int64_t>(bytes.size()), bytes};
  }
  int64_t job_ = 0;
};

TEST_F(LogStreamTest, StoredBytesThenLiveChunksWithoutGapsOrRepeats) {
  Append("one\n");
  LogStream stream(store_.get(), job_, 0);
  EXPECT_EQ(stream.CatchUp(), SseAppendEvent(4, "one\n"));
  EXPECT_EQ(stream.EndIfFinished(), "");
  auto [off2, two] = Append("two\n");
  auto [off3, three] = Append("three\n");
  // The first chunk arrives late: its bytes are read from the store with the next.
  EXPECT_EQ(stream.OnChunk(off3, three), SseAppendEvent(14, "two\nthree\n"));
  EXPECT_EQ(stream.OnChunk(off2, two), "");  // Already sent.
  SetJobStatus(job_, CiStatus::kSuccess);
  EXPECT_EQ(stream.EndIfFinished(), SseEndEvent("success"));
  EXPECT_TRUE(stream.done());
}

TEST_F(LogStreamTest, ResumesFromAnOffsetAndHoldsBackSplitCharacters) {
  Append("héllo");
  LogStream stream(store_.get(), job_, 2);  // Inside 'é': starts with its second byte.
  EXPECT_EQ(stream.CatchUp(), SseAppendEvent(6, "\xa9llo"));
  auto [off, part1] = Append("\xe2\x82");
  EXPECT_EQ(stream.OnChunk(off, part1), "");  // Half of '€' waits.
  auto [off2, part2] = Append("\xac!");
  EXPECT_EQ(stream.OnChunk(off2, part2), SseAppendEvent(10, "\xe2\x82\xac!"));
  SetJobStatus(job_, CiStatus::kFailed);
  EXPECT_EQ(stream.EndIfFinished(), SseEndEvent("failed"));
}

TEST_F(LogStreamTest, OffsetPastTheEndWaitsForNewBytes) {
  Append("abc");
  LogStream stream(store_.get(), job_, 10);
  EXPECT_EQ(stream.CatchUp(), "");
  auto [off, bytes] = Append("defghijklmn");
  EXPECT_EQ(stream.OnChunk(off, bytes), SseAppendEvent(14, "klmn"));  // From byte 10 on.
}

TEST_F(LogStreamTest, DeletedJobEndsTheStream) {
  LogStream stream(store_.get(), 424242, 0);
  EXPECT_EQ(stream.EndIfFinished(), SseEndEvent("deleted"));
}

}  // namespace
}  // namespace slipway
