// SqlStore: the commits deployments shipped and the facts DORA metrics are
// computed from (docs/dora.md). The queries never run git: the commits were
// recorded when each deployment succeeded (server/deployment_commits.h).
#include <algorithm>
#include <cctype>

#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

// "(?, ?, ...)" for n values.
std::string Placeholders(size_t n) {
  std::string out = "(";
  for (size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out + ")";
}

// A commit id or an abbreviation of one: 7 to 40 hex digits, lowercased.
std::optional<std::string> NormalizeSha(std::string_view sha) {
  if (sha.size() < 7 || sha.size() > 40) return std::nullopt;
  std::string out;
  for (char c : sha) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

constexpr char kFinishedDeployment[] = "d.status IN ('success', 'failed')";

// The columns DoraDeployment is read from, and the join that gives each
// deployment its linked incidents' times (one pass over the project's
// incidents; a correlated subquery per deployment was ten times slower).
constexpr char kDoraDeploymentColumns[] =
    "d.id, d.environment_id, d.status, d.finished_at, x.first_at, x.resolved_at";
constexpr char kIncidentsOfDeployments[] =
    " LEFT JOIN (SELECT deployment_id, MIN(created_at) AS first_at, CASE WHEN SUM(CASE WHEN "
    "status = 'open' THEN 1 ELSE 0 END) > 0 THEN NULL ELSE MAX(resolved_at) END AS resolved_at "
    "FROM incidents WHERE project_id = ? AND deployment_id IS NOT NULL GROUP BY deployment_id) x "
    "ON x.deployment_id = d.id";

DoraDeployment DoraDeploymentFromRow(const SqlRow& row) {
  DoraDeployment d;
  d.id = row.Int(0);
  d.environment_id = row.Int(1);
  d.success = row.Text(2) == "success";
  d.finished_at = row.Int(3);
  d.incident_at = row.OptInt(4);
  d.incidents_resolved_at = row.OptInt(5);
  return d;
}

}  // namespace

Status SqlStore::AddDeploymentCommits(int64_t deployment_id,
                                      const std::vector<DeploymentCommit>& commits) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  for (const DeploymentCommit& c : commits) {
    auto inserted = db_->Query(
        "INSERT INTO deployment_commits (deployment_id, sha, committed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (deployment_id, sha) DO NOTHING",
        {deployment_id, c.sha, c.committed_at});
    if (!inserted.ok()) return inserted.status();
  }
  return txn.Commit();
}

StatusOr<std::vector<DeploymentCommit>> SqlStore::ListDeploymentCommits(int64_t deployment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT sha, committed_at FROM deployment_commits WHERE deployment_id = ? "
      "ORDER BY committed_at, sha",
      {deployment_id});
  if (!rows.ok()) return rows.status();
  std::vector<DeploymentCommit> out;
  for (const SqlRow& row : *rows) out.push_back({row.Text(0), row.Int(1)});
  return out;
}

StatusOr<std::optional<DeploymentRecord>> SqlStore::DeploymentOfCommit(int64_t project_id,
                                                                       std::string_view sha) {
  std::optional<std::string> wanted = NormalizeSha(sha);
  if (!wanted) {
    return Status::Error("'" + std::string(sha) + "' is not a commit sha (7 to 40 hex digits)");
  }
  // A full sha uses the index on deployment_commits.sha; an abbreviation
  // compares prefixes.
  std::string match = wanted->size() == 40 ? "sha = ?" : "substr(sha, 1, ?) = ?";
  std::vector<SqlValue> params = {project_id};
  auto add_match = [&] {
    if (wanted->size() != 40) params.push_back(static_cast<int64_t>(wanted->size()));
    params.push_back(*wanted);
  };
  add_match();
  add_match();
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(),
                     std::string("SELECT ") + kDeploymentColumns +
                         " FROM deployments WHERE project_id = ? AND status = 'success' AND (id "
                         "IN (SELECT deployment_id FROM deployment_commits WHERE " +
                         match + ") OR " + match + ") ORDER BY finished_at, id LIMIT 1",
                     params, DeploymentFromRow);
}

StatusOr<DoraFacts> SqlStore::LoadDoraFacts(const DoraQuery& q) {
  if (q.tiers.empty()) return Status::Error("no environment tier given");
  std::string tiers = Placeholders(q.tiers.size());
  auto with_tiers = [&q](std::vector<SqlValue> params, std::vector<SqlValue> after) {
    for (const std::string& t : q.tiers) params.push_back(t);
    params.insert(params.end(), after.begin(), after.end());
    return params;
  };
  std::string in_tiers =
      " JOIN environments e ON e.id = d.environment_id WHERE d.project_id = ? AND e.tier IN " +
      tiers;
  DoraFacts facts;
  std::lock_guard<std::mutex> lock(mu_);
  if (q.deployments) {
    // The last deployment of each environment before the range: whether the
    // first one in it is rework, and what a failure just before it recovers by.
    auto before = QueryRecords(
        db_.get(),
        std::string("SELECT ") + kDoraDeploymentColumns + " FROM deployments d" +
            kIncidentsOfDeployments +
            " WHERE d.id IN (SELECT (SELECT d2.id FROM deployments d2 WHERE "
            "d2.environment_id = e.id AND d2.status IN ('success', 'failed') AND "
            "d2.finished_at < ? ORDER BY d2.finished_at DESC, d2.id DESC LIMIT 1) FROM "
            "environments e WHERE "
            "e.project_id = ? AND e.tier IN " +
            tiers + ") ORDER BY d.finished_at, d.id",
        with_tiers({q.project_id, q.from_ms, q.project_id}, {}), DoraDeploymentFromRow);
    if (!before.ok()) return before.status();
    // From the range's start on, without end: a failure in the range may be
    // recovered after it.
    auto in_range =
        QueryRecords(db_.get(),
                     std::string("SELECT ") + kDoraDeploymentColumns + " FROM deployments d" +
                         kIncidentsOfDeployments + in_tiers + " AND " + kFinishedDeployment +
                         " AND d.finished_at >= ? ORDER BY d.finished_at, d.id",
                     with_tiers({q.project_id, q.project_id}, {q.from_ms}), DoraDeploymentFromRow);
    if (!in_range.ok()) return in_range.status();
    facts.deployments = std::move(*before);
    facts.deployments.insert(facts.deployments.end(), in_range->begin(), in_range->end());
  }
  if (q.lead_times) {
    auto leads = db_->Query(
        "SELECT d.finished_at, d.finished_at - c.committed_at FROM deployments d JOIN "
        "deployment_commits c ON c.deployment_id = d.id" +
            in_tiers + " AND d.status = 'success' AND d.finished_at >= ? AND d.finished_at < ?",
        with_tiers({q.project_id}, {q.from_ms, q.to_ms}));
    if (!leads.ok()) return leads.status();
    facts.lead_times.reserve(leads->size());
    for (const SqlRow& row : *leads) facts.lead_times.emplace_back(row.Int(0), row.Int(1));
  }
  if (q.incidents) {
    // Incidents of those environments, or of none known (as GitLab assumes
    // every incident is a production one).
    auto incidents = db_->Query(
        "SELECT created_at, resolved_at FROM incidents WHERE project_id = ? AND created_at >= ? "
        "AND created_at < ? AND (deployment_id IS NULL OR deployment_id IN (SELECT d.id FROM "
        "deployments d" +
            in_tiers + "))",
        with_tiers({q.project_id, q.from_ms, q.to_ms, q.project_id}, {}));
    if (!incidents.ok()) return incidents.status();
    for (const SqlRow& row : *incidents) facts.incidents.emplace_back(row.Int(0), row.OptInt(1));
  }
  return facts;
}

}  // namespace slipway
