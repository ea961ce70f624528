// Notices among servers sharing one PostgreSQL database (docs/replicas.md,
// "Notices"): PostgreSQL's LISTEN/NOTIFY on one channel per schema. A
// notice only says "look again" about one thing (a pipeline became free, an
// action request was made or answered, the API wrote something): the
// database stays the truth, and a server that missed notices (a dropped
// connection) looks at the store as it always did. A notice sent inside a
// transaction is delivered when it commits, never before its data. SQLite
// holds one server: sending is a no-op and nobody listens.
#ifndef SLIPWAY_STORE_REPLICA_NOTICES_H_
#define SLIPWAY_STORE_REPLICA_NOTICES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace slipway {

struct ReplicaNotice {
  enum class Kind {
    kFree,         // "free:<pipeline id>": an active pipeline has no owner any more.
    kRequest,      // "request:<request id>": an action request waits for its pipeline's owner.
    kRequestDone,  // "done:<request id>": an action request was answered.
    kChanged,      // "changed:<pipeline id or 0>": a write through the API (caches are stale).
    kLog,          // "log:<job id>": the job's log grew, or the job finished.
    // Not on the wire: the listener lost its connection and is listening
    // again; notices sent meanwhile are lost (look at the store again).
    kMissed,
  };
  Kind kind = Kind::kChanged;
  int64_t id = 0;
};

// The wire form ("free:12"); at most kMaxNoticePayload bytes.
std::string NoticePayload(const ReplicaNotice& notice);
// A payload's notice; none when it is not one this slipway sends (too long,
// an unknown word, an id that is not a number of at most 18 digits).
std::optional<ReplicaNotice> ParseNotice(std::string_view payload);
constexpr size_t kMaxNoticePayload = 64;
// The channel's name, as an SQL expression: one per schema, as tests and
// installations may keep several slipway databases in one PostgreSQL
// database, and NOTIFY channels are per database.
constexpr char kNoticeChannelSql[] = "'slipway_' || md5(COALESCE(current_schema(), ''))";

// Stops listening (and joins its thread) when destroyed.
class NoticeListener {
 public:
  virtual ~NoticeListener() = default;
};

class ReplicaNotices {
 public:
  virtual ~ReplicaNotices() = default;
  // Sends notice to every server listening on this database (this one
  // too), now: call it after the write it tells of has committed.
  virtual Status Notify(const ReplicaNotice& notice) = 0;
  // Calls on_notice for each notice until the returned subscription is
  // destroyed (which must happen before the store's end). The store's
  // subscribers share one connection and one thread, which drops malformed
  // payloads (logged) and reconnects with back-off when the connection
  // drops (then kMissed). on_notice must not block for long, nor subscribe.
  // An error: the database cannot be listened to (SQLite, or the first
  // connection failed).
  virtual StatusOr<std::unique_ptr<NoticeListener>> Listen(
      std::function<void(const ReplicaNotice&)> on_notice) = 0;
};

// The store's notices (both SQL backends); null for a store without (a
// test's fake).
inline ReplicaNotices* NoticesOf(Store* store) { return dynamic_cast<ReplicaNotices*>(store); }

}  // namespace slipway

#endif  // SLIPWAY_STORE_REPLICA_NOTICES_H_
