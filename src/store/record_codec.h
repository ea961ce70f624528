// How store records map to table rows (docs/database.md): the column lists
// SqlStore selects and the conversions between rows and records, shared by
// both backends. Lists and variables are stored as JSON text.
#ifndef SLIPWAY_STORE_RECORD_CODEC_H_
#define SLIPWAY_STORE_RECORD_CODEC_H_

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "store/sql_database.h"
#include "store/store.h"

namespace slipway {

// Column lists, in the order the *FromRow functions read them.
extern const char kProjectColumns[];
extern const char kPipelineColumns[];
extern const char kJobColumns[];
extern const char kArtifactColumns[];
extern const char kTokenColumns[];
extern const char kScheduleColumns[];
extern const char kEnvironmentColumns[];
extern const char kDeploymentColumns[];

// Where the secret columns are in those lists (SqlStore opens them).
constexpr size_t kProjectWebhookSecretIndex = 5;
constexpr size_t kPipelineVariablesIndex = 16;
constexpr size_t kScheduleVariablesIndex = 6;

ProjectRecord ProjectFromRow(const SqlRow& row);
PipelineRecord PipelineFromRow(const SqlRow& row);
// The pipelines.merge_request column (docs/database.md): a JSON object, or
// "" for a pipeline without a merge request. Unreadable text reads as none.
std::string MergeRequestToJson(const std::optional<MergeRequest>& mr);
std::optional<MergeRequest> MergeRequestFromJson(const std::string& text);
JobRecord JobFromRow(const SqlRow& row);
ArtifactRecord ArtifactFromRow(const SqlRow& row);
TokenRecord TokenFromRow(const SqlRow& row);
ScheduleRecord ScheduleFromRow(const SqlRow& row);
EnvironmentRecord EnvironmentFromRow(const SqlRow& row);
DeploymentRecord DeploymentFromRow(const SqlRow& row);

// JSON text for the variables / needs columns. Reading malformed JSON (only
// possible if someone edited the database by hand) gives an empty list.
std::string VariablesToJson(const std::vector<StoredVariable>& variables);
std::vector<StoredVariable> VariablesFromJson(const std::string& json);
std::string StringsToJson(const std::vector<std::string>& strings);
std::vector<std::string> StringsFromJson(const std::string& json);

// Runs a query and converts every row (or the first, if any) to a record.
template <typename Record>
StatusOr<std::vector<Record>> QueryRecords(SqlDatabase* db, std::string_view sql,
                                           const std::vector<SqlValue>& params,
                                           Record (*from_row)(const SqlRow&)) {
  auto rows = db->Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<Record> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(from_row(row));
  return out;
}

template <typename Record>
StatusOr<std::optional<Record>> QueryRecord(SqlDatabase* db, std::string_view sql,
                                            const std::vector<SqlValue>& params,
                                            Record (*from_row)(const SqlRow&)) {
  auto rows = db->Query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Record>();
  return std::optional<Record>(from_row(rows->front()));
}

// One page of `SELECT columns FROM table <where>` ordered by `order_by sort,
// id sort`, with the count of every matching row (X-Total). order_by and sort
// are spliced into the SQL: the caller takes them from fixed lists. per_page
// is clamped to 1..100, page to at least 1.
template <typename Record>
StatusOr<Page<Record>> QueryPage(SqlDatabase* db, const std::string& table,
                                 const std::string& columns, const std::string& where,
                                 std::vector<SqlValue> params, const std::string& order_by,
                                 const std::string& sort, int page, int per_page,
                                 Record (*from_row)(const SqlRow&)) {
  Page<Record> out;
  auto count = db->Query("SELECT COUNT(*) FROM " + table + where, params);
  if (!count.ok()) return count.status();
  out.total = count->at(0).Int(0);
  per_page = std::clamp(per_page, 1, 100);
  params.push_back(int64_t{per_page});
  params.push_back(int64_t{std::max(page, 1) - 1} * per_page);
  auto items = QueryRecords(db,
                            "SELECT " + columns + " FROM " + table + where + " ORDER BY " +
                                order_by + " " + sort + ", id " + sort + " LIMIT ? OFFSET ?",
                            params, from_row);
  if (!items.ok()) return items.status();
  out.items = std::move(*items);
  return out;
}

inline SqlValue OptionalValue(const std::optional<int64_t>& v) {
  return v ? SqlValue(*v) : SqlValue();
}
inline SqlValue BoolValue(bool b) { return SqlValue(static_cast<int64_t>(b ? 1 : 0)); }
inline SqlValue StatusValue(CiStatus s) { return SqlValue(std::string(CiStatusName(s))); }

}  // namespace slipway

#endif  // SLIPWAY_STORE_RECORD_CODEC_H_
