#include "server/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>  // Before asio's awaitable header (GCC 12).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "server/log_stream.h"
#include "server/tls_context.h"
#include "util/logger.h"
#include "util/thread_annotations.h"

namespace slipway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

using Strand = asio::strand<asio::io_context::executor_type>;

// Chunks LogHub published for one SSE connection, handed from the
// publishing thread to the connection's strand. Bounded: when a slow client
// lets too much queue up, chunks are dropped and LogStream refills the gap
// from the store.
class Watch {
 public:
  explicit Watch(Strand strand) : strand_(strand), timer_(strand) {}

  void Push(std::shared_ptr<Watch> self, int64_t offset, std::string_view bytes, bool finished) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished) {
        finished_ = true;
      } else if (queued_bytes_ + bytes.size() <= kMaxQueuedBytes) {
        queued_bytes_ += bytes.size();
        chunks_.emplace_back(offset, std::string(bytes));
      }
      if (notify_posted_) return;
      notify_posted_ = true;
    }
    asio::post(strand_, [self = std::move(self)] {
      self->signaled_ = true;
      self->timer_.cancel();
    });
  }

  // On the strand: waits until something was pushed or the timeout passed.
  // Returns false on timeout.
  asio::awaitable<bool> Wait(std::chrono::milliseconds timeout) {
    if (!signaled_) {
      timer_.expires_after(timeout);
      beast::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    bool woken = signaled_;
    signaled_ = false;
    co_return woken;
  }

  void Take(std::deque<std::pair<int64_t, std::string>>* chunks, bool* finished) {
    std::lock_guard<std::mutex> lock(mu_);
    chunks->swap(chunks_);
    chunks_.clear();
    queued_bytes_ = 0;
    *finished = finished_;
    notify_posted_ = false;
  }

 private:
  static constexpr size_t kMaxQueuedBytes = 4 << 20;
  Strand strand_;
  asio::steady_timer timer_;  // On the strand.
  bool signaled_ = false;     // On the strand.
  std::mutex mu_;
  std::deque<std::pair<int64_t, std::string>> chunks_ GUARDED_BY(mu_);
  size_t queued_bytes_ GUARDED_BY(mu_) = 0;
  bool finished_ GUARDED_BY(mu_) = false;
  bool notify_posted_ GUARDED_BY(mu_) = false;
};

struct Subscription {
  LogHub* hub;
  uint64_t handle;
  ~Subscription() { hub->Unsubscribe(handle); }
};

void LogException(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    LogLine(LogLevel::kError, "connection_error").Str("error", ex.what());
  }
}

std::string StatusLine(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + HttpReason(status) + "\r\n";
}

// Wakes a push response's coroutine (HttpServer::Impl::Push) from the
// channel's waker or when its client hangs up. The timer is on the
// connection's strand; the flags are read there.
struct PushSignal {
  explicit PushSignal(Strand s) : timer(s) {}
  asio::steady_timer timer;
  std::atomic<bool> woken{false};
  std::atomic<bool> gone{false};
};

// Waits until socket is readable (or the wait is canceled); then marks the
// client gone unless canceled. socket is used only to start the wait.
asio::awaitable<void> WatchHangUp(tcp::socket& socket, std::shared_ptr<PushSignal> signal) {
  beast::error_code ec;
  co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == asio::error::operation_aborted) co_return;
  signal->gone = true;
  signal->timer.cancel();
}

// The strand a connection's stream runs on (a new one if it has none).
Strand StrandOf(const asio::any_io_executor& executor, asio::io_context& io) {
  const Strand* strand = executor.target<Strand>();
  return strand != nullptr ? *strand : asio::make_strand(io);
}

std::string RemoteAddress(const tcp::socket& socket) {
  beast::error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  return ec ? std::string("-") : peer.address().to_string();
}

// One "request" log line (docs/server.md, "Log"), written once the
// response was sent. The path is logged without its query: a query may
// carry a token (private_token, a trigger's token), and headers are not
// logged at all.
struct RequestLog {
  const std::string* remote = nullptr;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::string method = "-";
  std::string target = "-";  // The path; a query is cut off in Write.
  std::string user_agent;
  int status = 0;
  uint64_t bytes = 0;

  void Write() const {
    if (!LogEnabled(LogLevel::kInfo)) return;
    std::string_view path = target;
    path = path.substr(0, path.find('?'));
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    LogLine line(LogLevel::kInfo, "request");
    line.Str("method", method)
        .Str("path", path)
        .Int("status", status)
        .Int("bytes", static_cast<int64_t>(bytes))
        .Num("duration_s", seconds)
        .Str("remote_ip", *remote);
    if (!user_agent.empty()) line.Str("ua", user_agent);
  }
};

}  // namespace

struct HttpServer::Impl {
  Api* api;
  Store* store;
  LogHub* hub;
  HttpServerOptions options;
  asio::io_context io;
  std::optional<asio::thread_pool> pool;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::optional<asio::ssl::context> tls;  // Set: HTTPS.
  uint16_t port = 0;
  bool running = false;

  Status LoadTls();
  asio::awaitable<void> Listen();
  // A connection: HTTP, or the TLS handshake and then HTTP over it.
  asio::awaitable<void> Session(tcp::socket socket);
  asio::awaitable<void> TlsSession(beast::tcp_stream stream);
  // The request loop, the same over both kinds of stream (S is
  // beast::tcp_stream or TlsStream); buffer holds bytes already read.
  // remote: the client's address, for the log.
  template <class S>
  asio::awaitable<void> Requests(S& stream, beast::flat_buffer& buffer, const std::string& remote);
  asio::awaitable<HttpResponse> Dispatch(HttpRequest request);
  // The writers add the bytes they sent to *sent: the body, or for a live
  // log and a push channel, everything.
  template <class S>
  asio::awaitable<void> Stream(S& stream, const HttpResponse& head, uint64_t* sent);
  template <class S>
  asio::awaitable<void> Push(S& stream, const HttpResponse& head, uint64_t* sent);
  template <class S>
  asio::awaitable<bool> WriteRaw(S& stream, std::string data, uint64_t* sent = nullptr);
  template <class S>
  asio::awaitable<bool> WriteResponse(S& stream, HttpResponse response, bool head_only,
                                      bool keep_alive, unsigned version, uint64_t* sent = nullptr);
};

HttpServer::HttpServer(Api* api, Store* store, LogHub* hub, HttpServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->api = api;
  impl_->store = store;
  impl_->hub = hub;
  impl_->options = std::move(options);
}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port; }

const char* HttpServer::scheme() const { return impl_->tls ? "https" : "http"; }

Status HttpServer::Impl::LoadTls() {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return Status::Ok();
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return Status::Error("--tls-cert and --tls-key go together: give both or neither");
  }
  tls.emplace(asio::ssl::context::tls_server);
  Status loaded =
      ConfigureServerTls(tls->native_handle(), options.tls_cert_file, options.tls_key_file);
  if (!loaded.ok()) tls.reset();
  return loaded;
}

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (Status loaded = s.LoadTls(); !loaded.ok()) return loaded;
  beast::error_code ec;
  auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) return Status::Error("invalid listen address '" + s.options.host + "': " + ec.message());
  tcp::endpoint endpoint(address, s.options.port);
  // Asio opens sockets without SOCK_CLOEXEC: open it here, so that no job
  // started meanwhile inherits the listening socket.
  int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    ec.assign(errno, boost::system::system_category());
  } else {
    s.acceptor.assign(endpoint.protocol(), fd, ec);
    if (ec) ::close(fd);
  }
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  // Listen() accepts with accept4 once the socket is readable; a connection
  // reset meanwhile must not block the accepting thread.
  if (!ec) s.acceptor.non_blocking(true, ec);
  if (ec) {
    return Status::Error("cannot listen on " + s.options.host + ":" +
                         std::to_string(s.options.port) + ": " + ec.message());
  }
  s.port = s.acceptor.local_endpoint().port();
  s.pool.emplace(static_cast<size_t>(std::max(1, s.options.blocking_threads)));
  asio::co_spawn(s.io, s.Listen(), LogException);
  int n = s.options.io_threads > 0
              ? s.options.io_threads
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) s.threads.emplace_back([&s] { s.io.run(); });
  s.running = true;
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  asio::post(s.io, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  s.io.stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  if (s.pool) s.pool->join();
}

asio::awaitable<void> HttpServer::Impl::Listen() {
  const tcp protocol = acceptor.local_endpoint().protocol();
  for (;;) {
    beast::error_code ec;
    co_await acceptor.async_wait(tcp::acceptor::wait_read,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      continue;
    }
    // Asio accepts without SOCK_CLOEXEC: accept here, so that no job started
    // by another thread at that moment inherits the connection.
    int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (!acceptor.is_open()) co_return;
      // Out of file descriptors and the like: wait a little instead of spinning.
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Strand strand = asio::make_strand(io);
    tcp::socket socket(strand);
    socket.assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(strand, Session(std::move(socket)), LogException);
  }
}

namespace {

HttpResponse HandleSafely(Api* api, const HttpRequest& request) {
  try {
    return api->Handle(request);
  } catch (const std::exception& e) {
    return JsonError(500, std::string("500 Internal Server Error - ") + e.what());
  }
}

// A coroutine with its arguments in its own frame (a capturing lambda's
// captures would die with the temporary lambda).
asio::awaitable<HttpResponse> HandleOnPool(Api* api, HttpRequest request) {
  co_return HandleSafely(api, request);
}

}  // namespace

asio::awaitable<HttpResponse> HttpServer::Impl::Dispatch(HttpRequest request) {
  if (!Api::IsBlocking(request)) co_return HandleSafely(api, request);
  // Off the IO threads; the coroutine resumes on its strand afterwards.
  co_return co_await asio::co_spawn(pool->get_executor(), HandleOnPool(api, std::move(request)),
                                    asio::use_awaitable);
}

template <class S>
asio::awaitable<bool> HttpServer::Impl::WriteRaw(S& stream, std::string data, uint64_t* sent) {
  if (sent != nullptr) *sent += data.size();
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(options.idle_timeout_s));
  co_await asio::async_write(stream, asio::buffer(data),
                             asio::redirect_error(asio::use_awaitable, ec));
  beast::get_lowest_layer(stream).expires_never();
  co_return !ec;
}

template <class S>
asio::awaitable<bool> HttpServer::Impl::WriteResponse(S& stream, HttpResponse response,
                                                      bool head_only, bool keep_alive,
                                                      unsigned version, uint64_t* sent) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(options.idle_timeout_s));
  auto fill = [&](auto& res) {
    res.result(static_cast<unsigned>(response.status));
    res.version(version);
    res.set(http::field::server, "slipway");
    for (const auto& [k, v] : response.headers) res.set(k, v);
    res.keep_alive(keep_alive);
  };
  if (!response.file_path.empty()) {
    http::response<http::file_body> res;
    // beast's own open lacks O_CLOEXEC.
    int file_fd = ::open(response.file_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file_fd < 0) {
      ec.assign(errno, boost::system::system_category());
    } else {
      beast::file file;
      file.native_handle(file_fd);
      res.body().reset(std::move(file), ec);
    }
    if (ec)
      co_return co_await WriteResponse(stream, JsonError(404, "404 Not Found"), head_only,
                                       keep_alive, version, sent);
    fill(res);
    res.prepare_payload();
    if (sent != nullptr && !head_only) *sent += res.body().size();
    if (head_only) {
      http::response_serializer<http::file_body> sr(res);
      co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return !ec;
  }
  http::response<http::string_body> res;
  fill(res);
  size_t length = response.body.size();
  if (sent != nullptr && !head_only) *sent += length;
  if (!head_only) res.body() = std::move(response.body);
  if (response.status != 204 && response.status != 304) res.content_length(length);
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> HttpServer::Impl::Session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  if (tls) {
    co_await TlsSession(std::move(stream));
    co_return;
  }
  beast::flat_buffer buffer;
  co_await Requests(stream, buffer, RemoteAddress(stream.socket()));
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> HttpServer::Impl::TlsSession(beast::tcp_stream stream) {
  const auto handshake_timeout = std::chrono::seconds(options.tls_handshake_timeout_s);
  beast::flat_buffer buffer;
  beast::error_code ec;
  // A client that connects and sends nothing, or stops halfway through
  // the handshake, is dropped after the timeout.
  stream.expires_after(handshake_timeout);
  bool hello = co_await beast::async_detect_ssl(stream, buffer,
                                                asio::redirect_error(asio::use_awaitable, ec));
  const std::string remote = RemoteAddress(stream.socket());
  if (ec) {
    LogLine(LogLevel::kDebug, "tls_error").Str("remote_ip", remote).Str("error", ec.message());
    co_return;
  }
  if (!hello) {
    LogLine(LogLevel::kDebug, "tls_error")
        .Str("remote_ip", remote)
        .Str("error", "plain HTTP to the HTTPS port");
    // Plain HTTP to the HTTPS port: say so in HTTP, which the client reads.
    HttpResponse error =
        JsonError(400, "400 Bad request - this port speaks HTTPS: use an https:// URL");
    co_await WriteResponse(stream, std::move(error), false, false, 11);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }
  TlsStream tls_stream(std::move(stream), *tls);
  size_t used = co_await tls_stream.async_handshake(asio::ssl::stream_base::server, buffer.data(),
                                                    asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    LogLine(LogLevel::kDebug, "tls_error").Str("remote_ip", remote).Str("error", ec.message());
    co_return;
  }
  buffer.consume(used);
  beast::get_lowest_layer(tls_stream).expires_never();
  co_await Requests(tls_stream, buffer, remote);
  // close_notify, so that a client reading to the end of a response
  // without a length (live logs) knows it was not cut; bounded in time
  // because the client may never answer it.
  beast::get_lowest_layer(tls_stream).expires_after(handshake_timeout);
  co_await tls_stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  beast::get_lowest_layer(tls_stream).socket().shutdown(tcp::socket::shutdown_send, ec);
}

template <class S>
asio::awaitable<void> HttpServer::Impl::Requests(S& stream, beast::flat_buffer& buffer,
                                                 const std::string& remote) {
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    RequestLog log;
    log.remote = &remote;
    http::request_parser<http::string_body> parser;
    parser.header_limit(options.max_header_bytes);
    parser.body_limit(options.max_body_bytes);
    beast::error_code ec;
    lowest.expires_after(std::chrono::seconds(options.idle_timeout_s));
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    log.start = std::chrono::steady_clock::now();
    if (!ec && !parser.is_done()) {
      auto expect = parser.get()[http::field::expect];
      if (beast::iequals(expect, "100-continue")) {
        if (!co_await WriteRaw(stream, "HTTP/1.1 100 Continue\r\n\r\n")) break;
      }
      lowest.expires_after(std::chrono::seconds(options.idle_timeout_s));
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec.category() != beast::error_code(http::error::end_of_stream).category()) {
        break;  // Closed, idle or a socket error: nothing to answer.
      }
      int status = ec == http::error::body_limit ? 413 : 400;
      std::string message = status == 413
                                ? "413 Payload Too Large - the body exceeds " +
                                      std::to_string(options.max_body_bytes) + " bytes"
                                : "400 Bad request - " + (ec == http::error::header_limit
                                                              ? std::string("headers too large")
                                                              : ec.message());
      HttpResponse error = JsonError(status, message);
      api->metrics()->CountRequest(status);
      log.status = status;
      if (parser.is_header_done()) {
        log.method = std::string(parser.get().method_string());
        log.target = std::string(parser.get().target());
      }
      co_await WriteResponse(stream, std::move(error), false, false, 11, &log.bytes);
      log.Write();
      break;
    }
    http::request<http::string_body>& msg = parser.get();
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    for (const auto& field : msg) {
      fields.emplace_back(std::string_view(field.name_string().data(), field.name_string().size()),
                          std::string_view(field.value().data(), field.value().size()));
    }
    HttpRequest request = MakeHttpRequest(
        std::string(msg.method_string()),
        std::string_view(msg.target().data(), msg.target().size()), fields, std::move(msg.body()));
    bool keep_alive = msg.keep_alive();
    unsigned version = msg.version();
    bool head_only = request.method == "HEAD";
    if (LogEnabled(LogLevel::kInfo)) {
      log.method = request.method;
      log.target = request.path;
      log.user_agent = request.Header("user-agent");
    }
    HttpResponse response = co_await Dispatch(std::move(request));
    log.status = response.status;
    if (response.stream) {
      co_await Stream(stream, response, &log.bytes);
      log.Write();
      break;
    }
    if (response.push) {
      co_await Push(stream, response, &log.bytes);
      log.Write();
      break;
    }
    bool written = co_await WriteResponse(stream, std::move(response), head_only, keep_alive,
                                          version, &log.bytes);
    log.Write();
    if (!written || !keep_alive) break;
  }
}

template <class S>
asio::awaitable<void> HttpServer::Impl::Stream(S& stream, const HttpResponse& head,
                                               uint64_t* sent) {
  Strand strand = StrandOf(stream.get_executor(), io);
  auto watch = std::make_shared<Watch>(strand);
  LogStream log(store, head.stream->job_id, head.stream->offset);
  Subscription subscription{
      hub, hub->Subscribe(head.stream->job_id,
                          [watch](int64_t offset, std::string_view bytes, bool finished) {
                            watch->Push(watch, offset, bytes, finished);
                          })};
  std::string out = StatusLine(200);
  for (const auto& [k, v] : head.headers) out += k + ": " + v + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += log.CatchUp();
  out += log.EndIfFinished();
  if (!co_await WriteRaw(stream, std::move(out), sent)) co_return;
  // What another server sharing the database writes comes through the hub
  // too, read by the follower once for all of the job's watchers.
  std::unique_ptr<LogFollower::Following> following;
  if (options.follower != nullptr && !log.done()) {
    following = options.follower->Follow(head.stream->job_id, log.position());
  }
  std::deque<std::pair<int64_t, std::string>> chunks;
  asio::steady_timer batch(stream.get_executor());
  const std::chrono::milliseconds heartbeat = std::chrono::seconds(options.heartbeat_s);
  auto last_sent = std::chrono::steady_clock::now();
  while (!log.done()) {
    bool woken = co_await watch->Wait(heartbeat);
    if (woken && options.sse_batch_ms > 0) {
      // Let a burst of small chunks (a log written line by line) gather:
      // one write instead of one per line, for every watcher.
      beast::error_code ec;
      batch.expires_after(std::chrono::milliseconds(options.sse_batch_ms));
      co_await batch.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    bool finished = false;
    watch->Take(&chunks, &finished);
    out.clear();
    for (const auto& [offset, bytes] : chunks) out += log.OnChunk(offset, bytes);
    // Also on a timeout: a job can end without a Finish (canceled before it ran).
    if (finished || !woken) out += log.EndIfFinished();
    auto now = std::chrono::steady_clock::now();
    if (out.empty() && !woken && now - last_sent >= heartbeat) out = kSseHeartbeat;
    if (out.empty()) continue;
    last_sent = now;
    if (!co_await WriteRaw(stream, std::move(out), sent)) co_return;
  }
}

template <class S>
asio::awaitable<void> HttpServer::Impl::Push(S& stream, const HttpResponse& head, uint64_t* sent) {
  Strand strand = StrandOf(stream.get_executor(), io);
  // The channel's waker reaches this coroutine through a timer on its
  // strand; it may fire after the coroutine ended (weak pointer).
  auto signal = std::make_shared<PushSignal>(strand);
  // The client sends nothing after its request: the socket becoming
  // readable means it went away (a killed runner's FIN or RST), which a
  // write would notice only at the next keepalive.
  asio::co_spawn(strand, WatchHangUp(beast::get_lowest_layer(stream).socket(), signal),
                 asio::detached);
  std::weak_ptr<PushSignal> weak = signal;
  head.push->SetWaker([weak, strand] {
    std::shared_ptr<PushSignal> s = weak.lock();
    if (!s) return;
    s->woken = true;
    asio::post(strand, [s] { s->timer.cancel(); });
  });
  std::string out = StatusLine(head.status);
  for (const auto& [k, v] : head.headers) out += k + ": " + v + "\r\n";
  out += "Connection: close\r\n\r\n";
  bool closed = false;
  for (;;) {
    out += head.push->Take(&closed);
    if (!out.empty() && !co_await WriteRaw(stream, std::move(out), sent)) break;
    out.clear();
    if (closed || signal->gone) break;
    if (!signal->woken.exchange(false)) {
      beast::error_code ec;
      signal->timer.expires_after(std::chrono::seconds(options.heartbeat_s));
      co_await signal->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !signal->woken.exchange(false)) out = head.push->Keepalive();
    }
    if (signal->gone) break;
  }
  beast::error_code ec;
  beast::get_lowest_layer(stream).socket().cancel(ec);  // Ends WatchHangUp's wait.
  head.push->Closed();
}

}  // namespace slipway
