#include "http/server.h"

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "core/log.h"
#include "core/strings.h"
#include "http/wire.h"

namespace herald::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A client's request id is kept if it is 1 to 128 printable ASCII characters without spaces:
// the same rule as the id a signed service request covers (auth/service_signature.h), so the
// id a service signed is the one the logs and the response carry. Log lines escape what they
// quote, and nothing here can split a header.
bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// How often connections are checked against their deadlines: a quarter of the shortest
// timeout, within 10 ms .. 1 s.
std::chrono::milliseconds SweepPeriod(const ServerOptions& o) {
  int64_t ms = absl::ToInt64Milliseconds(
      std::min({o.header_timeout, o.read_timeout, o.write_timeout, o.idle_timeout}) / 4);
  return std::chrono::milliseconds(std::clamp<int64_t>(ms, 10, 1000));
}

}  // namespace

class Server::Impl {
 public:
  Impl(const ServerOptions& options, const Router& router, Authenticator authenticate,
       const core::Clock& clock)
      : options_(options),
        router_(router),
        authenticate_(std::move(authenticate)),
        clock_(clock),
        ids_(clock),
        stats_(router.routes().size() + 1),
        ioc_(std::max(1, options.threads)),
        acceptor_(ioc_),
        sweep_timer_(ioc_) {
    for (size_t i = 0; i < router.routes().size(); ++i) {
      stats_[i].method = router.routes()[i].method;
      stats_[i].pattern = router.routes()[i].pattern;
    }
    stats_.back().method = "*";
    stats_.back().pattern = "unmatched";
    for (auto& s : stats_) s.buckets.assign(std::size(kLatencyBuckets), 0);
  }

  ~Impl() { Stop(absl::ZeroDuration()); }

  Status Start() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.address, ec);
    if (ec) return absl::InvalidArgumentError(StrCat("http.address: '", options_.address, "'"));
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          StrCat("cannot listen on ", options_.address, ":", options_.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    Sweep();
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return absl::OkStatus();
  }

  void Stop(absl::Duration grace) {
    if (threads_.empty() || stopped_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
    });
    CloseIdleSessions();
    absl::Time deadline = clock_.Now() + grace;
    {
      absl::MutexLock l(&sessions_mu_);
      while (!sessions_.empty() && clock_.Now() < deadline) {
        clock_.WaitUntil(sessions_mu_, sessions_cv_, deadline);
      }
    }
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  int port() const { return port_; }

  using Done = std::function<void(Response)>;

  // Runs a request; `done` gets the response, on the calling thread for synchronous routes
  // and on a pool thread for asynchronous ones. `req` lives until then.
  void HandleAsync(Request& req, Done done) {
    absl::Time start = clock_.Now();
    req.request_id = SaneRequestId(req.Header("x-request-id"))
                         ? std::string(req.Header("x-request-id"))
                         : ids_.Next().ToString();
    core::LogRequestScope log_scope(req.request_id);
    size_t stat_index = stats_.size() - 1;
    const Route* route = nullptr;
    std::optional<Response> early = Admit(req, stat_index, route);
    if (early) return Finish(req, stat_index, start, std::move(*early), done);
    if (!route->async) {
      return Finish(req, stat_index, start, Run(req, *route, [&] { return route->handler(req); }),
                    done);
    }
    Respond respond([this, &req, stat_index, start, route, done](Respond::Make make) mutable {
      Complete({&req, stat_index, start, route, std::move(make), std::move(done)});
    });
    try {
      route->async(req, std::move(respond));
    } catch (const std::exception& e) {
      core::LogError(
          "http: handler threw",
          {{"route", route->pattern}, {"request_id", req.request_id}, {"what", e.what()}});
      Finish(req, stat_index, start, ErrorResponse(absl::InternalError("handler threw")), done);
    }
  }

  // Answers a request the decoder refused (malformed, too large) as any other: with a request
  // id, a line in the access log and a count under the unmatched route.
  void Refuse(Response res, const std::string& client_ip, const Done& done) {
    Request req;
    req.request_id = ids_.Next().ToString();
    req.client_ip = client_ip;
    Finish(req, stats_.size() - 1, clock_.Now(), std::move(res), done);
  }

  Response Handle(Request& req) {
    absl::Notification ready;
    Response out;
    HandleAsync(req, [&](Response r) {
      out = std::move(r);
      ready.Notify();
    });
    ready.WaitForNotification();
    return out;
  }

  std::vector<RouteStats> Stats() const {
    absl::MutexLock l(&stats_mu_);
    return stats_;
  }

  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopped_.load(); }

  // Sessions register so Stop can close idle ones and wait for busy ones.
  class Session;
  void Register(Session* s) {
    absl::MutexLock l(&sessions_mu_);
    sessions_.insert(s);
  }
  void Unregister(Session* s) {
    absl::MutexLock l(&sessions_mu_);
    sessions_.erase(s);
    sessions_cv_.SignalAll();
  }

 private:
  // Routing, authentication and authorisation. Returns the response when the request stops
  // here (preflight, no route, bad credentials, missing permission); sets `route` otherwise.
  std::optional<Response> Admit(Request& req, size_t& stat_index, const Route*& route) {
    if (req.method == "OPTIONS" && !req.Header("access-control-request-method").empty()) {
      return Response::Text(204, "", "text/plain");  // CORS preflight; headers added later
    }
    req.declared_query = nullptr;
    std::string allow;
    auto matched = router_.Match(req, &allow);
    if (!matched.ok()) {
      if (allow.empty()) return ErrorResponse(matched.status());
      Response r = ErrorResponse(matched.status(), 405, "method_not_allowed");
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    const Route& rt = **matched;
    stat_index = static_cast<size_t>(&rt - router_.routes().data());
    if (authenticate_) {
      Status st = authenticate_(req, rt);
      if (!st.ok()) return ErrorResponse(st);
    }
    if (!rt.permission.empty()) {
      if (!req.principal) {
        return ErrorResponse(absl::UnauthenticatedError(
            "authentication required: send Authorization: Bearer <token> or a service key"));
      }
      if (!req.principal->Can(rt.permission)) {
        return ErrorResponse(
            absl::PermissionDeniedError(StrCat("permission '", rt.permission, "' required")));
      }
    }
    if (Status st = CheckQuery(rt, req); !st.ok()) return ErrorResponse(st);
    req.declared_query = &rt.query;
    route = &rt;
    return std::nullopt;
  }

  // The response for a handler's result (`produce` runs the handler or hands its result).
  template <typename Produce>
  Response Run(const Request& req, const Route& rt, Produce produce) {
    try {
      Result<Response> r = produce();
      if (!r.ok()) {
        if (HttpStatus(r.status()) >= 500) {
          core::LogError(
              "http: handler failed",
              {{"route", rt.pattern}, {"request_id", req.request_id}, {"error", r.status()}});
        }
        return ErrorResponse(r.status());
      }
      return std::move(*r);
    } catch (const std::exception& e) {
      // Handlers return errors as values; a throw (e.g. from a JSON accessor) is a bug.
      core::LogError("http: handler threw",
                     {{"route", rt.pattern}, {"request_id", req.request_id}, {"what", e.what()}});
      return ErrorResponse(absl::InternalError("handler threw"));
    }
  }

  void Finish(const Request& req, size_t stat_index, absl::Time start, Response res,
              const std::function<void(Response)>& done) {
    res.headers.emplace_back("X-Request-ID", req.request_id);
    AddCors(req, res);
    absl::Duration took = clock_.Now() - start;
    Record(stat_index, res.status, took);
    if (options_.access_log) {
      core::LogInfo("http", {{"method", req.method},
                             {"path", req.path},
                             {"status", res.status},
                             {"ms", absl::ToDoubleMilliseconds(took)},
                             {"request_id", req.request_id},
                             {"client", req.client_ip},
                             {"caller", req.principal ? req.principal->name : ""}});
    }
    done(std::move(res));
  }

  void AddCors(const Request& req, Response& res) {
    std::string_view origin = req.Header("origin");
    if (origin.empty() || options_.cors_origins.empty()) return;
    bool any = std::find(options_.cors_origins.begin(), options_.cors_origins.end(), "*") !=
               options_.cors_origins.end();
    bool listed = std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) !=
                  options_.cors_origins.end();
    if (!any && !listed) return;
    res.headers.emplace_back("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
    res.headers.emplace_back("Vary", "Origin");
    res.headers.emplace_back("Access-Control-Allow-Headers",
                             "Authorization, Content-Type, X-Request-ID, X-Service-Name, "
                             "X-Service-Key, X-Timestamp, X-Signature");
    res.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
    res.headers.emplace_back("Access-Control-Expose-Headers", "X-Request-ID, Retry-After");
  }

  void Record(size_t index, int status, absl::Duration took) {
    double s = absl::ToDoubleSeconds(took);
    absl::MutexLock l(&stats_mu_);
    RouteStats& st = stats_[index];
    st.count++;
    st.sum_seconds += s;
    for (size_t b = 0; b < std::size(kLatencyBuckets); ++b) {
      if (s <= kLatencyBuckets[b]) st.buckets[b]++;
    }
    auto it = std::find_if(st.by_status.begin(), st.by_status.end(),
                           [&](const auto& p) { return p.first == status; });
    if (it == st.by_status.end()) {
      st.by_status.emplace_back(status, 1);
    } else {
      it->second++;
    }
  }

  // An asynchronous handler's answer, waiting for a pool thread to make (`make`) and write it.
  struct Completion {
    Request* req;
    size_t stat_index;
    absl::Time start;
    const Route* route;
    Respond::Make make;
    Done done;
  };

  // Called where an asynchronous handler's work completed (e.g. the store's writer thread,
  // once per request of a group commit). Queues the answer for a pool thread, so logging
  // and writing never hold that thread, and wakes one pool thread per batch, not per request.
  void Complete(Completion c) {
    bool first;
    {
      absl::MutexLock l(&completions_mu_);
      first = completions_.empty();
      completions_.push_back(std::move(c));
    }
    if (first) asio::post(ioc_, [this] { AnswerCompletions(); });
  }

  void AnswerCompletions() {
    std::vector<Completion> batch;
    {
      absl::MutexLock l(&completions_mu_);
      batch.swap(completions_);
    }
    for (Completion& c : batch) {
      core::LogRequestScope log_scope(c.req->request_id);
      Finish(*c.req, c.stat_index, c.start, Run(*c.req, *c.route, std::move(c.make)), c.done);
    }
  }

  void Accept();
  void Sweep();
  std::vector<std::shared_ptr<Session>> LiveSessions();
  void CloseIdleSessions();

  const ServerOptions options_;
  const Router& router_;
  const Authenticator authenticate_;
  const core::Clock& clock_;
  core::IdGenerator ids_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;

  mutable absl::Mutex stats_mu_;
  std::vector<RouteStats> stats_ ABSL_GUARDED_BY(stats_mu_);  // one per route, then unmatched

  absl::Mutex sessions_mu_;
  absl::CondVar sessions_cv_;
  absl::flat_hash_set<Session*> sessions_ ABSL_GUARDED_BY(sessions_mu_);

  // Destroying it destroys pending handlers and the sessions they own, which unregister
  // themselves above.
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer sweep_timer_;
  std::vector<std::thread> threads_;

  // Declared last, so the sessions their answers hold go before the io_context.
  absl::Mutex completions_mu_;
  std::vector<Completion> completions_ ABSL_GUARDED_BY(completions_mu_);
};

// One connection. Owned by shared_ptr because its lifetime is that of its asynchronous
// operations: each completion handler holds it alive until the connection closes.
//
// A connection runs one request at a time, so its reads, its handler and its writes follow
// one another and need no lock. Only closing comes from other threads (Stop, and the sweep
// that enforces deadlines): `mu_` orders it with every use of the socket.
class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& server)
      : server_(server),
        socket_(std::move(socket)),
        decoder_(server.options().max_header_bytes, server.options().max_body_bytes) {
    boost::system::error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) client_ip_ = remote.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
  }
  ~Session() {
    if (registered_) server_.Unregister(this);
  }

  // Called once the session is owned by a shared_ptr (the sweep reads weak_from_this).
  void Run() {
    server_.Register(this);
    registered_ = true;
    ReadRequest();
  }

  // Closes the connection if it is waiting for a new request.
  void CloseIfIdle() {
    absl::MutexLock l(&mu_);
    if (phase_ == Phase::kIdle) CloseLocked();
  }

  // Closes the connection if its deadline passed: idle too long between requests, a request
  // whose header (or all of it) is slower than the header (or read) timeout, a response
  // slower than the write timeout.
  void CloseIfLate(absl::Duration now) {
    absl::MutexLock l(&mu_);
    if (now >= deadline_) CloseLocked();
  }

 private:
  enum class Phase { kIdle, kReadingHeader, kReadingBody, kHandling, kWriting };

  // Answers the next request if it is buffered, reads more otherwise.
  void ReadRequest() {
    if (server_.stopping()) return Close();
    bool keep_alive = false;
    Response error;
    switch (decoder_.Next(request_, keep_alive, error)) {
      case RequestDecoder::Outcome::kRequest:
        head_request_ = request_.method == "HEAD";
        return OnRequest(keep_alive);
      case RequestDecoder::Outcome::kError:
        head_request_ = false;
        return server_.Refuse(std::move(error), client_ip_,
                              [self = shared_from_this()](Response r) {
                                self->Respond(std::move(r), /*keep_alive=*/false);
                              });
      case RequestDecoder::Outcome::kNeedMore:
        break;
    }
    absl::MutexLock l(&mu_);
    const ServerOptions& o = server_.options();
    if (!decoder_.Started()) {
      SetPhaseLocked(Phase::kIdle, o.idle_timeout);
      // Stop sets the flag, then closes idle connections under `mu_`: one of the two sees
      // the other.
      if (server_.stopping()) CloseLocked();
    } else if (phase_ != Phase::kReadingHeader && phase_ != Phase::kReadingBody) {
      // The request's first bytes: both deadlines count from now. The read timeout bounds
      // the whole request, its header included.
      request_started_ = server_.clock_.Monotonic();
      phase_ = decoder_.HeaderDone() ? Phase::kReadingBody : Phase::kReadingHeader;
      deadline_ = request_started_ + (phase_ == Phase::kReadingHeader
                                          ? std::min(o.header_timeout, o.read_timeout)
                                          : o.read_timeout);
    } else if (phase_ == Phase::kReadingHeader && decoder_.HeaderDone()) {
      phase_ = Phase::kReadingBody;
      deadline_ = request_started_ + o.read_timeout;
    }
    if (closed_) return;
    if (decoder_.TakeContinue()) {
      // The client waits for this before it sends the body.
      continue_written_ = 0;
      return WriteContinueLocked();
    }
    socket_.async_read_some(decoder_.Prepare(),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->Close();  // EOF, reset, or closed by us
                              self->decoder_.Commit(n);
                              self->ReadRequest();
                            });
  }

  // Writes (the rest of) kContinue, then reads on. Each write starts under `mu_`, as every
  // use of the socket does.
  void WriteContinueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    socket_.async_write_some(
        asio::buffer(kContinue.data() + continue_written_, kContinue.size() - continue_written_),
        [self = shared_from_this()](boost::system::error_code ec, size_t n) {
          if (ec) return self->Close();
          self->continue_written_ += n;
          if (self->continue_written_ == kContinue.size()) return self->ReadRequest();
          absl::MutexLock l(&self->mu_);
          if (!self->closed_) self->WriteContinueLocked();
        });
  }

  void OnRequest(bool keep_alive) {
    {
      absl::MutexLock l(&mu_);
      if (closed_) return;  // by Stop or the sweep, while the request was being read
      SetPhaseLocked(Phase::kHandling, absl::InfiniteDuration());
    }
    request_.client_ip = client_ip_;
    server_.HandleAsync(request_, [self = shared_from_this(), keep_alive](Response res) {
      self->Respond(std::move(res), keep_alive && !self->server_.stopping());
    });
  }

  // Writes the response as one status line and header block, then the body.
  void Respond(Response r, bool keep_alive) {
    keep_alive_ = keep_alive;
    // The head says the body's length; a HEAD request gets no body (RFC 9110 9.3.2), nor
    // does any request answered with a bodiless status.
    head_ = ResponseHead(r, keep_alive, decoder_.http10());
    body_ = StatusHasBody(r.status) && !head_request_ ? std::move(r.body) : std::string();
    written_ = 0;
    {
      absl::MutexLock l(&mu_);
      SetPhaseLocked(Phase::kWriting, server_.options().write_timeout);
    }
    Write();
  }

  void Write() {
    size_t head_left = written_ < head_.size() ? head_.size() - written_ : 0;
    size_t body_from = written_ - (head_.size() - head_left);
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(head_.data() + head_.size() - head_left, head_left),
        asio::buffer(body_.data() + body_from, body_.size() - body_from)};
    absl::MutexLock l(&mu_);
    if (closed_) return;
    socket_.async_write_some(buffers,
                             [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                               self->OnWritten(ec, n);
                             });
  }

  void OnWritten(boost::system::error_code ec, size_t n) {
    if (ec) return Close();
    written_ += n;
    if (written_ < head_.size() + body_.size()) return Write();
    if (!keep_alive_) return Close();
    // An idle connection keeps nothing of its last request and response.
    std::string().swap(body_);
    request_ = Request{};
    ReadRequest();
  }

  void SetPhaseLocked(Phase phase, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    phase_ = phase;
    deadline_ = timeout == absl::InfiniteDuration() ? absl::InfiniteDuration()
                                                    : server_.clock_.Monotonic() + timeout;
  }

  void Close() {
    absl::MutexLock l(&mu_);
    CloseLocked();
  }

  void CloseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  Impl& server_;
  absl::Mutex mu_;
  tcp::socket socket_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kIdle;
  absl::Duration deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteDuration();  // on Monotonic()
  absl::Duration request_started_ ABSL_GUARDED_BY(mu_);  // the current request's first read

  // Used by the connection's own sequence of operations only.
  RequestDecoder decoder_;
  Request request_;
  std::string client_ip_;
  std::string head_, body_;
  size_t written_ = 0;
  size_t continue_written_ = 0;  // of kContinue
  bool keep_alive_ = false;
  bool head_request_ = false;  // the request being answered is a HEAD: no body
  bool registered_ = false;
};

void Server::Impl::Accept() {
  acceptor_.async_accept(ioc_, [this](boost::system::error_code ec, tcp::socket s) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    } else {
      std::make_shared<Session>(std::move(s), *this)->Run();
    }
    if (!stopped_.load()) Accept();
  });
}

void Server::Impl::Sweep() {
  sweep_timer_.expires_after(SweepPeriod(options_));
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    absl::Duration now = clock_.Monotonic();
    for (auto& s : LiveSessions()) s->CloseIfLate(now);
    Sweep();
  });
}

std::vector<std::shared_ptr<Server::Impl::Session>> Server::Impl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  absl::MutexLock l(&sessions_mu_);
  live.reserve(sessions_.size());
  for (Session* s : sessions_) {
    auto p = s->weak_from_this().lock();  // null once its destructor started
    if (p) live.push_back(std::move(p));
  }
  return live;
}

void Server::Impl::CloseIdleSessions() {
  for (auto& s : LiveSessions()) s->CloseIfIdle();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options, const Router& router,
                                               Authenticator authenticate,
                                               const core::Clock& clock) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("http.port: must be 0..65535");
  }
  return std::unique_ptr<Server>(
      new Server(std::make_unique<Impl>(options, router, std::move(authenticate), clock)));
}

Status Server::Start() { return impl_->Start(); }
void Server::Stop(absl::Duration grace) { impl_->Stop(grace); }
int Server::port() const { return impl_->port(); }
Response Server::Handle(Request& request) { return impl_->Handle(request); }
std::vector<RouteStats> Server::Stats() const { return impl_->Stats(); }

}  // namespace herald::http
