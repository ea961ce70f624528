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

  // The column as stored.
  std::string StoredSecret(int64_t id) {
    auto db = RawDatabase();
    auto rows = db->Query("SELECT webhook_secret FROM projects WHERE id = ?", {id});
    EXPECT_TRUE(rows.ok() && !rows->empty());
    return rows.ok() && !rows->empty() ? rows->front().Text(0) : "";
  }

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
                first_id + "): copy that key's file there from the server that made it, or name "
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

SLIPWAY_STORE_TEST_SUITE(StoreSecretsTest);

}  // namespace
}  // namespace slipway
