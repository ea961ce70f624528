// The measurements of deployment checks that slipway takes itself, over the
// network (deploy_verifier.h runs them; command checks run in the job's
// session instead). Each is bounded by timeout, never throws, and says what
// it saw. The check's strings are already expanded.
#ifndef SLIPWAY_EXEC_CHECK_PROBES_H_
#define SLIPWAY_EXEC_CHECK_PROBES_H_

#include <chrono>
#include <string>

#include "exec/deploy_verifier.h"
#include "pipeline/deploy_checks.h"

namespace slipway {

// GET url: the status (check.status, else any 2xx), then the body regex,
// then the JSON value at json_path against json_equals.
Measurement MeasureHttp(const HttpCheck& check, std::chrono::milliseconds timeout);
// A TCP connection to host:port that opens within timeout.
Measurement MeasureTcp(const TcpCheck& check, std::chrono::milliseconds timeout);
// Prometheus' instant query API (GET <url>/api/v1/query?query=...): every
// sample of a vector (or the scalar) must meet the condition. An empty
// result or a NaN sample is inconclusive, as in Argo Rollouts.
Measurement MeasurePrometheus(const PrometheusCheck& check, std::chrono::milliseconds timeout);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_CHECK_PROBES_H_
