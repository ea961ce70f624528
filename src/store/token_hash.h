// API tokens: generation and the one-way hash the store keeps instead of the
// token itself (OpenSSL libcrypto).
#ifndef SLIPWAY_STORE_TOKEN_HASH_H_
#define SLIPWAY_STORE_TOKEN_HASH_H_

#include <string>
#include <string_view>

#include "util/sha256.h"  // Sha256Hex, the hash the store keeps.
#include "util/status.h"

namespace slipway {

// "slw_" followed by 40 hex digits from 160 bits of the OS's CSPRNG. Fails
// only if the random generator does.
StatusOr<std::string> GenerateRawToken();

}  // namespace slipway

#endif  // SLIPWAY_STORE_TOKEN_HASH_H_
