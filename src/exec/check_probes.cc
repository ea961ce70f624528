#include "exec/check_probes.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <re2/re2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "util/bounded_json.h"
#include "util/http_get.h"
#include "util/percent_encode.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

Measurement Pass(std::string detail) { return {CheckOutcome::kPass, std::move(detail)}; }
Measurement Fail(std::string detail) { return {CheckOutcome::kFail, std::move(detail)}; }
Measurement Inconclusive(std::string detail) {
  return {CheckOutcome::kInconclusive, std::move(detail)};
}

HttpGetOptions ProbeOptions(std::chrono::milliseconds timeout) {
  HttpGetOptions options;
  options.allow_http = true;  // Services on loopback and private networks speak plain HTTP.
  options.timeout = timeout;
  options.max_bytes = 1 << 20;
  return options;
}

// The JSON value's text as a check compares it: a string's content, else
// its JSON form (42, true, null).
std::string ValueText(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

bool JsonEquals(const nlohmann::json& v, const std::string& expected) {
  if (v.is_number()) {
    char* end = nullptr;
    double want = std::strtod(expected.c_str(), &end);
    if (end == expected.c_str() + expected.size() && !expected.empty()) {
      return v.get<double>() == want;
    }
  }
  return ValueText(v) == expected;
}

Measurement CheckJson(const HttpCheck& check, const std::string& body) {
  BoundedJson parsed = ParseBoundedJson(body);
  if (parsed.error != JsonParseError::kNone) return Fail("the body is not JSON");
  const nlohmann::json* at = &parsed.value;
  const std::vector<JsonPathStep> steps =
      ParseJsonPath(check.json_path).value_or(std::vector<JsonPathStep>());
  for (const JsonPathStep& step : steps) {
    if (!step.key.empty() && at->is_object() && at->contains(step.key)) {
      at = &(*at)[step.key];
    } else if (step.key.empty() && at->is_array() && step.index >= 0 &&
               static_cast<size_t>(step.index) < at->size()) {
      at = &(*at)[step.index];
    } else {
      return Fail(check.json_path + " is not in the body");
    }
  }
  // What the target answered is not quoted: a check reaches what the server
  // can reach, and its log is readable by whoever reads the project's jobs.
  if (!JsonEquals(*at, check.json_equals)) {
    return Fail(check.json_path + " is not '" + check.json_equals + "'");
  }
  return Pass("");
}

}  // namespace

Measurement MeasureHttp(const HttpCheck& check, std::chrono::milliseconds timeout) {
  StatusOr<HttpGetResult> got = HttpGet(check.url, ProbeOptions(timeout));
  if (!got.ok()) return Fail(got.status().message());
  std::string seen = "HTTP " + std::to_string(got->status);
  bool status_ok =
      check.status ? got->status == *check.status : got->status >= 200 && got->status < 300;
  if (!status_ok) {
    return Fail(seen + ", expected " +
                (check.status ? std::to_string(*check.status) : std::string("2xx")));
  }
  if (!check.body.empty()) {
    RE2 re(check.body, RE2::Quiet);
    if (!re.ok() || !RE2::PartialMatch(got->body, re)) {
      return Fail(seen + ", the body does not match /" + check.body + "/");
    }
  }
  if (!check.json_path.empty()) {
    Measurement json = CheckJson(check, got->body);
    if (json.outcome != CheckOutcome::kPass) return Fail(seen + ", " + json.detail);
  }
  return Pass(seen);
}

Measurement MeasureTcp(const TcpCheck& check, std::chrono::milliseconds timeout) {
  size_t colon = check.address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Fail("'" + check.address + "' is not host:port");
  }
  std::string host = check.address.substr(0, colon);
  std::string port = check.address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Fail("cannot resolve " + check.address + ": " + gai_strerror(rc));
  }
  std::string error = "no address";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      error = std::strerror(errno);
      continue;
    }
    int rc = connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
      error = std::strerror(errno);
      continue;
    }
    if (rc != 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd.get(), POLLOUT, 0};
      int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready == 0) {
        error = "no connection within " + std::to_string(timeout.count()) + " ms";
        break;
      }
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (ready < 0 || so_error != 0) {
        error = std::strerror(ready < 0 ? errno : so_error);
        continue;
      }
    }
    freeaddrinfo(found);
    return Pass("connected to " + check.address);
  }
  freeaddrinfo(found);
  return Fail("cannot connect to " + check.address + ": " + error);
}

Measurement MeasurePrometheus(const PrometheusCheck& check, std::chrono::milliseconds timeout) {
  std::string url = check.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/api/v1/query?query=" + PercentEncode(check.query);
  StatusOr<HttpGetResult> got = HttpGet(url, ProbeOptions(timeout));
  if (!got.ok()) return Fail(got.status().message());
  BoundedJson parsed = ParseBoundedJson(got->body);
  const nlohmann::json& v = parsed.value;
  if (parsed.error != JsonParseError::kNone || !v.is_object()) {
    return Fail("HTTP " + std::to_string(got->status) + ": not a Prometheus API answer");
  }
  if (v.value("status", "") != "success") {
    std::string error = "no result";
    if (v.contains("error") && v["error"].is_string()) error = v["error"].get<std::string>();
    return Fail("query failed (HTTP " + std::to_string(got->status) + "): " + error);
  }
  const nlohmann::json empty;
  const nlohmann::json& data = v.contains("data") && v["data"].is_object() ? v["data"] : empty;
  const nlohmann::json& result = data.contains("result") ? data["result"] : empty;
  std::string type = data.is_object() ? data.value("resultType", "") : "";
  // A sample is [time, "value"].
  std::vector<nlohmann::json> samples;
  if (type == "scalar") {
    samples.push_back(result);
  } else if (type == "vector" && result.is_array()) {
    for (const nlohmann::json& series : result) {
      if (series.is_object() && series.contains("value")) samples.push_back(series["value"]);
    }
  } else {
    return Fail("the query's result is a " + (type.empty() ? "nothing" : type) +
                ", not a vector or scalar");
  }
  if (samples.empty()) return Inconclusive("the query returned no samples");
  std::string values;
  bool all_hold = true;
  for (const nlohmann::json& sample : samples) {
    if (!sample.is_array() || sample.size() != 2 || !sample[1].is_string()) {
      return Fail("a sample is not [time, value]");
    }
    const std::string text = sample[1].get<std::string>();
    double x = std::strtod(text.c_str(), nullptr);
    if (std::isnan(x)) return Inconclusive("the query returned NaN");
    if (!values.empty()) values += ", ";
    values += text;
    all_hold = all_hold && check.condition.Holds(x);
  }
  std::string seen = "value " + values;
  if (!all_hold) return Fail(seen + ", not " + check.condition.text);
  return Pass(seen);
}

}  // namespace slipway
