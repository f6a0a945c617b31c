#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "engine/builtin_handlers.h"
#include "gtest/gtest.h"
#include "http/document_routes.h"
#include "http/engine_routes.h"
#include "http/json_fields.h"
#include "http/maintenance_routes.h"
#include "http/notify_routes.h"
#include "http/ops_routes.h"
#include "http/testing/client.h"
#include "http/testing/engine_stack.h"
#include "http/ticket_routes.h"
#include "http/webhook_routes.h"
#include "net/testing/fake_http_server.h"
#include "notify/meta_webhook.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/signatures.h"

namespace herald::http {
namespace {

using testing::Client;

// Over real sockets: a server on a free loopback port with the engine's routes. Credentials
// are a stand-in here ("Bearer perm1,perm2" grants those permissions; "Bearer bad" is
// refused) so these tests cover routing, authorisation and the routes themselves; the real
// authenticator is tested with the auth module.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<testing::EngineStack>();
    store_ = stack_->store.get();
    engine_ = stack_->engine.get();
    scheduler_ = stack_->scheduler.get();
    AddEngineRoutes(router_, *engine_, *scheduler_);
    AddNotifyRoutes(router_, *stack_->notifier, *stack_->templates, *store_);
    WebhookRouteOptions wo;
    wo.stripe_secrets = {testing::kStripeSecret};
    wo.clock = &stack_->clock;
    wo.inbound_sources["crm"] = {testing::kInboundSecret};
    AddWebhookRoutes(router_, *stack_->dispatcher, *stack_->inbox, wo);
    AddMaintenanceRoutes(router_, *stack_->maintenance, testing::kCronSecret);
    AddDocumentRoutes(router_, *stack_->documents);
    AddTicketRoutes(router_, *stack_->ticketing, *stack_->scanner);
    AddPurchaseRoutes(router_, *stack_->purchases);
    AddGenerationRoutes(router_, *stack_->generator, *stack_->ticketing);
    AddOpsRoutes(router_, {store_, engine_, scheduler_, [this] { return server_->Stats(); },
                           [] { return true; }, "test"});
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = 64 << 10;
    options.access_log = false;
    auto authenticate = [](Request& req, const Route&) -> Status {
      std::string_view auth = req.Header("authorization");
      if (auth.empty()) return absl::OkStatus();
      if (auth == "Bearer bad") return absl::UnauthenticatedError("bad token");
      std::vector<std::string> allow;
      for (auto p : absl::StrSplit(ToAbsl(auth.substr(7)), ',')) allow.emplace_back(p);
      auth::Principal p;
      p.name = "tester";
      p.permissions = auth::PermissionSet(std::move(allow), {});
      req.principal = std::make_shared<const auth::Principal>(std::move(p));
      return absl::OkStatus();
    };
    server_ =
        std::move(Server::Create(options, router_, authenticate, core::Clock::Real())).value();
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Stop(absl::Seconds(1));
    server_.reset();
    stack_.reset();
  }

  static std::vector<std::pair<std::string, std::string>> As(std::string perms) {
    return {{"Authorization", "Bearer " + perms}};
  }
  static std::string ErrorCode(const testing::ClientResponse& r) {
    auto v = r.Json();
    if (!v.is_object() || !v.as_object().contains("error")) return "<no error object>";
    return std::string(v.at("error").at("code").as_string());
  }
  static std::string ErrorMessage(const testing::ClientResponse& r) {
    auto v = r.Json();
    if (!v.is_object() || !v.as_object().contains("error")) return "";
    return std::string(v.at("error").at("message").as_string());
  }

  std::unique_ptr<testing::EngineStack> stack_;
  store::SqliteStore* store_ = nullptr;
  engine::Engine* engine_ = nullptr;
  engine::Scheduler* scheduler_ = nullptr;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, HealthAnswersAndEchoesARequestId) {
  Client c(server_->port());
  auto r = c.Send("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("status").as_string(), "ok");
  EXPECT_EQ(r.headers["x-request-id"].size(), 36u);  // generated
  r = c.Send("GET", "/health", "", {{"X-Request-ID", "abc-123"}});
  EXPECT_EQ(r.headers["x-request-id"], "abc-123");
  r = c.Send("GET", "/health", "", {{"X-Request-ID", "has spaces and \"quotes\""}});
  EXPECT_EQ(r.headers["x-request-id"].size(), 36u);  // not sane: replaced
  // Any printable ASCII without spaces, as signed service requests allow (base64 ids...).
  r = c.Send("GET", "/health", "", {{"X-Request-ID", "req/AB+cd=="}});
  EXPECT_EQ(r.headers["x-request-id"], "req/AB+cd==");
  r = c.Send("GET", "/health", "", {{"X-Request-ID", std::string(129, 'a')}});
  EXPECT_EQ(r.headers["x-request-id"].size(), 36u);  // too long: replaced
}

// Every log line written while a request is handled carries its id, the access log too.
TEST(ServerLogTest, EveryLineOfARequestCarriesItsId) {
  std::ostringstream out;
  ASSERT_TRUE(core::InitLogging("info", "text").ok());
  core::SetLogSinkForTesting(&out);
  Router router;
  router.Add({"GET", "/hello", "", "logs a line", [](Request&) -> Result<Response> {
                core::LogInfo("inside the handler");
                return Response::Json(200, boost::json::object{{"ok", true}});
              }});
  ServerOptions options;
  options.port = 0;
  options.access_log = true;
  auto server = std::move(Server::Create(options, router, nullptr, core::Clock::Real())).value();
  ASSERT_TRUE(server->Start().ok());
  auto r = Client(server->port()).Send("GET", "/hello", "", {{"X-Request-ID", "req-42"}});
  EXPECT_EQ(r.status, 200);
  auto refused =
      Client(server->port()).Send("GET", "/hello", "", {{"X-Big", std::string(20000, 'x')}});
  EXPECT_EQ(refused.status, 431);
  ASSERT_EQ(refused.headers["x-request-id"].size(), 36u);
  server->Stop(absl::Seconds(1));
  core::SetLogSinkForTesting(nullptr);
  std::string text = out.str();
  EXPECT_NE(text.find("inside the handler request_id=req-42"), std::string::npos) << text;
  EXPECT_NE(text.find("INFO http method=GET path=/hello status=200"), std::string::npos) << text;
  EXPECT_NE(text.find("request_id=req-42 client=127.0.0.1"), std::string::npos) << text;
  // The refused request's access line, with the id its response carried.
  EXPECT_NE(text.find("status=431"), std::string::npos) << text;
  EXPECT_NE(text.find(StrCat("request_id=", refused.headers["x-request-id"])), std::string::npos)
      << text;
}

// CORS: listed origins get the headers, a preflight is answered without credentials, other
// origins get nothing (the browser then refuses the answer).
TEST(ServerCorsTest, ListedOriginsOnly) {
  Router router;
  router.Add({"GET", "/hello", "", "", [](Request&) -> Result<Response> {
                return Response::Json(200, boost::json::object{{"ok", true}});
              }});
  router.Add({"POST", "/private", "jobs:create", "", [](Request&) -> Result<Response> {
                return Response::Json(200, boost::json::object{{"ok", true}});
              }});
  ServerOptions options;
  options.port = 0;
  options.access_log = false;
  options.cors_origins = {"https://app.example"};
  auto server = std::move(Server::Create(options, router, nullptr, core::Clock::Real())).value();
  ASSERT_TRUE(server->Start().ok());
  Client c(server->port());
  auto listed = c.Send("GET", "/hello", "", {{"Origin", "https://app.example"}});
  EXPECT_EQ(listed.headers["access-control-allow-origin"], "https://app.example");
  EXPECT_EQ(listed.headers["vary"], "Origin");
  EXPECT_NE(listed.headers["access-control-expose-headers"].find("X-Request-ID"),
            std::string::npos);
  auto other = c.Send("GET", "/hello", "", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
  // A preflight of a route that needs credentials: answered, no credentials asked.
  auto preflight = c.Send("OPTIONS", "/private", "",
                          {{"Origin", "https://app.example"},
                           {"Access-Control-Request-Method", "POST"},
                           {"Access-Control-Request-Headers", "Authorization, Content-Type"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "https://app.example");
  EXPECT_NE(preflight.headers["access-control-allow-headers"].find("Authorization"),
            std::string::npos);
  EXPECT_NE(preflight.headers["access-control-allow-methods"].find("POST"), std::string::npos);
  // The request itself still needs them.
  EXPECT_EQ(c.Send("POST", "/private", "{}", {{"Origin", "https://app.example"}}).status, 401);
  server->Stop(absl::Seconds(1));
}

// The stack's engine and scheduler are driven by the tests (no threads): not ready. An engine
// and a scheduler with their threads on the same store are; then the checks fail one by one.
TEST(ReadyTest, ChecksTheStoreItsMigrationsTheWorkersAndTheScheduler) {
  testing::EngineStack stack;
  auto engine =
      std::move(engine::Engine::Create(*stack.store, stack.clock, core::Config::Engine{})).value();
  auto scheduler = std::move(engine::Scheduler::Create(*stack.store, *engine, stack.clock,
                                                       core::Config::Scheduler{}))
                       .value();
  Router manual_router, router;
  AddOpsRoutes(manual_router, {stack.store.get(), stack.engine.get(), stack.scheduler.get(),
                               nullptr, [] { return true; }, "test"});
  AddOpsRoutes(router, {stack.store.get(), engine.get(), scheduler.get(), nullptr,
                        [] { return true; }, "test"});
  auto ready = [](Router& r) {
    Request req;
    req.method = "GET";
    req.path = "/ready";
    return Server::Create({}, r, nullptr, core::Clock::Real()).value()->Handle(req);
  };
  auto check = [](const Response& r, const char* name) {
    auto v = boost::json::parse(r.body);
    return std::string(v.at("checks").at(name).as_string());
  };

  Response r = ready(manual_router);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(check(r, "store"), "ok");
  EXPECT_EQ(check(r, "migrations"), "ok");
  EXPECT_NE(check(r, "workers"), "ok");
  EXPECT_NE(check(r, "scheduler"), "ok");

  ASSERT_TRUE(engine->Start().ok());
  ASSERT_TRUE(scheduler->Start().ok());
  r = ready(router);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(boost::json::parse(r.body).at("status"), "ready");

  // The store loses the engine's last migration (say, an old backup restored under it).
  ASSERT_TRUE(stack.store
                  ->Write([](store::Txn& txn) {
                    return txn
                        .Exec(
                            "DELETE FROM schema_migrations WHERE module = 'engine' AND version = "
                            "(SELECT max(version) FROM schema_migrations WHERE module = 'engine')")
                        .status();
                  })
                  .ok());
  r = ready(router);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(check(r, "store"), "ok");
  EXPECT_NE(check(r, "migrations").find("module engine"), std::string::npos) << r.body;
  EXPECT_TRUE(std::any_of(r.headers.begin(), r.headers.end(),
                          [](const auto& h) { return h.first == "Retry-After"; }));

  scheduler->Stop();
  engine->Stop(absl::ZeroDuration());
  r = ready(router);
  EXPECT_NE(check(r, "workers"), "ok");
  EXPECT_NE(check(r, "scheduler"), "ok");
}

TEST_F(ServerTest, UnknownRouteAndWrongMethodAreJsonErrors) {
  Client c(server_->port());
  auto r = c.Send("GET", "/api/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
  r = c.Send("PUT", "/health");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET");
  EXPECT_EQ(ErrorCode(r), "method_not_allowed");
  EXPECT_EQ(r.headers["x-request-id"].size(), 36u);
}

// Requests the decoder refuses get the error shape and a request id like any other, and
// count in the metrics under the unmatched route.
TEST_F(ServerTest, RefusedRequestsHaveTheErrorShapeAndARequestId) {
  auto unmatched = [&] {
    for (const RouteStats& s : server_->Stats()) {
      if (s.pattern == "unmatched") return s.count;
    }
    return int64_t{-1};
  };
  const int64_t before = unmatched();
  auto big = Client(server_->port())
                 .Send("POST", "/api/jobs", std::string(100 << 10, 'x'), As("jobs:create"));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(ErrorCode(big), "payload_too_large");
  EXPECT_EQ(big.headers["x-request-id"].size(), 36u);
  auto huge_header =
      Client(server_->port()).Send("GET", "/health", "", {{"X-Big", std::string(20000, 'x')}});
  EXPECT_EQ(huge_header.status, 431);
  EXPECT_EQ(ErrorCode(huge_header), "header_too_large");
  EXPECT_EQ(huge_header.headers["x-request-id"].size(), 36u);
  EXPECT_EQ(unmatched(), before + 2);
}

TEST_F(ServerTest, MutatingRoutesNeedCredentialsAndThePermission) {
  Client c(server_->port());
  std::string job = R"({"type":"noop"})";
  auto r = c.Send("POST", "/api/jobs", job);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthenticated");
  r = c.Send("POST", "/api/jobs", job, {{"Authorization", "Bearer bad"}});
  EXPECT_EQ(r.status, 401);
  r = c.Send("POST", "/api/jobs", job, As("jobs:read"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "permission_denied");
  r = c.Send("POST", "/api/jobs", job, As("jobs:*"));
  EXPECT_EQ(r.status, 201) << r.body;
  std::string id(r.Json().at("id").as_string());
  r = c.Send("GET", "/api/jobs/" + id, "", As("jobs:read"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("state").as_string(), "available");
  EXPECT_TRUE(engine_->List({})->size() == 1);
}

TEST_F(ServerTest, BadBodiesAre4xxWithTheFieldNamedAndChangeNothing) {
  Client c(server_->port());
  auto admin = As("*");
  struct Case {
    std::string body;
    int status;
    std::string mention;
  };
  std::vector<Case> cases = {
      {"{not json", 400, "body"},
      {"[1,2]", 400, "object"},
      {R"({"queue":"q"})", 400, "type"},
      {R"({"type":42})", 400, "type"},
      {R"({"type":"noop","priority":"urgent!"})", 400, "priority"},
      {R"({"type":"noop","delay":"soon"})", 400, "delay"},
      {R"({"type":"noop","run_at":"tomorrow"})", 400, "run_at"},
      {R"({"type":"noop","max_attempts":0})", 400, "max_attempts"},
      {R"({"type":"noop","backoff":{"type":"linear"}})", 400, "backoff.type"},
      {R"({"type":"noop","colour":"red"})", 400, "colour"},
      {R"({"type":"no-such-type"})", 400, "no-such-type"},
      {R"({"type":"noop","queue":"bad queue"})", 400, "queue"},
  };
  for (const Case& k : cases) {
    auto r = c.Send("POST", "/api/jobs", k.body, admin);
    EXPECT_EQ(r.status, k.status) << k.body << " -> " << r.body;
    EXPECT_EQ(ErrorCode(r), "invalid_argument") << k.body;
    EXPECT_NE(ErrorMessage(r).find(k.mention), std::string::npos) << k.body << " -> " << r.body;
  }
  auto big = c.Send("POST", "/api/jobs",
                    R"({"type":"noop","payload":")" + std::string(100 << 10, 'x') + "\"}", admin);
  EXPECT_EQ(big.status, 413);
  EXPECT_TRUE(engine_->List({})->empty());
  auto bad_id = Client(server_->port()).Send("GET", "/api/jobs/nope", "", admin);
  EXPECT_EQ(bad_id.status, 400);
  auto missing = Client(server_->port())
                     .Send("GET", "/api/jobs/01890a5d-ac96-774b-bcce-b302099a8057", "", admin);
  EXPECT_EQ(missing.status, 404);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Client c(server_->port());
  c.SendRaw(
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: first\r\n\r\n"
      "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-ID: second\r\n\r\n"
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: third\r\n\r\n");
  auto a = c.Read(), b = c.Read(), d = c.Read();
  EXPECT_EQ(a.headers["x-request-id"], "first");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.headers["x-request-id"], "second");
  EXPECT_EQ(b.status, 404);
  EXPECT_EQ(d.headers["x-request-id"], "third");
}

TEST_F(ServerTest, AClientWaitingFor100ContinueGetsItThenItsAnswer) {
  Client c(server_->port());
  const std::string body = R"({"type":"noop","queue":"continued"})";
  c.SendRaw(
      StrCat("POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer jobs:create\r\n"
             "Content-Type: application/json\r\nExpect: 100-continue\r\n"
             "Content-Length: ",
             body.size(), "\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 100);
  c.SendRaw(body);
  auto r = c.Read();
  EXPECT_EQ(r.status, 201) << r.body;
  // A body over the limit is refused before the client sends it.
  Client d(server_->port());
  d.SendRaw(
      "POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer jobs:create\r\n"
      "Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n");
  auto refused = d.Read();
  EXPECT_EQ(refused.status, 413);
  EXPECT_EQ(ErrorCode(refused), "payload_too_large");
}

TEST_F(ServerTest, MalformedRequestGets400AndTheConnectionCloses) {
  Client c(server_->port());
  c.SendRaw("THIS IS NOT HTTP\r\n\r\n");
  auto r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_argument");
}

TEST_F(ServerTest, BulkEnqueueAndCursorPagination) {
  Client c(server_->port());
  std::string jobs = R"({"jobs":[)";
  for (int i = 0; i < 5; ++i)
    jobs += std::string(i ? "," : "") + R"({"type":"noop","queue":"bulk"})";
  jobs += "]}";
  auto r = c.Send("POST", "/api/jobs/bulk", jobs, As("jobs:create"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("data").as_array().size(), 5u);
  auto bad = c.Send("POST", "/api/jobs/bulk", R"({"jobs":[{"type":"noop"},{"type":1}]})",
                    As("jobs:create"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(ErrorMessage(bad).find("jobs[1].type"), std::string::npos) << bad.body;

  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    std::string target =
        "/api/jobs?queue=bulk&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor);
    auto p = c.Send("GET", target, "", As("jobs:read"));
    ASSERT_EQ(p.status, 200) << p.body;
    boost::json::value page_json = p.Json();
    for (const auto& j : page_json.at("data").as_array()) seen.emplace_back(j.at("id").as_string());
    if (page_json.at("next_cursor").is_null()) break;
    cursor = std::string(page_json.at("next_cursor").as_string());
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(c.Send("GET", "/api/jobs?state=bogus", "", As("jobs:read")).status, 400);
  EXPECT_EQ(c.Send("GET", "/api/jobs?limit=0", "", As("jobs:read")).status, 400);
  // "status" is the issue's name for the state filter; an unknown filter is refused, not
  // ignored (the unfiltered list would look like a match).
  auto count = [&](const std::string& target) -> int {
    auto p = c.Send("GET", target, "", As("jobs:read"));
    if (p.status != 200) return -p.status;
    return static_cast<int>(p.Json().at("data").as_array().size());
  };
  EXPECT_EQ(count("/api/jobs?queue=bulk&status=available"), 5);
  EXPECT_EQ(count("/api/jobs?queue=bulk&status=dead"), 0);
  EXPECT_EQ(count("/api/jobs?queue=bulk&state=dead"), 0);
  EXPECT_EQ(count("/api/jobs?queue=bulk&stat=dead"), -400);
  EXPECT_EQ(count("/api/jobs?queue=bulk&state=dead&status=dead"), -400);
  auto typo = c.Send("GET", "/api/jobs?queu=bulk", "", As("jobs:read"));
  EXPECT_NE(ErrorMessage(typo).find("'queu'"), std::string::npos) << typo.body;
}

TEST_F(ServerTest, QueueAndJobActions) {
  Client c(server_->port());
  auto admin = As("*");
  auto r = c.Send("POST", "/api/jobs", R"({"type":"noop","queue":"mail","delay":"1h"})", admin);
  std::string id(r.Json().at("id").as_string());
  EXPECT_EQ(c.Send("DELETE", "/api/jobs/" + id, "", admin).status, 409);  // unfinished
  EXPECT_EQ(c.Send("POST", "/api/jobs/" + id + "/cancel", "", admin).status, 200);
  EXPECT_EQ(c.Send("POST", "/api/jobs/" + id + "/cancel", "", admin).status, 409);
  EXPECT_EQ(c.Send("POST", "/api/queues/mail/pause", "", admin).status, 200);
  auto queues = c.Send("GET", "/api/queues", "", admin).Json().at("data").as_array();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].at("paused").as_bool(), true);
  EXPECT_EQ(queues[0].at("cancelled").as_int64(), 1);
  EXPECT_EQ(c.Send("DELETE", "/api/jobs/" + id, "", admin).status, 200);
  EXPECT_EQ(c.Send("POST", "/api/queues/bad%20name/pause", "", admin).status, 400);
}

TEST_F(ServerTest, SchedulesCanBeCreatedListedTriggeredAndDeleted) {
  Client c(server_->port());
  auto admin = As("schedules:*");
  auto r = c.Send("POST", "/api/schedules",
                  R"({"name":"daily","simple":{"frequency":"daily","time":"08:00"},)"
                  R"("timezone":"Europe/Paris","job":{"type":"noop"}})",
                  admin);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("cron").as_string(), "0 8 * * *");
  EXPECT_EQ(r.Json().at("next_runs").as_array().size(), 5u);
  EXPECT_EQ(c.Send("POST", "/api/schedules",
                   R"({"name":"x","cron":"61 * * * *","job":{"type":"noop"}})", admin)
                .status,
            400);
  EXPECT_EQ(c.Send("POST", "/api/schedules",
                   R"({"name":"daily","cron":"@daily","job":{"type":"noop"}})", admin)
                .status,
            409);
  EXPECT_EQ(c.Send("GET", "/api/schedules", "", admin).Json().at("data").as_array().size(), 1u);
  auto patched = c.Send("PATCH", "/api/schedules/daily", R"({"cron":"30 9 * * MON-FRI"})", admin);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.Json().at("cron").as_string(), "30 9 * * MON-FRI");
  EXPECT_EQ(patched.Json().at("timezone").as_string(), "Europe/Paris");  // kept
  EXPECT_EQ(c.Send("PATCH", "/api/schedules/daily", R"({"name":"other"})", admin).status, 400);
  EXPECT_EQ(c.Send("PATCH", "/api/schedules/daily", R"({"cron":"99 * * * *"})", admin).status, 400);
  EXPECT_EQ(c.Send("POST", "/api/schedules/daily/trigger", "", admin).status, 201);
  EXPECT_EQ(c.Send("POST", "/api/schedules/daily/pause", "", admin).status, 200);
  EXPECT_EQ(c.Send("DELETE", "/api/schedules/daily", "", admin).status, 200);
  EXPECT_EQ(c.Send("GET", "/api/schedules/daily", "", admin).status, 404);
}

TEST_F(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  Client c(server_->port());
  c.Send("GET", "/health");
  c.Send("GET", "/health");
  c.Send("GET", "/api/nope");
  auto r = c.Send("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(
      r.body.find(R"(herald_http_requests_total{method="GET",route="/health",status="200"} 2)"),
      std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
  EXPECT_NE(r.body.find("herald_process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(r.body.find("herald_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(ServerTest, MetricsCountJobsByQueueAndTypeWithAStartLatencyHistogram) {
  Client c(server_->port());
  ASSERT_EQ(
      c.Send("POST", "/api/jobs", R"({"type":"noop","queue":"mail"})", As("jobs:create")).status,
      201);
  ASSERT_EQ(engine_->RunDue(), 1);
  auto r = c.Send("GET", "/metrics");
  EXPECT_NE(r.body.find(R"(herald_jobs_total{queue="mail",type="noop",outcome="succeeded"} 1)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("# TYPE herald_job_start_latency_seconds histogram"), std::string::npos);
  EXPECT_NE(r.body.find(R"(herald_job_start_latency_seconds_bucket{le="+Inf"} 1)"),
            std::string::npos);
  EXPECT_NE(r.body.find("herald_job_start_latency_seconds_count 1"), std::string::npos);
  auto q = c.Send("GET", "/api/queues", "", As("queues:read")).Json();
  EXPECT_EQ(q.at("data").at(0).at("throughput").at("completed_per_minute").as_int64(), 1) << q;
}

// The value of one series in a Prometheus text exposition, or -1 when it is not there.
int64_t Series(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

// The dead-letter actions, resume, schedules (listed with their next runs, triggered, fired
// and misfired by the clock), and the metrics series each of them moves.
TEST_F(ServerTest, DeadLettersSchedulesAndTheirMetrics) {
  Client c(server_->port());
  auto admin = As("*");
  // Two attempts of a job that fails: it dies.
  const auto run_twice = [&] {
    ASSERT_EQ(engine_->RunDue(), 1);
    stack_->clock.Advance(absl::Hours(1));
    ASSERT_EQ(engine_->RunDue(), 1);
  };
  const auto fail_twice = [&] {
    auto r = c.Send("POST", "/api/jobs",
                    R"({"type":"fail","queue":"q","payload":{"times":5},"max_attempts":2})", admin);
    ASSERT_EQ(r.status, 201) << r.body;
    run_twice();
  };
  // The metrics, once the engine's writes are in the store (the queue gauges read it).
  const auto metrics = [&] {
    EXPECT_TRUE(engine_->Flush().ok());
    return c.Send("GET", "/metrics").body;
  };
  const std::string dead_in_q = R"(herald_queue_jobs{queue="q",state="dead"})";
  fail_twice();
  std::string m = metrics();
  EXPECT_EQ(Series(m, R"(herald_jobs_total{queue="q",type="fail",outcome="failed"})"), 2) << m;
  EXPECT_EQ(Series(m, R"(herald_jobs_total{queue="q",type="fail",outcome="dead"})"), 1) << m;
  EXPECT_EQ(Series(m, dead_in_q), 1) << m;
  EXPECT_GT(Series(m, "herald_process_open_fds"), 2) << m;
  // Retry every dead job: it runs again, and dies again.
  auto retried = c.Send("POST", "/api/queues/q/retry-dead", "", admin);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.Json().at("retried").as_int64(), 1);
  m = metrics();
  EXPECT_EQ(Series(m, dead_in_q), 0) << m;
  run_twice();
  fail_twice();
  // Drain the dead letters: both go.
  auto drained = c.Send("DELETE", "/api/queues/q/dead", "", admin);
  ASSERT_EQ(drained.status, 200) << drained.body;
  EXPECT_EQ(drained.Json().at("deleted").as_int64(), 2);
  m = metrics();
  EXPECT_EQ(Series(m, dead_in_q), 0) << m;
  // Pause, then resume.
  ASSERT_EQ(c.Send("POST", "/api/queues/q/pause", "", admin).status, 200);
  auto resumed = c.Send("POST", "/api/queues/q/resume", "", admin);
  ASSERT_EQ(resumed.status, 200);
  EXPECT_FALSE(resumed.Json().at("paused").as_bool());
  EXPECT_FALSE(
      c.Send("GET", "/api/queues", "", admin).Json().at("data").at(0).at("paused").as_bool());

  // A schedule every minute, listed with its next runs; triggered now, it enqueues its job.
  auto made = c.Send("POST", "/api/schedules",
                     R"({"name":"late","cron":"* * * * *","misfire":"skip",)"
                     R"("job":{"type":"noop","queue":"s"}})",
                     admin);
  ASSERT_EQ(made.status, 201) << made.body;
  auto listed = c.Send("GET", "/api/schedules", "", admin).Json().at("data").at(0);
  EXPECT_EQ(listed.at("name").as_string(), "late");
  EXPECT_EQ(listed.at("next_runs").as_array().size(), 5u) << listed;
  auto triggered = c.Send("POST", "/api/schedules/late/trigger", "", admin);
  ASSERT_EQ(triggered.status, 201) << triggered.body;
  const std::string job(triggered.Json().at("id").as_string());
  auto got = c.Send("GET", "/api/jobs/" + job, "", admin).Json();
  EXPECT_EQ(got.at("queue").as_string(), "s") << got;
  // Ten minutes pass with the scheduler stopped: the slots within the misfire grace fire, the
  // older ones are skipped (its policy) and counted.
  stack_->clock.Advance(absl::Minutes(10));
  EXPECT_GE(scheduler_->Tick(), 1);
  m = metrics();
  EXPECT_GE(Series(m, R"(herald_schedule_fires_total{schedule="late"})"), 1) << m;
  EXPECT_GE(Series(m, R"(herald_schedule_misfires_total{schedule="late"})"), 1) << m;
}

TEST_F(ServerTest, OpenApiDocumentsEveryRegisteredRoute) {
  Client c(server_->port());
  auto doc = c.Send("GET", "/api/openapi.json").Json();
  ASSERT_TRUE(doc.is_object());
  const auto& paths = doc.at("paths").as_object();
  for (const Route& route : router_.routes()) {
    std::string method = route.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(ch));
    ASSERT_TRUE(paths.contains(route.pattern)) << route.pattern;
    ASSERT_TRUE(paths.at(route.pattern).as_object().contains(method))
        << route.method << " " << route.pattern;
    const auto& op = paths.at(route.pattern).at(method).as_object();
    // Every query parameter the route takes, and every error answer with the error schema.
    std::set<std::string> documented;
    if (op.contains("parameters")) {
      for (const auto& p : op.at("parameters").as_array()) {
        if (p.at("in") == "query") documented.emplace(p.at("name").as_string());
      }
    }
    std::set<std::string> declared;
    for (const QueryParam& q : route.query) declared.insert(q.name);
    EXPECT_EQ(documented, declared) << route.method << " " << route.pattern;
    for (const auto& [code, response] : op.at("responses").as_object()) {
      if (code.starts_with("2")) continue;
      EXPECT_EQ(response.at("content").at("application/json").at("schema").at("$ref"),
                "#/components/schemas/Error")
          << route.pattern << " " << std::string_view(code);
    }
    EXPECT_EQ(op.at("responses").as_object().contains("404"),
              route.pattern.find('{') != std::string::npos)
        << route.pattern;
  }
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("Error"));
}

// Every route refuses a query parameter it does not take, naming the ones it does, before
// its handler runs: a misspelt filter never answers the unfiltered list.
TEST_F(ServerTest, EveryRouteRefusesQueryParametersItDoesNotTake) {
  Client c(server_->port());
  for (const Route& route : router_.routes()) {
    std::string path = route.pattern;  // each path parameter filled in
    for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{')) {
      path.replace(i, path.find('}', i) - i + 1, "1");
    }
    auto r = c.Send(route.method, path + "?surely_not_a_parameter=1",
                    route.method == "GET" ? "" : "{}", As("*"));
    EXPECT_EQ(r.status, 400) << route.method << " " << route.pattern << " " << r.body;
    EXPECT_NE(ErrorMessage(r).find("'surely_not_a_parameter'"), std::string::npos) << r.body;
  }
  // A route that takes some names them; a route that takes none says so.
  auto events = c.Send("GET", "/api/jobs?colour=red", "", As("jobs:read"));
  EXPECT_NE(ErrorMessage(events).find("this route takes queue, type, state, status, from, to,"
                                      " cursor, limit"),
            std::string::npos)
      << events.body;
  auto health = c.Send("GET", "/health?probe=1");
  EXPECT_EQ(health.status, 400);
  EXPECT_NE(ErrorMessage(health).find("this route takes none"), std::string::npos) << health.body;
}

TEST_F(ServerTest, NotificationRoutesFollowTheSeedShapes) {
  Client c(server_->port());
  const auto can = As("notifications:create,notifications:read,templates:read,templates:update");
  // Seed 003 flow 4: the send request and its 201 response.
  auto sent = c.Send("POST", "/api/notifications/email", R"({
      "to": "user@example.com", "template": "ticket_generated",
      "data": {"event_title": "Tech Conference 2026",
               "ticket_url": "https://app.eventplanner.com/tickets/789", "guest_name": "John Doe"},
      "options": {"priority": "high", "scheduledAt": "2026-01-30T03:00:00Z"}, "eventId": 456})",
                     can);
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto data = sent.Json().at("data");
  EXPECT_EQ(sent.Json().at("success"), boost::json::value(true));
  EXPECT_EQ(data.at("status").as_string(), "pending");
  const std::string id(data.at("notificationId").as_string());
  stack_->clock.Advance(absl::Hours(24 * 400));  // past scheduledAt
  ASSERT_EQ(engine_->RunDue(), 1);

  auto status = c.Send("GET", "/api/notifications/" + id + "/status", "", can);
  ASSERT_EQ(status.status, 200) << status.body;
  auto st = status.Json().at("data");
  EXPECT_EQ(st.at("notificationId").as_string(), id);
  EXPECT_EQ(st.at("type").as_string(), "email");
  EXPECT_EQ(st.at("status").as_string(), "sent");
  EXPECT_EQ(st.at("recipient").as_string(), "user@example.com");
  EXPECT_EQ(st.at("subject").as_string(), "Vos billets pour Tech Conference 2026 sont prêts");
  EXPECT_EQ(st.at("template").as_string(), "ticket_generated");
  EXPECT_EQ(st.at("provider").as_string(), "log");
  EXPECT_EQ(st.at("priority").as_string(), "high");
  EXPECT_EQ(st.at("eventId").as_int64(), 456);
  EXPECT_FALSE(st.at("providerMessageId").as_string().empty());
  EXPECT_TRUE(st.at("sentAt").is_string());

  auto outbox = c.Send("GET", "/api/notifications/outbox", "", can).Json();
  EXPECT_EQ(outbox.at("data").at(0).at("notificationId").as_string(), id);
  auto history = c.Send("GET", "/api/notifications/history?channel=email&status=sent", "", can);
  EXPECT_EQ(history.Json().at("data").as_array().size(), 1u) << history.body;
  auto stats = c.Send("GET", "/api/notifications/statistics", "", can).Json();
  EXPECT_EQ(stats.at("data").at("byChannel").at("email").at("sent").as_int64(), 1);
  const std::string metrics = NotifyMetricsText(*stack_->notifier);
  EXPECT_NE(
      metrics.find(
          R"(herald_notify_provider_calls_total{channel="email",provider="log",outcome="sent"} 1)"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(herald_notify_circuit_state{channel="email",provider="log"} 0)"),
            std::string::npos);
}

TEST_F(ServerTest, NotificationMistakesAreClearErrors) {
  Client c(server_->port());
  const auto can = As("notifications:create,notifications:read");
  auto send = [&](const std::string& body) {
    return c.Send("POST", "/api/notifications/email", body, can);
  };
  EXPECT_EQ(send("{not json").status, 400);
  EXPECT_EQ(send(R"({"template":"welcome"})").status, 400);  // no to
  EXPECT_EQ(send(R"({"to":"x@example.com","template":"welcome","tpl":1})").status, 400);
  EXPECT_EQ(send(R"({"to":"x@example.com","template":7})").status, 400);
  EXPECT_EQ(send(R"({"to":"not an address","template":"welcome"})").status, 400);
  EXPECT_EQ(
      send(R"({"to":"x@example.com","template":"welcome","options":{"priority":"max"}})").status,
      400);
  EXPECT_EQ(send(R"({"to":"x@example.com","template":"welcome",
                     "attachments":[{"filename":"a.pdf","content":"***"}]})")
                .status,
            400);
  auto unknown = send(R"({"to":"x@example.com","template":"no-such-template"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorCode(unknown), "not_found");
  EXPECT_EQ(c.Send("GET", "/api/notifications/nope/status", "", can).status, 404);
  EXPECT_EQ(c.Send("POST", "/api/notifications/email",
                   R"({"to":"x@example.com","template":"welcome"})", As("notifications:read"))
                .status,
            403);
  EXPECT_EQ(c.Send("GET", "/api/notifications/history", "").status, 401);
  EXPECT_TRUE(
      c.Send("GET", "/api/notifications/history", "", can).Json().at("data").as_array().empty());
}

TEST_F(ServerTest, IdempotencyKeyReplaysTheFirstAnswer) {
  Client c(server_->port());
  const auto can = As("notifications:create");
  auto headers = can;
  headers.emplace_back("Idempotency-Key", "welcome-jean");
  const std::string body =
      R"({"to":"jean@example.com","template":"welcome","data":{"first_name":"Jean"}})";
  auto first = c.Send("POST", "/api/notifications/email", body, headers);
  auto second = c.Send("POST", "/api/notifications/email", body, headers);
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 201);
  EXPECT_EQ(first.Json().at("data").at("notificationId"),
            second.Json().at("data").at("notificationId"));
  auto other = c.Send("POST", "/api/notifications/email",
                      R"({"to":"paul@example.com","template":"welcome"})", headers);
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(engine_->RunDue(), 1);  // one notification, sent once
}

TEST_F(ServerTest, TemplatesArePreviewedVersionedAndCountSmsSegments) {
  Client c(server_->port());
  const auto can = As("templates:read,templates:update");
  auto preview = c.Send("POST", "/api/templates/booking-confirmation-sms/preview",
                        R"({"channel":"sms","locale":"fr",
                            "data":{"bookingReference":"BK-42","serviceDate":"12/03"}})",
                        can);
  ASSERT_EQ(preview.status, 200) << preview.body;
  auto p = preview.Json().at("data");
  EXPECT_EQ(p.at("body").as_string(), "Réservation BK-42 confirmée le 12/03. Merci  !");
  EXPECT_EQ(p.at("sms").at("encoding").as_string(), "GSM-7");
  EXPECT_EQ(p.at("sms").at("segments").as_int64(), 1);
  bool reports_name = false;
  for (const auto& m : p.at("missing").as_array()) reports_name |= m.as_string() == "customerName";
  EXPECT_TRUE(reports_name) << p;

  auto saved =
      c.Send("PUT", "/api/templates/booking-confirmation-sms",
             R"({"channel":"sms","locale":"fr","body":"RDV {{bookingReference}} 🎉"})", can);
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(saved.Json().at("data").at("version").as_int64(), 2);
  auto emoji = c.Send("POST", "/api/templates/booking-confirmation-sms/preview",
                      R"({"channel":"sms","data":{"bookingReference":"BK-42"}})", can)
                   .Json()
                   .at("data");
  EXPECT_EQ(emoji.at("sms").at("encoding").as_string(), "UCS-2");
  EXPECT_EQ(emoji.at("sms").at("overBudget"), boost::json::value(false));
  // A long message over its budget is reported at preview time.
  std::string long_body(200, 'a');
  ASSERT_EQ(c.Send("PUT", "/api/templates/long-sms",
                   StrCat(R"({"channel":"sms","locale":"fr","body":")", long_body, R"("})"), can)
                .status,
            200);
  auto over = c.Send("POST", "/api/templates/long-sms/preview", R"({"channel":"sms"})", can)
                  .Json()
                  .at("data")
                  .at("sms");
  EXPECT_EQ(over.at("segments").as_int64(), 2);
  EXPECT_EQ(over.at("overBudget"), boost::json::value(true));
  auto within =
      c.Send("POST", "/api/templates/long-sms/preview", R"({"channel":"sms","maxSegments":2})", can)
          .Json()
          .at("data")
          .at("sms");
  EXPECT_EQ(within.at("overBudget"), boost::json::value(false));
  EXPECT_EQ(
      c.Send("PUT", "/api/templates/x", R"({"channel":"sms","locale":"fr","body":"{{#a}}"})", can)
          .status,
      400);
  EXPECT_EQ(c.Send("GET", "/api/templates/booking-confirmation-sms", "", can)
                .Json()
                .at("data")
                .as_array()
                .size(),
            3u);  // fr v2, then fr v1 and en v1
}

TEST_F(ServerTest, ContactsAreManagedAndReceiveGroupNotifications) {
  Client c(server_->port());
  const auto admin =
      As("contacts:create,contacts:read,contacts:update,contacts:delete,"
         "notifications:create,notifications:read");
  auto created = c.Send("POST", "/api/contacts", R"({
    "id": "marie", "name": "Marie Curie", "email": "marie@example.com", "phone": "+33611111111",
    "locale": "en", "timeZone": "Europe/Paris", "quietHours": {"start": "22:00", "end": "07:00"},
    "roles": ["ACCOUNTING"], "optOut": ["sms"]})",
                        admin);
  ASSERT_EQ(created.status, 201) << created.body;
  auto data = created.Json().at("data");
  EXPECT_EQ(data.at("quietHours").at("start"), "22:00");
  EXPECT_EQ(data.at("optOut").at(0), "sms");
  ASSERT_EQ(c.Send("POST", "/api/contacts",
                   R"({"id":"paul","email":"paul@example.com","roles":["ACCOUNTING"]})", admin)
                .status,
            201);
  // Bad input: 400 naming the field; a taken address: 409; without the permission: 403.
  auto bad =
      c.Send("POST", "/api/contacts", R"({"email":"x@example.com","timeZone":"Nowhere"})", admin);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(ErrorMessage(bad).find("timeZone"), std::string::npos);
  EXPECT_EQ(c.Send("POST", "/api/contacts", R"({"email":"MARIE@example.com"})", admin).status, 409);
  EXPECT_EQ(
      c.Send("POST", "/api/contacts", R"({"email":"y@example.com"})", As("contacts:read")).status,
      403);
  auto listed = c.Send("GET", "/api/contacts?role=ACCOUNTING", "", admin).Json();
  EXPECT_EQ(listed.at("data").as_array().size(), 2u);

  auto group = c.Send("POST", "/api/notifications/email",
                      R"({"to":"role:ACCOUNTING","template":"welcome","data":{"first_name":"x"},
                          "options":{"priority":"high"}})",
                      admin);
  ASSERT_EQ(group.status, 201) << group.body;
  EXPECT_EQ(group.Json().at("data").at("recipients"), 2);
  // Marie opted out of SMS: the SMS group is Paul... who has no phone: nobody.
  auto sms_group = c.Send("POST", "/api/notifications/sms",
                          R"({"to":"role:ACCOUNTING","template":"ticket_alert",
                              "data":{"ticket_code":"T","event_title":"E","message":"m"}})",
                          admin);
  ASSERT_EQ(sms_group.status, 201);
  EXPECT_EQ(sms_group.Json().at("data").at("recipients"), 0);

  auto updated = c.Send("PUT", "/api/contacts/marie",
                        R"({"email":"marie@example.com","optOut":["email"]})", admin);
  ASSERT_EQ(updated.status, 200) << updated.body;
  auto direct = c.Send("POST", "/api/notifications/email",
                       R"({"to":"contact:marie","template":"welcome"})", admin);
  ASSERT_EQ(direct.status, 201);
  engine_->RunDue();
  const std::string id(direct.Json().at("data").at("notificationId").as_string());
  auto status = c.Send("GET", "/api/notifications/" + id + "/status", "", admin).Json();
  EXPECT_EQ(status.at("data").at("status"), "failed");
  EXPECT_EQ(status.at("data").at("error").at("code"), "opted_out");
  EXPECT_EQ(status.at("data").at("contactId"), "marie");
  EXPECT_EQ(c.Send("DELETE", "/api/contacts/marie", "", admin).status, 200);
  EXPECT_EQ(c.Send("GET", "/api/contacts/marie", "", admin).status, 404);
}

TEST_F(ServerTest, WhatsAppWebhookHandshakeAndSignedStatuses) {
  Client c(server_->port());
  auto ok =
      c.Send("GET",
             StrCat("/api/notifications/callbacks/whatsapp?hub.mode=subscribe&hub.verify_token=",
                    testing::kWhatsAppVerifyToken, "&hub.challenge=1158201444"),
             "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "1158201444");
  EXPECT_EQ(c.Send("GET",
                   "/api/notifications/callbacks/whatsapp?hub.mode=subscribe&hub.verify_token=no"
                   "&hub.challenge=1",
                   "")
                .status,
            403);
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",)"
      R"("value":{"statuses":[{"id":"wamid.unknown","status":"delivered","timestamp":"1"}]}}]}]})";
  auto unsigned_post = c.Send("POST", "/api/notifications/callbacks/whatsapp", body);
  EXPECT_EQ(unsigned_post.status, 401);
  auto signed_post =
      c.Send("POST", "/api/notifications/callbacks/whatsapp", body,
             {{"X-Hub-Signature-256", notify::HubSignature(testing::kWhatsAppAppSecret, body)}});
  EXPECT_EQ(signed_post.status, 200) << signed_post.body;
  auto garbage =
      c.Send("POST", "/api/notifications/callbacks/whatsapp", "[1]",
             {{"X-Hub-Signature-256", notify::HubSignature(testing::kWhatsAppAppSecret, "[1]")}});
  EXPECT_EQ(garbage.status, 400);
}

TEST_F(ServerTest, WhatsAppAndChatBodies) {
  Client c(server_->port());
  const auto can = As("notifications:create,notifications:read");
  auto tpl = c.Send("POST", "/api/notifications/whatsapp",
                    R"({"to":"+33612345678","whatsapp":{"template":{"name":"booking_confirmation",
                        "language":"fr","parameters":["BK-1"]}}})",
                    can);
  EXPECT_EQ(tpl.status, 201) << tpl.body;
  auto doc = c.Send("POST", "/api/notifications/whatsapp",
                    R"({"to":"+33612345678","template":"ticket_generated",
                        "data":{"guest_name":"Jean","event_title":"Gala"},
                        "whatsapp":{"media":{"type":"document"}},
                        "attachments":[{"filename":"billet.pdf","content":"JVBERi0xLjQK"}]})",
                    can);
  EXPECT_EQ(doc.status, 201) << doc.body;
  auto both = c.Send("POST", "/api/notifications/whatsapp",
                     R"({"to":"+33612345678","whatsapp":{"template":{"name":"x","language":"fr"},
                         "media":{"type":"image","link":"https://e.com/a.png"}}})",
                     can);
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(c.Send("POST", "/api/notifications/whatsapp",
                   R"({"to":"0612345678","template":"ticket_generated"})", can)
                .status,
            400);
  auto chat = c.Send("POST", "/api/notifications/chat",
                     R"({"to":"ops","template":"order-received","title":"Commande",
                         "data":{"orderNumber":"12345","customerName":"ACME"}})",
                     can);
  EXPECT_EQ(chat.status, 201) << chat.body;
  EXPECT_EQ(engine_->RunDue(), 3);
  auto outbox = c.Send("GET", "/api/notifications/outbox", "", can).Json().at("data").as_array();
  ASSERT_EQ(outbox.size(), 3u);
  std::map<std::string, boost::json::value> by_channel;
  for (const auto& e : outbox) {
    by_channel[std::string(e.at("channel").as_string())] = e;
  }
  EXPECT_EQ(by_channel["chat"].at("body"), "Nouvelle commande 12345 de ACME.");
  EXPECT_EQ(by_channel["chat"].at("subject"), "Commande");
  EXPECT_EQ(by_channel["chat"].at("recipient"), "ops");
}

// --- Webhooks (seeds 001, 002, 003) and the maintenance watchdog (seed 004) -------------------

std::vector<std::pair<std::string, std::string>> StripeHeaders(const std::string& body,
                                                               absl::Time at) {
  return {{"Stripe-Signature", webhooks::StripeSignatureHeaderValue(
                                   testing::kStripeSecret, absl::ToUnixSeconds(at), body)}};
}

std::string StripeEvent(const std::string& id, const std::string& type, const std::string& object,
                        int64_t created = 1750000000) {
  return StrCat(R"({"id":")", id, R"(","object":"event","type":")", type, R"(","created":)",
                created, R"(,"data":{"object":)", object, "}}");
}

TEST_F(ServerTest, StripeWebhookIsVerifiedStoredOnceAndMovesThePaymentForward) {
  Client c(server_->port());
  const absl::Time now = stack_->clock.Now();
  const std::string paid = StripeEvent(
      "evt_1", "checkout.session.completed",
      R"({"id":"cs_1","object":"checkout.session","payment_status":"paid","payment_intent":"pi_1",)"
      R"("amount_total":9999,"currency":"eur","metadata":{"temporaryId":"tmp-42"}})");
  auto r = c.Send("POST", "/api/webhooks/stripe", paid, StripeHeaders(paid, now));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("duplicate"), false);
  // Stripe delivers again: 200, nothing more.
  r = c.Send("POST", "/api/webhooks/stripe", paid, StripeHeaders(paid, now));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("duplicate"), true);

  // Refused, with nothing stored: a changed byte, an old or a future timestamp, another
  // secret, no header.
  std::string tampered = paid;
  tampered[tampered.find("9999")] = '1';
  EXPECT_EQ(c.Send("POST", "/api/webhooks/stripe", tampered, StripeHeaders(paid, now)).status, 401);
  EXPECT_EQ(
      c.Send("POST", "/api/webhooks/stripe", paid, StripeHeaders(paid, now - absl::Seconds(301)))
          .status,
      401);
  EXPECT_EQ(
      c.Send("POST", "/api/webhooks/stripe", paid, StripeHeaders(paid, now + absl::Seconds(301)))
          .status,
      401);
  EXPECT_EQ(c.Send("POST", "/api/webhooks/stripe", paid,
                   {{"Stripe-Signature", webhooks::StripeSignatureHeaderValue(
                                             "whsec_other", absl::ToUnixSeconds(now), paid)}})
                .status,
            401);
  EXPECT_EQ(c.Send("POST", "/api/webhooks/stripe", paid).status, 401);
  const std::string other = StripeEvent("evt_x", "payment_intent.succeeded", R"({"id":"pi_x"})");
  EXPECT_EQ(c.Send("POST", "/api/webhooks/stripe", other, StripeHeaders(paid, now)).status, 401);

  const auto reader = As("webhooks:read,payments:read");
  EXPECT_EQ(c.Send("GET", "/api/webhooks/inbox", "", reader).Json().at("data").as_array().size(),
            1u);
  EXPECT_EQ(c.Send("GET", "/api/webhooks/payments/pi_1", "", reader).status, 404);  // not yet
  stack_->engine->RunDue();
  auto payment = c.Send("GET", "/api/webhooks/payments/pi_1", "", reader);
  ASSERT_EQ(payment.status, 200) << payment.body;
  EXPECT_EQ(payment.Json().at("data").at("state"), "paid");
  EXPECT_EQ(payment.Json().at("data").at("amount"), 9999);

  // A partial refund, then the full one; a late, older success changes nothing.
  for (const auto& [id, refunded, amount_refunded] :
       {std::tuple{"evt_2", "false", "2000"}, std::tuple{"evt_3", "true", "9999"}}) {
    const std::string refund =
        StripeEvent(id, "charge.refunded",
                    StrCat(R"({"id":"ch_1","payment_intent":"pi_1","amount":9999,"refunded":)",
                           refunded, R"(,"amount_refunded":)", amount_refunded, "}"));
    ASSERT_EQ(c.Send("POST", "/api/webhooks/stripe", refund, StripeHeaders(refund, now)).status,
              200);
    stack_->engine->RunDue();
    EXPECT_EQ(
        c.Send("GET", "/api/webhooks/payments/pi_1", "", reader).Json().at("data").at("state"),
        std::string(refunded) == "true" ? "refunded" : "partially_refunded");
  }
  stack_->clock.Advance(absl::Seconds(1));
  const std::string late = StripeEvent("evt_0", "payment_intent.succeeded",
                                       R"({"id":"pi_1","amount":9999,"currency":"eur"})");
  ASSERT_EQ(c.Send("POST", "/api/webhooks/stripe", late, StripeHeaders(late, now)).status, 200);
  stack_->engine->RunDue();
  EXPECT_EQ(c.Send("GET", "/api/webhooks/payments/pi_1", "", reader).Json().at("data").at("state"),
            "refunded");
  auto inbox = c.Send("GET", "/api/webhooks/inbox?provider=stripe", "", reader).Json();
  EXPECT_EQ(inbox.at("data").at(0).at("eventId"), "evt_0");
  EXPECT_EQ(inbox.at("data").at(0).at("status"), "ignored");
}

TEST_F(ServerTest, StripeUnpaidCheckoutWaitsForTheAsynchronousPayment) {
  Client c(server_->port());
  const absl::Time now = stack_->clock.Now();
  std::vector<std::string> seen;
  stack_->inbox->Subscribe("*", [&seen](store::Txn&, const webhooks::DomainEvent& e) {
    seen.push_back(StrCat(e.type, " ", e.entity_id));
    return absl::OkStatus();
  });
  const std::string unpaid = StripeEvent(
      "evt_a", "checkout.session.completed",
      R"({"id":"cs_2","payment_status":"unpaid","payment_intent":"pi_2","amount_total":500})");
  ASSERT_EQ(c.Send("POST", "/api/webhooks/stripe", unpaid, StripeHeaders(unpaid, now)).status, 200);
  stack_->engine->RunDue();
  EXPECT_TRUE(seen.empty());  // nothing to fulfil yet
  const std::string settled = StripeEvent(
      "evt_b", "checkout.session.async_payment_succeeded",
      R"({"id":"cs_2","payment_status":"paid","payment_intent":"pi_2","amount_total":500})");
  ASSERT_EQ(c.Send("POST", "/api/webhooks/stripe", settled, StripeHeaders(settled, now)).status,
            200);
  stack_->engine->RunDue();
  EXPECT_EQ(seen, std::vector<std::string>{"payment.succeeded pi_2"});
}

TEST_F(ServerTest, SeedPaymentAndTicketServiceWebhooksReachTheInboxAndOutboundEndpoints) {
  net::testing::FakeHttpServer receiver;
  Client c(server_->port());
  const auto admin = As("webhooks:create,webhooks:read,webhooks:update,payments:read");
  auto ep = c.Send("POST", "/api/webhooks/endpoints",
                   StrCat(R"({"url":")", receiver.url(), R"(/hooks","eventTypes":["payment.*"]})"),
                   admin);
  ASSERT_EQ(ep.status, 201) << ep.body;
  const std::string secret(ep.Json().at("data").at("secret").as_string());
  EXPECT_TRUE(secret.starts_with("whsec_"));

  const auto service = As("payments:update,tickets:update");
  // Seed 002, flow 2.
  const std::string seed002 = R"({"event_type":"payment.completed","payment_id":"pay_1234567890",
    "amount":9999,"currency":"EUR","status":"succeeded","timestamp":"2025-06-15T14:30:00Z",
    "metadata":{"event_id":1,"user_id":123,"ticket_count":2,"template_id":1},
    "customer":{"id":"cus_1","email":"customer@example.com","name":"John Doe"},
    "payment_method":{"type":"card","brand":"visa","last4":"4242"},
    "webhook_id":"wh_1234567890","created":1640995200})";
  auto r = c.Send("POST", "/api/payment-webhook-routes/", seed002, service);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.Send("POST", "/api/payment-webhook-routes/", seed002, service).Json().at("duplicate"),
            true);
  // Seed 003, flow 2.
  const std::string seed003 = R"({"eventType":"payment.completed","paymentIntentId":"pi_123",
    "status":"completed","timestamp":"2026-01-30T03:00:00Z","data":{"payment_service_id":
    "pay_1","gateway":"stripe","amount":99.99,"currency":"EUR","completed_at":
    "2026-01-30T03:00:00Z"}})";
  ASSERT_EQ(c.Send("POST", "/api/internal/payment-webhook", seed003, service).status, 200);
  // Seed 002, flow 4.
  const std::string ticket = R"({"event_type":"ticket.generated","ticket_id":"ticket-123456",
    "template_id":1,"guest_id":1,"event_id":1,"generation_data":{"format":"pdf"},
    "generated_at":"2025-06-15T10:25:00Z","processing_time_ms":1250})";
  ASSERT_EQ(c.Send("POST", "/api/ticket-webhook-routes/", ticket, service).status, 200);
  // Bad bodies: 400 and nothing stored; without the permission: 403.
  EXPECT_EQ(c.Send("POST", "/api/payment-webhook-routes/", R"({"event_type":"payment.completed"})",
                   service)
                .status,
            400);
  EXPECT_EQ(c.Send("POST", "/api/internal/payment-webhook", "not json", service).status, 400);
  EXPECT_EQ(c.Send("POST", "/api/ticket-webhook-routes/", ticket, As("payments:update")).status,
            403);

  stack_->engine->RunDue();  // the inbox jobs, and the first outbound delivery they published
  stack_->clock.Advance(absl::Milliseconds(200));  // the endpoint's pace: one per 200 ms
  stack_->engine->RunDue();
  EXPECT_EQ(c.Send("GET", "/api/webhooks/payments/pay_1234567890", "", admin)
                .Json()
                .at("data")
                .at("state"),
            "paid");
  auto intent = c.Send("GET", "/api/webhooks/payments/pi_123", "", admin).Json().at("data");
  EXPECT_EQ(intent.at("amount"), 9999);  // 99.99 EUR in cents
  // Two payment.succeeded events went out, signed; the ticket event was not subscribed.
  ASSERT_EQ(receiver.request_count(), 2u);
  for (const net::testing::FakeRequest& req : receiver.requests()) {
    auto header = [&req](std::string_view name) {
      for (const auto& [k, v] : req.headers) {
        if (absl::AsciiStrToLower(ToAbsl(k)) == ToAbsl(name)) return v;
      }
      return std::string();
    };
    const std::string key = webhooks::DecodeStandardSecret(secret).value();
    EXPECT_TRUE(
        webhooks::VerifyStandardWebhook(
            {header("webhook-id"), header("webhook-timestamp"), header("webhook-signature")},
            req.body, std::vector<std::string>{key}, stack_->clock.Now(), absl::Minutes(5))
            .ok());
    EXPECT_NE(req.body.find(R"("type":"payment.succeeded")"), std::string::npos) << req.body;
  }
  auto deliveries = c.Send("GET", "/api/webhooks/deliveries?status=succeeded", "", admin).Json();
  EXPECT_EQ(deliveries.at("data").as_array().size(), 2u);
}

TEST_F(ServerTest, WebhookEndpointsArePublishedToAndRedelivered) {
  net::testing::FakeHttpServer receiver;
  Client c(server_->port());
  const auto admin = As("webhooks:create,webhooks:read,webhooks:update,webhooks:delete");
  // Bad input: 400 naming the field.
  for (const char* bad :
       {R"({"url":"ftp://example.com/x"})", R"({"url":"https://example.com","eventTypes":["a b"]})",
        R"({"url":"https://example.com","timeoutMs":5})", R"({"url":"https://example.com","x":1})",
        R"({"eventTypes":[]})"}) {
    EXPECT_EQ(c.Send("POST", "/api/webhooks/endpoints", bad, admin).status, 400) << bad;
  }
  auto ep =
      c.Send("POST", "/api/webhooks/endpoints",
             StrCat(R"({"url":")", receiver.url(), R"(/x","eventTypes":["order.*"]})"), admin);
  ASSERT_EQ(ep.status, 201) << ep.body;
  const std::string id(ep.Json().at("data").at("id").as_string());
  auto listed = c.Send("GET", "/api/webhooks/endpoints", "", admin).Json();
  EXPECT_FALSE(listed.at("data").at(0).as_object().contains("secret"));  // shown once only

  const std::string event =
      R"({"type":"order.received","data":{"order":"A-1"},"dedupeKey":"order:A-1","dedupeWindow":"24h"})";
  auto pub = c.Send("POST", "/api/webhooks/events", event, admin);
  ASSERT_EQ(pub.status, 202) << pub.body;
  EXPECT_EQ(pub.Json().at("data").at("deliveries").as_array().size(), 1u);
  auto again = c.Send("POST", "/api/webhooks/events", event, admin);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.Json().at("data").at("deduplicated"), true);
  EXPECT_EQ(c.Send("POST", "/api/webhooks/events", R"({"type":"order.received","data":[1]})", admin)
                .status,
            400);
  stack_->engine->RunDue();
  ASSERT_EQ(receiver.request_count(), 1u);
  EXPECT_EQ(receiver.requests()[0].body.find(R"({"type":"order.received","timestamp":")"), 0u);

  const std::string dlv(pub.Json().at("data").at("deliveries").at(0).as_string());
  auto detail = c.Send("GET", StrCat("/api/webhooks/deliveries/", dlv), "", admin).Json();
  EXPECT_EQ(detail.at("data").at("status"), "succeeded");
  EXPECT_EQ(detail.at("data").at("attemptLog").at(0).at("statusCode"), 200);
  ASSERT_EQ(
      c.Send("POST", StrCat("/api/webhooks/deliveries/", dlv, "/redeliver"), "", admin).status,
      202);
  stack_->clock.Advance(absl::Milliseconds(200));
  stack_->engine->RunDue();
  EXPECT_EQ(receiver.request_count(), 2u);
  auto rotated =
      c.Send("POST", StrCat("/api/webhooks/endpoints/", id, "/rotate-secret"), "", admin);
  EXPECT_NE(rotated.Json().at("data").at("secret"), ep.Json().at("data").at("secret"));
  EXPECT_EQ(c.Send("DELETE", StrCat("/api/webhooks/endpoints/", id), "", admin).status, 200);
  EXPECT_EQ(c.Send("GET", StrCat("/api/webhooks/endpoints/", id), "", admin).status, 404);
}

TEST_F(ServerTest, CronCheckOverdueNeedsItsSecretAndNotifiesOncePerDay) {
  net::testing::FakeHttpServer receiver;
  Client c(server_->port());
  const auto admin = As("webhooks:create,maintenance:create,maintenance:read");
  ASSERT_EQ(c.Send("POST", "/api/webhooks/endpoints",
                   StrCat(R"({"url":")", receiver.url(),
                          R"(/pabbly","eventTypes":["maintenance.ticket_overdue"]})"),
                   admin)
                .status,
            201);
  ASSERT_EQ(c.Send("POST", "/api/maintenance/machines",
                   R"({"id":"m1","name":"Four","machine_type":"oven"})", admin)
                .status,
            201);
  ASSERT_EQ(c.Send("POST", "/api/maintenance/users",
                   R"({"id":"u1","name":"Ali","email":"ali@example.com"})", admin)
                .status,
            201);
  const std::string past = Rfc3339(stack_->clock.Now() - absl::Hours(2));
  const std::string future = Rfc3339(stack_->clock.Now() + absl::Hours(2));
  for (const auto& [id, status, date] :
       {std::tuple{"t1", "received", past}, std::tuple{"t2", "diagnostic", past},
        std::tuple{"t3", "in_progress", past}, std::tuple{"t4", "received", future}}) {
    auto t = c.Send("POST", "/api/maintenance/tickets",
                    StrCat(R"({"id":")", id, R"(","title":"Panne","machine_id":"m1",)",
                           R"("assigned_to":"u1","status":")", status, R"(","scheduled_date":")",
                           date, R"("})"),
                    admin);
    ASSERT_EQ(t.status, 201) << t.body;
  }
  EXPECT_EQ(c.Send("POST", "/api/cron/check-overdue", "").status, 401);
  EXPECT_EQ(
      c.Send("POST", "/api/cron/check-overdue", "", {{"Authorization", "Bearer wrong"}}).status,
      401);
  const std::vector<std::pair<std::string, std::string>> cron = {
      {"Authorization", StrCat("Bearer ", testing::kCronSecret)}};
  auto first = c.Send("POST", "/api/cron/check-overdue", "", cron);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.Json().at("data").at("overdue"), 2);
  EXPECT_EQ(first.Json().at("data").at("notified"), 2);
  auto second = c.Send("POST", "/api/cron/check-overdue", "", cron).Json().at("data");
  EXPECT_EQ(second.at("notified"), 0);
  EXPECT_EQ(second.at("skipped"), 2);
  // 200 ms apart (seed 004): one now, the other once the clock moved.
  stack_->engine->RunDue();
  EXPECT_EQ(receiver.request_count(), 1u);
  stack_->clock.Advance(absl::Milliseconds(199));
  stack_->engine->RunDue();
  EXPECT_EQ(receiver.request_count(), 1u);
  stack_->clock.Advance(absl::Milliseconds(1));
  stack_->engine->RunDue();
  EXPECT_EQ(receiver.request_count(), 2u);
  // A day later: t1 and t2 again, and t4, whose date has passed meanwhile.
  stack_->clock.Advance(absl::Hours(24));
  EXPECT_EQ(c.Send("POST", "/api/cron/check-overdue", "", cron).Json().at("data").at("notified"),
            3);
}

TEST_F(ServerTest, StandardWebhooksSourcesAreVerifiedStoredOnceAndRelayed) {
  net::testing::FakeHttpServer receiver;
  Client c(server_->port());
  const auto admin = As("webhooks:create,webhooks:read");
  ASSERT_EQ(
      c.Send("POST", "/api/webhooks/endpoints",
             StrCat(R"({"url":")", receiver.url(), R"(/relay","eventTypes":["contact.*"]})"), admin)
          .status,
      201);
  const std::string body =
      R"({"type":"contact.created","timestamp":"2026-12-03T08:00:00Z","data":{"id":"c_1"}})";
  const int64_t ts = absl::ToUnixSeconds(stack_->clock.Now());
  const std::string key = webhooks::DecodeStandardSecret(testing::kInboundSecret).value();
  auto signed_headers = [&](const std::string& id, const std::string& payload, int64_t at) {
    return std::vector<std::pair<std::string, std::string>>{
        {"webhook-id", id},
        {"webhook-timestamp", std::to_string(at)},
        {"webhook-signature", webhooks::StandardSignature(key, id, at, payload)}};
  };
  auto r = c.Send("POST", "/api/webhooks/inbound/crm", body, signed_headers("msg_1", body, ts));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("duplicate"), false);
  EXPECT_EQ(c.Send("POST", "/api/webhooks/inbound/crm", body, signed_headers("msg_1", body, ts))
                .Json()
                .at("duplicate"),
            true);
  // Another body under msg_1's signature, an old timestamp, an unknown source, no headers.
  std::string other = body;
  other.replace(other.find("c_1"), 3, "c_2");
  EXPECT_EQ(
      c.Send("POST", "/api/webhooks/inbound/crm", other, signed_headers("msg_1", body, ts)).status,
      401);
  EXPECT_EQ(
      c.Send("POST", "/api/webhooks/inbound/crm", body, signed_headers("msg_2", body, ts - 301))
          .status,
      401);
  EXPECT_EQ(
      c.Send("POST", "/api/webhooks/inbound/erp", body, signed_headers("msg_3", body, ts)).status,
      404);
  EXPECT_EQ(c.Send("POST", "/api/webhooks/inbound/crm", body).status, 401);
  stack_->engine->RunDue();  // the inbox job, then the relay
  stack_->engine->RunDue();
  ASSERT_EQ(receiver.request_count(), 1u);
  EXPECT_NE(receiver.requests()[0].body.find(R"("type":"contact.created")"), std::string::npos);
  EXPECT_NE(receiver.requests()[0].body.find(R"("data":{"id":"c_1"})"), std::string::npos);
}

// Seed 001's call: one data set, several kinds, for internal staff.
constexpr char kBookingDocs[] = R"({
  "trigger": "BOOKING_CONFIRMED", "target": "INTERNAL_STAFF",
  "documentTypes": ["BOOKING_CONFIRMATION", "INVOICE"], "reference": "bookings/BK-42",
  "data": {
    "booking": {"reference": "BK-42", "serviceType": "Déménagement", "serviceDate": "2026-12-12"},
    "customer": {"firstName": "Zoé", "lastName": "Moreau", "email": "zoe@example.org"},
    "invoice": {"number": "F-2026-042", "status": "paid"},
    "seller": {"name": "Herald Démo SAS"}, "buyer": {"name": "Zoé Moreau"},
    "items": [{"description": "Forfait", "quantity": 2, "unitPrice": 100, "vatRate": 20}]
  }})";

TEST_F(ServerTest, DocumentsOneIsMadeAtOnceAndServedBack) {
  Client c(server_->port());
  auto r = c.Send("POST", "/api/documents/generate",
                  R"({"target":"CUSTOMER","type":"TICKET","data":{"event":{"title":"Gala d'été"},)"
                  R"("guest":{"name":"Zoé"},"ticket":{"code":"TKT-1","price":"25,50"}}})",
                  As("documents:create"));
  ASSERT_EQ(r.status, 201) << r.body;
  const auto doc = r.Json().at("data").at("documents").at(0);
  const std::string id(doc.at("id").as_string());
  EXPECT_EQ(doc.at("type").as_string(), "TICKET");
  EXPECT_EQ(doc.at("filename").as_string(), "ticket-TKT-1.pdf");
  EXPECT_EQ(doc.at("url").as_string(), "/api/documents/" + id);

  auto pdf = c.Send("GET", "/api/documents/" + id, "", As("documents:read"));
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.headers["content-type"], "application/pdf");
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  EXPECT_EQ(pdf.headers["content-disposition"], "attachment; filename=\"ticket-TKT-1.pdf\"");
  EXPECT_EQ(static_cast<int64_t>(pdf.body.size()), doc.at("size").as_int64());
  auto meta = c.Send("GET", "/api/documents/" + id + "?meta=1", "", As("documents:read"));
  EXPECT_EQ(meta.Json().at("data").at("sha256"), doc.at("sha256"));

  // Reading needs documents:read; making needs documents:create; unknown ids are 404.
  EXPECT_EQ(c.Send("GET", "/api/documents/" + id, "", As("documents:create")).status, 403);
  EXPECT_EQ(c.Send("POST", "/api/documents/generate", "{}", As("documents:read")).status, 403);
  EXPECT_EQ(c.Send("GET", "/api/documents/doc_nope", "", As("documents:read")).status, 404);
  EXPECT_EQ(c.Send("GET", "/api/documents/" + id).status, 401);
}

TEST_F(ServerTest, DocumentsBadRequestsChangeNothing) {
  Client c(server_->port());
  const auto perms = As("documents:create,documents:read");
  const std::pair<std::string, std::string> bad[] = {
      {R"({"target":"CUSTOMER","type":"TICKET","data":{"ticket":{"code":"T"}}})",
       "data.event.title: required"},
      {R"({"target":"CUSTOMER","type":"PASSPORT","data":{}})", "unknown document type"},
      {R"({"target":"NOBODY","type":"TICKET","data":{}})", "unknown target"},
      {R"({"target":"CUSTOMER","type":"TICKET"})", "data: required object"},
      {R"({"target":"CUSTOMER","documentTypes":[]})", "documentTypes"},
      {R"({"target":"CUSTOMER","type":"TICKET","data":{},"colour":"red"})", "colour"},
      {R"({"target":"CUSTOMER","type":"TICKET","data":{},"template":{"blocks":[{"type":"x"}]}})",
       "unknown block type"},
      {R"({"target":"CUSTOMER","documents":[{"type":"TICKET","data":{"event":{"title":"A"},)"
       R"("ticket":{"code":"T1"}}},{"type":"TICKET","data":{}}]})",
       "documents[1].data.event.title: required"},
      {R"({"target":"EXTERNAL_PROVIDER","type":"INVOICE","data":{}})", "cannot be made"},
      {"not json", ""},
  };
  for (const auto& [body, message] : bad) {
    auto r = c.Send("POST", "/api/documents/generate", body, perms);
    EXPECT_TRUE(r.status == 400 || r.status == 403) << body << " → " << r.status << r.body;
    EXPECT_NE(ErrorMessage(r).find(message), std::string::npos) << body << " → " << r.body;
  }
  auto list = c.Send("GET", "/api/documents", "", perms);
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.Json().at("data").as_array().empty()) << list.body;
  auto jobs = engine_->List({});
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
}

TEST_F(ServerTest, DocumentsSeveralAreMadeByAJobWithPerDocumentResults) {
  Client c(server_->port());
  const auto perms = As("documents:create,documents:read,jobs:read");
  auto r = c.Send("POST", "/api/documents/generate", kBookingDocs, perms);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string job(r.Json().at("data").at("jobId").as_string());
  EXPECT_EQ(r.Json().at("data").at("count").as_int64(), 2);
  ASSERT_EQ(engine_->RunDue(), 1);
  ASSERT_TRUE(engine_->Flush().ok());
  auto status = c.Send("GET", "/api/jobs/" + job, "", perms);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_NE(status.body.find(R"("succeeded":2)"), std::string::npos) << status.body;
  auto list = c.Send("GET", "/api/documents?reference=bookings/BK-42", "", perms);
  ASSERT_EQ(list.status, 200);
  const boost::json::value listed = list.Json();
  const auto& docs = listed.at("data").as_array();
  ASSERT_EQ(docs.size(), 2u) << list.body;
  for (const auto& d : docs) {
    EXPECT_EQ(d.at("jobId").as_string(), job);
    auto pdf = c.Send("GET", std::string(d.at("url").as_string()), "", perms);
    EXPECT_EQ(pdf.status, 200);
    EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  }
  // The same two with "wait": made at once.
  std::string waited(kBookingDocs);
  waited.insert(waited.find("\"trigger\""), R"("wait": true, )");
  auto now = c.Send("POST", "/api/documents/generate", waited, perms);
  ASSERT_EQ(now.status, 201) << now.body;
  EXPECT_EQ(now.Json().at("data").at("documents").as_array().size(), 2u);

  auto templates = c.Send("GET", "/api/documents/templates", "", perms);
  ASSERT_EQ(templates.status, 200);
  EXPECT_EQ(templates.Json().at("data").at("TICKET").at("page").as_string(), "ticket");
}

// Connection deadlines and shutdown, on a server whose clock is manual: a deadline passes
// when the test moves the clock, and the server notices at its next sweep (a quarter of the
// shorter timeout in real time, 500 ms here).
class ServerLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add({"GET", "/ping", "", "", [](Request&) -> Result<Response> {
                   return Response::Text(200, "pong", "text/plain");
                 }});
    router_.Add({"GET", "/big", "", "", [](Request&) -> Result<Response> {
                   return Response::Text(200, std::string(8 << 20, 'x'), "text/plain");
                 }});
    Route hold{"GET", "/hold", "", ""};
    hold.async = [this](Request&, Respond respond) {
      absl::MutexLock l(&mu_);
      held_ = std::move(respond);
      reached_.Notify();
    };
    router_.Add(std::move(hold));
    Restart(Options());
  }

  static ServerOptions Options() {
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.header_timeout = absl::Seconds(2);
    options.read_timeout = absl::Seconds(2);
    options.write_timeout = absl::Seconds(2);
    options.idle_timeout = absl::Seconds(10);
    options.access_log = false;
    return options;
  }

  void Restart(const ServerOptions& options) {
    if (server_) server_->Stop(absl::ZeroDuration());
    server_ = std::move(Server::Create(options, router_, nullptr, clock_)).value();
    ASSERT_TRUE(server_->Start().ok());
  }

  // A raw loopback connection to the server; with `receive_buffer`, a receive buffer of at
  // most that size (set before connecting, so the window stays that small).
  int Connect(int receive_buffer = 0) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      EXPECT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer), 0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds_.push_back(fd);
    return fd;
  }
  static void Send(int fd, std::string_view bytes) {
    ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // What arrives on `fd` within `wait` (real time), until the server closes it; `closed`
  // says whether it did.
  static std::string Receive(int fd, absl::Duration wait, bool* closed) {
    std::string got;
    *closed = false;
    absl::Time deadline = absl::Now() + wait;
    while (absl::Now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (poll(&p, 1, std::max(ms, 1)) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        *closed = true;
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  bool ClosedWithin(int fd, absl::Duration wait) {
    bool closed = false;
    Receive(fd, wait, &closed);
    return closed;
  }

  void TearDown() override {
    server_->Stop(absl::ZeroDuration());
    for (int fd : fds_) close(fd);
  }

  core::ManualClock clock_;
  Router router_;
  std::unique_ptr<Server> server_;
  std::vector<int> fds_;
  absl::Mutex mu_;
  Respond held_ ABSL_GUARDED_BY(mu_);
  absl::Notification reached_;  // a request reached /hold
};

TEST_F(ServerLifecycleTest, AnIdleConnectionClosesOnceTheIdleTimeoutPassed) {
  int fd = Connect();
  Send(fd, "GET /ping HTTP/1.1\r\nHost: h\r\n\r\n");
  bool closed = false;
  std::string got = Receive(fd, absl::Milliseconds(300), &closed);
  EXPECT_EQ(got.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(got.find("\r\n\r\npong"), std::string::npos);
  clock_.Advance(absl::Seconds(9));
  EXPECT_FALSE(ClosedWithin(fd, absl::Seconds(1)));  // two sweeps: still within the timeout
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(ClosedWithin(fd, absl::Seconds(10)));
}

TEST_F(ServerLifecycleTest, ARequestSlowerThanTheReadTimeoutIsCutOff) {
  int slow = Connect(), patient = Connect();
  Send(slow, "GET /ping HTTP/1.1\r\nHost: h\r\n");  // headers never finished
  Send(patient, "GET /ping HTTP/1.1\r\n");
  // Real time for the server to read both (the manual clock has not moved: T0).
  EXPECT_FALSE(ClosedWithin(slow, absl::Milliseconds(300)));
  clock_.Advance(absl::Seconds(1.5));
  Send(slow, "X-More: 1\r\n");  // more bytes do not extend the request's deadline
  EXPECT_FALSE(ClosedWithin(slow, absl::Seconds(1)));
  Send(patient, "Host: h\r\n\r\n");  // finished within 2 s of its first byte
  bool closed = false;
  EXPECT_EQ(Receive(patient, absl::Milliseconds(300), &closed).substr(0, 15), "HTTP/1.1 200 OK");
  clock_.Advance(absl::Seconds(1));  // T0 + 2.5 s: past the slow request's deadline
  EXPECT_TRUE(ClosedWithin(slow, absl::Seconds(10)));
  EXPECT_FALSE(ClosedWithin(patient, absl::Seconds(1)));  // idle now: 10 s allowed
}

TEST_F(ServerLifecycleTest, AHeaderHasTheHeaderTimeoutAndTheWholeRequestTheReadTimeout) {
  ServerOptions options = Options();
  options.header_timeout = absl::Seconds(1);
  options.read_timeout = absl::Seconds(3);
  Restart(options);
  int trickle = Connect(), body = Connect();
  Send(trickle, "GET /ping HTTP/1.1\r\n");  // headers never finished
  Send(body, "POST /ping HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345");
  EXPECT_FALSE(ClosedWithin(trickle, absl::Milliseconds(300)));  // both read at T0
  clock_.Advance(absl::Seconds(1.5));
  EXPECT_TRUE(ClosedWithin(trickle, absl::Seconds(10)));  // its header is late
  EXPECT_FALSE(ClosedWithin(body, absl::Seconds(1)));     // its header came in time
  clock_.Advance(absl::Seconds(2));                       // T0 + 3.5 s
  EXPECT_TRUE(ClosedWithin(body, absl::Seconds(10)));     // but not all of it
}

TEST_F(ServerLifecycleTest, AClientThatStopsReadingIsCutOffAfterTheWriteTimeout) {
  ServerOptions options = Options();
  options.write_timeout = absl::Milliseconds(40);  // deadlines checked every 10 ms
  Restart(options);
  int fd = Connect(/*receive_buffer=*/4096);
  Send(fd, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
  // Read until the response has begun (the server is writing), then stop reading: 8 MiB
  // do not fit in the sockets' buffers.
  std::string got;
  for (int i = 0; i < 100 && got.find("\r\n\r\n") == std::string::npos; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  ASSERT_EQ(got.substr(0, 15), "HTTP/1.1 200 OK");
  clock_.Advance(absl::Milliseconds(50));  // past the write timeout
  // Real time for the server's deadline checks to run before this client reads on (reading
  // would let the server finish first).
  absl::SleepFor(absl::Milliseconds(300));
  bool closed = false;
  got += Receive(fd, absl::Seconds(20), &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(got.size(), size_t{8} << 20);  // cut off before the end of the body
}

TEST_F(ServerLifecycleTest, ALargeBodyIsWrittenWholeAndTheConnectionGoesOn) {
  testing::Client c(server_->port());
  auto big = c.Send("GET", "/big");
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(big.body.size(), 8u << 20);
  EXPECT_EQ(big.body.find_first_not_of('x'), std::string::npos);
  EXPECT_EQ(c.Send("GET", "/ping").body, "pong");
}

TEST_F(ServerLifecycleTest, AnHttp10ClientIsToldTheConnectionStaysOpen) {
  int fd = Connect();
  Send(fd, "GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  bool closed = false;
  std::string got = Receive(fd, absl::Milliseconds(300), &closed);
  EXPECT_NE(got.find("Connection: keep-alive\r\n"), std::string::npos) << got;
  EXPECT_FALSE(closed);
  Send(fd, "GET /ping HTTP/1.0\r\n\r\n");  // no keep-alive: closed after the answer
  got = Receive(fd, absl::Seconds(5), &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
}

TEST_F(ServerLifecycleTest, AHeadRequestIsAnsweredAsGetWithoutTheBody) {
  int fd = Connect();
  // Pipelined: a HEAD, a HEAD of a path that does not exist, then a GET. A body sent for
  // either HEAD would be read as the start of the next answer.
  Send(fd,
       "HEAD /ping HTTP/1.1\r\nHost: h\r\n\r\nHEAD /nowhere HTTP/1.1\r\nHost: h\r\n\r\n"
       "GET /ping HTTP/1.1\r\nHost: h\r\n\r\n");
  bool closed = false;
  std::string got;
  for (int i = 0; i < 50 && got.find("pong") == std::string::npos; ++i) {
    got += Receive(fd, absl::Milliseconds(100), &closed);
  }
  const size_t first_end = got.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << got;
  const std::string first = got.substr(0, first_end + 4);
  EXPECT_EQ(first.substr(0, 15), "HTTP/1.1 200 OK") << got;
  EXPECT_NE(first.find("Content-Length: 4\r\n"), std::string::npos) << got;  // GET's length
  const std::string rest = got.substr(first.size());
  EXPECT_EQ(rest.substr(0, 22), "HTTP/1.1 404 Not Found") << got;
  const size_t second_end = rest.find("\r\n\r\n");
  ASSERT_NE(second_end, std::string::npos) << got;
  const std::string third = rest.substr(second_end + 4);
  EXPECT_EQ(third.substr(0, 15), "HTTP/1.1 200 OK") << got;
  EXPECT_TRUE(third.ends_with("\r\n\r\npong")) << got;
  EXPECT_FALSE(closed);
}

TEST_F(ServerLifecycleTest, StopClosesIdleConnectionsAndAnswersTheRequestInFlight) {
  int idle = Connect(), busy = Connect();
  Send(busy, "GET /hold HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(reached_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::thread stop([&] { server_->Stop(absl::Seconds(30)); });
  EXPECT_TRUE(ClosedWithin(idle, absl::Seconds(10)));
  EXPECT_FALSE(ClosedWithin(busy, absl::Milliseconds(200)));
  Respond respond;
  {
    absl::MutexLock l(&mu_);
    respond = std::move(held_);
  }
  ASSERT_TRUE(respond);
  respond(Response::Text(200, "late", "text/plain"));
  bool closed = false;
  std::string got = Receive(busy, absl::Seconds(10), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(got.find("\r\n\r\nlate"), std::string::npos);
  stop.join();  // returned once the last connection closed: the grace is on the manual clock
}

}  // namespace
}  // namespace herald::http
