#pragma once
// The REST routes of the job engine and the scheduler, and the JSON shapes of jobs, queues
// and schedules that the API and the command-line tools share.
//
//   POST   /api/jobs                      jobs:create    enqueue one job
//   POST   /api/jobs/bulk                 jobs:create    enqueue many, atomically
//   GET    /api/jobs                      jobs:read      filter + cursor pagination
//   GET    /api/jobs/{id}                 jobs:read
//   POST   /api/jobs/{id}/cancel          jobs:update
//   POST   /api/jobs/{id}/retry           jobs:update
//   DELETE /api/jobs/{id}                 jobs:delete    finished jobs only
//   GET    /api/queues                    queues:read    waiting, active, delayed, ...
//   POST   /api/queues/{name}/pause       queues:manage
//   POST   /api/queues/{name}/resume      queues:manage
//   POST   /api/queues/{name}/retry-dead  queues:manage
//   DELETE /api/queues/{name}/dead        queues:manage  drain the dead-letter list
//   POST   /api/schedules                 schedules:create
//   GET    /api/schedules                 schedules:read (with next runs)
//   GET    /api/schedules/{name}          schedules:read
//   PATCH  /api/schedules/{name}          schedules:update (fields absent keep their value)
//   POST   /api/schedules/{name}/pause    schedules:update
//   POST   /api/schedules/{name}/resume   schedules:update
//   POST   /api/schedules/{name}/trigger  schedules:update (enqueue its job now)
//   DELETE /api/schedules/{name}          schedules:delete

#include <vector>

#include "boost/json/value.hpp"
#include "core/status.h"
#include "engine/engine.h"
#include "engine/scheduler.h"
#include "http/router.h"

namespace herald::http {

void AddEngineRoutes(Router& router, engine::Engine& engine, engine::Scheduler& scheduler);

boost::json::value JobToJson(const engine::Job& job);
boost::json::value ScheduleToJson(const engine::Schedule& schedule);
boost::json::value QueueToJson(const engine::table::QueueCounts& counts);

// Reads a job from a request body (names the bad field on error). `prefix` is prepended to
// field names in errors ("jobs[3].").
Result<engine::JobSpec> JobSpecFromJson(const boost::json::object& body, std::string prefix = "");

// For the fuzz target: the schedule routes' body parsers (a creation, and an update of a
// schedule) run on `body`. Each result is OK or InvalidArgument (a 400).
std::vector<Status> ParseScheduleBodies(const boost::json::object& body);

}  // namespace herald::http
