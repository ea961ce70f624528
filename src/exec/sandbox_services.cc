#include "exec/sandbox_services.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "util/unique_fd.h"

namespace slipway {
namespace {

Status KeyError(const Node& node, const std::string& key, const std::string& what) {
  return Status::Error(node.mark.ToString() + ": " + key + " " + what);
}

StatusOr<std::vector<std::string>> Strings(const Node& node, const std::string& key,
                                           const VariableList& variables) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(ExpandVariables(node.scalar, variables));
    return out;
  }
  if (!node.IsSequence()) return KeyError(node, key, "must be a string or a list of strings");
  for (const Node& item : node.items) {
    if (!item.IsScalar()) return KeyError(item, key, "must be a list of strings");
    out.push_back(ExpandVariables(item.scalar, variables));
  }
  return out;
}

std::optional<std::string> Scalar(const Node& map, const char* key) {
  const Node* value = map.Find(key);
  if (value == nullptr || !value->IsScalar()) return std::nullopt;
  return value->scalar;
}

}  // namespace

StatusOr<std::vector<ServiceKeyword>> ParseServices(const Node& node,
                                                    const VariableList& variables) {
  if (!node.IsSequence()) return KeyError(node, "services:", "must be a list");
  std::vector<ServiceKeyword> out;
  for (const Node& item : node.items) {
    ServiceKeyword service;
    const Node* name = item.IsMap() ? item.Find("name") : &item;
    if (name == nullptr || !name->IsScalar() || name->scalar.empty()) {
      return KeyError(item, "services:name", "must be an image name");
    }
    service.request.name = ExpandVariables(name->scalar, variables);
    if (item.IsMap()) {
      if (std::optional<std::string> alias = Scalar(item, "alias")) {
        std::string word;
        for (char c : ExpandVariables(*alias, variables) + ",") {
          if (c == ',' || c == ' ') {
            if (!word.empty()) service.aliases.push_back(word);
            word.clear();
          } else {
            word += c;
          }
        }
      }
      for (const char* key : {"entrypoint", "command"}) {
        const Node* value = item.Find(key);
        if (value == nullptr) continue;
        StatusOr<std::vector<std::string>> list =
            Strings(*value, std::string("services:") + key, variables);
        if (!list.ok()) return list.status();
        (std::string_view(key) == "entrypoint" ? service.entrypoint : service.command) = *list;
      }
      if (std::optional<std::string> policy = Scalar(item, "pull_policy")) {
        service.request.pull_policy = *policy;
      }
      if (const Node* vars = item.Find("variables")) {
        if (!vars->IsMap()) return KeyError(*vars, "services:variables", "must be a map");
        for (const MapEntry& entry : vars->entries) {
          if (!entry.value.IsScalar()) {
            return KeyError(entry.value, "services:variables:" + entry.key, "must be a string");
          }
          service.variables.push_back(entry.key + "=" +
                                      ExpandVariables(entry.value.scalar, variables));
        }
      }
    }
    out.push_back(std::move(service));
  }
  return out;
}

std::vector<std::string> ServiceHostNames(const ServiceKeyword& service) {
  std::string name = service.request.name;
  name = name.substr(0, name.find('@'));
  // A ':' after the last '/' starts the tag (one before it is a port).
  size_t slash = name.find_last_of('/');
  size_t colon = name.find(':', slash == std::string::npos ? 0 : slash);
  name = name.substr(0, colon);
  std::string underscores, dashes;
  for (char c : name) {
    underscores += c == '/' ? std::string("__") : std::string(1, c);
    dashes += c == '/' ? '-' : c;
  }
  std::vector<std::string> names = {underscores};
  if (dashes != underscores) names.push_back(dashes);
  names.insert(names.end(), service.aliases.begin(), service.aliases.end());
  return names;
}

int ServiceHealthPort(const ServiceKeyword& service, const VariableList& job_variables) {
  std::string port;
  if (const Variable* v = job_variables.Find("HEALTHCHECK_TCP_PORT")) port = v->value;
  for (const std::string& entry : service.variables) {
    if (entry.rfind("HEALTHCHECK_TCP_PORT=", 0) == 0) port = entry.substr(21);
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  int n = std::stoi(port);
  return n > 0 && n < 65536 ? n : 0;
}

bool WaitForTcpPort(const std::string& netns, int port,
                    std::chrono::steady_clock::time_point deadline,
                    const std::function<bool()>& gone) {
  bool up = false;
  // A thread of its own enters the namespace (see sandbox_network.cc).
  std::thread([&] {
    UniqueFd ns(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid() || setns(ns.get(), CLONE_NEWNET) != 0) return;
    while (!up && !gone() && std::chrono::steady_clock::now() < deadline) {
      UniqueFd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      up = connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }).join();
  return up;
}

}  // namespace slipway
