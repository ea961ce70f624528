// libFuzzer target for request bodies and query strings: the first byte
// chooses how the rest is read — a JSON body, a form body, or a query string
// — as RequestParams reads it for the API. What is accepted must be nested
// within the bounds (32) and safe to copy and dump; what is refused is a
// 400. Build with -DSLIPWAY_FUZZ=ON (clang); scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/fuzz_checks.h"
#include "server/http_message.h"
#include "server/request_params.h"
#include "util/bounded_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  slipway::HttpRequest request;
  request.method = "POST";
  switch (data[0] % 3) {
    case 0: {
      request.headers["content-type"] = "application/json";
      request.body = std::string(rest);
      slipway::BoundedJson parsed = slipway::ParseBoundedJson(rest);
      if (parsed.error == slipway::JsonParseError::kNone) {
        slipway::fuzz::CheckDepth(parsed.value, slipway::kMaxJsonDepth);
      }
      break;
    }
    case 1:
      request.headers["content-type"] = "application/x-www-form-urlencoded";
      request.body = std::string(rest);
      break;
    default:
      slipway::ParseTarget("/api/v4/projects/1/pipeline?" + std::string(rest), &request);
      break;
  }
  slipway::HttpResponse error;
  std::optional<nlohmann::json> params = slipway::RequestParams(request, &error);
  if (params) {
    slipway::fuzz::CheckParams(*params);
  } else if (error.status != 400 || error.body.empty()) {
    __builtin_trap();
  }
  return 0;
}
