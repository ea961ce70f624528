// Secrets at rest (StoreOptions::secrets_key_file) against both backends.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "store/secret_box.h"
#include "store/store.h"
#include "store/store_test_backend.h"

namespace slipway {
namespace {

constexpr char kSecret[] = "webhook-secret-7f3a91";

class StoreSecretsTest : public StoreTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/slipway-keys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    keys_ = tmpl;
    StoreTest::SetUp();  // Opens without a key, as an older version did.
  }
  void TearDown() override {
    StoreTest::TearDown();
    std::filesystem::remove_all(keys_);
  }

  StatusOr<std::unique_ptr<Store>> OpenWithKey(const std::string& key_file) {
    store_.reset();
    secrets_key_file_ = key_file;
    return OpenStore(url_, Options());
  }

  int64_t AddProject(const std::string& path, const std::string& secret) {
    ProjectRecord p;
    p.name = path;
    p.path_with_namespace = path;
    p.repo_url = "/srv/git/" + path;
    p.webhook_secret = secret;
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (created.ok()) {
      EXPECT_EQ(created->webhook_secret, secret);
    }
    return created.ok() ? created->id : 0;
  }

  // A column as stored.
  std::string Stored(const std::string& table, const std::string& column, int64_t id) {
    auto db = RawDatabase();
    auto rows = db->Query("SELECT " + column + " FROM " + table + " WHERE id = ?", {id});
    EXPECT_TRUE(rows.ok() && !rows->empty());
    return rows.ok() && !rows->empty() ? rows->front().Text(0) : "";
  }
  std::string StoredSecret(int64_t id) { return Stored("projects", "webhook_secret", id); }

  // A pipeline and a schedule of project_id with kVariables (none: empty).
  std::pair<int64_t, int64_t> AddPipelineAndSchedule(int64_t project_id, bool with_variables) {
    PipelineRecord p;
    p.project_id = project_id;
    p.ref = "main";
    p.sha = std::string(40, 'a');
    p.source = "api";
    if (with_variables) p.variables = kVariables;
    auto pipeline = store_->CreatePipeline(p, {});
    EXPECT_TRUE(pipeline.ok()) << pipeline.status().message();
    ScheduleRecord s;
    s.project_id = project_id;
    s.cron = "0 3 * * *";
    s.ref = "main";
    if (with_variables) s.variables = kVariables;
    auto schedule = store_->CreateSchedule(s);
    EXPECT_TRUE(schedule.ok()) << schedule.status().message();
    if (!pipeline.ok() || !schedule.ok()) return {0, 0};
    EXPECT_EQ(pipeline->variables, p.variables);
    EXPECT_EQ(schedule->variables, s.variables);
    return {pipeline->id, schedule->id};
  }

  // Every way a pipeline or schedule is read gives the variables back.
  void ExpectVariablesReadBack(int64_t project_id, int64_t pipeline, int64_t schedule) {
    EXPECT_EQ((*store_->GetPipeline(pipeline))->variables, kVariables);
    PipelineFilter filter;
    filter.project_id = project_id;
    filter.sort = "asc";  // The one with variables was made first.
    EXPECT_EQ(store_->ListPipelines(filter)->items.at(0).variables, kVariables);
    EXPECT_EQ(store_->UpdatePipelineStatus(pipeline, CiStatus::kPending)->variables, kVariables);
    EXPECT_EQ((*store_->GetSchedule(schedule))->variables, kVariables);
    EXPECT_EQ(store_->ListSchedules(project_id)->at(0).variables, kVariables);  // By id.
    ScheduleRecord due = *store_->GetSchedule(schedule).value();
    due.next_run_at = 5;
    EXPECT_EQ(store_->UpdateSchedule(due)->variables, kVariables);
    EXPECT_EQ(store_->DueSchedules(10)->at(0).variables, kVariables);
  }

  const std::vector<StoredVariable> kVariables = {
      {"DEPLOY_TOKEN", "deploy-token-5e2b77", "env_var"}, {"KUBECONFIG", "kube: config\n", "file"}};

  // Every byte SQLite keeps on disk (while the store is open, unless closed).
  std::string SqliteBytes() {
    std::string bytes;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::ifstream in(dir_ + "/slipway.db" + suffix, std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return bytes;
  }

  std::string keys_;
};

TEST_P(StoreSecretsTest, WebhookSecretsAreEncryptedAtRestAndReadBackInPlainText) {
  std::string key_file = keys_ + "/secrets.key";
  auto opened = OpenWithKey(key_file);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  EXPECT_TRUE(std::filesystem::exists(key_file));  // Made on first use.
  int64_t id = AddProject("group/app", kSecret);
  int64_t open = AddProject("group/open", "");

  EXPECT_EQ((*store_->GetProject(id))->webhook_secret, kSecret);
  EXPECT_EQ((*store_->GetProjectByPath("group/app"))->webhook_secret, kSecret);
  EXPECT_EQ(store_->ListProjects()->at(0).webhook_secret, kSecret);
  EXPECT_EQ((*store_->GetProject(open))->webhook_secret, "");

  std::string stored = StoredSecret(id);
  EXPECT_TRUE(SecretBox::IsSealed(stored)) << stored;
  EXPECT_EQ(StoredSecret(open), "");  // "No secret" stays visible, as in the API.
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(SqliteBytes().find(kSecret), std::string::npos);
    store_.reset();
    EXPECT_EQ(SqliteBytes().find(kSecret), std::string::npos);
  }
}

TEST_P(StoreSecretsTest, PlainTextOfAnOlderVersionIsEncryptedAtOpen) {
  int64_t id = AddProject("group/app", kSecret);  // No key: stored as given.
  EXPECT_EQ(StoredSecret(id), kSecret);

  auto opened = OpenWithKey(keys_ + "/secrets.key");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  EXPECT_TRUE(SecretBox::IsSealed(StoredSecret(id))) << StoredSecret(id);
  EXPECT_EQ((*store_->GetProject(id))->webhook_secret, kSecret);
  if (GetParam() == Backend::kSqlite) {
    // Not even in freed space or the database file's older pages, as soon as
    // the store is open (not at some later checkpoint).
    EXPECT_EQ(SqliteBytes().find(kSecret), std::string::npos);
  }
  // Opening again changes nothing.
  std::string sealed = StoredSecret(id);
  Reopen();
  EXPECT_EQ(StoredSecret(id), sealed);
}

TEST_P(StoreSecretsTest, AnotherKeyFailsAtOpenAndSaysWhich) {
  std::string key_file = keys_ + "/secrets.key";
  auto opened = OpenWithKey(key_file);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  AddProject("group/app", kSecret);
  std::string first_id = (*SecretBox::ReadKeyFile(key_file))->KeyId();

  std::string other = keys_ + "/other.key";
  StatusOr<SecretBox> other_box = SecretBox::CreateKeyFile(other);
  ASSERT_TRUE(other_box.ok());
  auto wrong = OpenWithKey(other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "the secrets key in '" + other + "' (key id " + other_box->KeyId() +
                ") is not the key this database's secrets are encrypted with (key id " + first_id +
                "): every server and command using this database needs that key's file "
                "(--secrets-key-file)");
  EXPECT_EQ(wrong.status().message().find(kSecret), std::string::npos);

  // A missing key file is not replaced by a new key once the database has one.
  std::string missing = keys_ + "/missing.key";
  auto without = OpenWithKey(missing);
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.status().message(),
            "the secrets key file '" + missing +
                "' does not exist, but this database's secrets are encrypted with a key (key id " +
                first_id +
                "): copy that key's file there from the server that made it, or name "
                "it with --secrets-key-file");
  EXPECT_FALSE(std::filesystem::exists(missing));

  // The right key still works.
  opened = OpenWithKey(key_file);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  EXPECT_EQ(store_->ListProjects()->at(0).webhook_secret, kSecret);
}

TEST_P(StoreSecretsTest, DamagedOrKeylessSecretsAreErrorsNotSilence) {
  std::string key_file = keys_ + "/secrets.key";
  auto opened = OpenWithKey(key_file);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  int64_t id = AddProject("group/app", kSecret);
  std::string sealed = StoredSecret(id);

  // Without the key, the encrypted value is not handed out as if it were
  // the secret.
  secrets_key_file_ = "";
  Reopen();
  auto keyless = store_->GetProject(id);
  ASSERT_FALSE(keyless.ok());
  EXPECT_EQ(keyless.status().message(),
            "project " + std::to_string(id) +
                "'s projects.webhook_secret is encrypted, but the store was opened without a "
                "secrets key");
  EXPECT_FALSE(store_->ListProjects().ok());

  // A changed value fails the next open, naming the project.
  store_.reset();
  std::string changed = sealed;
  changed[10] = changed[10] == 'A' ? 'B' : 'A';
  auto tampered =
      RawDatabase()->Query("UPDATE projects SET webhook_secret = ? WHERE id = ?", {changed, id});
  ASSERT_TRUE(tampered.ok()) << tampered.status().message();
  auto damaged = OpenWithKey(key_file);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().message(),
            "cannot read project " + std::to_string(id) +
                "'s projects.webhook_secret: the encrypted value does not decrypt with this key "
                "(another key, or the value was changed)");
}

TEST_P(StoreSecretsTest, PipelineAndScheduleVariablesAreEncryptedAtRest) {
  auto opened = OpenWithKey(keys_ + "/secrets.key");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  int64_t project = AddProject("group/app", "");
  auto [pipeline, schedule] = AddPipelineAndSchedule(project, true);
  auto [bare_pipeline, bare_schedule] = AddPipelineAndSchedule(project, false);
  ExpectVariablesReadBack(project, pipeline, schedule);

  EXPECT_TRUE(SecretBox::IsSealed(Stored("pipelines", "variables", pipeline)));
  EXPECT_TRUE(SecretBox::IsSealed(Stored("schedules", "variables", schedule)));
  EXPECT_EQ(Stored("pipelines", "variables", bare_pipeline), "[]");
  EXPECT_EQ(Stored("schedules", "variables", bare_schedule), "[]");
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(SqliteBytes().find("deploy-token-5e2b77"), std::string::npos);
  }

  // Without the key they are not silently empty.
  secrets_key_file_ = "";
  Reopen();
  auto keyless = store_->GetPipeline(pipeline);
  ASSERT_FALSE(keyless.ok());
  EXPECT_EQ(keyless.status().message(),
            "pipeline " + std::to_string(pipeline) +
                "'s pipelines.variables is encrypted, but the store was opened without a secrets "
                "key");
  EXPECT_FALSE(store_->ListSchedules(project).ok());
}

TEST_P(StoreSecretsTest, PlainVariablesOfAnOlderVersionAreEncryptedAtOpen) {
  int64_t project = AddProject("group/app", "");
  auto [pipeline, schedule] = AddPipelineAndSchedule(project, true);
  EXPECT_FALSE(SecretBox::IsSealed(Stored("pipelines", "variables", pipeline)));

  auto opened = OpenWithKey(keys_ + "/secrets.key");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  EXPECT_TRUE(SecretBox::IsSealed(Stored("pipelines", "variables", pipeline)));
  EXPECT_TRUE(SecretBox::IsSealed(Stored("schedules", "variables", schedule)));
  ExpectVariablesReadBack(project, pipeline, schedule);
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(SqliteBytes().find("deploy-token-5e2b77"), std::string::npos);
  }
}

// Project variables: created once per key and scope, updated and deleted
// by key, their values encrypted at rest and read back in plain text.
TEST_P(StoreSecretsTest, ProjectVariablesAreEncryptedAtRest) {
  auto opened = OpenWithKey(keys_ + "/secrets.key");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  int64_t project = AddProject("group/vars", "");
  ProjectVariableRecord token;
  token.project_id = project;
  token.key = "DEPLOY_TOKEN";
  token.value = "deploy-token-5e2b77";
  token.masked = true;
  token.is_protected = true;
  ProjectVariableRecord config = token;
  config.key = "KUBECONFIG";
  config.value = "kube: config\n";
  config.variable_type = "file";
  config.masked = false;
  config.raw = true;
  config.description = "the cluster";
  ASSERT_TRUE(*store_->CreateProjectVariable(token));
  ASSERT_TRUE(*store_->CreateProjectVariable(config));
  EXPECT_FALSE(*store_->CreateProjectVariable(token));  // Taken.
  EXPECT_EQ(*store_->ListProjectVariables(project),
            (std::vector<ProjectVariableRecord>{token, config}));

  auto db = RawDatabase();
  auto rows = db->Query("SELECT value FROM project_variables ORDER BY key");
  ASSERT_TRUE(rows.ok() && rows->size() == 2);
  for (const SqlRow& row : *rows) {
    EXPECT_TRUE(SecretBox::IsSealed(row.Text(0))) << row.Text(0);
    EXPECT_EQ(row.Text(0).find("deploy-token"), std::string::npos);
  }

  token.value = "deploy-token-rotated-1";
  token.masked = false;
  EXPECT_TRUE(*store_->UpdateProjectVariable(token));
  EXPECT_EQ(store_->ListProjectVariables(project)->at(0), token);
  ProjectVariableRecord missing = token;
  missing.key = "NOPE";
  EXPECT_FALSE(*store_->UpdateProjectVariable(missing));
  EXPECT_TRUE(*store_->DeleteProjectVariable(project, "DEPLOY_TOKEN", "*"));
  EXPECT_FALSE(*store_->DeleteProjectVariable(project, "DEPLOY_TOKEN", "*"));
  EXPECT_EQ(*store_->ListProjectVariables(project), (std::vector<ProjectVariableRecord>{config}));
  EXPECT_TRUE(store_->ListProjectVariables(project + 1)->empty());  // Another project's.
}

SLIPWAY_STORE_TEST_SUITE(StoreSecretsTest);

}  // namespace
}  // namespace slipway
