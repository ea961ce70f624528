#include "image/byte_source.h"

#include <isa-l/igzip_lib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slipway {

StatusOr<size_t> FdSource::Read(char* buf, size_t n) {
  while (true) {
    ssize_t got = ::read(fd_.get(), buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR) continue;
    return Status::Error("cannot read " + name_ + ": " + std::strerror(errno));
  }
}

StatusOr<size_t> MemorySource::Read(char* buf, size_t n) {
  size_t take = std::min(n, data_.size() - at_);
  std::memcpy(buf, data_.data() + at_, take);
  at_ += take;
  return take;
}

namespace {

// ISA-L's error codes as words.
const char* InflateError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:
      return "incorrect header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "incorrect data check";
    default:
      return "inflate failed";
  }
}

// A fresh state for the gzip member that starts at the next input byte.
void StartMember(inflate_state* state) {
  isal_inflate_reset(state);
  state->crc_flag = ISAL_GZIP;  // Parses the header, checks CRC-32 and length.
}

}  // namespace

void DecompressingSource::InflateDeleter::operator()(inflate_state* state) const { delete state; }

DecompressingSource::DecompressingSource(std::unique_ptr<ByteSource> in, std::string name,
                                         size_t max_bytes)
    : in_(std::move(in)), name_(std::move(name)), max_bytes_(max_bytes), input_buffer_(256 << 10) {}

DecompressingSource::~DecompressingSource() {
  if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
}

Status DecompressingSource::Start() {
  started_ = true;
  // Fill enough to see a magic number.
  while (input_len_ < 4 && !in_end_) {
    StatusOr<size_t> got =
        in_->Read(input_buffer_.data() + input_len_, input_buffer_.size() - input_len_);
    if (!got.ok()) return got.status();
    if (*got == 0) in_end_ = true;
    input_len_ += *got;
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(input_buffer_.data());
  if (input_len_ >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
    format_ = Format::kZstd;
    zstd_ = ZSTD_createDStream();
    if (zstd_ == nullptr || ZSTD_isError(ZSTD_initDStream(zstd_))) {
      return Status::Error("cannot start decompressing " + name_);
    }
  } else if (input_len_ >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
    format_ = Format::kGzip;
    gzip_.reset(new inflate_state);
    isal_inflate_init(gzip_.get());
    StartMember(gzip_.get());
  }
  return Status::Ok();
}

Status DecompressingSource::Refill() {
  if (input_at_ < input_len_ || in_end_) return Status::Ok();
  StatusOr<size_t> got = in_->Read(input_buffer_.data(), input_buffer_.size());
  if (!got.ok()) return got.status();
  input_at_ = 0;
  input_len_ = *got;
  if (*got == 0) in_end_ = true;
  return Status::Ok();
}

Status DecompressingSource::Produced(size_t out) {
  produced_ += out;
  if (produced_ > max_bytes_) {
    return Status::Error(
        name_ + (format_ == Format::kPlain ? " is larger than " : " unpacks to more than ") +
        std::to_string(max_bytes_) + " bytes");
  }
  return Status::Ok();
}

StatusOr<size_t> DecompressingSource::Read(char* buf, size_t n) {
  if (n == 0) return size_t{0};
  if (!started_) {
    Status started = Start();
    if (!started.ok()) return started;
  }
  switch (format_) {
    case Format::kPlain:
      return ReadPlain(buf, n);
    case Format::kGzip:
      return ReadGzip(buf, n);
    case Format::kZstd:
      return ReadZstd(buf, n);
  }
  return size_t{0};
}

StatusOr<size_t> DecompressingSource::ReadPlain(char* buf, size_t n) {
  size_t out;
  if (input_at_ < input_len_) {
    out = std::min(n, input_len_ - input_at_);
    std::memcpy(buf, input_buffer_.data() + input_at_, out);
    input_at_ += out;
  } else {
    StatusOr<size_t> got = in_->Read(buf, n);
    if (!got.ok()) return got.status();
    out = *got;
  }
  if (Status s = Produced(out); !s.ok()) return s;
  return out;
}

StatusOr<size_t> DecompressingSource::ReadGzip(char* buf, size_t n) {
  inflate_state* z = gzip_.get();
  while (true) {
    if (stream_end_) {
      // Another gzip member may follow, or the end.
      Status refilled = Refill();
      if (!refilled.ok()) return refilled;
      if (input_at_ == input_len_) return size_t{0};
      StartMember(z);
      stream_end_ = false;
    }
    Status refilled = Refill();
    if (!refilled.ok()) return refilled;
    z->next_in = reinterpret_cast<uint8_t*>(input_buffer_.data() + input_at_);
    z->avail_in = static_cast<uint32_t>(input_len_ - input_at_);
    z->next_out = reinterpret_cast<uint8_t*>(buf);
    z->avail_out = static_cast<uint32_t>(std::min<size_t>(n, 1 << 30));
    int rc = isal_inflate(z);
    // At a member's end ISA-L gives back the input it read ahead: what is
    // left is the next member's.
    input_at_ = input_len_ - z->avail_in;
    size_t out = static_cast<size_t>(reinterpret_cast<char*>(z->next_out) - buf);
    if (rc != ISAL_DECOMP_OK) {
      return Status::Error(name_ + " is not valid gzip: " + InflateError(rc));
    }
    if (z->block_state == ISAL_BLOCK_FINISH) {
      stream_end_ = true;
    } else if (out == 0 && in_end_ && input_at_ == input_len_) {
      return Status::Error(name_ + " is not valid gzip: it ends in the middle of the stream");
    }
    if (Status s = Produced(out); !s.ok()) return s;
    if (out > 0) return out;
  }
}

StatusOr<size_t> DecompressingSource::ReadZstd(char* buf, size_t n) {
  while (true) {
    Status refilled = Refill();
    if (!refilled.ok()) return refilled;
    bool input_done = input_at_ == input_len_ && in_end_;
    if (input_done && zstd_frame_done_) return size_t{0};
    ZSTD_inBuffer in{input_buffer_.data() + input_at_, input_len_ - input_at_, 0};
    ZSTD_outBuffer out{buf, n, 0};
    size_t rc = ZSTD_decompressStream(zstd_, &out, &in);
    input_at_ += in.pos;
    if (ZSTD_isError(rc)) {
      return Status::Error(name_ + " is not valid zstd: " + ZSTD_getErrorName(rc));
    }
    // 0: a frame is complete and flushed; the next byte, if any, starts
    // another frame, which the same stream decodes.
    zstd_frame_done_ = rc == 0;
    if (Status s = Produced(out.pos); !s.ok()) return s;
    if (out.pos > 0) return out.pos;
    if (input_done) {
      return Status::Error(name_ + " is not valid zstd: it ends in the middle of a frame");
    }
  }
}

}  // namespace slipway
