#include "image/read_ahead_source.h"

#include <algorithm>
#include <cstring>

namespace slipway {

ReadAheadSource::ReadAheadSource(std::unique_ptr<ByteSource> in, size_t chunk_bytes, size_t chunks)
    : in_(std::move(in)) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < std::max<size_t>(chunks, 1); ++i) {
      empty_.push_back(Chunk{std::vector<char>(std::max<size_t>(chunk_bytes, 1)), 0});
    }
  }
  thread_ = std::thread([this] { Produce(); });
}

ReadAheadSource::~ReadAheadSource() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReadAheadSource::Produce() {
  while (true) {
    Chunk chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !empty_.empty(); });
      if (stopping_) return;
      chunk = std::move(empty_.back());
      empty_.pop_back();
    }
    // Filled whole (a decompressor hands out a few kilobytes a call), so
    // that the reader wakes once a chunk, not once a call.
    chunk.len = 0;
    Status error;
    bool ended = false;
    while (chunk.len < chunk.data.size()) {
      StatusOr<size_t> got =
          in_->Read(chunk.data.data() + chunk.len, chunk.data.size() - chunk.len);
      if (!got.ok()) {
        error = got.status();
        break;
      }
      if (*got == 0) {
        ended = true;
        break;
      }
      chunk.len += *got;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (chunk.len > 0) full_.push_back(std::move(chunk));
      error_ = error;
      ended_ = ended;
    }
    cv_.notify_all();
    if (!error.ok() || ended) return;
  }
}

StatusOr<size_t> ReadAheadSource::Read(char* buf, size_t n) {
  if (n == 0) return size_t{0};
  if (at_ == current_.len) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!current_.data.empty()) empty_.push_back(std::move(current_));
    current_ = Chunk();
    at_ = 0;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !full_.empty() || ended_ || !error_.ok(); });
    if (full_.empty()) {
      if (!error_.ok()) return error_;
      return size_t{0};
    }
    current_ = std::move(full_.front());
    full_.pop_front();
  }
  size_t take = std::min(n, current_.len - at_);
  std::memcpy(buf, current_.data.data() + at_, take);
  at_ += take;
  return take;
}

}  // namespace slipway
