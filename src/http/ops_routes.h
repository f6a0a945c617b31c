#pragma once
// Operations routes, all public (no credentials: probes and scrapers call them):
//   GET /health            liveness: the process answers
//   GET /ready             readiness: store reachable, migrations applied, workers and
//                          scheduler running, server accepting
//   GET /metrics           Prometheus text format
//   GET /api/openapi.json  OpenAPI 3 document of every registered route

#include <functional>
#include <vector>

#include "engine/engine.h"
#include "engine/scheduler.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"

namespace herald::http {

struct OpsDeps {
  store::Store* store;
  engine::Engine* engine;
  engine::Scheduler* scheduler;
  std::function<std::vector<RouteStats>()> http_stats;  // the server's, once it exists
  std::function<bool()> running;                        // workers and scheduler started
  std::string version;
  // More Prometheus text from other modules (e.g. NotifyMetricsText), appended as is.
  std::vector<std::function<std::string()>> module_metrics = {};
};

void AddOpsRoutes(Router& router, OpsDeps deps);

// The OpenAPI 3.0 document for `router`'s routes.
boost::json::value OpenApi(const Router& router, std::string_view version);

}  // namespace herald::http
