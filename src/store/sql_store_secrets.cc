// SqlStore: the secret columns — projects.webhook_secret, the variables
// of pipelines and schedules (request variables, often credentials), the
// values of project variables, the forge tokens and hook tokens of
// projects —
// encrypted at rest with the key of StoreOptions::secrets_key_file
// (docs/database.md, "Secrets").
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

constexpr char kKeyIdSetting[] = "secrets_key_id";

struct SecretColumn {
  const char* table;
  const char* column;
  const char* owner;  // What a row is, for messages.
  const char* empty;  // The stored form of "none", kept as it is.
  // Whether every encrypted value is opened at start (a handful of project
  // rows), not only the plain ones encrypted (every pipeline's).
  bool verify;
};
constexpr SecretColumn kSecretColumns[] = {
    {"projects", "webhook_secret", "project", "", true},
    {"pipelines", "variables", "pipeline", "[]", false},
    {"schedules", "variables", "schedule", "[]", false},
    {"project_variables", "value", "project variable", "", false},
    {"project_forges", "token", "project forge", "", true},
    {"project_hooks", "token", "project hook", "", true},
};

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
    return Status::Error("the secrets key file '" + path +
                         "' does not exist, but this "
                         "database's secrets are encrypted with a key (key id " +
                         recorded->front().Text(0) +
                         "): copy that key's file there from the "
                         "server that made it, or name it with --secrets-key-file");
  }
  StatusOr<SecretBox> box = *read ? StatusOr<SecretBox>(**read) : SecretBox::CreateKeyFile(path);
  if (!box.ok()) return box.status();

  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  // The first key to reach the database is its key; a concurrent first start
  // with another key loses here and fails below.
  auto inserted =
      db_->Query("INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                 {kKeyIdSetting, box->KeyId()});
  if (!inserted.ok()) return inserted.status();
  auto key_id = db_->Query("SELECT value FROM settings WHERE name = ?", {kKeyIdSetting});
  if (!key_id.ok()) return key_id.status();
  if (key_id->empty() || key_id->front().Text(0) != box->KeyId()) {
    return Status::Error("the secrets key in '" + path + "' (key id " + box->KeyId() +
                         ") is not the key this database's secrets are encrypted with (key id " +
                         (key_id->empty() ? std::string("none") : key_id->front().Text(0)) +
                         "): every server and command using this database needs that key's file "
                         "(--secrets-key-file)");
  }
  secrets_ = *box;

  // Plain text left by an older version (or a store without a key) is
  // encrypted; verified columns must open, so that a damaged value is found
  // now rather than by a webhook.
  bool sqlite = db_->dialect() == SqlDialect::kSqlite;
  bool upgraded = false;
  int64_t secure_delete = 0;  // SQLite's setting before (Debian builds it ON).
  for (const SecretColumn& c : kSecretColumns) {
    std::string name = std::string(c.table) + "." + c.column;
    std::string column = c.column;
    std::string where = column + " <> ?";
    if (!c.verify) where += " AND " + column + " NOT LIKE 'enc:v1:%'";
    auto rows =
        db_->Query("SELECT id, " + column + " FROM " + c.table + " WHERE " + where, {c.empty});
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) {
      int64_t id = row.Int(0);
      std::string stored = row.Text(1);
      if (SecretBox::IsSealed(stored)) {
        StatusOr<std::string> opened =
            OpenSecret(stored, name, std::string(c.owner) + " " + std::to_string(id));
        if (!opened.ok()) return opened.status();
        continue;
      }
      StatusOr<std::string> sealed = secrets_->Seal(stored, name);
      if (!sealed.ok()) return sealed.status();
      // SQLite zeroes the space the plain text leaves (PostgreSQL keeps old
      // row versions until it vacuums them: docs/database.md).
      if (sqlite && !upgraded) {
        auto before = db_->Query("PRAGMA secure_delete");
        if (!before.ok()) return before.status();
        secure_delete = before->empty() ? 0 : before->front().Int(0);
        if (Status s = db_->ExecScript("PRAGMA secure_delete = ON"); !s.ok()) return s;
      }
      upgraded = true;
      auto updated = db_->Query("UPDATE " + std::string(c.table) + " SET " + column +
                                    " = ? WHERE id = ? AND " + column + " = ?",
                                {*sealed, id, stored});
      if (!updated.ok()) return updated.status();
    }
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

StatusOr<std::string> SqlStore::SealVariables(const std::vector<StoredVariable>& variables,
                                              std::string_view column) const {
  std::string json = VariablesToJson(variables);
  if (variables.empty()) return json;  // "[]": that there are none is no secret.
  return SealSecret(json, column);
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

StatusOr<ProjectRecord> SqlStore::ProjectFrom(const SqlRow& row) const {
  ProjectRecord project = ProjectFromRow(row);
  StatusOr<std::string> secret = OpenSecret(project.webhook_secret, kWebhookSecretColumn,
                                            "project " + std::to_string(project.id));
  if (!secret.ok()) return secret.status();
  project.webhook_secret = std::move(*secret);
  return project;
}

StatusOr<std::vector<StoredVariable>> SqlStore::OpenVariables(const std::string& stored,
                                                              std::string_view column,
                                                              std::string_view owner) const {
  StatusOr<std::string> json = OpenSecret(stored, column, owner);
  if (!json.ok()) return json.status();
  return VariablesFromJson(*json);
}

StatusOr<PipelineRecord> SqlStore::PipelineFrom(const SqlRow& row) const {
  PipelineRecord pipeline = PipelineFromRow(row);
  auto variables = OpenVariables(row.Text(kPipelineVariablesIndex), kPipelineVariablesColumn,
                                 "pipeline " + std::to_string(pipeline.id));
  if (!variables.ok()) return variables.status();
  pipeline.variables = std::move(*variables);
  return pipeline;
}

StatusOr<ScheduleRecord> SqlStore::ScheduleFrom(const SqlRow& row) const {
  ScheduleRecord schedule = ScheduleFromRow(row);
  auto variables = OpenVariables(row.Text(kScheduleVariablesIndex), kScheduleVariablesColumn,
                                 "schedule " + std::to_string(schedule.id));
  if (!variables.ok()) return variables.status();
  schedule.variables = std::move(*variables);
  return schedule;
}

}  // namespace slipway
