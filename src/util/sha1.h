// SHA-1 (FIPS 180-4), for what must match git and GitLab bit for bit: git
// blob ids and GitLab's cache:key:files digest. Not for security.
#ifndef SLIPWAY_UTIL_SHA1_H_
#define SLIPWAY_UTIL_SHA1_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace slipway {

class Sha1 {
 public:
  Sha1();
  void Update(std::string_view data);
  // Lowercase hex of the digest. The object must not be updated afterwards.
  std::string HexDigest();

 private:
  void Block(const uint8_t* block);

  std::array<uint32_t, 5> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // Bytes hashed so far.
};

std::string Sha1Hex(std::string_view data);

// The id git gives a blob with this content: SHA-1 of "blob <size>\0<content>".
std::string GitBlobId(std::string_view content);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SHA1_H_
