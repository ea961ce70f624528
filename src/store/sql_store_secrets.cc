// SqlStore: the secret columns (projects.webhook_secret), encrypted at rest
// with the key of StoreOptions::secrets_key_file (docs/database.md,
// "Secrets").
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

constexpr char kKeyIdSetting[] = "secrets_key_id";

}  // namespace

Status SqlStore::SetUpSecrets() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& path = options_.secrets_key_file;
  auto recorded = db_->Query("SELECT value FROM settings WHERE name = ?", {kKeyIdSetting});
  if (!recorded.ok()) return recorded.status();
  if (path.empty()) return Status::Ok();
  StatusOr<std::optional<SecretBox>> read = SecretBox::ReadKeyFile(path);
  if (!read.ok()) return read.status();
  if (!*read && !recorded->empty()) {
    return Status::Error("the secrets key file '" + path + "' does not exist, but this "
                         "database's secrets are encrypted with a key (key id " +
                         recorded->front().Text(0) + "): copy that key's file there from the "
                         "server that made it, or name it with --secrets-key-file");
  }
  StatusOr<SecretBox> box = *read ? StatusOr<SecretBox>(**read) : SecretBox::CreateKeyFile(path);
  if (!box.ok()) return box.status();

  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  // The first key to reach the database is its key; a concurrent first start
  // with another key loses here and fails below.
  auto inserted = db_->Query(
      "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
      {kKeyIdSetting, box->KeyId()});
  if (!inserted.ok()) return inserted.status();
  auto key_id = db_->Query("SELECT value FROM settings WHERE name = ?", {kKeyIdSetting});
  if (!key_id.ok()) return key_id.status();
  if (key_id->empty() || key_id->front().Text(0) != box->KeyId()) {
    return Status::Error(
        "the secrets key in '" + path + "' (key id " + box->KeyId() +
        ") is not the key this database's secrets are encrypted with (key id " +
        (key_id->empty() ? std::string("none") : key_id->front().Text(0)) +
        "): every server and command using this database needs that key's file "
        "(--secrets-key-file)");
  }
  secrets_ = *box;

  // Plain text left by an older version is encrypted; encrypted values must
  // open, so that a damaged one is found now rather than by a webhook.
  auto rows = db_->Query("SELECT id, webhook_secret FROM projects WHERE webhook_secret <> ''");
  if (!rows.ok()) return rows.status();
  bool sqlite = db_->dialect() == SqlDialect::kSqlite;
  bool upgraded = false;
  int64_t secure_delete = 0;  // SQLite's setting before (Debian builds it ON).
  for (const SqlRow& row : *rows) {
    int64_t id = row.Int(0);
    std::string stored = row.Text(1);
    std::string owner = "project " + std::to_string(id);
    if (SecretBox::IsSealed(stored)) {
      StatusOr<std::string> opened = OpenSecret(stored, kWebhookSecretColumn, owner);
      if (!opened.ok()) return opened.status();
      continue;
    }
    StatusOr<std::string> sealed = SealSecret(stored, kWebhookSecretColumn);
    if (!sealed.ok()) return sealed.status();
    // SQLite zeroes the space the plain text leaves (PostgreSQL keeps old row
    // versions until it vacuums them: docs/database.md).
    if (sqlite && !upgraded) {
      auto before = db_->Query("PRAGMA secure_delete");
      if (!before.ok()) return before.status();
      secure_delete = before->empty() ? 0 : before->front().Int(0);
      if (Status s = db_->ExecScript("PRAGMA secure_delete = ON"); !s.ok()) return s;
    }
    upgraded = true;
    auto updated = db_->Query(
        "UPDATE projects SET webhook_secret = ? WHERE id = ? AND webhook_secret = ?",
        {*sealed, id, stored});
    if (!updated.ok()) return updated.status();
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  if (!sqlite || !upgraded) return Status::Ok();
  // Pages holding the plain text leave the database file and the log now,
  // not at some later checkpoint.
  if (Status s = db_->ExecScript("PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok()) return s;
  return db_->ExecScript("PRAGMA secure_delete = " + std::to_string(secure_delete));
}

StatusOr<std::string> SqlStore::SealSecret(const std::string& value,
                                           std::string_view column) const {
  // An empty value means "no secret", which the API shows anyway.
  if (!secrets_ || value.empty()) return value;
  return secrets_->Seal(value, column);
}

StatusOr<std::string> SqlStore::OpenSecret(const std::string& stored, std::string_view column,
                                           std::string_view owner) const {
  if (!SecretBox::IsSealed(stored)) return stored;
  std::string what = std::string(owner) + "'s " + std::string(column);
  if (!secrets_) {
    return Status::Error(what + " is encrypted, but the store was opened without a secrets key");
  }
  StatusOr<std::string> opened = secrets_->Open(stored, column);
  if (!opened.ok()) return Status::Error("cannot read " + what + ": " + opened.status().message());
  return opened;
}

StatusOr<ProjectRecord> SqlStore::OpenProject(ProjectRecord project) const {
  StatusOr<std::string> secret = OpenSecret(project.webhook_secret, kWebhookSecretColumn,
                                            "project " + std::to_string(project.id));
  if (!secret.ok()) return secret.status();
  project.webhook_secret = std::move(*secret);
  return project;
}

StatusOr<std::optional<ProjectRecord>> SqlStore::OpenProject(
    std::optional<ProjectRecord> project) const {
  if (!project) return project;
  StatusOr<ProjectRecord> opened = OpenProject(std::move(*project));
  if (!opened.ok()) return opened.status();
  return std::optional<ProjectRecord>(std::move(*opened));
}

}  // namespace slipway
