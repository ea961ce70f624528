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
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "server/log_stream.h"
#include "util/thread_annotations.h"

namespace slipway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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
  asio::awaitable<bool> Wait(std::chrono::seconds timeout) {
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
    std::fprintf(stderr, "slipway serve: connection error: %s\n", ex.what());
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
  uint16_t port = 0;
  bool running = false;

  asio::awaitable<void> Listen();
  asio::awaitable<void> Session(tcp::socket socket);
  asio::awaitable<HttpResponse> Dispatch(HttpRequest request);
  asio::awaitable<void> Stream(beast::tcp_stream& stream, const HttpResponse& head);
  asio::awaitable<void> Push(beast::tcp_stream& stream, const HttpResponse& head);
  asio::awaitable<bool> WriteRaw(beast::tcp_stream& stream, std::string data);
  asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, HttpResponse response,
                                      bool head_only, bool keep_alive, unsigned version);
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

Status HttpServer::Start() {
  Impl& s = *impl_;
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

asio::awaitable<bool> HttpServer::Impl::WriteRaw(beast::tcp_stream& stream, std::string data) {
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(options.idle_timeout_s));
  co_await asio::async_write(stream, asio::buffer(data),
                             asio::redirect_error(asio::use_awaitable, ec));
  stream.expires_never();
  co_return !ec;
}

asio::awaitable<bool> HttpServer::Impl::WriteResponse(beast::tcp_stream& stream,
                                                      HttpResponse response, bool head_only,
                                                      bool keep_alive, unsigned version) {
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(options.idle_timeout_s));
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
                                       keep_alive, version);
    fill(res);
    res.prepare_payload();
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
  if (!head_only) res.body() = std::move(response.body);
  if (response.status != 204 && response.status != 304) res.content_length(length);
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> HttpServer::Impl::Session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(options.max_header_bytes);
    parser.body_limit(options.max_body_bytes);
    beast::error_code ec;
    stream.expires_after(std::chrono::seconds(options.idle_timeout_s));
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      auto expect = parser.get()[http::field::expect];
      if (beast::iequals(expect, "100-continue")) {
        if (!co_await WriteRaw(stream, "HTTP/1.1 100 Continue\r\n\r\n")) break;
      }
      stream.expires_after(std::chrono::seconds(options.idle_timeout_s));
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
      co_await WriteResponse(stream, std::move(error), false, false, 11);
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
    HttpResponse response = co_await Dispatch(std::move(request));
    if (response.stream) {
      co_await Stream(stream, response);
      break;
    }
    if (response.push) {
      co_await Push(stream, response);
      break;
    }
    if (!co_await WriteResponse(stream, std::move(response), head_only, keep_alive, version) ||
        !keep_alive) {
      break;
    }
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> HttpServer::Impl::Stream(beast::tcp_stream& stream,
                                               const HttpResponse& head) {
  Strand strand = stream.get_executor().target<Strand>() != nullptr
                      ? *stream.get_executor().target<Strand>()
                      : asio::make_strand(io);
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
  if (!co_await WriteRaw(stream, std::move(out))) co_return;
  std::deque<std::pair<int64_t, std::string>> chunks;
  asio::steady_timer batch(stream.get_executor());
  while (!log.done()) {
    bool woken = co_await watch->Wait(std::chrono::seconds(options.heartbeat_s));
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
    if (out.empty() && !woken) out = kSseHeartbeat;
    if (!out.empty() && !co_await WriteRaw(stream, std::move(out))) co_return;
  }
}

asio::awaitable<void> HttpServer::Impl::Push(beast::tcp_stream& stream, const HttpResponse& head) {
  Strand strand = stream.get_executor().target<Strand>() != nullptr
                      ? *stream.get_executor().target<Strand>()
                      : asio::make_strand(io);
  // The channel's waker reaches this coroutine through a timer on its
  // strand; it may fire after the coroutine ended (weak pointer).
  auto signal = std::make_shared<PushSignal>(strand);
  // The client sends nothing after its request: the socket becoming
  // readable means it went away (a killed runner's FIN or RST), which a
  // write would notice only at the next keepalive.
  asio::co_spawn(strand, WatchHangUp(stream.socket(), signal), asio::detached);
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
    if (!out.empty() && !co_await WriteRaw(stream, std::move(out))) break;
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
  stream.socket().cancel(ec);  // Ends WatchHangUp's wait.
  head.push->Closed();
}

}  // namespace slipway
