#include "http/ops_routes.h"

#include <dirent.h>

#include <fstream>
#include <set>

#include "core/strings.h"

namespace herald::http {
namespace {

std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

double RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  }
  return 0;
}

int OpenFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
    n -= 3;  // ".", ".." and the directory's own descriptor
  }
  return n;
}

std::string Metrics(const OpsDeps& deps) {
  std::string out;
  auto line = [&](std::string_view text) {
    out += text;
    out += '\n';
  };
  line("# HELP herald_http_requests_total HTTP requests by route and status.");
  line("# TYPE herald_http_requests_total counter");
  std::vector<RouteStats> http = deps.http_stats ? deps.http_stats() : std::vector<RouteStats>{};
  for (const RouteStats& r : http) {
    for (const auto& [status, n] : r.by_status) {
      line(StrCat("herald_http_requests_total{method=\"", r.method, "\",route=\"", Label(r.pattern),
                  "\",status=\"", status, "\"} ", n));
    }
  }
  line("# HELP herald_http_request_duration_seconds HTTP request latency by route.");
  line("# TYPE herald_http_request_duration_seconds histogram");
  for (const RouteStats& r : http) {
    if (r.count == 0) continue;
    std::string labels = StrCat("method=\"", r.method, "\",route=\"", Label(r.pattern), "\"");
    for (size_t b = 0; b < std::size(kLatencyBuckets); ++b) {
      line(StrCat("herald_http_request_duration_seconds_bucket{", labels, ",le=\"",
                  kLatencyBuckets[b], "\"} ", r.buckets[b]));
    }
    line(StrCat("herald_http_request_duration_seconds_bucket{", labels, ",le=\"+Inf\"} ", r.count));
    line(StrCat("herald_http_request_duration_seconds_sum{", labels, "} ", r.sum_seconds));
    line(StrCat("herald_http_request_duration_seconds_count{", labels, "} ", r.count));
  }

  engine::EngineMetrics m = deps.engine->Metrics();
  line("# HELP herald_engine_attempts_total Job attempts run by this process, by outcome.");
  line("# TYPE herald_engine_attempts_total counter");
  line(StrCat("herald_engine_attempts_total{outcome=\"succeeded\"} ", m.processed));
  line(StrCat("herald_engine_attempts_total{outcome=\"failed\"} ", m.failed));
  line("# HELP herald_engine_dead_total Jobs that went dead in this process.");
  line("# TYPE herald_engine_dead_total counter");
  line(StrCat("herald_engine_dead_total ", m.dead));
  line("# HELP herald_engine_unfinished_jobs Unfinished jobs held in memory.");
  line("# TYPE herald_engine_unfinished_jobs gauge");
  line(StrCat("herald_engine_unfinished_jobs ", m.unfinished));
  line(
      "# HELP herald_jobs_total Job outcomes in this process by queue and type (attempts "
      "succeeded or failed; jobs gone dead).");
  line("# TYPE herald_jobs_total counter");
  for (const engine::EngineMetrics::ByType& t : m.by_type) {
    const std::string labels =
        StrCat("queue=\"", Label(t.queue), "\",type=\"", Label(t.type), "\",outcome=\"");
    line(StrCat("herald_jobs_total{", labels, "succeeded\"} ", t.succeeded));
    line(StrCat("herald_jobs_total{", labels, "failed\"} ", t.failed));
    line(StrCat("herald_jobs_total{", labels, "dead\"} ", t.dead));
  }
  line("# HELP herald_job_start_latency_seconds Enqueue (or run_at) to start of each attempt.");
  line("# TYPE herald_job_start_latency_seconds histogram");
  int64_t cumulative = 0;
  for (size_t i = 0; i < std::size(engine::kStartLatencyBuckets); ++i) {
    cumulative += m.latency_buckets[i];
    line(StrCat("herald_job_start_latency_seconds_bucket{le=\"", engine::kStartLatencyBuckets[i],
                "\"} ", cumulative));
  }
  line(StrCat("herald_job_start_latency_seconds_bucket{le=\"+Inf\"} ", m.latency_count));
  line(StrCat("herald_job_start_latency_seconds_sum ", m.latency_sum_seconds));
  line(StrCat("herald_job_start_latency_seconds_count ", m.latency_count));

  auto stats = deps.engine->QueueStats();
  if (stats.ok()) {
    line("# HELP herald_queue_jobs Jobs per queue and state.");
    line("# TYPE herald_queue_jobs gauge");
    for (const auto& c : *stats) {
      for (int s = 0; s < 7; ++s) {
        line(StrCat("herald_queue_jobs{queue=\"", Label(c.queue), "\",state=\"",
                    engine::JobStateName(static_cast<engine::JobState>(s)), "\"} ", c.by_state[s]));
      }
    }
    line("# HELP herald_queue_processed_total Jobs processed per queue (lifetime).");
    line("# TYPE herald_queue_processed_total counter");
    for (const auto& c : *stats) {
      line(StrCat("herald_queue_processed_total{queue=\"", Label(c.queue), "\"} ",
                  c.succeeded_total));
    }
    line("# HELP herald_queue_failed_attempts_total Failed attempts per queue (lifetime).");
    line("# TYPE herald_queue_failed_attempts_total counter");
    for (const auto& c : *stats) {
      line(StrCat("herald_queue_failed_attempts_total{queue=\"", Label(c.queue), "\"} ",
                  c.failed_total));
    }
    line("# HELP herald_queue_dead_total Jobs gone dead per queue (lifetime).");
    line("# TYPE herald_queue_dead_total counter");
    for (const auto& c : *stats) {
      line(StrCat("herald_queue_dead_total{queue=\"", Label(c.queue), "\"} ", c.dead_total));
    }
  }
  auto schedules = deps.scheduler->List();
  if (schedules.ok()) {
    line("# HELP herald_schedule_fires_total Slots fired per schedule.");
    line("# TYPE herald_schedule_fires_total counter");
    for (const auto& s : *schedules) {
      line(StrCat("herald_schedule_fires_total{schedule=\"", Label(s.spec.name), "\"} ", s.fires));
    }
    line("# HELP herald_schedule_misfires_total Slots skipped by the misfire policy.");
    line("# TYPE herald_schedule_misfires_total counter");
    for (const auto& s : *schedules) {
      line(StrCat("herald_schedule_misfires_total{schedule=\"", Label(s.spec.name), "\"} ",
                  s.misfires));
    }
  }
  for (const auto& more : deps.module_metrics) out += more();
  line("# HELP herald_process_resident_memory_bytes Resident memory.");
  line("# TYPE herald_process_resident_memory_bytes gauge");
  line(StrCat("herald_process_resident_memory_bytes ", static_cast<int64_t>(RssBytes())));
  line("# HELP herald_process_open_fds Open file descriptors.");
  line("# TYPE herald_process_open_fds gauge");
  line(StrCat("herald_process_open_fds ", OpenFds()));
  return out;
}

boost::json::object ErrorSchema() {
  boost::json::object fields{{"code", boost::json::object{{"type", "string"}}},
                             {"message", boost::json::object{{"type", "string"}}},
                             {"details", boost::json::object{}}};
  boost::json::object error{{"type", "object"},
                            {"required", boost::json::array{"code", "message"}},
                            {"properties", std::move(fields)}};
  boost::json::object props{{"error", std::move(error)}};
  return boost::json::object{{"type", "object"}, {"properties", std::move(props)}};
}

}  // namespace

boost::json::value OpenApi(const Router& router, std::string_view version) {
  boost::json::object paths;
  std::set<std::string> tags;
  for (const Route& r : router.routes()) {
    boost::json::object op;
    op["summary"] = r.summary;
    op["operationId"] = StrCat(r.method, " ", r.pattern);
    if (!r.tag.empty()) {
      op["tags"] = boost::json::array{boost::json::value(r.tag)};
      tags.insert(r.tag);
    }
    boost::json::array params;
    for (size_t i = r.pattern.find('{'); i != std::string::npos; i = r.pattern.find('{', i + 1)) {
      size_t end = r.pattern.find('}', i);
      params.push_back(boost::json::object{{"name", r.pattern.substr(i + 1, end - i - 1)},
                                           {"in", "path"},
                                           {"required", true},
                                           {"schema", boost::json::object{{"type", "string"}}}});
    }
    for (const QueryParam& q : r.query) {
      params.push_back(boost::json::object{{"name", q.name},
                                           {"in", "query"},
                                           {"required", false},
                                           {"description", q.description},
                                           {"schema", boost::json::object{{"type", q.type}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    const bool body = r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
    if (body) {
      op["requestBody"] = boost::json::object{
          {"content",
           boost::json::object{
               {"application/json",
                boost::json::object{{"schema", boost::json::object{{"type", "object"}}}}}}}};
    }
    boost::json::object responses;
    responses[std::to_string(r.success_status)] = boost::json::object{{"description", "OK"}};
    const auto error_body = [](std::string_view when) {
      return boost::json::object{
          {"description", when},
          {"content",
           boost::json::object{
               {"application/json",
                boost::json::object{
                    {"schema", boost::json::object{{"$ref", "#/components/schemas/Error"}}}}}}}};
    };
    responses["400"] = error_body("a malformed request: a bad parameter, field or body");
    if (!r.permission.empty()) {
      responses["401"] = error_body("no credentials, or bad ones");
      responses["403"] = error_body(StrCat("the caller lacks ", r.permission));
      op["security"] =
          boost::json::array{boost::json::object{{"bearer", boost::json::array{}}},
                             boost::json::object{{"serviceKey", boost::json::array{}}}};
      op["x-permission"] = r.permission;
    }
    if (r.pattern.find('{') != std::string::npos) {
      responses["404"] = error_body("what the path names does not exist");
    }
    if (body || r.method == "DELETE") {
      responses["409"] = error_body("the change conflicts with the current state");
    }
    if (body) responses["413"] = error_body("the body is over http.max_body_bytes");
    responses["429"] = error_body("rate limited: retry after Retry-After seconds");
    op["responses"] = std::move(responses);
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    boost::json::value& path = paths[r.pattern];
    if (!path.is_object()) path = boost::json::object{};
    path.as_object()[method] = std::move(op);
  }
  boost::json::array tag_list;
  for (const auto& t : tags) tag_list.push_back(boost::json::object{{"name", t}});
  return boost::json::object{
      {"openapi", "3.0.3"},
      {"info", boost::json::object{{"title", "Herald API"}, {"version", std::string(version)}}},
      {"tags", std::move(tag_list)},
      {"paths", std::move(paths)},
      {"components",
       boost::json::object{
           {"schemas", boost::json::object{{"Error", ErrorSchema()}}},
           {"securitySchemes",
            boost::json::object{{"bearer", boost::json::object{{"type", "http"},
                                                               {"scheme", "bearer"},
                                                               {"bearerFormat", "JWT"}}},
                                {"serviceKey", boost::json::object{{"type", "apiKey"},
                                                                   {"in", "header"},
                                                                   {"name", "X-Service-Key"}}}}}}}};
}

void AddOpsRoutes(Router& router, OpsDeps deps) {
  auto shared = std::make_shared<OpsDeps>(std::move(deps));
  router.Add({"GET", "/health", "", "Liveness",
              [shared](Request&) -> Result<Response> {
                return Response::Json(
                    200, boost::json::object{{"status", "ok"}, {"version", shared->version}});
              },
              200, "operations"});
  router.Add(
      {"GET", "/ready", "", "Readiness: store, migrations, workers",
       [shared](Request&) -> Result<Response> {
         boost::json::object checks;
         bool ok = true;
         auto check = [&](const char* name, const Status& st) {
           checks[name] = st.ok() ? "ok" : std::string(st.message());
           ok = ok && st.ok();
         };
         // One read of the migrations table: the store answers, and holds the
         // schema every module of this process was migrated to.
         Status migrations = shared->store->MigrationsCurrent();
         bool reachable =
             migrations.ok() || migrations.code() == absl::StatusCode::kFailedPrecondition;
         check("store", reachable ? absl::OkStatus() : migrations);
         check("migrations", reachable ? migrations : absl::UnavailableError("store unreachable"));
         check("workers", shared->engine->Running()
                              ? absl::OkStatus()
                              : absl::UnavailableError("the engine's workers are not running"));
         check("scheduler", shared->scheduler->Running()
                                ? absl::OkStatus()
                                : absl::UnavailableError("the scheduler is not running"));
         check("http", shared->running && shared->running()
                           ? absl::OkStatus()
                           : absl::UnavailableError("not serving"));
         Response r = Response::Json(
             ok ? 200 : 503,
             boost::json::object{{"status", ok ? "ready" : "not_ready"}, {"checks", checks}});
         if (!ok) r.headers.emplace_back("Retry-After", "1");
         return r;
       },
       200, "operations"});
  router.Add({"GET", "/metrics", "", "Prometheus metrics",
              [shared](Request&) -> Result<Response> {
                return Response::Text(200, Metrics(*shared), "text/plain; version=0.0.4");
              },
              200, "operations"});
  const Router* r = &router;
  router.Add({"GET", "/api/openapi.json", "", "This OpenAPI document",
              [shared, r](Request&) -> Result<Response> {
                return Response::Json(200, OpenApi(*r, shared->version));
              },
              200, "operations"});
}

}  // namespace herald::http
