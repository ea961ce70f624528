// GitLab's services: for the sandbox executor: the keyword read, the host
// names a service answers to, and the wait for it to listen. The session
// (sandbox.cc) starts each service in the attempt's network namespace
// before the job's scripts and stops it after after_script.
// docs/sandbox.md, "Services".
#ifndef SLIPWAY_EXEC_SANDBOX_SERVICES_H_
#define SLIPWAY_EXEC_SANDBOX_SERVICES_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/node.h"
#include "config/variables.h"
#include "exec/image_source.h"
#include "util/status.h"

namespace slipway {

struct ServiceKeyword {
  ImageRequest request;
  std::vector<std::string> aliases;                    // alias:, split at commas and spaces.
  std::optional<std::vector<std::string>> entrypoint;  // Set: replaces the image's.
  std::optional<std::vector<std::string>> command;     // Set: replaces the image's Cmd.
  std::vector<std::string> variables;                  // NAME=value, service-only.
};

// services: a list of image names or maps (name, alias, entrypoint,
// command, variables, pull_policy); names and values expanded with the
// job's variables. Errors name the key and its position.
StatusOr<std::vector<ServiceKeyword>> ParseServices(const Node& node,
                                                    const VariableList& variables);

// The host names GitLab documents for a service: the image name without
// its tag or digest with '/' as "__", the same with '/' as "-", then the
// aliases.
std::vector<std::string> ServiceHostNames(const ServiceKeyword& service);

// The port to wait for: the service's (or job's) HEALTHCHECK_TCP_PORT, as
// GitLab Runner's Kubernetes executor does (slipway, like it, does not know
// an image's exposed ports); 0 when none.
int ServiceHealthPort(const ServiceKeyword& service, const VariableList& job_variables);

// Polls 127.0.0.1:port in the network namespace at netns (a path) every
// 100 ms until a connection succeeds (true), deadline passes or gone()
// returns true (false): gone() is asked between attempts, so a cancel it
// reports ends the wait within 100 ms.
bool WaitForTcpPort(const std::string& netns, int port,
                    std::chrono::steady_clock::time_point deadline,
                    const std::function<bool()>& gone);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_SERVICES_H_
