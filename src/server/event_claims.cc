#include "server/event_claims.h"

#include <memory>
#include <random>

#include "util/logger.h"

namespace slipway {
namespace {

std::string ProcessSuffix() {
  std::random_device random;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08x%08x", random(), random());
  return hex;
}

// Sent claims are forgotten after a week (a subject a scan still sees
// after that, such as a pipeline running for more than a week, could be
// claimed again).
constexpr int64_t kKeepSentMs = int64_t{7} * 24 * 3600 * 1000;
constexpr int kTakeOverBatch = 100;

}  // namespace

EventClaims::EventClaims(Store* store, std::string publisher, ClaimOptions options,
                         const Clock* clock)
    : claims_(DeliveryClaimsOf(store)),
      publisher_(std::move(publisher)),
      options_(std::move(options)),
      clock_(clock != nullptr ? clock : MachineClock()),
      owner_((options_.replica_id.empty() ? "" : options_.replica_id + "/") + ProcessSuffix()) {}

int64_t EventClaims::NowMs() const { return UnixMillis(clock_->WallNow()); }

StatusOr<bool> EventClaims::Claim(DeliveryClaim claim, int64_t now_ms) {
  if (claims_ == nullptr) return true;
  claim.publisher = publisher_;
  return claims_->ClaimDelivery(claim, owner_, now_ms + options_.lease_ms);
}

void EventClaims::Finish(const std::string& subject, const std::string& state) {
  if (claims_ == nullptr) return;
  Status finished = claims_->FinishDelivery(publisher_, subject, state, owner_, NowMs());
  if (!finished.ok()) {
    // Unrecorded, the claim is sent again once its lease ends.
    LogLine(LogLevel::kError, "delivery_claim_error")
        .Str("publisher", publisher_)
        .Str("subject", subject)
        .Str("error", finished.message());
  }
}

std::function<void()> EventClaims::Completion(const DeliveryClaim& claim, int n,
                                              const std::string& key) {
  std::pair<std::string, std::string> mine{claim.subject, claim.state};
  if (!key.empty()) {
    std::pair<std::string, std::string> replaced;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, added] = by_key_.try_emplace(key, mine);
      if (!added && it->second != mine) replaced = std::exchange(it->second, mine);
    }
    if (!replaced.first.empty()) Finish(replaced.first, replaced.second);
  }
  if (n <= 0) {
    Finish(mine.first, mine.second);
    return [] {};
  }
  auto left = std::make_shared<int>(n);
  return [this, left, mine, key] {
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = --*left == 0;
      if (last && !key.empty()) {
        auto it = by_key_.find(key);
        if (it != by_key_.end() && it->second == mine) by_key_.erase(it);
      }
    }
    if (last) Finish(mine.first, mine.second);
  };
}

StatusOr<std::vector<DeliveryClaim>> EventClaims::Tick(int64_t now_ms) {
  if (claims_ == nullptr) return std::vector<DeliveryClaim>();
  const int64_t expires_at = now_ms + options_.lease_ms;
  if (Status renewed = claims_->RenewDeliveries(publisher_, owner_, expires_at); !renewed.ok()) {
    return renewed;
  }
  if (++ticks_ % 3600 == 1) {
    if (Status pruned = claims_->PruneDeliveries(now_ms - kKeepSentMs); !pruned.ok()) {
      return pruned;
    }
  }
  StatusOr<std::vector<DeliveryClaim>> taken =
      claims_->TakeOverDeliveries(publisher_, owner_, now_ms, expires_at, kTakeOverBatch);
  if (!taken.ok()) return taken.status();
  for (const DeliveryClaim& claim : *taken) {
    LogLine(LogLevel::kWarn, "delivery_taken_over")
        .Str("publisher", publisher_)
        .Str("subject", claim.subject)
        .Str("state", claim.state)
        .Str("message", "the server that claimed it did not send it within its lease");
  }
  return taken;
}

}  // namespace slipway
