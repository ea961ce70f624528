// libFuzzer target for push webhooks: the first byte chooses the forge and
// whether the project has a secret; then "name: value" header lines, an
// empty line and the body. ParseWebhook must answer every input — an event
// whose ref git accepts and whose replay keys are bounded, or an error with
// a message — without crashing, hanging or building deep values. Build with
// -DSLIPWAY_FUZZ=ON (clang); scripts/fuzz.sh runs it.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "server/webhook.h"
#include "util/ref_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr slipway::Forge kForges[] = {slipway::Forge::kGitLab, slipway::Forge::kGitHub,
                                               slipway::Forge::kGitea};
  slipway::Forge forge = kForges[data[0] % 3];
  std::string_view secret = (data[0] & 0x10) != 0 ? "s3cret" : "";
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t head_end = input.find("\n\n");
  std::string_view head = input.substr(0, head_end);
  std::string_view body =
      head_end == std::string_view::npos ? std::string_view() : input.substr(head_end + 2);
  std::map<std::string, std::string> headers;
  size_t start = 0;
  while (start < head.size()) {
    size_t end = head.find('\n', start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? end : end - start);
    size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers[name] = colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }

  slipway::WebhookResult result = slipway::ParseWebhook(forge, headers, body, secret);
  if (result.event) {
    if (!slipway::CheckBranchOrTagName(result.event->ref, result.event->tag).ok()) __builtin_trap();
    if (result.replay_keys.size() > 2) __builtin_trap();
    for (const std::string& key : result.replay_keys) {
      if (key.size() > slipway::kMaxDeliveryIdBytes + 80) __builtin_trap();
    }
  } else if (result.message.empty()) {
    __builtin_trap();
  }
  return 0;
}
