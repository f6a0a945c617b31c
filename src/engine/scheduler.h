#pragma once
// Scheduler: cron schedules that enqueue jobs. Thread-safe.
//
// Each schedule stores its next fire time. Firing a slot is one transaction that records the
// slot in schedule_fires (primary key: schedule, slot), enqueues the job and advances the
// schedule, so a slot fires exactly once: a crash before the commit leaves the slot to fire
// after the restart, and a second scheduler on the same store finds the slot taken.
//
// Misfires: a slot more than `misfire_grace` in the past when it is looked at (the server was
// down, or the schedule was paused) is a misfire. Its schedule's policy decides:
//   skip      - fire none of the missed slots;
//   fire_once - fire the latest missed slot once (nothing more if an on-time slot fires);
//   fire_all  - fire every missed slot, at most `max_catchup` (the latest ones).
// Skipped slots are counted in the schedule's `misfires`.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/id.h"
#include "engine/engine.h"
#include "store/store.h"

namespace herald::engine {

enum class Misfire { kSkip, kFireOnce, kFireAll };
std::string_view MisfireName(Misfire m);
Result<Misfire> ParseMisfire(std::string_view name);  // skip, fire_once, fire_all

struct ScheduleSpec {
  std::string name;  // unique; a name (core/strings.h IsValidName)
  std::string cron;  // 5 or 6 fields, or a macro (see docs/CRON.md)
  std::string timezone = "UTC";
  JobSpec job;  // run_at and delay are ignored: the slot is the job's run_at
  Misfire misfire = Misfire::kFireOnce;
  bool enabled = true;
};

struct Schedule {
  core::Id id;
  ScheduleSpec spec;
  std::optional<absl::Time> next_fire_at;  // none: the expression never fires again
  std::optional<absl::Time> last_fire_at;
  int64_t fires = 0;
  int64_t misfires = 0;
  absl::Time created_at;
};

class Scheduler {
 public:
  static Status Migrate(store::Store& store);
  static Result<std::unique_ptr<Scheduler>> Create(store::Store& store, Engine& engine,
                                                   const core::Clock& clock,
                                                   const core::Config::Scheduler& config);
  ~Scheduler();

  // Adds a schedule (AlreadyExists if the name is taken; InvalidArgument naming the field
  // for a bad expression, zone, job type or payload). Its first slot is the first after now.
  Result<Schedule> Add(const ScheduleSpec& spec);
  // Replaces a schedule's expression, zone, job, misfire policy and enabled flag (the name
  // stays; NotFound if there is none). Its next slot is the first after now; its history
  // (fires, misfires, fired slots) is kept.
  Result<Schedule> Update(std::string_view name_or_id, const ScheduleSpec& spec);
  // Removes a schedule by name or id; NotFound if there is none.
  Status Remove(std::string_view name_or_id);
  // Pauses or resumes a schedule. Resuming applies the misfire policy to the paused slots.
  Status SetEnabled(std::string_view name_or_id, bool enabled);
  Result<std::vector<Schedule>> List();
  Result<Schedule> Get(std::string_view name_or_id);
  // The next `n` slots of a schedule from now.
  Result<std::vector<absl::Time>> NextRuns(std::string_view name_or_id, int n);

  // Loads the schedules and, with `thread`, starts the thread that fires them on time.
  // Without it, a test calls Tick() after moving a manual clock.
  Status Start(bool thread = true);
  void Stop();
  // True between a Start with its thread and Stop: schedules fire by themselves.
  bool Running() const;

  // Fires every slot due at the clock's time; returns the number of jobs enqueued.
  int Tick();

  class Impl;

 private:
  explicit Scheduler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine
