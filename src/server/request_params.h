// A request's parameters as GitLab (Rack and Grape) reads them: the query
// string, then the body — a JSON object or an x-www-form-urlencoded form —
// whose values win. Pure functions of the request's bytes (no sockets, no
// store): they are fuzzed (request_params_fuzz.cc). Nesting is bounded before
// anything recurses over the result: JSON by kMaxJsonDepth, form keys such
// as a[b][c] by kMaxParamDepth, both GitLab's 32.
#ifndef SLIPWAY_SERVER_REQUEST_PARAMS_H_
#define SLIPWAY_SERVER_REQUEST_PARAMS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/http_message.h"

namespace slipway {

// Rack's param_depth_limit: a form key may have at most 31 bracket groups
// after its name (a[1]…[31]).
inline constexpr int kMaxParamDepth = 32;
// How deep form parameters can nest: the parameters' object, and for each
// of a key's kMaxParamDepth levels up to an array and an object (a[][x]
// opens both in one level, as in Rack).
inline constexpr int kMaxFormParamsDepth = 2 * kMaxParamDepth + 1;

enum class ParamsError { kNone, kTooDeep, kBadRequest };

struct FormParams {
  nlohmann::json params = nlohmann::json::object();
  ParamsError error = ParamsError::kNone;
  std::string message;  // For kBadRequest: why, e.g. "expected Array (got String) for param `a'".
};

// Nests form pairs as Rack 3's parse_nested_query does: a=1 → {"a":"1"},
// a[b]=1 → {"a":{"b":"1"}}, a[]=1&a[]=2 → {"a":["1","2"]}, and
// v[][key]=K&v[][value]=V → {"v":[{"key":"K","value":"V"}]} (a key seen
// again in the array's last object starts a new one). kTooDeep when a key
// nests deeper than kMaxParamDepth; kBadRequest when two keys disagree on a
// parameter's type (a=1&a[b]=2).
FormParams ParseFormParams(const std::vector<std::pair<std::string, std::string>>& pairs);

// The request's parameters: the query string, then the body's (a JSON object,
// or a form); body values win. nullopt with *error set on a malformed body or
// one nested too deeply (ParamsTooDeepResponse).
std::optional<nlohmann::json> RequestParams(const HttpRequest& req, HttpResponse* error);

// GitLab's answer to a body nested too deeply: 400 with its message in
// "error" (as GitLab's JSON validation middleware sends it) and in
// "message" (as every slipway error has it).
HttpResponse ParamsTooDeepResponse();

// A parameter as a string ("" if absent; numbers and booleans as text).
std::string ParamString(const nlohmann::json& params, const std::string& key);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_REQUEST_PARAMS_H_
