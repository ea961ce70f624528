// LISTEN on the notice channel of a PostgreSQL database
// (store/replica_notices.h): a connection and a thread of its own.
#ifndef SLIPWAY_STORE_POSTGRES_LISTENER_H_
#define SLIPWAY_STORE_POSTGRES_LISTENER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/libpq.h"
#include "store/replica_notices.h"
#include "util/unique_fd.h"

namespace slipway {

class PostgresListener : public NoticeListener {
 public:
  using Callback = std::function<void(const ReplicaNotice&)>;
  // Connects to url (schema: as PostgresDatabase::Open's, or empty), LISTENs
  // and starts the thread; an error when the first connection fails.
  static StatusOr<std::unique_ptr<PostgresListener>> Start(const std::string& url,
                                                           const std::string& schema,
                                                           Callback on_notice);
  ~PostgresListener() override;

 private:
  PostgresListener(const LibPq* pq, std::string url, std::string schema, Callback on_notice);
  // A new connection listening on the channel (conn_); an error says why not.
  Status Connect();
  void Disconnect();
  void Loop();
  // Waits until ms passed or Stop; false once stopping.
  bool Sleep(int ms);
  void Deliver();

  const LibPq* pq_;
  const std::string url_;
  const std::string schema_;
  const Callback on_notice_;
  PGconn* conn_ = nullptr;  // Only the thread touches it once started.
  UniqueFd wake_read_, wake_write_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One listening connection shared by a store's subscribers (the pipeline
// service, the API's cache): the first Subscribe connects, the last
// subscription's end closes it. Thread-safe; a callback must not subscribe
// or end a subscription.
class SharedListener : public std::enable_shared_from_this<SharedListener> {
 public:
  SharedListener(std::string url, std::string schema)
      : url_(std::move(url)), schema_(std::move(schema)) {}
  // A subscription: on_notice is called for every notice until it is
  // destroyed (never after its destructor returned).
  StatusOr<std::unique_ptr<NoticeListener>> Subscribe(PostgresListener::Callback on_notice);

 private:
  class Subscription;
  void Unsubscribe(int id);
  void Dispatch(const ReplicaNotice& notice);

  const std::string url_;
  const std::string schema_;
  std::mutex mu_;
  int next_id_ = 0;
  std::map<int, PostgresListener::Callback> subscribers_;
  std::unique_ptr<PostgresListener> listener_;  // While there are subscribers.
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_POSTGRES_LISTENER_H_
