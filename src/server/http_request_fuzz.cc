// libFuzzer target for a request as the API reads it: the input is
// "METHOD TARGET\nName: value\n…\n\nbody" (what the HTTP parser hands over;
// the bytes of each part are arbitrary). The request is built, its
// parameters read from the query string and a JSON or form body, and
// whatever comes back is copied and dumped — never a crash, a hang or an
// unbounded nesting. Build with -DSLIPWAY_FUZZ=ON (clang); scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/fuzz_checks.h"
#include "server/http_message.h"
#include "server/request_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t head_end = input.find("\n\n");
  std::string_view head = input.substr(0, head_end);
  std::string body(head_end == std::string_view::npos ? "" : input.substr(head_end + 2));
  size_t line_end = head.find('\n');
  std::string_view request_line = head.substr(0, line_end);
  size_t space = request_line.find(' ');
  std::string method(request_line.substr(0, space));
  std::string_view target =
      space == std::string_view::npos ? std::string_view() : request_line.substr(space + 1);
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  while (line_end != std::string_view::npos) {
    size_t start = line_end + 1;
    line_end = head.find('\n', start);
    std::string_view line =
        head.substr(start, line_end == std::string_view::npos ? line_end : line_end - start);
    size_t colon = line.find(':');
    fields.emplace_back(line.substr(0, colon), colon == std::string_view::npos
                                                   ? std::string_view()
                                                   : line.substr(colon + 1));
  }

  slipway::HttpRequest request =
      slipway::MakeHttpRequest(std::move(method), target, fields, std::move(body));
  (void)request.Query("ref");
  (void)request.QueryAll("scope");
  (void)request.Header("content-type");
  slipway::HttpResponse error;
  std::optional<nlohmann::json> params = slipway::RequestParams(request, &error);
  if (params) {
    slipway::fuzz::CheckParams(*params);
    (void)slipway::ParamString(*params, "ref");
  } else if (error.status != 400) {
    __builtin_trap();  // A request is either read or refused with a 400.
  }
  return 0;
}
