#include "pipeline/ci_status.h"

#include <array>
#include <ostream>
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

// StatusSet's bits: one per CiStatus, and two for what allow_failure makes
// of a status.
constexpr uint32_t Bit(CiStatus s) { return 1u << static_cast<int>(s); }
constexpr uint32_t kWarnings = 1u << 11;  // GitLab's success_with_warnings.
constexpr uint32_t kIgnored = 1u << 12;   // An allowed-to-fail manual job.

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

std::ostream& operator<<(std::ostream& out, CiStatus s) { return out << CiStatusName(s); }

bool IsFinished(CiStatus s) {
  return s == CiStatus::kSuccess || s == CiStatus::kFailed || s == CiStatus::kCanceled;
}

bool IsCompleted(CiStatus s) { return IsFinished(s) || s == CiStatus::kSkipped; }

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
      return to == S::kPreparing || to == S::kPending || to == S::kSkipped || to == S::kFailed ||
             to == S::kSuccess || to == S::kCanceled;
    case S::kPreparing:
      return to == S::kPending || to == S::kRunning || to == S::kSkipped || to == S::kFailed ||
             to == S::kSuccess || to == S::kCanceled;
    case S::kPending:
      return to == S::kRunning || to == S::kSkipped || to == S::kFailed || to == S::kSuccess ||
             to == S::kCanceled;
    case S::kRunning:
      return to == S::kSuccess || to == S::kFailed || to == S::kCanceled;
    case S::kManual:
      return to == S::kCreated || to == S::kPending || to == S::kFailed || to == S::kCanceled;
    case S::kScheduled:
      return to == S::kManual || to == S::kPending || to == S::kFailed || to == S::kCanceled;
    case S::kSkipped:
      return to == S::kCreated || to == S::kPending;
    case S::kSuccess:
    case S::kFailed:
    case S::kCanceled:
      return false;
  }
  return false;
}

bool JobRetryable(CiStatus s) { return IsFinished(s); }

bool JobCancelable(CiStatus s) { return IsActive(s) || s == CiStatus::kScheduled; }

bool JobPlayable(CiStatus s) { return s == CiStatus::kManual; }

void StatusSet::Add(CiStatus s, bool allow_failure) {
  if (allow_failure && (s == CiStatus::kFailed || s == CiStatus::kCanceled)) {
    bits_ |= kWarnings;
  } else if (allow_failure && s == CiStatus::kManual) {
    bits_ |= kIgnored;
  } else {
    bits_ |= Bit(s);
  }
}

// Gitlab::Ci::Status::Composite#status: the order of the tests matters.
std::optional<CiStatus> StatusSet::Composite(bool dag) const {
  using S = CiStatus;
  if (bits_ == 0) return std::nullopt;
  auto only_of = [&](uint32_t mask) { return (bits_ & ~mask) == 0; };
  auto any_of = [&](uint32_t mask) { return (bits_ & mask) != 0; };
  const uint32_t passed = kWarnings | kIgnored;
  if (dag && any_of(Bit(S::kSkipped) | kIgnored)) return S::kSkipped;
  if (dag && !only_of(Bit(S::kSuccess) | Bit(S::kFailed) | Bit(S::kCanceled) | Bit(S::kSkipped) |
                      kWarnings)) {
    return S::kPending;
  }
  if (only_of(Bit(S::kSkipped) | kIgnored)) return S::kSkipped;
  if (only_of(Bit(S::kSuccess) | Bit(S::kSkipped) | passed)) return S::kSuccess;
  if (only_of(Bit(S::kCreated) | passed)) return S::kCreated;
  if (only_of(Bit(S::kPreparing) | passed)) return S::kPreparing;
  if (only_of(Bit(S::kCanceled) | Bit(S::kSuccess) | Bit(S::kSkipped) | passed)) {
    return S::kCanceled;
  }
  if (only_of(Bit(S::kPending) | Bit(S::kCreated) | Bit(S::kSkipped) | passed)) {
    return S::kPending;
  }
  if (any_of(Bit(S::kRunning) | Bit(S::kPending))) return S::kRunning;
  if (any_of(Bit(S::kWaitingForResource))) return S::kWaitingForResource;
  if (any_of(Bit(S::kManual))) return S::kManual;
  if (any_of(Bit(S::kScheduled))) return S::kScheduled;
  if (any_of(Bit(S::kPreparing))) return S::kPreparing;
  if (any_of(Bit(S::kCreated))) return S::kRunning;
  return S::kFailed;
}

CiStatus CompositeStatus(const std::vector<StatusEntry>& jobs) {
  StatusSet set;
  for (const StatusEntry& job : jobs) set.Add(job.status, job.allow_failure);
  return set.Composite().value_or(CiStatus::kSkipped);
}

}  // namespace slipway
