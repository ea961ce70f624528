// SHA-256 as hex (OpenSSL libcrypto): token hashes in the store, cache keys.
#ifndef SLIPWAY_UTIL_SHA256_H_
#define SLIPWAY_UTIL_SHA256_H_

#include <string>
#include <string_view>

namespace slipway {

// Lowercase hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SHA256_H_
