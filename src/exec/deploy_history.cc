#include "exec/deploy_history.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "exec/file_tree.h"
#include "util/bounded_json.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json ToJson(const LocalDeployment& d) {
  json checks = json::parse(d.checks, nullptr, false);
  return {{"id", d.id},
          {"environment", d.environment},
          {"run", d.run},
          {"job", d.job},
          {"commit", d.commit},
          {"status", d.status},
          {"finished_at", d.finished_at},
          {"checks", checks.is_discarded() ? json::array() : checks},
          {"rollback_of", d.rollback_of ? json(*d.rollback_of) : json(nullptr)}};
}

LocalDeployment FromJson(const json& j) {
  LocalDeployment d;
  d.id = j.value("id", int64_t{0});
  d.environment = j.value("environment", "");
  d.run = j.value("run", int64_t{0});
  d.job = j.value("job", "");
  d.commit = j.value("commit", "");
  d.status = j.value("status", "");
  d.finished_at = j.value("finished_at", "");
  d.checks = j.contains("checks") ? j["checks"].dump() : "[]";
  if (j.contains("rollback_of") && j["rollback_of"].is_number_integer()) {
    d.rollback_of = j["rollback_of"].get<int64_t>();
  }
  return d;
}

StatusOr<std::vector<LocalDeployment>> Parse(const std::string& path, const std::string& text) {
  BoundedJson parsed = ParseBoundedJson(text);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object() ||
      !parsed.value.contains("deployments") || !parsed.value["deployments"].is_array()) {
    return Status::Error(path + ": not a deployment history");
  }
  std::vector<LocalDeployment> out;
  for (const json& j : parsed.value["deployments"]) {
    if (j.is_object()) out.push_back(FromJson(j));
  }
  return out;
}

}  // namespace

DeployHistory::DeployHistory(const std::string& project_dir)
    : path_(project_dir + "/.slipway/deployments.json") {}

StatusOr<std::vector<LocalDeployment>> DeployHistory::Read() const {
  if (access(path_.c_str(), F_OK) != 0) return std::vector<LocalDeployment>();
  StatusOr<std::string> text = ReadFile(path_);
  if (!text.ok()) return text.status();
  return Parse(path_, *text);
}

StatusOr<int64_t> DeployHistory::Append(LocalDeployment deployment) {
  // Two runs of one project may finish at once: one writer at a time.
  UniqueFd lock(open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid() || flock(lock.get(), LOCK_EX) != 0) {
    return Status::Error("cannot lock " + path_ + ".lock");
  }
  StatusOr<std::vector<LocalDeployment>> all = Read();
  if (!all.ok()) return all.status();
  deployment.id = all->empty() ? 1 : all->back().id + 1;
  all->push_back(deployment);
  json out = {{"deployments", json::array()}};
  for (const LocalDeployment& d : *all) out["deployments"].push_back(ToJson(d));
  const std::string tmp = path_ + ".tmp";
  Status written = WriteFile(tmp, out.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  if (!written.ok()) return written;
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::Error("cannot replace " + path_);
  }
  return deployment.id;
}

std::optional<LocalDeployment> DeployHistory::LastSuccessful(
    const std::vector<LocalDeployment>& all, const std::string& environment, int64_t before_id) {
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (before_id != 0 && it->id >= before_id) continue;
    if (it->environment == environment && it->status == "success" && !it->commit.empty()) {
      return *it;
    }
  }
  return std::nullopt;
}

}  // namespace slipway
