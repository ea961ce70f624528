#include "store/ci_status.h"

#include <array>
#include <set>
#include <utility>

namespace slipway {
namespace {

constexpr std::array<std::pair<CiStatus, const char*>, 11> kNames = {{
    {CiStatus::kCreated, "created"},
    {CiStatus::kWaitingForResource, "waiting_for_resource"},
    {CiStatus::kPreparing, "preparing"},
    {CiStatus::kPending, "pending"},
    {CiStatus::kRunning, "running"},
    {CiStatus::kSuccess, "success"},
    {CiStatus::kFailed, "failed"},
    {CiStatus::kCanceled, "canceled"},
    {CiStatus::kSkipped, "skipped"},
    {CiStatus::kManual, "manual"},
    {CiStatus::kScheduled, "scheduled"},
}};

}  // namespace

const char* CiStatusName(CiStatus s) {
  for (const auto& [status, name] : kNames) {
    if (status == s) return name;
  }
  return "created";
}

std::optional<CiStatus> ParseCiStatus(std::string_view name) {
  for (const auto& [status, n] : kNames) {
    if (name == n) return status;
  }
  return std::nullopt;
}

bool IsFinished(CiStatus s) {
  return s == CiStatus::kSuccess || s == CiStatus::kFailed || s == CiStatus::kCanceled;
}

bool IsActive(CiStatus s) {
  return s == CiStatus::kCreated || s == CiStatus::kWaitingForResource ||
         s == CiStatus::kPreparing || s == CiStatus::kPending || s == CiStatus::kRunning;
}

// The union of GitLab's CommitStatus and Ci::Build events: process
// (skipped/manual -> created), enqueue (-> pending), request_resource,
// prepare, run (pending -> running), skip, drop (-> failed), success,
// cancel, actionize (created -> manual), schedule (created -> scheduled) and
// unschedule (scheduled -> manual).
bool JobTransitionAllowed(CiStatus from, CiStatus to) {
  using S = CiStatus;
  switch (from) {
    case S::kCreated:
      return to != S::kCreated && to != S::kRunning;
    case S::kWaitingForResource:
      return to == S::kPreparing || to == S::kPending || to == S::kSkipped ||
             to == S::kFailed || to == S::kSuccess || to == S::kCanceled;
    case S::kPreparing:
      return to == S::kPending || to == S::kRunning || to == S::kSkipped ||
             to == S::kFailed || to == S::kSuccess || to == S::kCanceled;
    case S::kPending:
      return to == S::kRunning || to == S::kSkipped || to == S::kFailed ||
             to == S::kSuccess || to == S::kCanceled;
    case S::kRunning:
      return to == S::kSuccess || to == S::kFailed || to == S::kCanceled;
    case S::kManual:
      return to == S::kCreated || to == S::kPending || to == S::kFailed ||
             to == S::kCanceled;
    case S::kScheduled:
      return to == S::kManual || to == S::kPending || to == S::kFailed ||
             to == S::kCanceled;
    case S::kSkipped:
      return to == S::kCreated || to == S::kPending;
    case S::kSuccess:
    case S::kFailed:
    case S::kCanceled:
      return false;
  }
  return false;
}

CiStatus CompositeStatus(const std::vector<StatusEntry>& jobs) {
  using S = CiStatus;
  std::set<S> set;
  bool warnings = false;
  for (const StatusEntry& job : jobs) {
    bool failed_like = job.status == S::kFailed || job.status == S::kCanceled;
    if (job.allow_failure && failed_like) warnings = true;
    if (job.allow_failure && (failed_like || job.status == S::kManual)) continue;
    set.insert(job.status);
  }
  auto only_of = [&](std::initializer_list<S> names) {
    size_t matching = 0;
    for (S s : names) matching += set.count(s);
    return matching == set.size();
  };
  auto any_of = [&](std::initializer_list<S> names) {
    for (S s : names) {
      if (set.count(s) > 0) return true;
    }
    return false;
  };
  if (set.empty() || only_of({S::kSkipped})) return warnings ? S::kSuccess : S::kSkipped;
  if (only_of({S::kSuccess, S::kSkipped})) return S::kSuccess;
  if (only_of({S::kCreated})) return S::kCreated;
  if (only_of({S::kPreparing})) return S::kPreparing;
  if (only_of({S::kSuccess, S::kSkipped, S::kCanceled})) return S::kCanceled;
  if (only_of({S::kCreated, S::kSkipped, S::kPending})) return S::kPending;
  if (any_of({S::kRunning, S::kPending})) return S::kRunning;
  if (any_of({S::kWaitingForResource})) return S::kWaitingForResource;
  if (any_of({S::kManual})) return S::kManual;
  if (any_of({S::kScheduled})) return S::kScheduled;
  if (any_of({S::kPreparing})) return S::kPreparing;
  if (any_of({S::kCreated})) return S::kRunning;
  return S::kFailed;
}

}  // namespace slipway
