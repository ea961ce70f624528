#include "server/request_params.h"

#include <algorithm>

#include "util/bounded_json.h"

namespace slipway {

using nlohmann::json;

namespace {

constexpr std::string_view kTooDeepMessage = "Parameters nested too deeply";

const char* RubyClass(const json& value) {
  if (value.is_array()) return "Array";
  if (value.is_object()) return "Hash";
  if (value.is_null()) return "NilClass";
  return "String";
}

// Rack's params_hash_has_key?: whether hash already holds the (bracketed)
// key path, e.g. "a][b" in {"a":{"b":…}}. A key path naming an array never
// counts.
bool HashHasKey(const json& hash, std::string_view key) {
  if (key.find("[]") != std::string_view::npos) return false;
  const json* at = &hash;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find_first_of("[]", start);
    std::string_view part = key.substr(start, end == std::string_view::npos ? end : end - start);
    if (!part.empty()) {
      if (!at->is_object()) return false;
      auto it = at->find(std::string(part));
      if (it == at->end()) return false;
      at = &*it;
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return true;
}

class FormNester {
 public:
  explicit FormNester(FormParams* out) : out_(out) {}

  // Rack 3's _normalize_params on *params (an object): stores v under name.
  // Rack returns what the caller keeps instead of params; here nullopt means
  // params itself (changed in place), a value means Rack's nil or [v].
  // Recursion is bounded: depth grows by one per level and stops at
  // kMaxParamDepth.
  std::optional<json> Store(json* params, std::string_view name, const std::string& v, int depth) {
    if (depth >= kMaxParamDepth) return Fail(ParamsError::kTooDeep, std::string(kTooDeepMessage));
    std::string_view k;
    std::string_view after;
    size_t close;
    if (depth == 0) {
      // The leading name, before any bracket after its first character.
      size_t start = name.size() > 1 ? name.find('[', 1) : std::string_view::npos;
      k = name.substr(0, start);
      after = start == std::string_view::npos ? std::string_view() : name.substr(start);
    } else if (name.starts_with("[]")) {
      k = "[]";
      after = name.substr(2);
    } else if (name.starts_with('[') && (close = name.find(']', 1)) != std::string_view::npos) {
      k = name.substr(1, close - 1);
      after = name.substr(close + 1);
    } else {
      k = name;  // Malformed nesting: the whole name is the key, as Rack keeps it.
    }
    if (k.empty()) return json();
    if (after.empty()) {
      if (k == "[]" && depth != 0) return json::array({v});
      (*params)[std::string(k)] = v;
    } else if (after == "[") {
      (*params)[std::string(name)] = v;
    } else if (after == "[]") {
      json* slot = Slot(params, k, /*array=*/true);
      if (slot == nullptr) return std::nullopt;
      slot->push_back(v);
    } else if (after.starts_with("[]")) {
      // a[][b]: the last object of the array takes b unless it has one.
      std::string_view child = after.substr(2);
      if (after.size() > 4 && after[2] == '[' && after.back() == ']') {
        std::string_view inner = after.substr(3, after.size() - 4);
        if (!inner.empty() && inner.find_first_of("[]") == std::string_view::npos) child = inner;
      }
      json* slot = Slot(params, k, /*array=*/true);
      if (slot == nullptr) return std::nullopt;
      if (!slot->empty() && slot->back().is_object() && !HashHasKey(slot->back(), child)) {
        Store(&slot->back(), child, v, depth + 1);
      } else {
        json fresh = json::object();
        std::optional<json> instead = Store(&fresh, child, v, depth + 1);
        slot->push_back(instead ? std::move(*instead) : std::move(fresh));
      }
    } else {
      json* slot = Slot(params, k, /*array=*/false);
      if (slot == nullptr) return std::nullopt;
      if (std::optional<json> instead = Store(slot, after, v, depth + 1))
        *slot = std::move(*instead);
    }
    return std::nullopt;
  }

 private:
  // params[k], made an empty array (or object) if absent; nullptr after
  // reporting a value of the other type.
  json* Slot(json* params, std::string_view k, bool array) {
    json& slot = (*params)[std::string(k)];
    if (slot.is_null()) slot = array ? json::array() : json::object();
    if (array ? slot.is_array() : slot.is_object()) return &slot;
    Fail(ParamsError::kBadRequest, std::string("expected ") + (array ? "Array" : "Hash") +
                                       " (got " + RubyClass(slot) + ") for param `" +
                                       std::string(k) + "'");
    return nullptr;
  }

  std::optional<json> Fail(ParamsError error, std::string message) {
    if (out_->error == ParamsError::kNone) {
      out_->error = error;
      out_->message = std::move(message);
    }
    return std::nullopt;
  }

  FormParams* out_;
};

}  // namespace

FormParams ParseFormParams(const std::vector<std::pair<std::string, std::string>>& pairs) {
  FormParams out;
  FormNester nester(&out);
  for (const auto& [key, value] : pairs) {
    nester.Store(&out.params, key, value, 0);
    if (out.error != ParamsError::kNone) {
      out.params = json::object();
      break;
    }
  }
  return out;
}

HttpResponse ParamsTooDeepResponse() {
  json body = {{"error", kTooDeepMessage},
               {"message", "400 Bad request - " + std::string(kTooDeepMessage)}};
  return JsonResponse(400, body.dump());
}

namespace {

// The response for a form that could not be read, or nullopt.
std::optional<HttpResponse> FormError(const FormParams& form) {
  switch (form.error) {
    case ParamsError::kNone:
      return std::nullopt;
    case ParamsError::kTooDeep:
      return ParamsTooDeepResponse();
    case ParamsError::kBadRequest:
      return JsonError(400, "400 Bad request - " + form.message);
  }
  return std::nullopt;
}

}  // namespace

std::optional<json> RequestParams(const HttpRequest& req, HttpResponse* error) {
  FormParams query = ParseFormParams(req.query);
  if (std::optional<HttpResponse> bad = FormError(query)) {
    *error = std::move(*bad);
    return std::nullopt;
  }
  json params = std::move(query.params);
  std::string content_type = req.Header("content-type");
  std::transform(content_type.begin(), content_type.end(), content_type.begin(), ::tolower);
  if (content_type.find("multipart/") != std::string::npos) {
    *error =
        JsonError(400, "400 Bad request - multipart bodies are not supported; send JSON or a form");
    return std::nullopt;
  }
  json body;
  if (content_type.find("application/x-www-form-urlencoded") != std::string::npos) {
    FormParams form = ParseFormParams(ParseForm(req.body));
    if (std::optional<HttpResponse> bad = FormError(form)) {
      *error = std::move(*bad);
      return std::nullopt;
    }
    body = std::move(form.params);
  } else {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return params;
    BoundedJson parsed = ParseBoundedJson(req.body);
    if (parsed.error == JsonParseError::kTooDeep) {
      *error = ParamsTooDeepResponse();
      return std::nullopt;
    }
    if (parsed.error != JsonParseError::kNone) {
      *error = JsonError(400, "400 Bad request - the body is not valid JSON");
      return std::nullopt;
    }
    if (!parsed.value.is_object()) {
      *error = JsonError(400, "400 Bad request - the body must be a JSON object");
      return std::nullopt;
    }
    body = std::move(parsed.value);
  }
  for (auto& [k, v] : body.items()) params[k] = std::move(v);
  return params;
}

std::string ParamString(const json& params, const std::string& key) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  if (it->is_number()) return it->dump();
  return "";
}

}  // namespace slipway
