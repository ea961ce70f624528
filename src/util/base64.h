// Base64 (RFC 4648, with padding) of bytes: HTTP Basic credentials.
#ifndef SLIPWAY_UTIL_BASE64_H_
#define SLIPWAY_UTIL_BASE64_H_

#include <string>
#include <string_view>

namespace slipway {

std::string Base64Encode(std::string_view data);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_BASE64_H_
