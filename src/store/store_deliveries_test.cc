// Claims of events among servers sharing one database (delivery_claims.h)
// against both backends, with two stores (two connections, as two servers
// have) where the question is who sends.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/delivery_claims.h"
#include "store/store_test_backend.h"

namespace slipway {
namespace {

class StoreDeliveriesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    claims_ = DeliveryClaimsOf(store_.get());
    ASSERT_NE(claims_, nullptr);
    auto opened = OpenStore(url_, Options());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    other_store_ = std::move(*opened);
    other_ = DeliveryClaimsOf(other_store_.get());
    ASSERT_NE(other_, nullptr);
  }

  static DeliveryClaim Claim(const std::string& subject, const std::string& state,
                             int64_t version) {
    DeliveryClaim claim;
    claim.publisher = "project_hook";
    claim.subject = subject;
    claim.state = state;
    claim.version = version;
    claim.project_id = 7;
    claim.payload = "{\"state\":\"" + state + "\"}";
    return claim;
  }

  DeliveryClaims* claims_ = nullptr;
  std::unique_ptr<Store> other_store_;
  DeliveryClaims* other_ = nullptr;
};

TEST_P(StoreDeliveriesTest, EachStateOfASubjectIsClaimedOnce) {
  EXPECT_TRUE(*claims_->ClaimDelivery(Claim("pipeline:1", "running", 100), "a", 5000));
  EXPECT_FALSE(*other_->ClaimDelivery(Claim("pipeline:1", "running", 100), "b", 5000));
  // The same state read later (the row was touched, the status not).
  EXPECT_FALSE(*other_->ClaimDelivery(Claim("pipeline:1", "running", 150), "b", 5000));
  // The next state goes to whoever claims it first.
  EXPECT_TRUE(*other_->ClaimDelivery(Claim("pipeline:1", "success", 200), "b", 5000));
  EXPECT_FALSE(*claims_->ClaimDelivery(Claim("pipeline:1", "success", 200), "a", 5000));
  // A server that read the pipeline before it succeeded cannot send the
  // older state after the newer one.
  EXPECT_FALSE(*claims_->ClaimDelivery(Claim("pipeline:1", "running", 150), "a", 5000));
  // A retry makes it run again: a new change, claimed again.
  EXPECT_TRUE(*claims_->ClaimDelivery(Claim("pipeline:1", "running", 300), "a", 5000));
  // Other subjects and publishers are their own.
  EXPECT_TRUE(*claims_->ClaimDelivery(Claim("job:1", "running", 100), "a", 5000));
  DeliveryClaim status = Claim("pipeline:1", "running", 300);
  status.publisher = "commit_status";
  EXPECT_TRUE(*other_->ClaimDelivery(status, "b", 5000));
}

TEST_P(StoreDeliveriesTest, ServersClaimingAtOnceSendEachEventOnce) {
  constexpr int kEvents = 60;
  std::atomic<int> won{0};
  auto claim_all = [&](DeliveryClaims* claims, const std::string& owner) {
    for (int i = 0; i < kEvents; ++i) {
      for (const char* state : {"pending", "running", "success"}) {
        int64_t version = std::string(state) == "pending"   ? 1
                          : std::string(state) == "running" ? 2
                                                            : 3;
        StatusOr<bool> mine =
            claims->ClaimDelivery(Claim("job:" + std::to_string(i), state, version), owner, 5000);
        ASSERT_TRUE(mine.ok()) << mine.status().message();
        if (*mine) ++won;
      }
    }
  };
  std::thread a(claim_all, claims_, "a");
  std::thread b(claim_all, other_, "b");
  a.join();
  b.join();
  EXPECT_EQ(won.load(), kEvents * 3);
}

TEST_P(StoreDeliveriesTest, AnUnsentClaimIsTakenOverOnceItsLeaseEnds) {
  ASSERT_TRUE(*claims_->ClaimDelivery(Claim("job:1", "success", 100), "a", 5000));
  ASSERT_TRUE(*claims_->ClaimDelivery(Claim("job:2", "success", 100), "a", 5000));
  ASSERT_TRUE(claims_->FinishDelivery("project_hook", "job:2", "success", "a", 1000).ok());
  // Still a's while its lease runs; a renews it.
  EXPECT_TRUE(other_->TakeOverDeliveries("project_hook", "b", 4000, 9000, 10)->empty());
  ASSERT_TRUE(claims_->RenewDeliveries("project_hook", "a", 8000).ok());
  EXPECT_TRUE(other_->TakeOverDeliveries("project_hook", "b", 6000, 11000, 10)->empty());
  // a dies: after its lease, b (and only b) takes job:1 over, with what a
  // claimed it with; job:2 was sent.
  auto taken = other_->TakeOverDeliveries("project_hook", "b", 8001, 13000, 10);
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ(taken->at(0).subject, "job:1");
  EXPECT_EQ(taken->at(0).state, "success");
  EXPECT_EQ(taken->at(0).project_id, 7);
  EXPECT_EQ(taken->at(0).payload, "{\"state\":\"success\"}");
  EXPECT_TRUE(claims_->TakeOverDeliveries("project_hook", "c", 8001, 13000, 10)->empty());
  // a's renewals and finish no longer touch it: b holds it.
  ASSERT_TRUE(claims_->RenewDeliveries("project_hook", "a", 20000).ok());
  ASSERT_TRUE(claims_->FinishDelivery("project_hook", "job:1", "success", "a", 9000).ok());
  EXPECT_TRUE(claims_->TakeOverDeliveries("project_hook", "c", 12000, 20000, 10)->empty());
  auto again = claims_->TakeOverDeliveries("project_hook", "c", 13001, 20000, 10);
  ASSERT_EQ(again->size(), 1u);  // b died too.
  ASSERT_TRUE(claims_->FinishDelivery("project_hook", "job:1", "success", "c", 14000).ok());
  EXPECT_TRUE(other_->TakeOverDeliveries("project_hook", "b", 30000, 40000, 10)->empty());
  // Sent claims are forgotten once old; the state is claimable again then.
  ASSERT_TRUE(claims_->PruneDeliveries(14001).ok());
  EXPECT_TRUE(*claims_->ClaimDelivery(Claim("job:1", "success", 100), "a", 50000));
}

SLIPWAY_STORE_TEST_SUITE(StoreDeliveriesTest);

}  // namespace
}  // namespace slipway
