// The live log of one job as Server-Sent Events (docs/api.md, "Live log"):
// the stored log from a byte offset, then the chunks LogHub publishes, joined
// without gaps or repeats by their offsets; an `end` event when the job has
// finished. Without sockets: the server feeds it and writes what it returns.
//
// Events:
//   event: append\nid: <offset after the chunk>\ndata: <JSON string>\n\n
//   event: end\ndata: {"status": "<job status>"}\n\n
// A chunk never ends inside a UTF-8 sequence (the tail waits for the next
// chunk); invalid UTF-8 is replaced by U+FFFD.
#ifndef SLIPWAY_SERVER_LOG_STREAM_H_
#define SLIPWAY_SERVER_LOG_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/store.h"

namespace slipway {

// The length of the longest prefix of bytes that does not end inside a
// UTF-8 multi-byte sequence (invalid bytes count as complete).
size_t CompleteUtf8Prefix(std::string_view bytes);

std::string SseAppendEvent(int64_t id, std::string_view text);
std::string SseEndEvent(std::string_view status);
inline constexpr std::string_view kSseHeartbeat = ": heartbeat\n\n";

class LogStream {
 public:
  // Not thread-safe: one per connection. store must outlive it.
  LogStream(Store* store, int64_t job_id, int64_t offset);

  // Events for the stored bytes from the current position to the log's end.
  std::string CatchUp();
  // Events for a published chunk (reads the store first if bytes before
  // offset are missing; ignores bytes already sent).
  std::string OnChunk(int64_t offset, std::string_view bytes);
  // If the job has finished (or is gone): the remaining bytes and the end
  // event, and done() becomes true. Otherwise "".
  std::string EndIfFinished();

  bool done() const { return done_; }
  int64_t position() const { return consumed_; }

 private:
  std::string Emit(std::string_view bytes, bool flush);

  Store* store_;
  int64_t job_id_;
  int64_t consumed_;   // Bytes of the log taken so far (sent or in carry_).
  std::string carry_;  // An incomplete UTF-8 sequence at the end of consumed bytes.
  bool done_ = false;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_LOG_STREAM_H_
