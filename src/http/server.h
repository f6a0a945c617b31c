#pragma once
// Server: Herald's HTTP/1.1 server (Asio sockets, requests decoded by http/wire.h).
// Thread-safe.
//
// A fixed pool of threads runs the connections; a connection handles one request at a time
// and answers in order, so pipelined requests are safe. Every request gets a request id
// (X-Request-ID honoured when it is sane, generated otherwise) that is echoed in the response
// and the access log. Limits: header size (431), body size (413), a read timeout for a whole
// request from its first byte and for writing its answer, an idle keep-alive timeout; the
// deadlines follow the clock's Monotonic() and are checked by a periodic sweep. Errors are
// JSON ({"error":{...}}); a handler's Status maps to HTTP in one place (http/message.h).
// Answers of asynchronous routes are queued and written by one pool thread per batch. Stop()
// stops accepting, lets requests in flight finish within the grace period and closes idle
// connections.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/clock.h"
#include "core/id.h"
#include "http/message.h"
#include "http/router.h"

namespace herald::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0 picks a free port (see Server::port)
  int threads = 4;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  // Deadlines, each from the first byte of a request (its header, then all of it), or from
  // the start of its response (writing it), or from the last response (idle keep-alive).
  absl::Duration header_timeout = absl::Seconds(5);
  absl::Duration read_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(10);
  absl::Duration idle_timeout = absl::Seconds(60);
  std::vector<std::string> cors_origins;  // "*" allows any origin
  bool access_log = true;
};

// Runs after routing, before authorisation: fills Request::principal from credentials, or
// fails the request (Unauthenticated for bad credentials, ResourceExhausted for rate
// limits). Absent credentials are not an error: the caller stays anonymous.
using Authenticator = std::function<Status(Request&, const Route&)>;

// Per-route HTTP figures, read by the metrics endpoint.
struct RouteStats {
  std::string method, pattern;
  std::vector<std::pair<int, int64_t>> by_status;  // status -> requests
  std::vector<int64_t> buckets;                    // cumulative counts per kLatencyBuckets
  int64_t count = 0;
  double sum_seconds = 0;
};
inline constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,   0.25,   0.5,   1,    2.5};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options, const Router& router,
                                                Authenticator authenticate,
                                                const core::Clock& clock);
  ~Server();  // Stop()s

  // Binds and starts the threads. Unavailable if the address cannot be bound.
  Status Start();
  void Stop(absl::Duration grace = absl::Seconds(10));
  int port() const;

  // Runs one request through request id, CORS, routing, authentication, authorisation and
  // the handler, as a connection would. Exposed for fuzzing and tests.
  Response Handle(Request& request);

  std::vector<RouteStats> Stats() const;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::http
