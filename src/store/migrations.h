// The versioned schema (docs/database.md). Migration N turns a database at
// version N-1 into version N and is never edited once landed: a schema change
// is a new migration appended to the list. SQLite records the version in
// PRAGMA user_version, PostgreSQL in the schema_migrations table; each
// migration runs in its own transaction together with that record, so a
// crash leaves the database at a whole version.
#ifndef SLIPWAY_STORE_MIGRATIONS_H_
#define SLIPWAY_STORE_MIGRATIONS_H_

#include "store/sql_database.h"

namespace slipway {

int LatestSchemaVersion();

// The version db is at (0 for an empty database).
StatusOr<int> SchemaVersion(SqlDatabase* db);

// Applies every migration db lacks. Fails, changing nothing, if db is newer
// than this build knows. Safe against several processes migrating at once.
Status Migrate(SqlDatabase* db);

}  // namespace slipway

#endif  // SLIPWAY_STORE_MIGRATIONS_H_
