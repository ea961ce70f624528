#include "store/postgres_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "util/logger.h"

namespace slipway {
namespace {

constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 5000;

std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

}  // namespace

StatusOr<std::unique_ptr<PostgresListener>> PostgresListener::Start(const std::string& url,
                                                                    const std::string& schema,
                                                                    Callback on_notice) {
  StatusOr<const LibPq*> pq = LoadLibPq();
  if (!pq.ok()) return pq.status();
  std::unique_ptr<PostgresListener> listener(
      new PostgresListener(*pq, url, schema, std::move(on_notice)));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::Error("postgresql: cannot create a pipe for the notice listener");
  }
  listener->wake_read_ = UniqueFd(fds[0]);
  listener->wake_write_ = UniqueFd(fds[1]);
  if (Status connected = listener->Connect(); !connected.ok()) return connected;
  listener->thread_ = std::thread([l = listener.get()] { l->Loop(); });
  return listener;
}

PostgresListener::PostgresListener(const LibPq* pq, std::string url, std::string schema,
                                   Callback on_notice)
    : pq_(pq), url_(std::move(url)), schema_(std::move(schema)), on_notice_(std::move(on_notice)) {}

PostgresListener::~PostgresListener() {
  stop_ = true;
  if (wake_write_.valid()) {
    char byte = 'x';
    (void)!write(wake_write_.get(), &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  Disconnect();
}

void PostgresListener::Disconnect() {
  if (conn_ != nullptr) pq_->PQfinish(conn_);
  conn_ = nullptr;
}

Status PostgresListener::Connect() {
  Disconnect();
  conn_ = pq_->PQconnectdb(url_.c_str());
  if (conn_ == nullptr) return Status::Error("postgresql: out of memory");
  if (pq_->PQstatus(conn_) != CONNECTION_OK) {
    Status error = Status::Error("postgresql: cannot connect to listen for notices: " +
                                 Trimmed(pq_->PQerrorMessage(conn_)));
    Disconnect();
    return error;
  }
  pq_->PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  // libpq opens its socket close-on-exec already; a job must never inherit it.
  int sock = pq_->PQsocket(conn_);
  if (sock >= 0) fcntl(sock, F_SETFD, FD_CLOEXEC);
  auto exec = [&](const std::string& sql, std::string* value) -> Status {
    PGresult* result = pq_->PQexec(conn_, sql.c_str());
    ExecStatusType st = result ? pq_->PQresultStatus(result) : PGRES_FATAL_ERROR;
    Status s = Status::Ok();
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      s = Status::Error(
          "postgresql: " +
          Trimmed(result ? pq_->PQresultErrorMessage(result) : pq_->PQerrorMessage(conn_)) +
          " (in '" + sql + "')");
    } else if (value != nullptr && pq_->PQntuples(result) == 1) {
      *value = pq_->PQgetvalue(result, 0, 0);
    }
    if (result != nullptr) pq_->PQclear(result);
    return s;
  };
  // schema: letters, digits and _ (PostgresDatabase::Open checked it).
  Status s =
      schema_.empty() ? Status::Ok() : exec("SET search_path TO \"" + schema_ + "\"", nullptr);
  std::string channel;
  if (s.ok()) s = exec(std::string("SELECT ") + kNoticeChannelSql, &channel);
  // An md5 in hex after a fixed prefix: nothing to quote.
  if (s.ok()) s = exec("LISTEN \"" + channel + "\"", nullptr);
  if (!s.ok()) Disconnect();
  return s;
}

bool PostgresListener::Sleep(int ms) {
  pollfd fd{wake_read_.get(), POLLIN, 0};
  poll(&fd, 1, ms);
  return !stop_;
}

void PostgresListener::Deliver() {
  while (PGnotify* n = pq_->PQnotifies(conn_)) {
    std::string payload = n->extra != nullptr ? n->extra : "";
    pq_->PQfreemem(n);
    std::optional<ReplicaNotice> notice = ParseNotice(payload);
    if (!notice) {
      LogLine(LogLevel::kWarn, "notice_malformed")
          .Str("payload", payload.substr(0, kMaxNoticePayload))
          .Str("message", "ignored a notice this slipway does not send");
      continue;
    }
    on_notice_(*notice);
  }
}

void PostgresListener::Loop() {
  int backoff = kFirstBackoffMs;
  while (!stop_) {
    if (conn_ == nullptr) {
      if (!Sleep(backoff)) return;
      Status connected = Connect();
      if (!connected.ok()) {
        LogLine(LogLevel::kWarn, "notice_listen_error")
            .Str("error", connected.message())
            .Int("retry_ms", std::min(backoff * 2, kMaxBackoffMs));
        backoff = std::min(backoff * 2, kMaxBackoffMs);
        continue;
      }
      backoff = kFirstBackoffMs;
      LogLine(LogLevel::kInfo, "notice_listening").Str("message", "listening again");
      on_notice_(ReplicaNotice{ReplicaNotice::Kind::kMissed, 0});
      continue;
    }
    pollfd fds[2] = {{pq_->PQsocket(conn_), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (stop_ || (fds[1].revents & POLLIN) != 0) return;
    if (pq_->PQconsumeInput(conn_) == 0) {
      LogLine(LogLevel::kWarn, "notice_listen_error")
          .Str("error", Trimmed(pq_->PQerrorMessage(conn_)))
          .Int("retry_ms", backoff);
      Disconnect();
      continue;
    }
    Deliver();
  }
}

class SharedListener::Subscription : public NoticeListener {
 public:
  Subscription(std::shared_ptr<SharedListener> owner, int id) : owner_(std::move(owner)), id_(id) {}
  ~Subscription() override { owner_->Unsubscribe(id_); }

 private:
  std::shared_ptr<SharedListener> owner_;
  int id_;
};

StatusOr<std::unique_ptr<NoticeListener>> SharedListener::Subscribe(
    PostgresListener::Callback on_notice) {
  std::lock_guard<std::mutex> lock(mu_);
  if (listener_ == nullptr) {
    auto started = PostgresListener::Start(
        url_, schema_, [this](const ReplicaNotice& notice) { Dispatch(notice); });
    if (!started.ok()) return started.status();
    listener_ = std::move(*started);
  }
  int id = ++next_id_;
  subscribers_[id] = std::move(on_notice);
  return std::unique_ptr<NoticeListener>(new Subscription(shared_from_this(), id));
}

void SharedListener::Unsubscribe(int id) {
  std::unique_ptr<PostgresListener> last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subscribers_.erase(id);
    if (subscribers_.empty()) last = std::move(listener_);
  }
  // Joined outside the lock: its thread may be waiting for it in Dispatch.
  last.reset();
}

void SharedListener::Dispatch(const ReplicaNotice& notice) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, on_notice] : subscribers_) on_notice(notice);
}

}  // namespace slipway
