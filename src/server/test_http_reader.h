// Test helper (header-only, tests only): reading HTTP responses from a
// connection a test drives by hand, plain or TLS, keeping what arrived
// past the part returned for the next read.
#ifndef SLIPWAY_SERVER_TEST_HTTP_READER_H_
#define SLIPWAY_SERVER_TEST_HTTP_READER_H_

#include <algorithm>
#include <string>

namespace slipway {

class TestHttpReader {
 public:
  virtual ~TestHttpReader() = default;

  // Reads until `needle` has arrived (or the connection ended); returns
  // everything up to and including it, keeping the rest for later.
  std::string ReadUntil(const std::string& needle) {
    for (;;) {
      size_t at = buffer_.find(needle);
      if (at != std::string::npos) {
        std::string out = buffer_.substr(0, at + needle.size());
        buffer_.erase(0, at + needle.size());
        return out;
      }
      if (!Fill()) {
        std::string out;
        out.swap(buffer_);
        return out;
      }
    }
  }

  // One response with a Content-Length body.
  std::string ReadResponse() {
    std::string head = ReadUntil("\r\n\r\n");
    size_t cl = head.find("Content-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
    while (buffer_.size() < length && Fill()) {
    }
    std::string body = buffer_.substr(0, length);
    buffer_.erase(0, std::min(length, buffer_.size()));
    return head + body;
  }

 protected:
  // Appends what arrives to buffer_; false when the connection ended.
  virtual bool Fill() = 0;

  std::string buffer_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_TEST_HTTP_READER_H_
