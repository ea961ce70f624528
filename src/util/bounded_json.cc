#include "util/bounded_json.h"

namespace slipway {

BoundedJson ParseBoundedJson(std::string_view text, int max_depth) {
  bool too_deep = false;
  // The callback sees how many arrays and objects are open around a new one
  // before it is built. Refusing it (false) makes the parser build nothing
  // below it either, so the deep part costs only the parser's own bookkeeping.
  nlohmann::json::parser_callback_t bound = [&](int depth, nlohmann::json::parse_event_t event,
                                                nlohmann::json&) {
    if (event != nlohmann::json::parse_event_t::object_start &&
        event != nlohmann::json::parse_event_t::array_start) {
      return true;
    }
    if (depth < max_depth) return true;
    too_deep = true;
    return false;
  };
  BoundedJson result;
  result.value = nlohmann::json::parse(text, bound, /*allow_exceptions=*/false);
  if (too_deep) {
    result.error = JsonParseError::kTooDeep;
    result.value = nlohmann::json::value_t::discarded;
  } else if (result.value.is_discarded()) {
    result.error = JsonParseError::kInvalid;
  }
  return result;
}

}  // namespace slipway
