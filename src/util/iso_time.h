// Times as the command line shows them.
#ifndef SLIPWAY_UTIL_ISO_TIME_H_
#define SLIPWAY_UTIL_ISO_TIME_H_

#include <cstdint>
#include <string>

namespace slipway {

// Unix milliseconds as ISO 8601 UTC to the second: "2026-12-05T09:00:00Z".
std::string Iso8601Seconds(int64_t unix_ms);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_ISO_TIME_H_
