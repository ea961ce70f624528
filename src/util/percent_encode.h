// Percent-encoding of URL components (RFC 3986, 2.1): for query parameters
// slipway sends (a Prometheus query) and links it writes.
#ifndef SLIPWAY_UTIL_PERCENT_ENCODE_H_
#define SLIPWAY_UTIL_PERCENT_ENCODE_H_

#include <string>
#include <string_view>

namespace slipway {

// Every byte but the unreserved characters (ALPHA DIGIT - . _ ~) as %XX.
std::string PercentEncode(std::string_view s);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_PERCENT_ENCODE_H_
