#pragma once
// FakeHttpServer: a tiny HTTP/1.1 server on 127.0.0.1 (a free port) for tests of HTTP clients.
// It records every request (method, target, headers, body) and answers each from a queue of
// scripted responses; when the queue is empty, from the handler function if one is set (a fake
// of a whole API), else with the default response (200, "{}"). A response can be delayed (to
// test client timeouts) or replaced by closing the connection.
// Keep-alive and concurrent connections are supported. Test-only, header-only.
//
// Everything runs on one thread of its own (Boost.Beast, asynchronous); the destructor stops it
// and closes every connection, without waiting for delayed responses.
//
// Thread-safe.

#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace herald::net::testing {

struct FakeRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // path and query, as received
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  absl::Time received_at;  // real time, when the whole request had been read

  // First value of the header `lower_name`, or "" if absent.
  std::string Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return "";
  }
  std::string Path() const { return target.substr(0, target.find('?')); }
  // The query string without '?', or "" if there is none.
  std::string Query() const {
    const size_t q = target.find('?');
    return q == std::string::npos ? "" : target.substr(q + 1);
  }
};

struct FakeResponse {
  int status = 200;
  std::string body = "{}";
  // Sent as given; "Content-Type: application/json" is added unless a content-type is set.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};   // wait this long before answering
  bool close_without_response = false;  // record the request, then close the connection
};

class FakeHttpServer {
 public:
  FakeHttpServer() : acceptor_(ioc_) {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~FakeHttpServer() {
    ioc_.stop();
    thread_.join();
    // Pending handlers, and the sessions they keep alive, go with ioc_.
  }

  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Answers the next request not yet answered with `response` (FIFO).
  void Enqueue(FakeResponse response) {
    absl::MutexLock l(&mu_);
    script_.push_back(std::move(response));
  }
  // The answer when the queue is empty.
  void SetDefault(FakeResponse response) {
    absl::MutexLock l(&mu_);
    default_ = std::move(response);
  }

  // Answers every request the queue does not with `handler(request)` (instead of the default
  // response); an empty function removes it. The handler runs on the server's thread, one
  // request at a time, without any lock of this class held: it may call requests().
  using Handler = std::function<FakeResponse(const FakeRequest&)>;
  void SetHandler(Handler handler) {
    absl::MutexLock l(&mu_);
    handler_ = std::make_shared<const Handler>(std::move(handler));
  }

  std::vector<FakeRequest> requests() const {
    absl::MutexLock l(&mu_);
    return requests_;
  }
  size_t request_count() const {
    absl::MutexLock l(&mu_);
    return requests_.size();
  }
  // TCP connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  FakeResponse Record(FakeRequest request) {
    request.received_at = absl::Now();
    std::shared_ptr<const Handler> handler;
    {
      absl::MutexLock l(&mu_);
      requests_.push_back(request);
      if (!script_.empty()) {
        FakeResponse r = std::move(script_.front());
        script_.pop_front();
        return r;
      }
      if (handler_ == nullptr || !*handler_) return default_;
      handler = handler_;  // shared: SetHandler may replace it while this one runs
    }
    return (*handler)(request);
  }

  // One connection. Owned through shared_ptr by its pending asynchronous operations: it lives
  // until the client closes or the server stops.
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(boost::asio::ip::tcp::socket socket, FakeHttpServer* server)
        : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(server) {}

    void Read() {
      request_ = {};
      boost::beast::http::async_read(
          stream_, buffer_, request_,
          [self = shared_from_this()](boost::beast::error_code ec, size_t) { self->OnRead(ec); });
    }

   private:
    void OnRead(boost::beast::error_code ec) {
      if (ec) return Close();
      FakeRequest recorded;
      recorded.method = std::string(request_.method_string());
      recorded.target = std::string(request_.target());
      for (const auto& field : request_) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        recorded.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      recorded.body = request_.body();
      FakeResponse script = server_->Record(std::move(recorded));
      if (script.close_without_response) return Close();

      response_ = {};
      response_.version(11);
      response_.result(static_cast<unsigned>(script.status));
      bool has_content_type = false;
      for (const auto& [name, value] : script.headers) {
        response_.set(name, value);
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        has_content_type = has_content_type || lower == "content-type";
      }
      if (!has_content_type)
        response_.set(boost::beast::http::field::content_type, "application/json");
      response_.keep_alive(request_.keep_alive());
      response_.body() = std::move(script.body);
      response_.prepare_payload();
      timer_.expires_after(script.delay);
      timer_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
        if (!wait_ec) self->Write();
      });
    }

    void Write() {
      boost::beast::http::async_write(
          stream_, response_, [self = shared_from_this()](boost::beast::error_code ec, size_t) {
            if (ec || !self->response_.keep_alive()) return self->Close();
            self->Read();
          });
    }

    void Close() {
      boost::beast::error_code ignored;
      stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
    }

    boost::beast::tcp_stream stream_;
    boost::asio::steady_timer timer_;
    FakeHttpServer* server_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      connections_.fetch_add(1);
      std::make_shared<Session>(std::move(s), this)->Read();
      Accept();
    });
  }

  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable absl::Mutex mu_;
  std::deque<FakeResponse> script_ ABSL_GUARDED_BY(mu_);
  FakeResponse default_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Handler> handler_ ABSL_GUARDED_BY(mu_);
  std::vector<FakeRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::net::testing
