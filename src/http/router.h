#pragma once
// Router: routes by method and path pattern ("/api/jobs/{id}"), each with the permission a
// caller needs ("" for public routes) and a one-line summary that feeds the OpenAPI document.
// Not thread-safe while routes are added; Match is safe to call concurrently afterwards.

#include <functional>
#include <string>
#include <vector>
#include "absl/container/flat_hash_map.h"

#include "http/message.h"

namespace herald::http {

using Handler = std::function<Result<Response>(Request&)>;
// A handler that answers later, from any thread, by calling `respond` exactly once (e.g. once
// a group commit is durable), so a connection thread is not blocked while it waits. The
// request is the connection's: it must not be used once `respond` was called (the next
// pipelined request may take its place), and the handler must not throw after calling it.
//
// respond(result) answers with a result made where the work completed; respond.Later(make)
// answers with what `make` returns, run on a connection thread: the thread that completed the
// work (the store's writer, which every write waits for) does not also build the body.
class Respond {
 public:
  using Make = std::function<Result<Response>()>;
  Respond() = default;
  explicit Respond(std::function<void(Make)> deliver) : deliver_(std::move(deliver)) {}

  void operator()(Result<Response> result) const {
    deliver_([result = std::move(result)]() mutable { return std::move(result); });
  }
  void Later(Make make) const { deliver_(std::move(make)); }
  explicit operator bool() const { return static_cast<bool>(deliver_); }

 private:
  std::function<void(Make)> deliver_;
};
using AsyncHandler = std::function<void(Request&, Respond respond)>;

struct Route {
  std::string method;
  std::string pattern;     // segments; "{name}" captures one segment into Request::params
  std::string permission;  // "" = public; otherwise e.g. "jobs:create"
  std::string summary;
  Handler handler;
  int success_status = 200;       // documented in OpenAPI
  std::string tag;                // OpenAPI tag (module)
  std::vector<QueryParam> query;  // the query parameters it takes; the server refuses others
  AsyncHandler async;             // used instead of `handler` when set
};

// The paging parameters of lists: cursor and limit.
std::vector<QueryParam> PageQuery(std::vector<QueryParam> more = {});

// InvalidArgument naming the first query parameter of `req` that `route` does not take.
Status CheckQuery(const Route& route, const Request& req);

class Router {
 public:
  void Add(Route route);

  // The route for the request's method and path, with its params filled in. NotFound if no
  // pattern matches the path; FailedPrecondition "method not allowed" (405) if one matches
  // with another method, with the allowed methods in `allow`.
  Result<const Route*> Match(Request& request, std::string* allow) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;
  };
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
  // Routes by their segment count and first two segments ("3/api/events"), in order; and
  // those with a parameter among their first two segments, which any path may match.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_prefix_;
  std::vector<size_t> anywhere_;
};

}  // namespace herald::http
