#include "http/engine_routes.h"

#include <charconv>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "engine/cron.h"
#include "http/json_fields.h"

namespace herald::http {
namespace {

using engine::Job;
using engine::JobSpec;
using engine::JobState;

constexpr size_t kMaxBulk = 10'000;

boost::json::value ParsedOrText(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return ec ? boost::json::value(text) : v;
}

Result<core::Id> IdParam(const Request& req) {
  auto id = core::Id::Parse(req.params.at("id"));
  if (!id.ok()) return absl::InvalidArgumentError(StrCat("id: ", id.status().message()));
  return *id;
}

Result<Response> Created(const engine::EnqueueResult& r) {
  return Response::Json(r.duplicate ? 200 : 201,
                        boost::json::object{{"id", r.id.ToString()}, {"duplicate", r.duplicate}});
}

Result<JobState> StateFrom(std::string_view text) {
  auto s = engine::ParseJobState(text);
  if (!s.ok()) return absl::InvalidArgumentError(StrCat("state: ", s.status().message()));
  return *s;
}

}  // namespace

boost::json::value JobToJson(const Job& j) {
  boost::json::object o;
  o["id"] = j.id.ToString();
  o["queue"] = j.queue;
  o["type"] = j.type;
  o["payload"] = ParsedOrText(j.payload);
  o["priority"] = j.priority;
  o["state"] = std::string(engine::JobStateName(j.state));
  o["run_at"] = Rfc3339(j.run_at);
  o["created_at"] = Rfc3339(j.created_at);
  o["started_at"] = j.started_at ? boost::json::value(Rfc3339(*j.started_at)) : nullptr;
  o["finished_at"] = j.finished_at ? boost::json::value(Rfc3339(*j.finished_at)) : nullptr;
  o["lease_until"] = j.lease_until ? boost::json::value(Rfc3339(*j.lease_until)) : nullptr;
  o["attempts"] = j.attempts;
  o["max_attempts"] = j.max_attempts;
  o["backoff"] = boost::json::object{
      {"type", j.backoff.kind == engine::Backoff::Kind::kFixed ? "fixed" : "exponential"},
      {"delay", absl::ToInt64Milliseconds(j.backoff.base)},
      {"max_delay", absl::ToInt64Milliseconds(j.backoff.cap)},
      {"jitter", j.backoff.jitter_percent}};
  o["timeout_ms"] = absl::ToInt64Milliseconds(j.timeout);
  o["unique_key"] =
      j.unique_key.empty() ? boost::json::value(nullptr) : boost::json::value(j.unique_key);
  o["group_key"] =
      j.group_key.empty() ? boost::json::value(nullptr) : boost::json::value(j.group_key);
  o["last_error"] =
      j.last_error.empty() ? boost::json::value(nullptr) : boost::json::value(j.last_error);
  o["progress"] = j.progress;
  o["result"] = j.result.empty() ? boost::json::value(nullptr) : ParsedOrText(j.result);
  return o;
}

boost::json::value ScheduleToJson(const engine::Schedule& s) {
  boost::json::object o;
  o["id"] = s.id.ToString();
  o["name"] = s.spec.name;
  o["cron"] = s.spec.cron;
  o["timezone"] = s.spec.timezone;
  o["queue"] = s.spec.job.queue;
  o["type"] = s.spec.job.type;
  o["payload"] = ParsedOrText(s.spec.job.payload);
  o["priority"] = s.spec.job.priority;
  o["misfire"] = std::string(engine::MisfireName(s.spec.misfire));
  o["enabled"] = s.spec.enabled;
  o["next_fire_at"] = s.next_fire_at ? boost::json::value(Rfc3339(*s.next_fire_at)) : nullptr;
  o["last_fire_at"] = s.last_fire_at ? boost::json::value(Rfc3339(*s.last_fire_at)) : nullptr;
  o["fires"] = s.fires;
  o["misfires"] = s.misfires;
  o["created_at"] = Rfc3339(s.created_at);
  return o;
}

boost::json::value QueueToJson(const engine::table::QueueCounts& c) {
  auto n = [&](JobState s) { return c.by_state[static_cast<int>(s)]; };
  return boost::json::object{{"name", c.queue},
                             {"paused", c.paused},
                             {"waiting", n(JobState::kAvailable)},
                             {"active", n(JobState::kRunning)},
                             {"delayed", n(JobState::kScheduled) + n(JobState::kRetryable)},
                             {"completed", n(JobState::kSucceeded)},
                             {"failed", n(JobState::kDead)},
                             {"cancelled", n(JobState::kCancelled)},
                             {"processed_total", c.succeeded_total},
                             {"failed_attempts_total", c.failed_total},
                             {"dead_total", c.dead_total},
                             {"throughput",
                              {{"completed_per_minute", c.completed_last_minute},
                               {"failed_per_minute", c.failed_last_minute}}}};
}

Result<JobSpec> JobSpecFromJson(const boost::json::object& body, std::string prefix) {
  Fields f(body, prefix);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"type", "queue", "payload", "data", "priority", "run_at",
                                       "delay", "max_attempts", "attempts", "backoff", "timeout",
                                       "unique_key", "unique_for", "on_conflict", "group_key"}));
  JobSpec s;
  HERALD_ASSIGN_OR_RETURN(auto type, f.String("type"));
  if (!type) return absl::InvalidArgumentError(StrCat(f.Name("type"), ": required"));
  s.type = *type;
  HERALD_ASSIGN_OR_RETURN(auto queue, f.String("queue"));
  if (queue) s.queue = *queue;
  // "data" is BullMQ's word for the payload.
  const boost::json::value* payload = f.Get("payload") ? f.Get("payload") : f.Get("data");
  if (payload != nullptr) s.payload = boost::json::serialize(*payload);
  if (const boost::json::value* p = f.Get("priority")) {
    if (p->is_string()) {
      auto pr =
          engine::ParsePriority(std::string_view(p->as_string().data(), p->as_string().size()));
      if (!pr.ok()) return absl::InvalidArgumentError(StrCat(prefix, pr.status().message()));
      s.priority = *pr;
    } else {
      HERALD_ASSIGN_OR_RETURN(auto pr, f.Int("priority", -1000, 1000));
      s.priority = static_cast<int>(*pr);
    }
  }
  HERALD_ASSIGN_OR_RETURN(s.run_at, f.Time("run_at"));
  HERALD_ASSIGN_OR_RETURN(auto delay, f.Duration("delay"));
  if (delay) s.delay = *delay;
  HERALD_ASSIGN_OR_RETURN(auto attempts, f.Int("max_attempts", 1, 1000));
  if (!attempts) {
    HERALD_ASSIGN_OR_RETURN(attempts, f.Int("attempts", 1, 1000));  // BullMQ's word
  }
  if (attempts) s.max_attempts = static_cast<int>(*attempts);
  if (const boost::json::value* b = f.Get("backoff")) {
    if (b->is_string()) {  // BullMQ's short form: "exponential" or "fixed"
      std::string_view kind(b->as_string().data(), b->as_string().size());
      if (kind != "exponential" && kind != "fixed") {
        return absl::InvalidArgumentError(StrCat(f.Name("backoff"), ": exponential or fixed"));
      }
      s.backoff.kind =
          kind == "fixed" ? engine::Backoff::Kind::kFixed : engine::Backoff::Kind::kExponential;
    } else if (b->is_object()) {
      Fields bf(b->as_object(), f.Name("backoff."));
      HERALD_RETURN_IF_ERROR(bf.CheckKnown({"type", "delay", "max_delay", "jitter"}));
      HERALD_ASSIGN_OR_RETURN(auto kind, bf.String("type"));
      if (kind && *kind != "exponential" && *kind != "fixed") {
        return absl::InvalidArgumentError(StrCat(bf.Name("type"), ": exponential or fixed"));
      }
      if (kind) {
        s.backoff.kind =
            *kind == "fixed" ? engine::Backoff::Kind::kFixed : engine::Backoff::Kind::kExponential;
      }
      HERALD_ASSIGN_OR_RETURN(auto base, bf.Duration("delay"));
      if (base) s.backoff.base = *base;
      HERALD_ASSIGN_OR_RETURN(auto cap, bf.Duration("max_delay"));
      if (cap) s.backoff.cap = *cap;
      HERALD_ASSIGN_OR_RETURN(auto jitter, bf.Int("jitter", 0, 100));
      if (jitter) s.backoff.jitter_percent = static_cast<int>(*jitter);
    } else {
      return absl::InvalidArgumentError(StrCat(f.Name("backoff"), ": expected an object"));
    }
  }
  HERALD_ASSIGN_OR_RETURN(auto timeout, f.Duration("timeout"));
  if (timeout) s.timeout = *timeout;
  HERALD_ASSIGN_OR_RETURN(auto unique_key, f.String("unique_key"));
  if (unique_key) s.unique_key = *unique_key;
  HERALD_ASSIGN_OR_RETURN(auto unique_for, f.Duration("unique_for"));
  if (unique_for) s.unique_for = *unique_for;
  HERALD_ASSIGN_OR_RETURN(auto conflict, f.String("on_conflict"));
  if (conflict) {
    if (*conflict != "drop" && *conflict != "replace") {
      return absl::InvalidArgumentError(StrCat(f.Name("on_conflict"), ": drop or replace"));
    }
    s.on_conflict =
        *conflict == "replace" ? engine::UniqueConflict::kReplace : engine::UniqueConflict::kDrop;
  }
  HERALD_ASSIGN_OR_RETURN(auto group, f.String("group_key"));
  if (group) s.group_key = *group;
  // The engine validates the rest (names, payload size and JSON) with the field named.
  Status st = engine::ValidateSpec(s, int64_t{1} << 26);
  if (!st.ok()) return absl::InvalidArgumentError(StrCat(prefix, st.message()));
  return s;
}

namespace {

Result<Response> ListJobs(engine::Engine& e, Request& req) {
  if (req.Query("state") && req.Query("status")) {
    return absl::InvalidArgumentError("state and status are the same filter: give one");
  }
  engine::table::ListFilter f;
  if (auto q = req.Query("queue")) f.queue = std::string(*q);
  if (auto t = req.Query("type")) f.type = std::string(*t);
  if (auto s = req.Query("state") ? req.Query("state") : req.Query("status")) {
    HERALD_ASSIGN_OR_RETURN(f.state, StateFrom(*s));
  }
  HERALD_ASSIGN_OR_RETURN(f.created_from, QueryTime(req, "from"));
  HERALD_ASSIGN_OR_RETURN(f.created_to, QueryTime(req, "to"));
  if (auto a = req.Query("cursor")) {
    auto id = core::Id::Parse(*a);
    if (!id.ok()) return absl::InvalidArgumentError("cursor: not a cursor from a previous page");
    f.after = *id;
  }
  HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
  if (limit) f.limit = static_cast<int>(*limit);
  HERALD_ASSIGN_OR_RETURN(auto jobs, e.List(f));
  boost::json::array data;
  for (const Job& j : jobs) data.push_back(JobToJson(j));
  boost::json::value next = nullptr;
  if (static_cast<int>(jobs.size()) == f.limit) next = jobs.back().id.ToString();
  return Response::Json(200, boost::json::object{{"data", std::move(data)}, {"next_cursor", next}});
}

// A schedule from a body. With `base` (an update), fields absent from the body keep the
// base's values; without it (a creation), name, cron or simple, and job are required.
Result<engine::ScheduleSpec> ScheduleSpecFromJson(const boost::json::object& body,
                                                  const engine::ScheduleSpec* base = nullptr) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"name", "cron", "simple", "timezone", "job", "misfire", "enabled"}));
  engine::ScheduleSpec spec = base != nullptr ? *base : engine::ScheduleSpec{};
  HERALD_ASSIGN_OR_RETURN(auto name, f.String("name"));
  if (name) spec.name = *name;
  if (spec.name.empty()) return absl::InvalidArgumentError("name: required");
  HERALD_ASSIGN_OR_RETURN(auto cron, f.String("cron"));
  const boost::json::value* simple = f.Get("simple");
  if (cron && simple != nullptr) {
    return absl::InvalidArgumentError("cron: give only one of cron and simple");
  }
  if (cron) {
    spec.cron = *cron;
  } else if (simple != nullptr) {
    auto c = engine::SimpleScheduleToCron(*simple);
    if (!c.ok()) return absl::InvalidArgumentError(StrCat("simple: ", c.status().message()));
    spec.cron = *c;
  } else if (base == nullptr) {
    return absl::InvalidArgumentError("cron: give one of cron and simple");
  }
  HERALD_ASSIGN_OR_RETURN(auto tz, f.String("timezone"));
  if (tz) spec.timezone = *tz;
  const boost::json::value* job = f.Get("job");
  if (job != nullptr && !job->is_object()) {
    return absl::InvalidArgumentError("job: expected an object like {\"type\":\"noop\"}");
  }
  if (job == nullptr && base == nullptr) {
    return absl::InvalidArgumentError("job: required, an object like {\"type\":\"noop\"}");
  }
  if (job != nullptr) {
    HERALD_ASSIGN_OR_RETURN(spec.job, JobSpecFromJson(job->as_object(), "job."));
  }
  HERALD_ASSIGN_OR_RETURN(auto misfire, f.String("misfire"));
  if (misfire) {
    HERALD_ASSIGN_OR_RETURN(spec.misfire, engine::ParseMisfire(*misfire));
  }
  HERALD_ASSIGN_OR_RETURN(auto enabled, f.Bool("enabled"));
  if (enabled) spec.enabled = *enabled;
  return spec;
}

Result<Response> ScheduleWithRuns(engine::Scheduler& s, std::string_view name) {
  HERALD_ASSIGN_OR_RETURN(engine::Schedule sched, s.Get(name));
  boost::json::value v = ScheduleToJson(sched);
  boost::json::array runs;
  auto next = s.NextRuns(name, 5);
  if (next.ok()) {
    for (absl::Time t : *next) runs.push_back(boost::json::value(Rfc3339(t)));
  }
  v.as_object()["next_runs"] = std::move(runs);
  return Response::Json(200, v);
}

}  // namespace

std::vector<Status> ParseScheduleBodies(const boost::json::object& body) {
  engine::ScheduleSpec base;
  base.name = "base";
  base.cron = "* * * * *";
  base.job.type = "noop";
  return {ScheduleSpecFromJson(body).status(), ScheduleSpecFromJson(body, &base).status()};
}

void AddEngineRoutes(Router& router, engine::Engine& e, engine::Scheduler& s) {
  const std::string jobs = "jobs";
  Route enqueue{"POST", "/api/jobs", "jobs:create", "Enqueue a job", nullptr, 201, jobs};
  // Answers from the commit callback: the connection thread does not wait for the commit,
  // so many requests share one group commit.
  enqueue.async = [&e](Request& req, Respond respond) {
    auto body = req.JsonBody();
    if (!body.ok()) return respond(body.status());
    auto spec = JobSpecFromJson(*body);
    if (!spec.ok()) return respond(spec.status());
    e.EnqueueAsync(*spec, [respond = std::move(respond)](Result<engine::EnqueueResult> r) {
      if (!r.ok()) return respond(r.status());
      respond.Later([r = *std::move(r)] { return Created(r); });
    });
  };
  router.Add(std::move(enqueue));
  router.Add(
      {"POST", "/api/jobs/bulk", "jobs:create", "Enqueue many jobs atomically",
       [&e](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
         Fields f(body);
         HERALD_RETURN_IF_ERROR(f.CheckKnown({"jobs"}));
         const boost::json::value* list = f.Get("jobs");
         if (list == nullptr || !list->is_array() || list->as_array().empty()) {
           return absl::InvalidArgumentError("jobs: expected a non-empty array");
         }
         if (list->as_array().size() > kMaxBulk) {
           return absl::InvalidArgumentError(StrCat("jobs: at most ", kMaxBulk));
         }
         std::vector<JobSpec> specs;
         for (size_t i = 0; i < list->as_array().size(); ++i) {
           const boost::json::value& item = list->as_array()[i];
           std::string prefix = StrCat("jobs[", i, "].");
           if (!item.is_object()) {
             return absl::InvalidArgumentError(StrCat("jobs[", i, "]: expected an object"));
           }
           HERALD_ASSIGN_OR_RETURN(JobSpec spec, JobSpecFromJson(item.as_object(), prefix));
           specs.push_back(std::move(spec));
         }
         HERALD_ASSIGN_OR_RETURN(auto results, e.EnqueueBatch(specs));
         boost::json::array out;
         for (const auto& r : results) {
           out.push_back(boost::json::object{{"id", r.id.ToString()}, {"duplicate", r.duplicate}});
         }
         return Response::Json(201, boost::json::object{{"data", std::move(out)}});
       },
       201, jobs});
  router.Add({"GET", "/api/jobs", "jobs:read",
              "List jobs (filters: queue, state, type, from, to; cursor, limit)",
              [&e](Request& req) { return ListJobs(e, req); }, 200, jobs,
              PageQuery({{"queue", "only this queue"},
                         {"type", "only this job type"},
                         {"state",
                          "scheduled, available, running, retryable, succeeded, dead or cancelled"},
                         {"status", "the same as state (give one)"},
                         {"from", "created at or after (RFC 3339)"},
                         {"to", "created before (RFC 3339)"}})});
  router.Add({"GET", "/api/jobs/{id}", "jobs:read", "Get a job",
              [&e](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(core::Id id, IdParam(req));
                HERALD_ASSIGN_OR_RETURN(auto job, e.Get(id));
                if (!job) return absl::NotFoundError(StrCat("no job ", id.ToString()));
                return Response::Json(200, JobToJson(*job));
              },
              200, jobs});
  router.Add({"POST", "/api/jobs/{id}/cancel", "jobs:update", "Cancel an unfinished job",
              [&e](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(core::Id id, IdParam(req));
                HERALD_RETURN_IF_ERROR(e.Cancel(id));
                HERALD_ASSIGN_OR_RETURN(auto job, e.Get(id));
                return Response::Json(200, job ? JobToJson(*job) : boost::json::value(nullptr));
              },
              200, jobs});
  router.Add({"POST", "/api/jobs/{id}/retry", "jobs:update", "Retry a dead or cancelled job",
              [&e](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(core::Id id, IdParam(req));
                HERALD_RETURN_IF_ERROR(e.Retry(id));
                HERALD_ASSIGN_OR_RETURN(auto job, e.Get(id));
                return Response::Json(200, job ? JobToJson(*job) : boost::json::value(nullptr));
              },
              200, jobs});
  router.Add({"DELETE", "/api/jobs/{id}", "jobs:delete", "Delete a finished job",
              [&e](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(core::Id id, IdParam(req));
                HERALD_RETURN_IF_ERROR(e.Delete(id));
                return Response::Json(200, boost::json::object{{"deleted", id.ToString()}});
              },
              200, jobs});

  const std::string queues = "queues";
  router.Add({"GET", "/api/queues", "queues:read", "Queue statistics",
              [&e](Request&) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto stats, e.QueueStats());
                boost::json::array data;
                for (const auto& c : stats) data.push_back(QueueToJson(c));
                return Response::Json(200, boost::json::object{{"data", std::move(data)}});
              },
              200, queues});
  auto queue_action = [&e](std::string action) {
    return [&e, action](Request& req) -> Result<Response> {
      const std::string& name = req.params.at("name");
      if (!IsValidName(name)) return absl::InvalidArgumentError("name: not a queue name");
      boost::json::object out{{"queue", name}};
      if (action == "pause") {
        HERALD_RETURN_IF_ERROR(e.PauseQueue(name));
        out["paused"] = true;
      } else if (action == "resume") {
        HERALD_RETURN_IF_ERROR(e.ResumeQueue(name));
        out["paused"] = false;
      } else if (action == "retry-dead") {
        HERALD_ASSIGN_OR_RETURN(int64_t n, e.RetryAllDead(name));
        out["retried"] = n;
      } else {
        HERALD_ASSIGN_OR_RETURN(int64_t n, e.DeleteDead(name));
        out["deleted"] = n;
      }
      return Response::Json(200, out);
    };
  };
  router.Add({"POST", "/api/queues/{name}/pause", "queues:manage", "Pause a queue",
              queue_action("pause"), 200, queues});
  router.Add({"POST", "/api/queues/{name}/resume", "queues:manage", "Resume a queue",
              queue_action("resume"), 200, queues});
  router.Add({"POST", "/api/queues/{name}/retry-dead", "queues:manage",
              "Retry every dead job of a queue", queue_action("retry-dead"), 200, queues});
  router.Add({"DELETE", "/api/queues/{name}/dead", "queues:manage",
              "Delete the dead-letter list of a queue", queue_action("drain"), 200, queues});

  const std::string schedules = "schedules";
  router.Add({"POST", "/api/schedules", "schedules:create",
              "Create a schedule (cron or simple form)",
              [&s](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(auto spec, ScheduleSpecFromJson(body));
                HERALD_ASSIGN_OR_RETURN(auto created, s.Add(spec));
                HERALD_ASSIGN_OR_RETURN(Response r, ScheduleWithRuns(s, created.spec.name));
                r.status = 201;
                return r;
              },
              201, schedules});
  router.Add({"GET", "/api/schedules", "schedules:read", "List schedules with their next runs",
              [&s](Request&) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto list, s.List());
                boost::json::array data;
                for (const auto& sched : list) {
                  HERALD_ASSIGN_OR_RETURN(Response one, ScheduleWithRuns(s, sched.spec.name));
                  data.push_back(boost::json::parse(one.body));
                }
                return Response::Json(200, boost::json::object{{"data", std::move(data)}});
              },
              200, schedules});
  router.Add({"PATCH", "/api/schedules/{name}", "schedules:update",
              "Change a schedule's expression, zone, job, misfire policy or enabled flag",
              [&s](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(engine::Schedule current, s.Get(req.params.at("name")));
                HERALD_ASSIGN_OR_RETURN(auto spec, ScheduleSpecFromJson(body, &current.spec));
                HERALD_ASSIGN_OR_RETURN(auto updated, s.Update(current.spec.name, spec));
                return ScheduleWithRuns(s, updated.spec.name);
              },
              200, schedules});
  router.Add({"GET", "/api/schedules/{name}", "schedules:read", "Get a schedule",
              [&s](Request& req) { return ScheduleWithRuns(s, req.params.at("name")); }, 200,
              schedules});
  for (std::string action : {"pause", "resume"}) {
    router.Add({"POST", StrCat("/api/schedules/{name}/", action), "schedules:update",
                StrCat(action == "pause" ? "Pause" : "Resume", " a schedule"),
                [&s, action](Request& req) -> Result<Response> {
                  HERALD_RETURN_IF_ERROR(s.SetEnabled(req.params.at("name"), action == "resume"));
                  return ScheduleWithRuns(s, req.params.at("name"));
                },
                200, schedules});
  }
  router.Add({"POST", "/api/schedules/{name}/trigger", "schedules:update",
              "Enqueue a schedule's job now",
              [&s, &e](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(engine::Schedule sched, s.Get(req.params.at("name")));
                HERALD_ASSIGN_OR_RETURN(auto r, e.Enqueue(sched.spec.job));
                return Created(r);
              },
              201, schedules});
  router.Add({"DELETE", "/api/schedules/{name}", "schedules:delete", "Delete a schedule",
              [&s](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(s.Remove(req.params.at("name")));
                return Response::Json(200, boost::json::object{{"deleted", req.params.at("name")}});
              },
              200, schedules});
}

}  // namespace herald::http
