#pragma once
// Cron expressions evaluated in a time zone, with the daylight-saving rules of Cronos (the cron
// library behind Hangfire): an occurrence in a skipped hour fires once at the transition; in a
// repeated hour a fixed-time expression fires once (first copy) and an interval expression fires
// in both copies. See docs/CRON.md for the accepted syntax and worked examples.
//
// Why our own parser (DESIGN.md asks): the C++ cron libraries packaged for Debian or commonly
// vendored (croncpp, libcron, supertinycron) either ignore time zones or use the process-local
// zone, skip or double-fire occurrences around DST transitions, and lack L/W/# or report errors
// by throwing. Herald needs per-schedule IANA zones, Cronos' DST behaviour, absl::Time in and out,
// and Status errors that name the bad field; the whole thing is a few hundred lines on top of
// absl::TimeZone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "boost/json/value.hpp"
#include "core/status.h"

namespace herald::engine {

// A parsed cron expression. Immutable after Parse, hence thread-safe; cheap to copy.
class CronExpr {
 public:
  // Parses a cron expression. Accepts 5 fields (minute hour day-of-month month day-of-week) or 6
  // fields (second first), separated by spaces or tabs. Ranges a-b, steps */n, a-b/n and a/n
  // (a through the field's maximum), lists a,b,c, names (JAN-DEC, SUN-SAT, case-insensitive),
  // `?` as `*` in day-of-month/day-of-week, day-of-week 0-7 (0 and 7 = Sunday; a range ending at
  // 0/SUN, like FRI-SUN, ends at 7). Day-of-month also takes `L` (last day), `L-n` (n days
  // before the last), `nW` (weekday nearest to day n, not crossing the month), `LW` and `L-nW`;
  // day-of-week also takes `dL` (last weekday d of the month) and `d#n` (nth weekday d, n 1..5).
  // Special items may appear in lists (`1,15W,L`). Macros: @yearly @annually @monthly @weekly
  // @daily @midnight @hourly. When both day-of-month and day-of-week are restricted (neither
  // field starts with `*` or `?`), a day matches if EITHER matches (Vixie cron); otherwise both
  // must match.
  // Errors: InvalidArgumentError naming the field and the bad token, e.g.
  // "cron field 'hour': 24 is out of range 0-23". Reversed ranges (5-1) and step 0 are rejected.
  static Result<CronExpr> Parse(std::string_view text);

  // The first fire time strictly after `after`, evaluating the expression on wall-clock time in
  // `tz` with the DST rules above. An expression is an "interval" one when its second, minute or
  // hour field contains `*` or `/` (5-field expressions have an implicit second field of 0).
  // Returns std::nullopt when there is no fire time within 100 years of `after` (e.g.
  // "0 0 30 2 *"), or when `after` is infinite.
  std::optional<absl::Time> Next(absl::Time after, const absl::TimeZone& tz) const;

  // Up to `count` successive fire times after `after`, strictly increasing; fewer when Next runs
  // out. Empty when count <= 0.
  std::vector<absl::Time> NextN(absl::Time after, const absl::TimeZone& tz, int count) const;

  // The text as given to Parse.
  const std::string& text() const { return text_; }
  // True for a 6-field expression (seconds first).
  bool has_seconds() const { return has_seconds_; }

 private:
  CronExpr() = default;

  // The first matching wall-clock second at or after `from`, looking no further than the end of
  // `last_year`.
  std::optional<absl::CivilSecond> NextCivil(absl::CivilSecond from, int64_t last_year) const;
  // Bit d (1..31) set when day d of the given month matches the day-of-month/day-of-week fields.
  uint32_t DayMask(int64_t year, int month) const;

  std::string text_;
  bool has_seconds_ = false;
  bool interval_ = false;

  uint64_t seconds_ = 0;  // bits 0..59
  uint64_t minutes_ = 0;  // bits 0..59
  uint32_t hours_ = 0;    // bits 0..23
  uint32_t months_ = 0;   // bits 1..12

  uint32_t dom_ = 0;            // bits 1..31: plain days
  uint32_t dom_last_ = 0;       // bit n: `L-n` (bit 0: `L`)
  uint32_t dom_last_w_ = 0;     // bit n: `L-nW` (bit 0: `LW`)
  uint32_t dom_nearest_w_ = 0;  // bit n: `nW`
  bool dom_star_ = false;       // field starts with `*` or `?`

  uint32_t dow_ = 0;       // bits 0..6 (Sunday = 0): plain weekdays
  uint32_t dow_last_ = 0;  // bit d: `dL`
  uint64_t dow_nth_ = 0;   // bit d*5 + (n-1): `d#n`
  bool dow_star_ = false;  // field starts with `*` or `?`
  // dow_by_first_[w]: bits 1..31 of the days whose weekday is in dow_, for a month whose first
  // day has weekday w.
  uint32_t dow_by_first_[7] = {};
};

// Loads an IANA time zone ("Europe/Paris", "UTC"). Names that are not of the IANA form (empty,
// absolute paths, "..", "localtime") are rejected too.
// Errors: InvalidArgumentError "unknown time zone 'X'".
Result<absl::TimeZone> LoadZone(std::string_view name);

// Converts the "simple schedule" object of the UI (seed 000: the form converts JSON to CRON) to a
// 5-field cron expression. Shapes:
//   {"frequency":"minutes","interval":N}            N in 1..59 -> "*/N * * * *" (N=1: "* * * * *")
//   {"frequency":"hourly","minute":M}               M in 0..59, default 0 -> "M * * * *"
//   {"frequency":"daily","time":"HH:MM"}            -> "MM HH * * *"
//   {"frequency":"weekly","days":[...],"time":"HH:MM"}
//       days: non-empty; each a number 0-6 (0 = Sunday) or a name, case-insensitive: sun..sat,
//       sunday..saturday, or French dim, lun, mar, mer, jeu, ven, sam (and lundi..dimanche)
//       -> "MM HH * * d1,d2" (numbers, sorted, deduplicated)
//   {"frequency":"monthly","day":D,"time":"HH:MM"}  D in 1..31 or "last" -> "MM HH D * *"
// Numbers must be JSON integers; HH is 1-2 digits (0-23), MM exactly 2 (00-59). Other keys are
// ignored. Errors: InvalidArgumentError naming the field, e.g.
// "schedule.time: expected HH:MM, got '25:00'".
Result<std::string> SimpleScheduleToCron(const boost::json::value& spec);

}  // namespace herald::engine
