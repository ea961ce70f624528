// Tokens, schedules and webhook deliveries against both backends.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "store/store.h"
#include "store/store_test_backend.h"
#include "store/token_hash.h"

namespace slipway {
namespace {

class StoreAdminTest : public StoreTest {
 protected:
  std::string FileBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  ScheduleRecord NewSchedule(int64_t project_id, std::optional<int64_t> next_run_at) {
    ScheduleRecord s;
    s.project_id = project_id;
    s.description = "nightly";
    s.cron = "0 3 * * *";
    s.cron_timezone = "Europe/Berlin";
    s.ref = "main";
    s.next_run_at = next_run_at;
    return s;
  }

  int64_t AddProject() {
    ProjectRecord p;
    p.name = "app";
    p.path_with_namespace = "group/app";
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }
};

TEST_P(StoreAdminTest, TokensAreStoredOnlyAsTheirHash) {
  auto created = store_->CreateToken("ci-bot", TokenRole::kRun);
  ASSERT_TRUE(created.ok()) << created.status().message();
  const std::string& raw = created->raw;
  ASSERT_EQ(raw.size(), 44u);
  EXPECT_EQ(raw.substr(0, 4), "slw_");
  EXPECT_EQ(created->record.token_sha256, Sha256Hex(raw));
  EXPECT_EQ(created->record.role, TokenRole::kRun);
  EXPECT_EQ(created->record.created_at, NowMs());
  EXPECT_NE(store_->CreateToken("other", TokenRole::kRead)->raw, raw);

  // The raw token is nowhere in the database.
  auto db = RawDatabase();
  auto rows =
      db->Query("SELECT COUNT(*) FROM tokens WHERE name = ? OR token_sha256 = ?", {raw, raw});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->at(0).Int(0), 0);
  if (GetParam() == Backend::kSqlite) {
    store_.reset();
    db.reset();
    std::string bytes = FileBytes(dir_ + "/slipway.db") + FileBytes(dir_ + "/slipway.db-wal");
    EXPECT_NE(bytes.find(Sha256Hex(raw)), std::string::npos);
    EXPECT_EQ(bytes.find(raw), std::string::npos);
  }
}

TEST_P(StoreAdminTest, RunnerTokensAreStoredAndRevokedLikeOthers) {
  // Schema version 15 widened the role's CHECK on both backends.
  auto created = store_->CreateToken("gpu-box", TokenRole::kRunner);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto found = store_->LookupToken(created->raw);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->role, TokenRole::kRunner);
  EXPECT_EQ(std::string(TokenRoleName((*found)->role)), "runner");
  ASSERT_TRUE(store_->RevokeToken(created->record.id).ok());
  EXPECT_FALSE(store_->LookupToken(created->raw)->has_value());
  // Tokens made before the rebuild keep their ids: a new one comes after.
  EXPECT_GT(store_->CreateToken("next", TokenRole::kRead)->record.id, created->record.id);
}

TEST_P(StoreAdminTest, LookupFindsLiveTokensAndRecordsUseEveryTenMinutes) {
  auto created = store_->CreateToken("admin", TokenRole::kAdmin);
  ASSERT_TRUE(created.ok());
  clock_.Advance(std::chrono::milliseconds(1000));
  auto found = store_->LookupToken(created->raw);
  ASSERT_TRUE(found.ok() && found->has_value()) << found.status().message();
  EXPECT_EQ((*found)->id, created->record.id);
  EXPECT_EQ((*found)->role, TokenRole::kAdmin);
  EXPECT_EQ((*found)->last_used_at, NowMs());
  int64_t first_use = NowMs();
  clock_.Advance(std::chrono::milliseconds(60 * 1000));
  EXPECT_EQ((*store_->LookupToken(created->raw))->last_used_at, first_use);
  clock_.Advance(std::chrono::milliseconds(10 * 60 * 1000));
  EXPECT_EQ((*store_->LookupToken(created->raw))->last_used_at, NowMs());

  auto wrong = store_->LookupToken(created->raw + "x");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->has_value());
  ASSERT_TRUE(store_->RevokeToken(created->record.id).ok());
  auto revoked = store_->LookupToken(created->raw);
  ASSERT_TRUE(revoked.ok());
  EXPECT_FALSE(revoked->has_value());
  auto listed = store_->ListTokens();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].revoked);
  EXPECT_EQ(store_->RevokeToken(999).message(), "token 999 not found");
  EXPECT_EQ(store_->CreateToken("", TokenRole::kRead).status().message(),
            "token name must not be empty");
}

TEST_P(StoreAdminTest, SchedulesCrud) {
  int64_t project = AddProject();
  ScheduleRecord s = NewSchedule(project, 5000);
  s.variables = {{"NIGHTLY", "1", "env_var"}};
  auto created = store_->CreateSchedule(s);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->cron_timezone, "Europe/Berlin");
  EXPECT_EQ(created->variables, s.variables);
  EXPECT_TRUE(created->active);

  clock_.Advance(std::chrono::milliseconds(10));
  ScheduleRecord changed = *created;
  changed.active = false;
  changed.cron = "*/5 * * * *";
  changed.last_pipeline_id = std::nullopt;
  auto updated = store_->UpdateSchedule(changed);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(updated->updated_at, NowMs());
  auto got = store_->GetSchedule(created->id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->cron, "*/5 * * * *");
  EXPECT_FALSE((*got)->active);
  EXPECT_EQ(store_->ListSchedules(project)->size(), 1u);

  ASSERT_TRUE(store_->DeleteSchedule(created->id).ok());
  EXPECT_FALSE(store_->GetSchedule(created->id)->has_value());
  EXPECT_EQ(store_->DeleteSchedule(created->id).message(),
            "schedule " + std::to_string(created->id) + " not found");
  changed.id = 999;
  EXPECT_EQ(store_->UpdateSchedule(changed).status().message(), "schedule 999 not found");
  ScheduleRecord no_cron = NewSchedule(project, 1);
  no_cron.cron = "";
  EXPECT_EQ(store_->CreateSchedule(no_cron).status().message(), "schedule cron must not be empty");
  ScheduleRecord bad_ref = NewSchedule(project, 1);
  bad_ref.ref = "refs/heads/--upload-pack=x";
  EXPECT_EQ(store_->CreateSchedule(bad_ref).status().message(),
            "schedule ref: invalid branch name '--upload-pack=x': starts with '-'");
  bad_ref.ref = "refs/tags/../v1";
  EXPECT_EQ(store_->CreateSchedule(bad_ref).status().message(),
            "schedule ref: invalid tag name '../v1': contains '..'");
}

TEST_P(StoreAdminTest, WebhookDeliveriesAreTakenOncePerWindowAndProject) {
  int64_t app = AddProject();
  ProjectRecord other_project;
  other_project.name = "other";
  other_project.path_with_namespace = "group/other";
  int64_t other = store_->CreateProject(other_project)->id;
  constexpr int64_t kWindow = 1000;
  auto take = [&](int64_t project, std::vector<std::string> keys, int64_t now,
                  int64_t window = 1000) {
    StatusOr<bool> taken = store_->TakeWebhookDelivery(project, keys, now, window);
    EXPECT_TRUE(taken.ok()) << taken.status().message();
    return taken.ok() && *taken;
  };
  EXPECT_TRUE(take(app, {"delivery:a", "body:1"}, 10'000));
  EXPECT_FALSE(take(app, {"delivery:a", "body:1"}, 10'001));   // The replay.
  EXPECT_FALSE(take(app, {"delivery:b", "body:1"}, 10'002));   // Same body, new id.
  EXPECT_TRUE(take(app, {"delivery:b", "body:2"}, 10'003));    // Nothing of the refused one kept.
  EXPECT_TRUE(take(other, {"delivery:a", "body:1"}, 10'004));  // Another project's keys.
  // Within the window up to its last millisecond, then free again.
  EXPECT_FALSE(take(app, {"delivery:a"}, 11'000));
  EXPECT_TRUE(take(app, {"delivery:a"}, 11'001));
  // A take prunes every key older than the window, also the other
  // project's: afterwards a window reaching back to 0 finds none of them.
  EXPECT_TRUE(take(app, {"delivery:d"}, 20'000));
  EXPECT_TRUE(take(app, {"body:1"}, 20'001, /*window=*/20'001));
  EXPECT_TRUE(take(other, {"delivery:a"}, 20'002, /*window=*/20'002));
  EXPECT_FALSE(take(app, {"delivery:d"}, 20'003, /*window=*/20'003));
  // A delivery that failed is forgotten, so that the forge can send it again.
  EXPECT_TRUE(take(app, {"delivery:c"}, 30'000));
  ASSERT_TRUE(store_->ForgetWebhookDelivery(app, {"delivery:c"}).ok());
  EXPECT_TRUE(take(app, {"delivery:c"}, 30'001));
  // Deliveries belong to a project that exists (a foreign key, ON DELETE
  // CASCADE), on both backends.
  EXPECT_FALSE(store_->TakeWebhookDelivery(999999, {"delivery:x"}, 30'002, kWindow).ok());
}

TEST_P(StoreAdminTest, DueSchedulesAreActiveAndPastTheirNextRun) {
  int64_t project = AddProject();
  int64_t later = store_->CreateSchedule(NewSchedule(project, 2000))->id;
  int64_t sooner = store_->CreateSchedule(NewSchedule(project, 1000))->id;
  ScheduleRecord paused = NewSchedule(project, 500);
  paused.active = false;
  ASSERT_TRUE(store_->CreateSchedule(paused).ok());
  ASSERT_TRUE(store_->CreateSchedule(NewSchedule(project, std::nullopt)).ok());
  ASSERT_TRUE(store_->CreateSchedule(NewSchedule(project, 9000)).ok());

  auto due = store_->DueSchedules(2000);
  ASSERT_TRUE(due.ok()) << due.status().message();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, sooner);
  EXPECT_EQ((*due)[1].id, later);
  EXPECT_TRUE(store_->DueSchedules(999)->empty());
}

SLIPWAY_STORE_TEST_SUITE(StoreAdminTest);

TEST(TokenHashTest, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(OpenStoreTest, ReportsUnusableDatabases) {
  auto empty = OpenStore("sqlite:");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "database path is empty");
  auto missing_dir = OpenStore("/nonexistent-dir/slipway.db");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.status().message(),
            "sqlite: cannot open '/nonexistent-dir/slipway.db': unable to open database file");
  // Port 1 on loopback: nothing listens there.
  auto refused = OpenStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().rfind("postgresql: cannot connect: ", 0), 0u)
      << refused.status().message();
  StoreOptions bad_schema;
  bad_schema.postgres_schema = "x; DROP";
  const char* url = std::getenv("SLIPWAY_TEST_POSTGRES_URL");
  if (url != nullptr && *url != '\0') {
    auto refused_schema = OpenStore(url, bad_schema);
    EXPECT_EQ(refused_schema.status().message(),
              "postgresql: invalid schema name 'x; DROP' (letters, digits and _ only)");
  }
}

}  // namespace
}  // namespace slipway
