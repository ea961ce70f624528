#include "store/migrations.h"

#include <string>
#include <string_view>
#include <vector>

namespace slipway {
namespace {

// Tokens in the DDL that differ between the dialects:
//   {pk}   an auto-assigned 64-bit id that is never reused
//   {blob} raw bytes
const char* const kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE projects (
  id {pk},
  name TEXT NOT NULL,
  path_with_namespace TEXT NOT NULL UNIQUE,
  repo_url TEXT NOT NULL,
  default_branch TEXT NOT NULL,
  webhook_secret TEXT NOT NULL DEFAULT '',
  last_pipeline_iid BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE pipelines (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  iid BIGINT NOT NULL,
  ref TEXT NOT NULL,
  tag SMALLINT NOT NULL DEFAULT 0,
  sha TEXT NOT NULL,
  before_sha TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  duration_ms BIGINT,
  yaml_errors TEXT NOT NULL DEFAULT '',
  variables TEXT NOT NULL DEFAULT '[]',
  UNIQUE (project_id, iid)
);
CREATE INDEX pipelines_by_status ON pipelines (status);
CREATE INDEX pipelines_by_project_ref ON pipelines (project_id, ref);
CREATE TABLE jobs (
  id {pk},
  pipeline_id BIGINT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  stage TEXT NOT NULL,
  stage_idx BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  run_when TEXT NOT NULL DEFAULT 'on_success',
  allow_failure SMALLINT NOT NULL DEFAULT 0,
  exit_code BIGINT,
  failure_reason TEXT NOT NULL DEFAULT '',
  retried SMALLINT NOT NULL DEFAULT 0,
  retry_count BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  queued_at BIGINT,
  started_at BIGINT,
  finished_at BIGINT,
  duration_ms BIGINT,
  runner TEXT NOT NULL DEFAULT '',
  needs TEXT NOT NULL DEFAULT '[]',
  log_size BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_pipeline ON jobs (pipeline_id);
CREATE INDEX jobs_by_status ON jobs (status);
CREATE TABLE job_log_chunks (
  job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  byte_offset BIGINT NOT NULL,
  size BIGINT NOT NULL,
  data {blob} NOT NULL,
  PRIMARY KEY (job_id, byte_offset)
);
CREATE TABLE artifacts (
  job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  file_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (job_id, path)
);
CREATE TABLE tokens (
  id {pk},
  name TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('read', 'run', 'admin')),
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked SMALLINT NOT NULL DEFAULT 0
);
CREATE TABLE schedules (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  description TEXT NOT NULL DEFAULT '',
  cron TEXT NOT NULL,
  cron_timezone TEXT NOT NULL,
  ref TEXT NOT NULL,
  variables TEXT NOT NULL DEFAULT '[]',
  active SMALLINT NOT NULL DEFAULT 1,
  next_run_at BIGINT,
  last_pipeline_id BIGINT REFERENCES pipelines(id) ON DELETE SET NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX schedules_by_next_run ON schedules (active, next_run_at);
)sql",
    // 2: facts about the database itself, e.g. which key its secrets are
    // encrypted with (secrets_key_id).
    R"sql(
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
    // 3: artifacts as GitLab lists them (one row per archive or report type).
    R"sql(
ALTER TABLE artifacts ADD COLUMN filename TEXT NOT NULL DEFAULT '';
ALTER TABLE artifacts ADD COLUMN file_format TEXT NOT NULL DEFAULT '';
)sql",
    // 4: webhook deliveries already taken, to refuse replays (docs/api.md).
    R"sql(
CREATE TABLE webhook_deliveries (
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  delivery_key TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, delivery_key)
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);
)sql",
    // 5: which executor runs a project's jobs (docs/server.md).
    R"sql(
ALTER TABLE projects ADD COLUMN executor TEXT NOT NULL DEFAULT 'shell';
)sql",
    // 6: environments and their deployments (docs/deployments.md).
    R"sql(
CREATE TABLE environments (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  external_url TEXT NOT NULL DEFAULT '',
  tier TEXT NOT NULL DEFAULT 'other',
  state TEXT NOT NULL DEFAULT 'available',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);
ALTER TABLE projects ADD COLUMN last_deployment_iid BIGINT NOT NULL DEFAULT 0;
CREATE TABLE deployments (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  iid BIGINT NOT NULL,
  environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  pipeline_id BIGINT REFERENCES pipelines(id) ON DELETE SET NULL,
  job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
  ref TEXT NOT NULL,
  sha TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT,
  UNIQUE (project_id, iid)
);
CREATE INDEX deployments_by_environment ON deployments (environment_id, id);
CREATE INDEX deployments_by_job ON deployments (job_id);
)sql",
    // 7: the image a job's last attempt ran in; when an environment stops by
    // itself and which job stops it (docs/database.md, docs/deployments.md).
    R"sql(
ALTER TABLE jobs ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN image_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE environments ADD COLUMN auto_stop_at BIGINT;
ALTER TABLE deployments ADD COLUMN on_stop TEXT NOT NULL DEFAULT '';
CREATE INDEX environments_by_auto_stop ON environments (auto_stop_at);
)sql",
    // 8: deployment checks' results and rollbacks (docs/deployments.md).
    R"sql(
ALTER TABLE deployments ADD COLUMN checks TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN rollback_of BIGINT REFERENCES deployments(id) ON DELETE SET NULL;
)sql",
    // 9: incidents, the commits each successful deployment shipped, and the
    // per-project Alertmanager tokens (docs/dora.md, docs/database.md).
    R"sql(
ALTER TABLE projects ADD COLUMN last_incident_iid BIGINT NOT NULL DEFAULT 0;
CREATE TABLE incidents (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  iid BIGINT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  source TEXT NOT NULL,
  deployment_id BIGINT REFERENCES deployments(id) ON DELETE SET NULL,
  external_key TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  resolved_at BIGINT,
  UNIQUE (project_id, iid)
);
CREATE UNIQUE INDEX incidents_open_by_key ON incidents (project_id, external_key)
  WHERE status = 'open' AND external_key <> '';
CREATE INDEX incidents_by_deployment ON incidents (deployment_id);
CREATE INDEX incidents_by_project_created ON incidents (project_id, created_at);
CREATE TABLE deployment_commits (
  deployment_id BIGINT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  sha TEXT NOT NULL,
  committed_at BIGINT NOT NULL,
  PRIMARY KEY (deployment_id, sha)
);
CREATE INDEX deployment_commits_by_sha ON deployment_commits (sha);
CREATE INDEX deployments_by_environment_finished ON deployments (environment_id, finished_at);
CREATE TABLE alert_integrations (
  project_id BIGINT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  token_sha256 TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
)sql",
    // 10: downstream pipelines: the pipeline and the trigger job that created
    // one, and which jobs are trigger jobs (docs/child-pipelines.md).
    R"sql(
ALTER TABLE pipelines ADD COLUMN upstream_pipeline_id BIGINT REFERENCES pipelines(id) ON DELETE SET NULL;
ALTER TABLE pipelines ADD COLUMN upstream_job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL;
CREATE INDEX pipelines_by_upstream ON pipelines (upstream_pipeline_id);
ALTER TABLE jobs ADD COLUMN bridge SMALLINT NOT NULL DEFAULT 0;
)sql",
    // 11: project CI/CD variables (value encrypted like the other secrets).
    R"sql(
CREATE TABLE project_variables (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  variable_type TEXT NOT NULL DEFAULT 'env_var',
  protected SMALLINT NOT NULL DEFAULT 0,
  masked SMALLINT NOT NULL DEFAULT 0,
  raw SMALLINT NOT NULL DEFAULT 0,
  hidden SMALLINT NOT NULL DEFAULT 0,
  environment_scope TEXT NOT NULL DEFAULT '*',
  description TEXT NOT NULL DEFAULT '',
  UNIQUE (project_id, key, environment_scope)
);
)sql",
    // 12: pipeline trigger tokens (only their SHA-256 is kept).
    R"sql(
CREATE TABLE pipeline_triggers (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  description TEXT NOT NULL DEFAULT '',
  token_sha256 TEXT NOT NULL UNIQUE,
  token_prefix TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_used BIGINT
);
)sql",
    // 13: a project that accepts webhooks without a secret says so
    // (docs/server.md, "Webhook verification"); those made before, which
    // accepted them, keep doing so.
    R"sql(
ALTER TABLE projects ADD COLUMN allow_unsigned_webhooks SMALLINT NOT NULL DEFAULT 0;
UPDATE projects SET allow_unsigned_webhooks = 1 WHERE webhook_secret = '';
)sql",
    // 14: resource groups held across a project's pipelines, with their
    // process mode, and each job's group; the project's "prevent outdated
    // deployment jobs" settings; deploy freezes, protected environments,
    // deployment approvals and who started pipelines and jobs
    // (docs/deployments.md).
    R"sql(
ALTER TABLE jobs ADD COLUMN resource_group TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_resource_group ON jobs (resource_group, status);
CREATE TABLE resource_groups (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  resource_key TEXT NOT NULL,
  process_mode TEXT NOT NULL DEFAULT 'unordered',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, resource_key)
);
ALTER TABLE projects ADD COLUMN ci_forward_deployment_enabled SMALLINT NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN ci_forward_deployment_rollback_allowed SMALLINT NOT NULL DEFAULT 1;
CREATE TABLE freeze_periods (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  freeze_start TEXT NOT NULL,
  freeze_end TEXT NOT NULL,
  cron_timezone TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX freeze_periods_by_project ON freeze_periods (project_id);
CREATE TABLE protected_environments (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  deploy_access_level INTEGER NOT NULL,
  required_approval_count INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE deployment_approvals (
  id {pk},
  deployment_id BIGINT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  token_id BIGINT NOT NULL,
  token_name TEXT NOT NULL,
  token_role TEXT NOT NULL,
  status TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE (deployment_id, token_id)
);
ALTER TABLE pipelines ADD COLUMN user_token_id BIGINT;
ALTER TABLE jobs ADD COLUMN user_token_id BIGINT;
)sql",
    // 15: when a job's artifacts expire (artifacts:expire_in; NULL: never), for
    // the cleaner and the API's artifacts_expire_at (docs/artifacts.md).
    R"sql(
ALTER TABLE artifacts ADD COLUMN expire_at BIGINT;
CREATE INDEX artifacts_by_expire_at ON artifacts (expire_at);
)sql",
    // 16: jobs' code coverage (the job's coverage: regexp on its log).
    R"sql(
CREATE TABLE job_coverage (
  job_id BIGINT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  coverage TEXT NOT NULL
);
)sql",
    // 17: merge-request pipelines (docs/server.md, "Merge-request
    // pipelines"): each pipeline's merge request and CI_OPEN_MERGE_REQUESTS
    // as they were at its creation, and the merge requests the forge's
    // webhooks described; each project's forge, what posting statuses to
    // it gave, the commit statuses posted through the API, and outgoing
    // project hooks.
    R"sql(
ALTER TABLE pipelines ADD COLUMN merge_request TEXT NOT NULL DEFAULT '';
ALTER TABLE pipelines ADD COLUMN open_merge_requests TEXT NOT NULL DEFAULT '';
CREATE TABLE merge_requests (
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  iid BIGINT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  source_branch TEXT NOT NULL,
  target_branch TEXT NOT NULL,
  sha TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, iid)
);
CREATE INDEX merge_requests_by_source ON merge_requests (project_id, source_branch, state);
CREATE TABLE project_forges (
  id {pk},
  project_id BIGINT NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  api_url TEXT NOT NULL,
  forge_project TEXT NOT NULL,
  token TEXT NOT NULL DEFAULT ''
);
CREATE TABLE forge_statuses (
  pipeline_id BIGINT PRIMARY KEY REFERENCES pipelines(id) ON DELETE CASCADE,
  forge TEXT NOT NULL,
  state TEXT NOT NULL,
  ok SMALLINT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL
);
CREATE TABLE project_hooks (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  token TEXT NOT NULL DEFAULT '',
  pipeline_events SMALLINT NOT NULL,
  job_events SMALLINT NOT NULL,
  enable_ssl_verification SMALLINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX project_hooks_by_project ON project_hooks (project_id);
CREATE TABLE commit_statuses (
  id {pk},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  sha TEXT NOT NULL,
  ref TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  target_url TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  UNIQUE (project_id, sha, ref, name)
);
)sql",
    // 18: remote runners (docs/runners.md): tokens of the role 'runner'
    // (the role's CHECK widened: SQLite rebuilds the table, PostgreSQL
    // replaces the constraint).
    R"sql(
{sqlite}CREATE TABLE tokens_new (
{sqlite}  id INTEGER PRIMARY KEY AUTOINCREMENT,
{sqlite}  name TEXT NOT NULL,
{sqlite}  token_sha256 TEXT NOT NULL UNIQUE,
{sqlite}  role TEXT NOT NULL CHECK (role IN ('read', 'run', 'admin', 'runner')),
{sqlite}  created_at BIGINT NOT NULL,
{sqlite}  last_used_at BIGINT,
{sqlite}  revoked SMALLINT NOT NULL DEFAULT 0
{sqlite});
{sqlite}INSERT INTO tokens_new SELECT id, name, token_sha256, role, created_at, last_used_at, revoked FROM tokens;
{sqlite}DROP TABLE tokens;
{sqlite}ALTER TABLE tokens_new RENAME TO tokens;
{postgres}ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
{postgres}ALTER TABLE tokens ADD CONSTRAINT tokens_role_check CHECK (role IN ('read', 'run', 'admin', 'runner'));
)sql",
    // 19: the remote runner that took a job (docs/runners.md): its id and
    // tags beside its description (the runner column), stored with the lease.
    R"sql(
ALTER TABLE jobs ADD COLUMN runner_id BIGINT;
ALTER TABLE jobs ADD COLUMN runner_tags TEXT NOT NULL DEFAULT '[]';
)sql",
    // 20: several servers on one database (docs/replicas.md): the replica
    // that runs or has queued an active pipeline, and when its lease ends.
    R"sql(
ALTER TABLE pipelines ADD COLUMN owner TEXT;
ALTER TABLE pipelines ADD COLUMN lease_expires_at BIGINT;
CREATE INDEX pipelines_by_owner ON pipelines (owner);
)sql",
    // 21: each event a publisher sends (commit status, project hook,
    // CDEvent) is claimed by one replica (docs/replicas.md): the state last
    // claimed per subject, by whom, until when, and whether it went out.
    R"sql(
CREATE TABLE deliveries (
  publisher TEXT NOT NULL,
  subject TEXT NOT NULL,
  state TEXT NOT NULL,
  version BIGINT NOT NULL,
  project_id BIGINT NOT NULL,
  payload TEXT NOT NULL,
  owner TEXT NOT NULL,
  lease_expires_at BIGINT NOT NULL,
  done_at BIGINT,
  PRIMARY KEY (publisher, subject)
);
CREATE INDEX deliveries_unsent ON deliveries (publisher, lease_expires_at) WHERE done_at IS NULL;
CREATE INDEX deliveries_by_done_at ON deliveries (done_at);
)sql",
    // 22: actions asked through one replica on a pipeline another runs
    // (docs/replicas.md, store/action_requests.h).
    R"sql(
CREATE TABLE action_requests (
  id {pk},
  pipeline_id BIGINT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  job_id BIGINT,
  action TEXT NOT NULL CHECK (action IN ('cancel_job', 'retry_job', 'play_job',
    'cancel_pipeline', 'retry_pipeline')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'taken', 'done', 'failed')),
  requested_by TEXT NOT NULL,
  taken_by TEXT,
  result_id BIGINT,
  error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX action_requests_by_state ON action_requests (state, pipeline_id);
)sql",
};

constexpr int kLatest = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

std::string ForDialect(std::string sql, SqlDialect dialect) {
  auto replace = [&sql](const std::string& token, const std::string& with) {
    for (size_t at = sql.find(token); at != std::string::npos; at = sql.find(token, at)) {
      sql.replace(at, token.size(), with);
      at += with.size();
    }
  };
  bool sqlite = dialect == SqlDialect::kSqlite;
  replace("{pk}", sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                         : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  replace("{blob}", sqlite ? "BLOB" : "BYTEA");
  // Lines for one dialect only: kept without their marker, or dropped.
  std::string out;
  size_t start = 0;
  while (start < sql.size()) {
    size_t end = sql.find('\n', start);
    end = end == std::string::npos ? sql.size() : end + 1;
    std::string_view line(sql.data() + start, end - start);
    std::string_view mine = sqlite ? "{sqlite}" : "{postgres}";
    std::string_view other = sqlite ? "{postgres}" : "{sqlite}";
    if (line.starts_with(mine)) {
      out += line.substr(mine.size());
    } else if (!line.starts_with(other)) {
      out += line;
    }
    start = end;
  }
  return out;
}

// Reads the version inside the caller's transaction.
StatusOr<int> ReadVersion(SqlDatabase* db) {
  StatusOr<std::vector<SqlRow>> rows =
      db->dialect() == SqlDialect::kSqlite
          ? db->Query("PRAGMA user_version")
          : db->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return 0;
  return static_cast<int>((*rows)[0].Int(0));
}

Status EnsureVersionTable(SqlDatabase* db) {
  if (db->dialect() == SqlDialect::kSqlite) return Status::Ok();
  return db->ExecScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

StatusOr<int> SchemaVersion(SqlDatabase* db) {
  if (Status s = EnsureVersionTable(db); !s.ok()) return s;
  return ReadVersion(db);
}

Status Migrate(SqlDatabase* db) {
  if (Status s = EnsureVersionTable(db); !s.ok()) return s;
  while (true) {
    SqlTransaction txn(db);
    if (Status s = txn.Begin(); !s.ok()) return s;
    if (db->dialect() == SqlDialect::kPostgres) {
      // Another process migrating waits here, then sees the new version.
      if (Status s = db->ExecScript("LOCK TABLE schema_migrations IN EXCLUSIVE MODE"); !s.ok()) {
        return s;
      }
    }
    StatusOr<int> version = ReadVersion(db);
    if (!version.ok()) return version.status();
    if (*version > kLatest) {
      return Status::Error("database schema version " + std::to_string(*version) +
                           " is newer than this slipway understands (" + std::to_string(kLatest) +
                           "); upgrade slipway");
    }
    if (*version == kLatest) return Status::Ok();  // Nothing written: rollback is harmless.
    int next = *version + 1;
    if (Status s = db->ExecScript(ForDialect(kMigrations[next - 1], db->dialect())); !s.ok()) {
      return Status::Error("migration " + std::to_string(next) + ": " + s.message());
    }
    Status record = db->dialect() == SqlDialect::kSqlite
                        ? db->ExecScript("PRAGMA user_version = " + std::to_string(next))
                        : db->Query("INSERT INTO schema_migrations (version) VALUES (?)",
                                    {static_cast<int64_t>(next)})
                              .status();
    if (!record.ok()) return record;
    if (Status s = txn.Commit(); !s.ok()) return s;
  }
}

}  // namespace slipway
