#include "http/server.h"

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/url/parse.hpp"
#include "core/log.h"
#include "core/strings.h"

namespace herald::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
}

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::microseconds(absl::ToInt64Microseconds(d));
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
        acceptor_(ioc_) {
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

  // Runs a request; `done` gets the response, on the calling thread for synchronous routes
  // and on a pool thread for asynchronous ones. `req` lives until then.
  void HandleAsync(std::shared_ptr<Request> req, std::function<void(Response)> done) {
    absl::Time start = clock_.Now();
    req->request_id = SaneRequestId(req->Header("x-request-id"))
                          ? std::string(req->Header("x-request-id"))
                          : ids_.Next().ToString();
    size_t stat_index = stats_.size() - 1;
    const Route* route = nullptr;
    std::optional<Response> early = Admit(*req, stat_index, route);
    if (early) return Finish(*req, stat_index, start, std::move(*early), done);
    if (!route->async) {
      return Finish(*req, stat_index, start,
                    Run(*req, *route, [&] { return route->handler(*req); }), done);
    }
    auto respond = [this, req, stat_index, start, route, done](Result<Response> r) {
      // Called where the handler's work completed (e.g. the store's writer thread): finish on
      // a pool thread so logging and the caller's work never hold that thread.
      asio::post(ioc_, [this, req, stat_index, start, route, done, r = std::move(r)]() mutable {
        Finish(*req, stat_index, start, Run(*req, *route, [&] { return std::move(r); }), done);
      });
    };
    try {
      route->async(*req, std::move(respond));
    } catch (const std::exception& e) {
      core::LogError(
          "http: handler threw",
          {{"route", route->pattern}, {"request_id", req->request_id}, {"what", e.what()}});
      Finish(*req, stat_index, start, ErrorResponse(absl::InternalError("handler threw")), done);
    }
  }

  Response Handle(Request& req) {
    auto shared = std::make_shared<Request>(std::move(req));
    absl::Notification ready;
    Response out;
    HandleAsync(shared, [&](Response r) {
      out = std::move(r);
      ready.Notify();
    });
    ready.WaitForNotification();
    req = std::move(*shared);
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
    std::string allow;
    auto matched = router_.Match(req, &allow);
    if (!matched.ok()) {
      Response r = ErrorResponse(matched.status());
      if (!allow.empty()) {
        r = ErrorResponse(absl::FailedPreconditionError(matched.status().message()));
        r.status = 405;
        r.headers.emplace_back("Allow", allow);
      }
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
    res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
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

  void Accept();
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

  // Declared last so it is destroyed first: destroying it destroys pending handlers and the
  // sessions they own, which unregister themselves above.
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

// One connection. Owned by shared_ptr because its lifetime is that of its asynchronous
// operations: each completion handler holds it alive until the connection closes.
class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& server) : stream_(std::move(socket)), server_(server) {
    boost::system::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ip_ = remote.address().to_string();
    server_.Register(this);
  }
  ~Session() { server_.Unregister(this); }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Closes the connection if it is waiting for a new request (on its own strand).
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->stream_.socket().close();
    });
  }

 private:
  void ReadHeader() {
    if (server_.stopping()) return Close();
    parser_.emplace();
    parser_->body_limit(server_.options().max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options().max_header_bytes));
    idle_ = buffer_.size() == 0;
    stream_.expires_after(ToChrono(server_.options().idle_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    if (ec) return OnReadError(ec);
    stream_.expires_after(ToChrono(server_.options().read_timeout));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == asio::error::bad_descriptor) {
      return Close();
    }
    Status st =
        ec == bhttp::error::body_limit
            ? absl::Status(absl::StatusCode::kInvalidArgument,
                           StrCat("body: larger than ", server_.options().max_body_bytes, " bytes"))
            : absl::InvalidArgumentError(StrCat("malformed request: ", ec.message()));
    Response r = ErrorResponse(st);
    if (ec == bhttp::error::body_limit) r.status = 413;
    if (ec == bhttp::error::header_limit) r.status = 431;
    Write(std::move(r), /*keep_alive=*/false);
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& msg = parser_->get();
    auto shared = std::make_shared<Request>();
    Request& req = *shared;
    req.method = std::string(msg.method_string());
    std::string_view target(msg.target().data(), msg.target().size());
    auto url =
        boost::urls::parse_origin_form(boost::core::string_view(target.data(), target.size()));
    if (!url) {
      Write(ErrorResponse(absl::InvalidArgumentError("malformed request target")), false);
      return;
    }
    req.target = std::string(target);
    req.path = std::string(url->path());
    for (auto p : url->params()) req.query[std::string(p.key)] = std::string(p.value);
    for (const auto& f : msg) {
      std::string name(f.name_string().data(), f.name_string().size());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      req.headers[name] = std::string(f.value().data(), f.value().size());
    }
    req.body = std::move(msg.body());
    req.client_ip = client_ip_;
    bool keep_alive = msg.keep_alive();
    server_.HandleAsync(std::move(shared), [self = shared_from_this(), keep_alive](Response res) {
      asio::dispatch(self->stream_.get_executor(),
                     [self, keep_alive, res = std::move(res)]() mutable {
                       self->Write(std::move(res), keep_alive && !self->server_.stopping());
                     });
    });
  }

  void Write(Response r, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, "herald");
    if (!r.body.empty() || r.status != 204) res->set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(ToChrono(server_.options().read_timeout));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->ReadHeader();
                       });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Impl& server_;
  std::string client_ip_;
  bool idle_ = false;  // on the session's strand only
};

void Server::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    } else {
      std::make_shared<Session>(std::move(s), *this)->Run();
    }
    if (!stopped_.load()) Accept();
  });
}

void Server::Impl::CloseIdleSessions() {
  std::vector<std::shared_ptr<Session>> live;
  {
    absl::MutexLock l(&sessions_mu_);
    for (Session* s : sessions_) {
      auto p = s->weak_from_this().lock();
      if (p) live.push_back(std::move(p));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
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
