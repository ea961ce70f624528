// Comparing secrets (tokens, signatures) without leaking through timing
// where they first differ.
#ifndef SLIPWAY_UTIL_SAME_BYTES_H_
#define SLIPWAY_UTIL_SAME_BYTES_H_

#include <openssl/crypto.h>

#include <string_view>

namespace slipway {

// Constant-time equality of two byte strings (their lengths are not secret).
inline bool SameBytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SAME_BYTES_H_
