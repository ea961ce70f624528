#include "server/log_stream.h"

#include "server/gitlab_json.h"

namespace slipway {

namespace {

constexpr int64_t kReadChunk = 64 * 1024;

}  // namespace

size_t CompleteUtf8Prefix(std::string_view bytes) {
  // Look back at most 3 bytes for the lead byte of a sequence that runs past the end.
  size_t n = bytes.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // Continuation byte: keep looking.
    size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

std::string SseAppendEvent(int64_t id, std::string_view text) {
  return "event: append\nid: " + std::to_string(id) + "\ndata: " + JsonString(text) + "\n\n";
}

std::string SseEndEvent(std::string_view status) {
  return "event: end\ndata: {\"status\": " + JsonString(status) + "}\n\n";
}

LogStream::LogStream(Store* store, int64_t job_id, int64_t offset)
    : store_(store), job_id_(job_id), consumed_(offset) {}

std::string LogStream::Emit(std::string_view bytes, bool flush) {
  carry_.append(bytes);
  size_t n = flush ? carry_.size() : CompleteUtf8Prefix(carry_);
  if (n == 0) return "";
  std::string event = SseAppendEvent(consumed_ - static_cast<int64_t>(carry_.size() - n),
                                     std::string_view(carry_).substr(0, n));
  carry_.erase(0, n);
  return event;
}

std::string LogStream::CatchUp() {
  std::string out;
  for (;;) {
    auto slice = store_->ReadLog(job_id_, consumed_, kReadChunk);
    if (!slice.ok() || slice->bytes.empty()) break;
    if (slice->offset != consumed_) {
      consumed_ = slice->offset;  // The requested offset was past the end: clamped.
      carry_.clear();
    }
    consumed_ += static_cast<int64_t>(slice->bytes.size());
    out += Emit(slice->bytes, false);
    if (consumed_ >= slice->total_size) break;
  }
  return out;
}

std::string LogStream::OnChunk(int64_t offset, std::string_view bytes) {
  if (done_) return "";
  std::string out;
  if (offset > consumed_) out += CatchUp();  // Bytes between were published before we listened.
  int64_t end = offset + static_cast<int64_t>(bytes.size());
  if (offset > consumed_ || end <= consumed_)
    return out;  // A gap the store cannot fill yet, or old bytes.
  std::string_view fresh = bytes.substr(static_cast<size_t>(consumed_ - offset));
  consumed_ = end;
  out += Emit(fresh, false);
  return out;
}

std::string LogStream::EndIfFinished() {
  if (done_) return "";
  auto job = store_->GetJob(job_id_);
  if (!job.ok()) return "";
  std::string status;
  if (!job->has_value()) {
    status = "deleted";
  } else {
    CiStatus s = (*job)->status;
    if (!IsFinished(s) && s != CiStatus::kSkipped) return "";
    status = CiStatusName(s);
  }
  std::string out = CatchUp();
  out += Emit("", true);
  out += SseEndEvent(status);
  done_ = true;
  return out;
}

}  // namespace slipway
