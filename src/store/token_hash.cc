#include "store/token_hash.h"

#include <openssl/rand.h>

namespace slipway {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

StatusOr<std::string> GenerateRawToken() {
  unsigned char bytes[20];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Status::Error("cannot generate a token: the random number generator failed");
  }
  return "slw_" + Hex(bytes, sizeof(bytes));
}

}  // namespace slipway
