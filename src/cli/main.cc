// The `herald` command: the server and the tools that operate on its store.
//
// Exit codes (scripts rely on them):
//   0 success; 1 internal or I/O failure; 2 bad usage or bad input; 3 not found;
//   4 conflict (already exists, wrong state); 5 unavailable (e.g. another server holds the
//   store).

#include <signal.h>

#include <atomic>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <tuple>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "bench/docs_bench.h"
#include "bench/jobs_bench.h"
#include "bench/sms_bench.h"
#include "bench/smtp_bench.h"
#include "bench/tickets_bench.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "cli/runtime.h"
#include "core/config.h"
#include "core/log.h"
#include "core/strings.h"
#include "engine/cron.h"
#include "http/auth_routes.h"
#include "http/document_routes.h"
#include "http/engine_routes.h"
#include "http/maintenance_routes.h"
#include "http/notify_routes.h"
#include "http/ops_routes.h"
#include "http/server.h"
#include "http/ticket_routes.h"
#include "http/webhook_routes.h"

namespace herald::cli {
namespace {

constexpr const char* kVersion = "0.1.0";

int ExitCode(const Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 2;
    case absl::StatusCode::kNotFound:
      return 3;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 4;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
      return 5;
    default:
      return 1;
  }
}

int Fail(const Status& st) {
  std::cerr << "herald: " << st.message() << "\n";
  return ExitCode(st);
}

std::string IsoTime(absl::Time t, const absl::TimeZone& tz = absl::UTCTimeZone()) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", t, tz);
}

Result<absl::Time> ParseTime(std::string_view text, std::string_view what) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) {
    return absl::InvalidArgumentError(
        StrCat(what, ": '", text, "' is not an ISO 8601 time like 2026-03-29T01:30:00+01:00"));
  }
  return t;
}

// Options shared by every command that opens the store.
struct Common {
  std::string config_path;
  bool json = false;

  Result<core::Config> Load() const {
    auto env = core::HeraldEnvironment();
    std::string path = config_path;
    if (path.empty()) {
      auto it = env.find("HERALD_CONFIG");
      if (it != env.end()) path = it->second;
    }
    HERALD_ASSIGN_OR_RETURN(core::Config c, core::LoadConfig(path, env));
    HERALD_RETURN_IF_ERROR(core::InitLogging(c.log.level, c.log.format));
    return c;
  }

  Result<std::unique_ptr<Runtime>> Open(bool server = false) const {
    HERALD_ASSIGN_OR_RETURN(core::Config c, Load());
    return OpenRuntime(c, server);
  }
};

// --- serve -------------------------------------------------------------------------------

Status SeedDemo(Runtime& rt) {
  struct DemoSchedule {
    const char* name;
    const char* cron;
    const char* queue;
    const char* type;
    const char* payload;
  };
  const DemoSchedule schedules[] = {
      {"demo-heartbeat", "*/10 * * * * *", "default", "noop", "{}"},
      {"demo-flaky-sync", "*/30 * * * * *", "sync", "fail", R"({"times":1})"},
      {"demo-report", "* * * * *", "reports", "sleep", R"({"ms":250})"},
  };
  for (const DemoSchedule& d : schedules) {
    engine::ScheduleSpec spec;
    spec.name = d.name;
    spec.cron = d.cron;
    spec.job.queue = d.queue;
    spec.job.type = d.type;
    spec.job.payload = d.payload;
    spec.job.backoff.base = absl::Seconds(2);
    auto added = rt.scheduler->Add(spec);
    if (!added.ok() && added.status().code() != absl::StatusCode::kAlreadyExists) {
      return added.status();
    }
  }
  std::vector<engine::JobSpec> jobs;
  for (auto [priority, name] : {std::pair{-10, "low"}, {0, "normal"}, {10, "high"}}) {
    engine::JobSpec s;
    s.type = "sleep";
    s.queue = "demo";
    s.priority = priority;
    s.payload = StrCat(R"({"ms":100,"label":")", name, R"("})");
    jobs.push_back(s);
  }
  // Seed 004's watchdog has something to find: one overdue, assigned ticket and one that is
  // not due yet (POST /api/cron/check-overdue, or the schedule, reports them).
  auto keep = [](const Status& st) {
    return st.ok() || st.code() == absl::StatusCode::kAlreadyExists ? absl::OkStatus() : st;
  };
  namespace mnt = apps::maintenance;
  HERALD_RETURN_IF_ERROR(keep(rt.maintenance
                                  ->CreateMachine({"demo-oven", "Four de trempe 3",
                                                   "tempering_oven", "Atelier B", "TF-2291"})
                                  .status()));
  HERALD_RETURN_IF_ERROR(keep(
      rt.maintenance->CreateUser({"demo-tech", "Marc Tremblay", "marc@example.com", "+15145550123"})
          .status()));
  const absl::Time now = core::Clock::Real().Now();
  for (const auto& [id, title, due] :
       {std::tuple{"demo-overdue", "Courroie à remplacer", now - absl::Hours(3)},
        std::tuple{"demo-upcoming", "Inspection trimestrielle", now + absl::Hours(24 * 7)}}) {
    mnt::Ticket t;
    t.id = id;
    t.title = title;
    t.machine_id = "demo-oven";
    t.assigned_to = "demo-tech";
    t.scheduled_date = due;
    HERALD_RETURN_IF_ERROR(keep(rt.maintenance->CreateTicket(t).status()));
  }
  engine::JobSpec delayed;
  delayed.type = "noop";
  delayed.queue = "demo";
  delayed.delay = absl::Seconds(15);
  jobs.push_back(delayed);
  return rt.engine->EnqueueBatch(jobs).status();
}

http::ServerOptions HttpOptions(const core::Config& c) {
  http::ServerOptions o;
  o.address = c.http.address;
  o.port = c.http.port;
  o.threads = c.http.threads;
  o.max_body_bytes = static_cast<size_t>(c.http.max_body_bytes);
  o.header_timeout = c.http.header_timeout;
  o.read_timeout = c.http.read_timeout;
  o.write_timeout = c.http.write_timeout;
  o.idle_timeout = c.http.idle_timeout;
  for (absl::string_view origin : absl::StrSplit(ToAbsl(c.http.cors_origins), ',')) {
    std::string_view trimmed = ToStd(absl::StripAsciiWhitespace(origin));
    if (!trimmed.empty()) o.cors_origins.emplace_back(trimmed);
  }
  o.access_log = core::LogEnabled(spdlog::level::info);  // one line per request at info
  return o;
}

// Per caller (user, service or client IP) and route class, from [http]; bursts of twice the
// per-second rate.
auth::RateLimiterOptions RateLimits(const core::Config& c) {
  auto limit = [](int per_second) {
    return auth::RateLimit{per_second, absl::Seconds(1), 2 * int64_t{per_second}};
  };
  auth::RateLimiterOptions o;
  o.default_limit = limit(c.http.rate_limit_write);
  o.route_classes["auth"] = limit(c.http.rate_limit_auth);
  o.route_classes["read"] = limit(c.http.rate_limit_read);
  o.route_classes["write"] = limit(c.http.rate_limit_write);
  return o;
}

int Serve(const Common& common, bool demo) {
  // Block the stop signals in every thread; this thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto rt = common.Open(/*server=*/true);
  if (!rt.ok()) return Fail(rt.status());
  Runtime& r = **rt;
  r.engine->Subscribe([demo](const engine::JobEvent& e) {
    using K = engine::JobEvent::Kind;
    if (e.kind == K::kCompleted && demo) {
      core::LogInfo(
          "job completed",
          {{"id", e.id.ToString()}, {"queue", e.queue}, {"type", e.type}, {"attempt", e.attempt}});
    } else if (e.kind == K::kFailed) {
      core::LogWarn("job attempt failed", {{"id", e.id.ToString()},
                                           {"queue", e.queue},
                                           {"type", e.type},
                                           {"attempt", e.attempt},
                                           {"error", e.error}});
    } else if (e.kind == K::kDead) {
      core::LogError(
          "job is dead",
          {{"id", e.id.ToString()}, {"queue", e.queue}, {"type", e.type}, {"error", e.error}});
    }
  });
  if (Status st = r.engine->Start(); !st.ok()) return Fail(st);
  if (Status st = r.scheduler->Start(); !st.ok()) return Fail(st);
  if (demo) {
    if (Status st = SeedDemo(r); !st.ok()) return Fail(st);
  }
  auto admin_password = r.auth->EnsureAdmin(r.config.auth.admin_email);
  if (!admin_password.ok()) return Fail(admin_password.status());
  if (!admin_password->empty()) {
    // Shown once, on the terminal only (never logged): it must be changed at first login.
    std::cout << "\nFirst admin created: " << r.config.auth.admin_email
              << "\nOne-time password:   " << *admin_password
              << "\nLog in with POST /api/auth/login, or change it with `herald users passwd`.\n\n"
              << std::flush;
  }

  // HTTP: the engine's, the auth module's, the notifications' and the operations routes.
  std::atomic<bool> running{false};
  http::Router router;
  std::unique_ptr<http::Server> server;
  http::AddOpsRoutes(
      router, {r.store.get(),
               r.engine.get(),
               r.scheduler.get(),
               [&server] { return server ? server->Stats() : std::vector<http::RouteStats>{}; },
               [&running] { return running.load(); },
               kVersion,
               {[&r] { return http::NotifyMetricsText(*r.notifier); }}});
  http::AddAuthRoutes(router, *r.auth);
  http::AddEngineRoutes(router, *r.engine, *r.scheduler);
  http::AddNotifyRoutes(router, *r.notifier, *r.templates, *r.store);
  http::WebhookRouteOptions webhook_routes;
  for (absl::string_view s :
       absl::StrSplit(ToAbsl(r.config.webhooks.stripe_secrets), ',', absl::SkipWhitespace())) {
    webhook_routes.stripe_secrets.emplace_back(ToStd(absl::StripAsciiWhitespace(s)));
  }
  webhook_routes.stripe_tolerance = r.config.webhooks.stripe_tolerance;
  auto sources = http::ParseInboundSources(r.config.webhooks.inbound_sources);
  if (!sources.ok()) return Fail(sources.status());
  webhook_routes.inbound_sources = std::move(*sources);
  http::AddWebhookRoutes(router, *r.webhooks, *r.inbox, std::move(webhook_routes));
  http::AddMaintenanceRoutes(router, *r.maintenance, r.config.maintenance.cron_secret);
  http::AddDocumentRoutes(router, *r.documents);
  http::AddTicketRoutes(router, *r.ticketing, *r.scanner);
  http::AddPurchaseRoutes(router, *r.purchases);
  http::AddGenerationRoutes(router, *r.generator, *r.ticketing);
  auth::RateLimiter limiter(RateLimits(r.config));
  http::ServerOptions http_options = HttpOptions(r.config);
  auto created = http::Server::Create(
      http_options, router, http::MakeRequestAuthenticator(*r.auth, limiter, core::Clock::Real()),
      core::Clock::Real());
  if (!created.ok()) return Fail(created.status());
  server = std::move(*created);
  if (Status st = server->Start(); !st.ok()) return Fail(st);
  running = true;
  core::LogInfo("herald serving", {{"version", kVersion},
                                   {"store", r.config.store.path},
                                   {"http", StrCat(r.config.http.address, ":", server->port())},
                                   {"workers", r.config.engine.workers},
                                   {"demo", demo}});
  for (;;) {
    timespec period{demo ? 10 : 60, 0};
    int sig = sigtimedwait(&stop, nullptr, &period);
    if (sig == SIGINT || sig == SIGTERM) break;
    engine::EngineMetrics m = r.engine->Metrics();
    core::LogInfo("status", {{"processed", m.processed},
                             {"failed", m.failed},
                             {"dead", m.dead},
                             {"unfinished", m.unfinished},
                             {"latency_p99_ms", m.latency_p99_ms}});
  }
  core::LogInfo("stopping: finishing requests and running jobs",
                {{"grace", r.config.engine.shutdown_grace}});
  running = false;
  server->Stop(r.config.engine.shutdown_grace);
  r.scheduler->Stop();
  r.engine->Stop(r.config.engine.shutdown_grace);
  core::LogInfo("stopped");
  return 0;
}

// --- jobs --------------------------------------------------------------------------------

struct EnqueueArgs {
  std::string type, payload = "{}", queue = "default", priority = "0", delay, run_at;
  std::string unique_key, unique_for, on_conflict = "drop", group, timeout, backoff;
  int max_attempts = 0;
};

Result<engine::JobSpec> SpecFrom(const EnqueueArgs& a) {
  engine::JobSpec s;
  s.type = a.type;
  s.payload = a.payload;
  s.queue = a.queue;
  HERALD_ASSIGN_OR_RETURN(s.priority, engine::ParsePriority(a.priority));
  if (!a.delay.empty()) {
    HERALD_ASSIGN_OR_RETURN(s.delay, core::ParseDuration(a.delay));
  }
  if (!a.run_at.empty()) {
    HERALD_ASSIGN_OR_RETURN(s.run_at, ParseTime(a.run_at, "--run-at"));
  }
  s.max_attempts = a.max_attempts;
  s.unique_key = a.unique_key;
  if (!a.unique_for.empty()) {
    HERALD_ASSIGN_OR_RETURN(s.unique_for, core::ParseDuration(a.unique_for));
  }
  if (a.on_conflict == "replace") {
    s.on_conflict = engine::UniqueConflict::kReplace;
  } else if (a.on_conflict != "drop") {
    return absl::InvalidArgumentError("--on-conflict: must be drop or replace");
  }
  s.group_key = a.group;
  if (!a.timeout.empty()) {
    HERALD_ASSIGN_OR_RETURN(s.timeout, core::ParseDuration(a.timeout));
  }
  if (!a.backoff.empty()) {
    HERALD_ASSIGN_OR_RETURN(s.backoff, engine::Backoff::Decode(a.backoff));
  }
  return s;
}

int Enqueue(const Common& common, const EnqueueArgs& args) {
  auto spec = SpecFrom(args);
  if (!spec.ok()) return Fail(spec.status());
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto r = (*rt)->engine->Enqueue(*spec);
  if (!r.ok()) return Fail(r.status());
  if (common.json) {
    boost::json::object o{{"id", r->id.ToString()}, {"duplicate", r->duplicate}};
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    std::cout << r->id.ToString() << (r->duplicate ? " (duplicate: existing job)" : "") << "\n";
  }
  return 0;
}

struct ListArgs {
  std::string queue, state, type, after;
  int limit = 50;
};

int JobsList(const Common& common, const ListArgs& a) {
  engine::table::ListFilter f;
  if (!a.queue.empty()) f.queue = a.queue;
  if (!a.type.empty()) f.type = a.type;
  if (!a.state.empty()) {
    auto s = engine::ParseJobState(a.state);
    if (!s.ok()) return Fail(s.status());
    f.state = *s;
  }
  if (!a.after.empty()) {
    auto id = core::Id::Parse(a.after);
    if (!id.ok())
      return Fail(absl::InvalidArgumentError(StrCat("--after: ", id.status().message())));
    f.after = *id;
  }
  f.limit = a.limit;
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto jobs = (*rt)->engine->List(f);
  if (!jobs.ok()) return Fail(jobs.status());
  if (common.json) {
    boost::json::array arr;
    for (const auto& j : *jobs) arr.push_back(http::JobToJson(j));
    std::cout << boost::json::serialize(arr) << "\n";
    return 0;
  }
  std::printf("%-36s  %-12s  %-16s  %-10s  %8s  %s\n", "ID", "QUEUE", "TYPE", "STATE", "ATTEMPTS",
              "RUN_AT");
  for (const auto& j : *jobs) {
    std::printf("%-36s  %-12s  %-16s  %-10s  %3d/%-4d  %s\n", j.id.ToString().c_str(),
                j.queue.c_str(), j.type.c_str(), std::string(engine::JobStateName(j.state)).c_str(),
                j.attempts, j.max_attempts, IsoTime(j.run_at).c_str());
  }
  return 0;
}

int JobsShow(const Common& common, const std::string& id_text) {
  auto id = core::Id::Parse(id_text);
  if (!id.ok()) return Fail(id.status());
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto job = (*rt)->engine->Get(*id);
  if (!job.ok()) return Fail(job.status());
  if (!job->has_value()) return Fail(absl::NotFoundError(StrCat("no job ", id_text)));
  std::cout << boost::json::serialize(http::JobToJson(**job)) << "\n";
  return 0;
}

int JobsAct(const Common& common, const std::string& id_text, bool retry) {
  auto id = core::Id::Parse(id_text);
  if (!id.ok()) return Fail(id.status());
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  Status st = retry ? (*rt)->engine->Retry(*id) : (*rt)->engine->Cancel(*id);
  if (!st.ok()) return Fail(st);
  std::cout << (retry ? "retried " : "cancelled ") << id_text << "\n";
  return 0;
}

int Queues(const Common& common) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto stats = (*rt)->engine->QueueStats();
  if (!stats.ok()) return Fail(stats.status());
  using engine::JobState;
  auto n = [](const engine::table::QueueCounts& c, JobState s) {
    return c.by_state[static_cast<int>(s)];
  };
  if (common.json) {
    boost::json::array arr;
    for (const auto& c : *stats) arr.push_back(http::QueueToJson(c));
    std::cout << boost::json::serialize(arr) << "\n";
    return 0;
  }
  std::printf("%-16s %7s %7s %7s %9s %7s %9s %6s\n", "QUEUE", "WAITING", "ACTIVE", "DELAYED",
              "COMPLETED", "FAILED", "PROCESSED", "PAUSED");
  for (const auto& c : *stats) {
    std::printf("%-16s %7lld %7lld %7lld %9lld %7lld %9lld %6s\n", c.queue.c_str(),
                static_cast<long long>(n(c, JobState::kAvailable)),
                static_cast<long long>(n(c, JobState::kRunning)),
                static_cast<long long>(n(c, JobState::kScheduled) + n(c, JobState::kRetryable)),
                static_cast<long long>(n(c, JobState::kSucceeded)),
                static_cast<long long>(n(c, JobState::kDead)),
                static_cast<long long>(c.succeeded_total), c.paused ? "yes" : "no");
  }
  return 0;
}

int QueueAct(const Common& common, const std::string& queue, const std::string& action) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  engine::Engine& e = *(*rt)->engine;
  if (action == "retry-dead") {
    auto n = e.RetryAllDead(queue);
    if (!n.ok()) return Fail(n.status());
    std::cout << "retried " << *n << " dead job(s) of " << queue << "\n";
    return 0;
  }
  Status st = action == "pause" ? e.PauseQueue(queue) : e.ResumeQueue(queue);
  if (!st.ok()) return Fail(st);
  std::cout << (action == "pause" ? "paused " : "resumed ") << queue << "\n";
  return 0;
}

// --- schedules ---------------------------------------------------------------------------

struct ScheduleArgs {
  std::string name, cron, simple, tz = "UTC", type, payload = "{}", queue = "default";
  std::string misfire = "fire_once", priority = "0";
  int max_attempts = 0;
};

int SchedulesAdd(const Common& common, const ScheduleArgs& a) {
  engine::ScheduleSpec spec;
  spec.name = a.name;
  spec.timezone = a.tz;
  if (a.cron.empty() == a.simple.empty()) {
    return Fail(absl::InvalidArgumentError("give exactly one of --cron and --simple"));
  }
  if (!a.simple.empty()) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(a.simple, ec);
    if (ec) return Fail(absl::InvalidArgumentError("--simple: not valid JSON"));
    auto cron = engine::SimpleScheduleToCron(v);
    if (!cron.ok()) return Fail(cron.status());
    spec.cron = *cron;
  } else {
    spec.cron = a.cron;
  }
  spec.job.type = a.type;
  spec.job.payload = a.payload;
  spec.job.queue = a.queue;
  spec.job.max_attempts = a.max_attempts;
  auto priority = engine::ParsePriority(a.priority);
  if (!priority.ok()) return Fail(priority.status());
  spec.job.priority = *priority;
  auto misfire = engine::ParseMisfire(a.misfire);
  if (!misfire.ok()) return Fail(misfire.status());
  spec.misfire = *misfire;
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto s = (*rt)->scheduler->Add(spec);
  if (!s.ok()) return Fail(s.status());
  if (common.json) {
    std::cout << boost::json::serialize(http::ScheduleToJson(*s)) << "\n";
  } else {
    std::cout << "added " << s->spec.name << " (" << s->spec.cron << ", " << s->spec.timezone
              << "), next " << (s->next_fire_at ? IsoTime(*s->next_fire_at) : "never") << "\n";
  }
  return 0;
}

int SchedulesList(const Common& common) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto list = (*rt)->scheduler->List();
  if (!list.ok()) return Fail(list.status());
  if (common.json) {
    boost::json::array arr;
    for (const auto& s : *list) arr.push_back(http::ScheduleToJson(s));
    std::cout << boost::json::serialize(arr) << "\n";
    return 0;
  }
  std::printf("%-20s %-18s %-16s %-12s %-8s %s\n", "NAME", "CRON", "TIMEZONE", "TYPE", "ENABLED",
              "NEXT");
  for (const auto& s : *list) {
    std::printf("%-20s %-18s %-16s %-12s %-8s %s\n", s.spec.name.c_str(), s.spec.cron.c_str(),
                s.spec.timezone.c_str(), s.spec.job.type.c_str(), s.spec.enabled ? "yes" : "no",
                s.next_fire_at ? IsoTime(*s.next_fire_at).c_str() : "never");
  }
  return 0;
}

int SchedulesAct(const Common& common, const std::string& name, const std::string& action) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  engine::Scheduler& s = *(*rt)->scheduler;
  Status st = action == "remove" ? s.Remove(name) : s.SetEnabled(name, action == "resume");
  if (!st.ok()) return Fail(st);
  std::cout << action << (action == "remove" ? "d " : "d ") << name << "\n";
  return 0;
}

// --- users and API keys -------------------------------------------------------------------

// A password from --password, or from the first line of standard input (--password-stdin),
// so scripts need not put it on a command line where `ps` shows it.
Result<std::string> ReadPassword(const std::string& flag, bool from_stdin) {
  if (from_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) return absl::InvalidArgumentError("no password on stdin");
    return line;
  }
  if (flag.empty()) return absl::InvalidArgumentError("give --password or --password-stdin");
  return flag;
}

struct UserArgs {
  std::string email, name, role = "operator", password;
  bool password_stdin = false;
};

int UsersAdd(const Common& common, const UserArgs& a) {
  auto password = ReadPassword(a.password, a.password_stdin);
  if (!password.ok()) return Fail(password.status());
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto user = (*rt)->auth->users().CreateUser({a.email, a.name, a.role, *password});
  if (!user.ok()) return Fail(user.status());
  std::cout << "added " << user->email << " (" << auth::RoleName(user->role) << ", id " << user->id
            << ")\n";
  return 0;
}

int UsersList(const Common& common) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto users = (*rt)->auth->users().List();
  if (!users.ok()) return Fail(users.status());
  std::printf("%-36s  %-32s  %-18s  %s\n", "ID", "EMAIL", "ROLE", "DISABLED");
  for (const auto& u : *users) {
    std::printf("%-36s  %-32s  %-18s  %s\n", u.id.c_str(), u.email.c_str(),
                std::string(auth::RoleName(u.role)).c_str(), u.disabled ? "yes" : "no");
  }
  return 0;
}

int UsersChange(const Common& common, const UserArgs& a, bool password_change) {
  std::string password;
  if (password_change) {
    auto p = ReadPassword(a.password, a.password_stdin);
    if (!p.ok()) return Fail(p.status());
    password = *p;
  }
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auth::UserStore& users = (*rt)->auth->users();
  auto user = users.FindByEmail(a.email);
  if (!user.ok()) return Fail(user.status());
  Status st =
      password_change ? users.SetPassword(user->id, password) : users.SetRole(user->id, a.role);
  if (!st.ok()) return Fail(st);
  std::cout << (password_change ? "password changed for " : "role changed for ") << user->email
            << "\n";
  return 0;
}

int ApiKeysCreate(const Common& common, const std::string& service,
                  const std::vector<std::string>& permissions) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto key = (*rt)->auth->users().CreateApiKey(service, permissions);
  if (!key.ok()) return Fail(key.status());
  // The key is shown here only; Herald keeps its hash.
  std::cout << key->plaintext << "\n";
  std::cerr << "api key " << key->key.id << " for service " << service
            << "; send it as X-Service-Name: " << service << " and X-Service-Key: <key>\n";
  return 0;
}

int ApiKeysList(const Common& common) {
  auto rt = common.Open();
  if (!rt.ok()) return Fail(rt.status());
  auto keys = (*rt)->auth->users().ListApiKeys();
  if (!keys.ok()) return Fail(keys.status());
  std::printf("%-36s  %-20s  %-14s  %s\n", "ID", "SERVICE", "PREFIX", "REVOKED");
  for (const auto& k : *keys) {
    std::printf("%-36s  %-20s  %-14s  %s\n", k.id.c_str(), k.service_name.c_str(), k.prefix.c_str(),
                k.revoked ? "yes" : "no");
  }
  return 0;
}

// --- cron next ---------------------------------------------------------------------------

int CronNext(const std::string& expr, const std::string& tz_name, const std::string& from,
             int count) {
  auto cron = engine::CronExpr::Parse(expr);
  if (!cron.ok()) return Fail(cron.status());
  auto tz = engine::LoadZone(tz_name);
  if (!tz.ok()) return Fail(tz.status());
  absl::Time start = absl::Now();
  if (!from.empty()) {
    auto t = ParseTime(from, "--from");
    if (!t.ok()) return Fail(t.status());
    start = *t;
  }
  if (count < 1 || count > 10000) {
    return Fail(absl::InvalidArgumentError("--count: must be in 1..10000"));
  }
  for (absl::Time t : cron->NextN(start, *tz, count)) std::cout << IsoTime(t, *tz) << "\n";
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's Abseil is built without NDEBUG, so its Mutex checks the lock order on every
  // acquisition (a graph update per lock). Tests and sanitizer builds keep that check;
  // release binaries skip it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  CLI::App app{"Herald: durable jobs, schedules and back-office machinery for SaaS teams"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  Common common;
  auto add_common = [&](CLI::App* cmd, bool json = true) {
    cmd->add_option("--config", common.config_path, "TOML config file (or HERALD_CONFIG)");
    if (json) cmd->add_flag("--json", common.json, "machine-readable JSON output");
  };
  int rc = 0;

  auto* serve = app.add_subcommand("serve", "run the engine and the scheduler until SIGTERM");
  bool demo = false;
  add_common(serve, false);
  serve->add_flag("--demo", demo, "add demo schedules and jobs so work is visible at once");
  serve->callback([&] { rc = Serve(common, demo); });

  auto* enqueue = app.add_subcommand("enqueue", "add a job");
  EnqueueArgs ea;
  add_common(enqueue);
  enqueue->add_option("--type,-t", ea.type, "job type (see `herald types`)")->required();
  enqueue->add_option("--payload,-p", ea.payload, "JSON payload");
  enqueue->add_option("--queue,-q", ea.queue, "queue name");
  enqueue->add_option("--priority", ea.priority, "high, normal, low or -1000..1000");
  enqueue->add_option("--delay", ea.delay, "run after this long (e.g. 30s, 5m)");
  enqueue->add_option("--run-at", ea.run_at, "run at this ISO 8601 time");
  enqueue->add_option("--max-attempts", ea.max_attempts, "attempts before the job is dead");
  enqueue->add_option("--backoff", ea.backoff,
                      "kind:base_ms:cap_ms:jitter% e.g. exponential:1000:3600000:20");
  enqueue->add_option("--timeout", ea.timeout, "per-attempt timeout (e.g. 30s)");
  enqueue->add_option("--unique-key", ea.unique_key, "at most one job per key");
  enqueue->add_option("--unique-for", ea.unique_for,
                      "key window (default: until the job finishes)");
  enqueue->add_option("--on-conflict", ea.on_conflict, "drop or replace a duplicate");
  enqueue->add_option("--group", ea.group, "group key for per-group rate limits");
  enqueue->callback([&] { rc = Enqueue(common, ea); });

  auto* types = app.add_subcommand("types", "list the job types this binary can run");
  types->callback([&] {
    auto rt = common.Open();
    if (!rt.ok()) {
      rc = Fail(rt.status());
      return;
    }
    for (const auto& t : (*rt)->engine->HandlerTypes()) std::cout << t << "\n";
  });

  auto* jobs = app.add_subcommand("jobs", "inspect and act on jobs");
  jobs->require_subcommand(1);
  ListArgs la;
  auto* jlist = jobs->add_subcommand("list", "list jobs, oldest first");
  add_common(jlist);
  jlist->add_option("--queue", la.queue);
  jlist->add_option("--state", la.state,
                    "scheduled, available, running, retryable, succeeded, dead, cancelled");
  jlist->add_option("--type", la.type);
  jlist->add_option("--after", la.after, "cursor: list jobs after this id");
  jlist->add_option("--limit", la.limit, "1..1000")->check(CLI::Range(1, 1000));
  jlist->callback([&] { rc = JobsList(common, la); });
  std::string job_id;
  auto* jshow = jobs->add_subcommand("show", "print one job as JSON");
  add_common(jshow, false);
  jshow->add_option("id", job_id)->required();
  jshow->callback([&] { rc = JobsShow(common, job_id); });
  auto* jretry = jobs->add_subcommand("retry", "make a dead or cancelled job run again");
  add_common(jretry, false);
  jretry->add_option("id", job_id)->required();
  jretry->callback([&] { rc = JobsAct(common, job_id, true); });
  auto* jcancel = jobs->add_subcommand("cancel", "cancel an unfinished job");
  add_common(jcancel, false);
  jcancel->add_option("id", job_id)->required();
  jcancel->callback([&] { rc = JobsAct(common, job_id, false); });

  auto* queues = app.add_subcommand("queues", "queue statistics; pause, resume, retry-dead");
  add_common(queues);
  std::string queue_name;
  for (const char* action : {"pause", "resume", "retry-dead"}) {
    auto* q = queues->add_subcommand(action, std::string(action) + " a queue");
    add_common(q, false);
    q->add_option("queue", queue_name)->required();
    std::string act = action;
    q->callback([&, act] { rc = QueueAct(common, queue_name, act); });
  }
  queues->callback([&] {
    if (queues->get_subcommands().empty()) rc = Queues(common);
  });

  auto* schedules = app.add_subcommand("schedules", "cron schedules");
  schedules->require_subcommand(1);
  ScheduleArgs sa;
  auto* sadd = schedules->add_subcommand("add", "add a schedule");
  add_common(sadd);
  sadd->add_option("--name", sa.name)->required();
  sadd->add_option("--cron", sa.cron, "cron expression (5 or 6 fields, or @daily...)");
  sadd->add_option("--simple", sa.simple,
                   R"(simple form as JSON, e.g. {"frequency":"daily","time":"08:00"})");
  sadd->add_option("--tz", sa.tz, "IANA time zone, e.g. Europe/Paris");
  sadd->add_option("--type,-t", sa.type, "job type")->required();
  sadd->add_option("--payload,-p", sa.payload, "JSON payload");
  sadd->add_option("--queue,-q", sa.queue);
  sadd->add_option("--priority", sa.priority);
  sadd->add_option("--max-attempts", sa.max_attempts);
  sadd->add_option("--misfire", sa.misfire, "skip, fire_once or fire_all");
  sadd->callback([&] { rc = SchedulesAdd(common, sa); });
  auto* slist = schedules->add_subcommand("list", "list schedules with their next run");
  add_common(slist);
  slist->callback([&] { rc = SchedulesList(common); });
  std::string schedule_name;
  for (const char* action : {"remove", "pause", "resume"}) {
    auto* s = schedules->add_subcommand(action, std::string(action) + " a schedule");
    add_common(s, false);
    s->add_option("name", schedule_name, "name or id")->required();
    std::string act = action;
    s->callback([&, act] { rc = SchedulesAct(common, schedule_name, act); });
  }

  auto* users = app.add_subcommand("users", "users of the HTTP API");
  users->require_subcommand(1);
  UserArgs ua;
  auto* uadd = users->add_subcommand("add", "add a user");
  add_common(uadd, false);
  uadd->add_option("--email", ua.email)->required();
  uadd->add_option("--name", ua.name);
  uadd->add_option("--role", ua.role,
                   "admin, organizer, operations_manager, accounting, operator, service");
  uadd->add_option("--password", ua.password, "visible to ps: prefer --password-stdin");
  uadd->add_flag("--password-stdin", ua.password_stdin, "read the password from stdin");
  uadd->callback([&] { rc = UsersAdd(common, ua); });
  auto* ulist = users->add_subcommand("list", "list users");
  add_common(ulist, false);
  ulist->callback([&] { rc = UsersList(common); });
  auto* upasswd = users->add_subcommand("passwd", "set a user's password");
  add_common(upasswd, false);
  upasswd->add_option("email", ua.email)->required();
  upasswd->add_option("--password", ua.password);
  upasswd->add_flag("--password-stdin", ua.password_stdin);
  upasswd->callback([&] { rc = UsersChange(common, ua, /*password_change=*/true); });
  auto* urole = users->add_subcommand("role", "set a user's role");
  add_common(urole, false);
  urole->add_option("email", ua.email)->required();
  urole->add_option("role", ua.role)->required();
  urole->callback([&] { rc = UsersChange(common, ua, /*password_change=*/false); });

  auto* apikeys = app.add_subcommand("apikeys", "API keys for services");
  apikeys->require_subcommand(1);
  std::string service_name, key_id;
  std::vector<std::string> key_permissions;
  auto* kcreate = apikeys->add_subcommand("create", "create a key (printed once)");
  add_common(kcreate, false);
  kcreate->add_option("--service", service_name)->required();
  kcreate->add_option("--permission", key_permissions, "repeatable; default: the service role's");
  kcreate->callback([&] { rc = ApiKeysCreate(common, service_name, key_permissions); });
  auto* klist = apikeys->add_subcommand("list", "list keys");
  add_common(klist, false);
  klist->callback([&] { rc = ApiKeysList(common); });
  auto* krevoke = apikeys->add_subcommand("revoke", "revoke a key");
  add_common(krevoke, false);
  krevoke->add_option("id", key_id)->required();
  krevoke->callback([&] {
    auto rt = common.Open();
    if (!rt.ok()) {
      rc = Fail(rt.status());
      return;
    }
    Status st = (*rt)->auth->users().RevokeApiKey(key_id);
    rc = st.ok() ? 0 : Fail(st);
    if (st.ok()) std::cout << "revoked " << key_id << "\n";
  });

  auto* cron = app.add_subcommand("cron", "cron expression tools");
  cron->require_subcommand(1);
  std::string expr, tz = "UTC", from;
  int count = 5;
  auto* next = cron->add_subcommand("next", "print the next fire times");
  next->add_option("--expr", expr, "cron expression")->required();
  next->add_option("--tz", tz, "IANA time zone");
  next->add_option("--from", from, "ISO 8601 start (default: now)");
  next->add_option("--count", count, "how many");
  next->callback([&] { rc = CronNext(expr, tz, from, count); });

  auto* migrate = app.add_subcommand("migrate", "create or upgrade the store's tables");
  add_common(migrate, false);
  migrate->callback([&] {
    auto rt = common.Open();
    rc = rt.ok() ? 0 : Fail(rt.status());
    if (rt.ok()) std::cout << "migrated " << (*rt)->config.store.path << "\n";
  });

  auto* version = app.add_subcommand("version", "print the version");
  version->callback([&] { std::cout << "herald " << kVersion << "\n"; });

  auto* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  bench::BenchOptions bo;
  bool bench_json = false;
  std::string sync = "normal";
  auto* bjobs = bench->add_subcommand("jobs", "engine throughput and latency (one JSON line)");
  bjobs->add_option("--jobs", bo.jobs)->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  bjobs->add_option("--concurrency", bo.concurrency)->check(CLI::Range(1, 256));
  bjobs->add_option("--batch", bo.batch)->check(CLI::Range(1, 100'000));
  bjobs->add_option("--sync", sync, "normal or full")->check(CLI::IsMember({"normal", "full"}));
  bjobs->add_option("--dir", bo.dir, "scratch folder");
  bjobs->add_flag("--json", bench_json, "JSON output (the default; kept for scripts)");
  bjobs->callback([&] {
    bo.synchronous_full = sync == "full";
    auto r = bench::RunJobsBench(bo);
    rc = r.ok() ? 0 : Fail(r.status());
    if (r.ok()) std::cout << r->ToJson() << "\n";
  });
  int64_t mem_jobs = 1'000'000;
  auto* bmem = bench->add_subcommand("memory", "resident memory idle and with jobs queued");
  bmem->add_option("--jobs", mem_jobs)->check(CLI::Range(int64_t{0}, int64_t{100'000'000}));
  bmem->add_option("--dir", bo.dir, "scratch folder");
  bmem->callback([&] {
    auto r = bench::RunMemoryBench(mem_jobs, bo.dir);
    rc = r.ok() ? 0 : Fail(r.status());
    if (r.ok()) std::cout << r->ToJson() << "\n";
  });

  bench::SmtpBenchOptions smtp_bench;
  auto* bsmtp = bench->add_subcommand("smtp", "emails/s through the SMTP provider (one JSON line)");
  bsmtp->add_option("--url", smtp_bench.url, "smtp://host:port (no TLS)")->required();
  bsmtp->add_option("--messages", smtp_bench.messages)
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  bsmtp->add_option("--pool", smtp_bench.pool, "connections and senders")
      ->check(CLI::Range(1, 100));
  bsmtp->callback([&] {
    auto r = bench::RunSmtpBench(smtp_bench);
    rc = r.ok() ? 0 : Fail(r.status());
    if (r.ok()) std::cout << r->ToJson() << "\n";
  });

  bench::SmsBenchOptions sms_bench;
  auto* bsms = bench->add_subcommand(
      "sms", "SMS notifications through the notifier to a local fake Twilio (one JSON line)");
  bsms->add_option("--notifications", sms_bench.notifications)
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  bsms->add_option("--concurrency", sms_bench.concurrency, "deliveries at once (seed 001: 3)")
      ->check(CLI::Range(1, 256));
  bsms->add_option("--rate", sms_bench.rate, "submissions per second; 0: as fast as possible")
      ->check(CLI::Range(0, 1'000'000));
  bsms->add_option("--dir", sms_bench.dir, "scratch folder");
  bsms->callback([&] {
    auto r = bench::RunSmsBench(sms_bench);
    rc = r.ok() ? 0 : Fail(r.status());
    if (r.ok()) std::cout << r->ToJson() << "\n";
  });

  bench::DocsBenchOptions docs_bench;
  auto* bdocs = bench->add_subcommand(
      "documents", "ticket PDFs with QR made by the engine in batches, and the parts alone");
  bdocs->add_option("--tickets", docs_bench.tickets)
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  bdocs->add_option("--workers", docs_bench.workers)->check(CLI::Range(1, 256));
  bdocs->add_option("--concurrency", docs_bench.concurrency, "documents jobs at once")
      ->check(CLI::Range(1, 256));
  bdocs->add_option("--dir", docs_bench.dir, "scratch folder");
  bdocs->callback([&] {
    auto r = bench::RunDocsBench(docs_bench);
    rc = r.ok() ? 0 : Fail(r.status());
    if (r.ok()) std::cout << r->ToJson() << "\n";
  });

  bench::TicketsBenchOptions tickets_bench;
  auto* btickets = bench->add_subcommand(
      "tickets", "signed tickets to PDFs to emails: TicketGenerator end to end (one JSON line)");
  btickets->add_option("--tickets", tickets_bench.tickets)
      ->check(CLI::Range(int64_t{1}, int64_t{10'000}));
  btickets->add_option("--workers", tickets_bench.workers)->check(CLI::Range(1, 256));
  btickets->add_option("--concurrency", tickets_bench.concurrency, "documents jobs at once")
      ->check(CLI::Range(1, 256));
  btickets->add_flag("--notify,!--no-notify", tickets_bench.notify,
                     "email every guest their PDF (default on)");
  btickets->add_option("--dir", tickets_bench.dir, "scratch folder");
  btickets->callback([&] {
    auto r = bench::RunTicketsBench(tickets_bench);
    rc = r.ok() ? 0 : Fail(r.status());
    if (r.ok()) std::cout << r->ToJson() << "\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return rc;
}

}  // namespace herald::cli

int main(int argc, char** argv) { return herald::cli::Main(argc, argv); }
