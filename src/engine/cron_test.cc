#include "engine/cron.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace herald::engine {
namespace {

// An RFC3339 instant with its offset, e.g. "2026-03-29T03:00:00+02:00".
absl::Time T(std::string_view rfc3339) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(rfc3339), &t, &err)) {
    ADD_FAILURE() << "bad time literal " << rfc3339 << ": " << err;
  }
  return t;
}

std::vector<absl::Time> Ts(std::initializer_list<std::string_view> rfc3339) {
  std::vector<absl::Time> out;
  for (std::string_view s : rfc3339) out.push_back(T(s));
  return out;
}

const absl::TimeZone& Utc() {
  static const absl::TimeZone tz = absl::UTCTimeZone();
  return tz;
}

const absl::TimeZone& Paris() {
  static const absl::TimeZone tz = *LoadZone("Europe/Paris");
  return tz;
}

const absl::TimeZone& NewYork() {
  static const absl::TimeZone tz = *LoadZone("America/New_York");
  return tz;
}

std::optional<CronExpr> Expr(std::string_view text) {
  Result<CronExpr> expr = CronExpr::Parse(text);
  if (!expr.ok()) {
    ADD_FAILURE() << "cannot parse '" << text << "': " << expr.status();
    return std::nullopt;
  }
  return *std::move(expr);
}

std::optional<absl::Time> NextOf(std::string_view text, std::string_view after,
                                 const absl::TimeZone& tz = Utc()) {
  std::optional<CronExpr> expr = Expr(text);
  if (!expr) return std::nullopt;
  return expr->Next(T(after), tz);
}

std::vector<absl::Time> NextNOf(std::string_view text, std::string_view after, int count,
                                const absl::TimeZone& tz = Utc()) {
  std::optional<CronExpr> expr = Expr(text);
  if (!expr) return {};
  return expr->NextN(T(after), tz, count);
}

std::string ParseError(std::string_view text) {
  Result<CronExpr> expr = CronExpr::Parse(text);
  return expr.ok() ? "parsed" : std::string(expr.status().message());
}

// --- Syntax -------------------------------------------------------------------------------------

TEST(CronExpr, KeepsTheTextAsGivenAndKnowsWhetherItHasSeconds) {
  std::optional<CronExpr> five = Expr(" */5 * * * * ");
  ASSERT_TRUE(five);
  EXPECT_EQ(five->text(), " */5 * * * * ");
  EXPECT_FALSE(five->has_seconds());
  std::optional<CronExpr> six = Expr("0 */5 * * * *");
  ASSERT_TRUE(six);
  EXPECT_TRUE(six->has_seconds());
  std::optional<CronExpr> macro = Expr("@daily");
  ASSERT_TRUE(macro);
  EXPECT_EQ(macro->text(), "@daily");
  EXPECT_FALSE(macro->has_seconds());
}

TEST(CronExpr, EveryMinuteFiresAtTheNextWholeMinuteStrictlyAfter) {
  EXPECT_EQ(NextOf("* * * * *", "2026-01-01T00:00:30Z"), T("2026-01-01T00:01:00Z"));
  EXPECT_EQ(NextOf("* * * * *", "2026-01-01T00:01:00Z"), T("2026-01-01T00:02:00Z"));
  EXPECT_EQ(NextOf("* * * * *", "2026-12-31T23:59:00Z"), T("2027-01-01T00:00:00Z"));
}

TEST(CronExpr, SubSecondAfterIsRespected) {
  EXPECT_EQ(NextOf("* * * * * *", "2026-01-01T10:00:00.5Z"), T("2026-01-01T10:00:01Z"));
  EXPECT_EQ(NextOf("* * * * * *", "2026-01-01T10:00:00.999999999Z"), T("2026-01-01T10:00:01Z"));
}

TEST(CronExpr, SixFieldsPutSecondsFirst) {
  EXPECT_EQ(NextNOf("*/15 * * * * *", "2026-01-01T10:00:07Z", 4),
            Ts({"2026-01-01T10:00:15Z", "2026-01-01T10:00:30Z", "2026-01-01T10:00:45Z",
                "2026-01-01T10:01:00Z"}));
  EXPECT_EQ(NextOf("30 0 12 * * *", "2026-01-01T12:00:30Z"), T("2026-01-02T12:00:30Z"));
  EXPECT_EQ(NextOf("30 0 12 * * *", "2026-01-01T11:00:00Z"), T("2026-01-01T12:00:30Z"));
}

TEST(CronExpr, RangesCoverBothEnds) {
  EXPECT_EQ(NextNOf("0 9-11 * * *", "2026-01-05T10:30:00Z", 3),
            Ts({"2026-01-05T11:00:00Z", "2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z"}));
}

TEST(CronExpr, StepsWorkOnStarRangesAndStartValues) {
  EXPECT_EQ(NextNOf("*/20 * * * *", "2026-01-01T10:05:00Z", 3),
            Ts({"2026-01-01T10:20:00Z", "2026-01-01T10:40:00Z", "2026-01-01T11:00:00Z"}));
  EXPECT_EQ(NextNOf("10-30/10 * * * *", "2026-01-01T10:00:00Z", 4),
            Ts({"2026-01-01T10:10:00Z", "2026-01-01T10:20:00Z", "2026-01-01T10:30:00Z",
                "2026-01-01T11:10:00Z"}));
  EXPECT_EQ(NextNOf("5/20 * * * *", "2026-01-01T10:00:00Z", 4),
            Ts({"2026-01-01T10:05:00Z", "2026-01-01T10:25:00Z", "2026-01-01T10:45:00Z",
                "2026-01-01T11:05:00Z"}));
  EXPECT_EQ(NextNOf("0 */6 * * *", "2026-01-01T01:00:00Z", 3),
            Ts({"2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z"}));
  // */7 restarts at 0 each hour: 56 is followed by 0.
  EXPECT_EQ(NextNOf("*/7 * * * *", "2026-01-01T10:50:00Z", 2),
            Ts({"2026-01-01T10:56:00Z", "2026-01-01T11:00:00Z"}));
  // Months: every 3 months from April.
  EXPECT_EQ(NextNOf("0 0 1 4/3 *", "2026-01-01T00:00:00Z", 4),
            Ts({"2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z",
                "2027-04-01T00:00:00Z"}));
}

TEST(CronExpr, ListsMixValuesRangesAndSteps) {
  EXPECT_EQ(NextNOf("0,30 8,17 * * *", "2026-01-01T08:10:00Z", 4),
            Ts({"2026-01-01T08:30:00Z", "2026-01-01T17:00:00Z", "2026-01-01T17:30:00Z",
                "2026-01-02T08:00:00Z"}));
  EXPECT_EQ(NextNOf("1,10-12,50-59/5 * * * *", "2026-01-01T10:00:00Z", 6),
            Ts({"2026-01-01T10:01:00Z", "2026-01-01T10:10:00Z", "2026-01-01T10:11:00Z",
                "2026-01-01T10:12:00Z", "2026-01-01T10:50:00Z", "2026-01-01T10:55:00Z"}));
}

TEST(CronExpr, MonthAndDayNamesAreCaseInsensitive) {
  // 2026-07-01 is a Wednesday.
  EXPECT_EQ(NextNOf("0 12 * jan,JUL Mon-fri", "2026-06-15T00:00:00Z", 3),
            Ts({"2026-07-01T12:00:00Z", "2026-07-02T12:00:00Z", "2026-07-03T12:00:00Z"}));
  EXPECT_EQ(NextOf("0 12 * JUL-aug sun", "2026-01-01T00:00:00Z"), T("2026-07-05T12:00:00Z"));
}

TEST(CronExpr, DayOfWeekZeroAndSevenAreSunday) {
  // 2026-01-04 is a Sunday.
  EXPECT_EQ(NextOf("0 0 * * 0", "2026-01-01T00:00:00Z"), T("2026-01-04T00:00:00Z"));
  EXPECT_EQ(NextOf("0 0 * * 7", "2026-01-01T00:00:00Z"), T("2026-01-04T00:00:00Z"));
  // A range may end at 7 or at SUN: Friday, Saturday, Sunday.
  EXPECT_EQ(NextNOf("0 0 * * 5-7", "2026-01-05T00:00:00Z", 4),
            Ts({"2026-01-09T00:00:00Z", "2026-01-10T00:00:00Z", "2026-01-11T00:00:00Z",
                "2026-01-16T00:00:00Z"}));
  EXPECT_EQ(NextNOf("0 0 * * FRI-SUN", "2026-01-05T00:00:00Z", 4),
            Ts({"2026-01-09T00:00:00Z", "2026-01-10T00:00:00Z", "2026-01-11T00:00:00Z",
                "2026-01-16T00:00:00Z"}));
}

TEST(CronExpr, QuestionMarkMeansAnyInDayFields) {
  // 2026-01-05 is a Monday.
  EXPECT_EQ(NextOf("0 0 ? * MON", "2026-01-01T00:00:00Z"), T("2026-01-05T00:00:00Z"));
  EXPECT_EQ(NextOf("0 0 15 * ?", "2026-01-01T00:00:00Z"), T("2026-01-15T00:00:00Z"));
}

TEST(CronExpr, RestrictedDayOfMonthAndDayOfWeekMatchEither) {
  // April 2026: Fridays are 3, 10, 17, 24; the 13th is a Monday.
  EXPECT_EQ(NextNOf("0 0 13 * 5", "2026-04-08T00:00:00Z", 3),
            Ts({"2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z"}));
  EXPECT_EQ(NextNOf("0 0 1,15 * MON", "2026-06-01T00:00:00Z", 3),
            Ts({"2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z", "2026-06-22T00:00:00Z"}));
}

TEST(CronExpr, DayFieldStartingWithStarIsAndedLikeVixieCron) {
  // Vixie cron only ORs when neither day field starts with '*': */2 (odd days) AND Monday.
  // April 2026 Mondays: 6, 13, 20, 27.
  EXPECT_EQ(NextNOf("0 0 */2 * 1", "2026-04-01T00:00:00Z", 2),
            Ts({"2026-04-13T00:00:00Z", "2026-04-27T00:00:00Z"}));
}

TEST(CronExpr, MacrosExpandToTheirClassicForms) {
  EXPECT_EQ(NextOf("@yearly", "2026-03-01T00:00:00Z"), T("2027-01-01T00:00:00Z"));
  EXPECT_EQ(NextOf("@annually", "2026-03-01T00:00:00Z"), T("2027-01-01T00:00:00Z"));
  EXPECT_EQ(NextOf("@monthly", "2026-03-01T00:00:00Z"), T("2026-04-01T00:00:00Z"));
  EXPECT_EQ(NextOf("@weekly", "2026-01-01T00:00:00Z"), T("2026-01-04T00:00:00Z"));
  EXPECT_EQ(NextOf("@daily", "2026-01-01T00:00:00Z"), T("2026-01-02T00:00:00Z"));
  EXPECT_EQ(NextOf("@midnight", "2026-01-01T12:00:00Z"), T("2026-01-02T00:00:00Z"));
  EXPECT_EQ(NextOf("@hourly", "2026-01-01T12:00:00Z"), T("2026-01-01T13:00:00Z"));
  EXPECT_EQ(NextOf("@HOURLY", "2026-01-01T12:00:00Z"), T("2026-01-01T13:00:00Z"));
  EXPECT_EQ(NextOf("@daily", "2026-01-01T12:00:00+01:00", Paris()), T("2026-01-02T00:00:00+01:00"));
}

// --- Day-of-month and day-of-week specials
// --------------------------------------------------------

TEST(CronExpr, LIsTheLastDayOfTheMonth) {
  EXPECT_EQ(NextNOf("0 0 L * *", "2026-02-10T00:00:00Z", 3),
            Ts({"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"}));
  EXPECT_EQ(NextOf("0 0 L 2 *", "2027-03-01T00:00:00Z"), T("2028-02-29T00:00:00Z"));
}

TEST(CronExpr, LMinusNCountsBackFromTheLastDay) {
  EXPECT_EQ(NextNOf("0 0 L-2 * *", "2026-02-01T00:00:00Z", 3),
            Ts({"2026-02-26T00:00:00Z", "2026-03-29T00:00:00Z", "2026-04-28T00:00:00Z"}));
  // L-30 exists only in 31-day months (the 1st).
  EXPECT_EQ(NextNOf("0 0 L-30 * *", "2026-02-01T00:00:00Z", 2),
            Ts({"2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"}));
}

TEST(CronExpr, NearestWeekdayStaysInTheMonth) {
  // 2026-04-15 is a Wednesday: itself.
  EXPECT_EQ(NextOf("0 0 15W * *", "2026-04-01T00:00:00Z"), T("2026-04-15T00:00:00Z"));
  // 2026-08-15 is a Saturday: Friday 14th.
  EXPECT_EQ(NextOf("0 0 15W * *", "2026-08-01T00:00:00Z"), T("2026-08-14T00:00:00Z"));
  // 2026-02-15 is a Sunday: Monday 16th.
  EXPECT_EQ(NextOf("0 0 15W * *", "2026-02-01T00:00:00Z"), T("2026-02-16T00:00:00Z"));
  // 2026-08-01 is a Saturday: not Friday July 31st but Monday 3rd.
  EXPECT_EQ(NextOf("0 0 1W * *", "2026-07-15T00:00:00Z"), T("2026-08-03T00:00:00Z"));
  // 2026-02-01 is a Sunday: Monday 2nd.
  EXPECT_EQ(NextOf("0 0 1W * *", "2026-01-15T00:00:00Z"), T("2026-02-02T00:00:00Z"));
  // 2026-05-31 is a Sunday: not Monday June 1st but Friday 29th.
  EXPECT_EQ(NextOf("0 0 31W * *", "2026-05-01T00:00:00Z"), T("2026-05-29T00:00:00Z"));
  // 31W never fires in a 30-day month.
  EXPECT_EQ(NextOf("0 0 31W * *", "2026-06-01T00:00:00Z"), T("2026-07-31T00:00:00Z"));
}

TEST(CronExpr, LWIsTheLastWeekdayOfTheMonth) {
  // 2026-01-31 is a Saturday, 2026-02-28 a Saturday, 2026-03-31 a Tuesday, 2026-05-31 a Sunday.
  EXPECT_EQ(NextNOf("0 0 LW * *", "2026-01-01T00:00:00Z", 3),
            Ts({"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-31T00:00:00Z"}));
  EXPECT_EQ(NextOf("0 0 LW * *", "2026-05-01T00:00:00Z"), T("2026-05-29T00:00:00Z"));
}

TEST(CronExpr, DayLIsTheLastSuchWeekdayOfTheMonth) {
  EXPECT_EQ(NextNOf("0 0 * * 5L", "2026-01-01T00:00:00Z", 3),
            Ts({"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"}));
  EXPECT_EQ(NextOf("0 0 * * friL", "2026-01-01T00:00:00Z"), T("2026-01-30T00:00:00Z"));
  // Last Sunday, written 7L: 2026-01-25.
  EXPECT_EQ(NextOf("0 0 * * 7L", "2026-01-01T00:00:00Z"), T("2026-01-25T00:00:00Z"));
}

TEST(CronExpr, HashIsTheNthSuchWeekdayOfTheMonth) {
  EXPECT_EQ(NextNOf("0 0 * * 1#3", "2026-01-01T00:00:00Z", 3),
            Ts({"2026-01-19T00:00:00Z", "2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z"}));
  EXPECT_EQ(NextOf("0 0 * * MON#1", "2026-01-01T00:00:00Z"), T("2026-01-05T00:00:00Z"));
  // Fifth Friday: January 2026 has one (30th); February, March and April do not; May does (29th).
  EXPECT_EQ(NextNOf("0 0 * * 5#5", "2026-01-01T00:00:00Z", 2),
            Ts({"2026-01-30T00:00:00Z", "2026-05-29T00:00:00Z"}));
}

TEST(CronExpr, SpecialsCanBeListed) {
  EXPECT_EQ(NextNOf("0 0 1,15W,L * *", "2026-08-01T00:00:00Z", 4),
            Ts({"2026-08-14T00:00:00Z", "2026-08-31T00:00:00Z", "2026-09-01T00:00:00Z",
                "2026-09-15T00:00:00Z"}));
  // First and last Monday of January 2026: 5th and 26th.
  EXPECT_EQ(NextNOf("0 0 * 1 1#1,1L", "2026-01-01T00:00:00Z", 3),
            Ts({"2026-01-05T00:00:00Z", "2026-01-26T00:00:00Z", "2027-01-04T00:00:00Z"}));
}

TEST(CronExpr, February29thFindsTheNextLeapYear) {
  EXPECT_EQ(NextOf("0 0 29 2 *", "2026-01-01T00:00:00Z"), T("2028-02-29T00:00:00Z"));
  EXPECT_EQ(NextOf("0 0 29 2 *", "2028-02-29T00:00:00Z"), T("2032-02-29T00:00:00Z"));
  // 2100 is not a leap year.
  EXPECT_EQ(NextOf("0 0 29 2 *", "2096-03-01T00:00:00Z"), T("2104-02-29T00:00:00Z"));
}

TEST(CronExpr, The31stSkipsShortMonths) {
  EXPECT_EQ(NextNOf("0 0 31 * *", "2026-01-31T00:00:00Z", 4),
            Ts({"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
                "2026-08-31T00:00:00Z"}));
}

TEST(CronExpr, ImpossibleDatesHaveNoNextTime) {
  EXPECT_EQ(NextOf("0 0 30 2 *", "2026-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(NextOf("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(NextOf("0 0 30W 2 *", "2026-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(NextOf("0 0 L-29 2 *", "2026-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(NextOf("0 0 30 2 *", "2026-01-01T00:00:00+01:00", Paris()), std::nullopt);
}

TEST(CronExpr, InfiniteAfterHasNoNextTime) {
  std::optional<CronExpr> expr = Expr("* * * * *");
  ASSERT_TRUE(expr);
  EXPECT_EQ(expr->Next(absl::InfiniteFuture(), Utc()), std::nullopt);
  EXPECT_EQ(expr->Next(absl::InfinitePast(), Utc()), std::nullopt);
}

// --- Time zones and DST
// ---------------------------------------------------------------------------

TEST(CronExpr, EvaluatesOnWallClockTimeOfTheZone) {
  EXPECT_EQ(NextOf("0 9 * * *", "2026-01-15T10:00:00+01:00", Paris()),
            T("2026-01-16T09:00:00+01:00"));
  EXPECT_EQ(NextOf("0 9 * * *", "2026-07-15T08:00:00+02:00", Paris()),
            T("2026-07-15T09:00:00+02:00"));
  EXPECT_EQ(NextOf("0 9 * * *", "2026-07-15T08:00:00-04:00", NewYork()),
            T("2026-07-15T09:00:00-04:00"));
}

TEST(CronExpr, OccurrenceInSkippedHourFiresAtTheTransitionParis) {
  // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
  EXPECT_EQ(
      NextNOf("30 2 * * *", "2026-03-28T12:00:00+01:00", 3, Paris()),
      Ts({"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"}));
  EXPECT_EQ(NextOf("0 2 * * *", "2026-03-29T01:59:59+01:00", Paris()),
            T("2026-03-29T03:00:00+02:00"));
  EXPECT_EQ(NextOf("0 30 2 * * *", "2026-03-29T00:00:00+01:00", Paris()),
            T("2026-03-29T03:00:00+02:00"));
}

TEST(CronExpr, SeveralOccurrencesInSkippedHourCollapseIntoOne) {
  EXPECT_EQ(
      NextNOf("*/15 2 * * *", "2026-03-29T00:00:00+01:00", 3, Paris()),
      Ts({"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00", "2026-03-30T02:15:00+02:00"}));
  // An interval expression keeps its rhythm around the gap; 02:00 and 02:30 collapse into 03:00.
  EXPECT_EQ(NextNOf("*/30 * * * *", "2026-03-29T01:15:00+01:00", 4, Paris()),
            Ts({"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                "2026-03-29T03:30:00+02:00", "2026-03-29T04:00:00+02:00"}));
  // Fired at the transition already: the next is tomorrow.
  EXPECT_EQ(NextOf("*/15 2 * * *", "2026-03-29T03:00:00+02:00", Paris()),
            T("2026-03-30T02:00:00+02:00"));
}

TEST(CronExpr, OccurrenceInSkippedHourFiresAtTheTransitionNewYork) {
  // 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
  EXPECT_EQ(
      NextNOf("30 2 * * *", "2026-03-07T12:00:00-05:00", 3, NewYork()),
      Ts({"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}));
  EXPECT_EQ(
      NextNOf("0 * * * *", "2026-03-08T00:30:00-05:00", 3, NewYork()),
      Ts({"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}));
}

TEST(CronExpr, FixedTimeInRepeatedHourFiresOnceInTheFirstCopyParis) {
  // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 happens twice.
  EXPECT_EQ(NextNOf("30 2 * * *", "2026-10-24T12:00:00+02:00", 2, Paris()),
            Ts({"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}));
  EXPECT_EQ(
      NextNOf("0 15,45 2 * * *", "2026-10-25T00:00:00+02:00", 3, Paris()),
      Ts({"2026-10-25T02:15:00+02:00", "2026-10-25T02:45:00+02:00", "2026-10-26T02:15:00+01:00"}));
}

TEST(CronExpr, IntervalInRepeatedHourFiresInBothCopiesParis) {
  EXPECT_EQ(
      NextNOf("*/30 * * * *", "2026-10-25T01:45:00+02:00", 5, Paris()),
      Ts({"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
          "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"}));
  EXPECT_EQ(NextNOf("@hourly", "2026-10-25T00:30:00+02:00", 4, Paris()),
            Ts({"2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"}));
  // A step in the seconds field makes it an interval expression too.
  EXPECT_EQ(
      NextNOf("*/30 30 2 * * *", "2026-10-25T00:00:00+02:00", 5, Paris()),
      Ts({"2026-10-25T02:30:00+02:00", "2026-10-25T02:30:30+02:00", "2026-10-25T02:30:00+01:00",
          "2026-10-25T02:30:30+01:00", "2026-10-26T02:30:00+01:00"}));
}

TEST(CronExpr, RangeWithoutStepIsNotAnIntervalExpression) {
  // Only `*` and `/` make an interval expression; 1-3 lists fixed hours.
  EXPECT_EQ(NextNOf("0 1-3 * * *", "2026-10-25T00:30:00+02:00", 4, Paris()),
            Ts({"2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00",
                "2026-10-25T03:00:00+01:00", "2026-10-26T01:00:00+01:00"}));
}

TEST(CronExpr, AfterInsideTheRepeatedHourParis) {
  // In the second copy: a daily job that fired at 02:00 CEST must not fire at 02:00 CET.
  EXPECT_EQ(NextOf("0 2 * * *", "2026-10-25T02:30:00+01:00", Paris()),
            T("2026-10-26T02:00:00+01:00"));
  EXPECT_EQ(NextOf("0 2 * * *", "2026-10-25T02:00:00+01:00", Paris()),
            T("2026-10-26T02:00:00+01:00"));
  EXPECT_EQ(NextOf("45 2 * * *", "2026-10-25T02:30:00+01:00", Paris()),
            T("2026-10-26T02:45:00+01:00"));
  // In the first copy, a fixed time later in the hour is still ahead.
  EXPECT_EQ(NextOf("45 2 * * *", "2026-10-25T02:30:00+02:00", Paris()),
            T("2026-10-25T02:45:00+02:00"));
  EXPECT_EQ(NextOf("15 2 * * *", "2026-10-25T02:30:00+02:00", Paris()),
            T("2026-10-26T02:15:00+01:00"));
  // Interval, first copy: the rest of the first copy, then the whole second copy.
  EXPECT_EQ(
      NextNOf("*/20 * * * *", "2026-10-25T02:30:00+02:00", 5, Paris()),
      Ts({"2026-10-25T02:40:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:20:00+01:00",
          "2026-10-25T02:40:00+01:00", "2026-10-25T03:00:00+01:00"}));
  // Interval, second copy.
  EXPECT_EQ(
      NextNOf("*/20 * * * *", "2026-10-25T02:10:00+01:00", 3, Paris()),
      Ts({"2026-10-25T02:20:00+01:00", "2026-10-25T02:40:00+01:00", "2026-10-25T03:00:00+01:00"}));
  EXPECT_EQ(NextOf("*/30 * * * *", "2026-10-25T02:30:00+01:00", Paris()),
            T("2026-10-25T03:00:00+01:00"));
}

TEST(CronExpr, RepeatedHourNewYork) {
  // 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:00-01:59 happens twice.
  EXPECT_EQ(NextNOf("30 1 * * *", "2026-11-01T00:00:00-04:00", 2, NewYork()),
            Ts({"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}));
  EXPECT_EQ(
      NextNOf("*/30 * * * *", "2026-11-01T00:45:00-04:00", 5, NewYork()),
      Ts({"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
          "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"}));
  EXPECT_EQ(NextOf("0 1 * * *", "2026-11-01T01:30:00-05:00", NewYork()),
            T("2026-11-02T01:00:00-05:00"));
  EXPECT_EQ(NextOf("*/30 * * * *", "2026-11-01T01:10:00-05:00", NewYork()),
            T("2026-11-01T01:30:00-05:00"));
}

TEST(CronExpr, NextNListsSuccessiveTimes) {
  EXPECT_EQ(NextNOf("0 0 1 * *", "2026-01-15T00:00:00Z", 3),
            Ts({"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}));
  EXPECT_TRUE(NextNOf("0 0 1 * *", "2026-01-15T00:00:00Z", 0).empty());
  EXPECT_TRUE(NextNOf("0 0 1 * *", "2026-01-15T00:00:00Z", -3).empty());
  EXPECT_TRUE(NextNOf("0 0 30 2 *", "2026-01-15T00:00:00Z", 5).empty());
}

// Checks Next from every minute and half-minute of two days around each 2026 transition against
// a brute-force walk over UTC minutes that applies the DST rules one instant at a time.
TEST(CronExpr, AgreesWithBruteForceAroundDstTransitions) {
  struct Case {
    std::string_view text;
    bool interval;
    std::function<bool(absl::CivilSecond)> matches;
  };
  const std::vector<Case> cases = {
      {"30 2 * * *", false, [](absl::CivilSecond c) { return c.hour() == 2 && c.minute() == 30; }},
      {"15,45 1,2 * * *", false,
       [](absl::CivilSecond c) {
         return (c.hour() == 1 || c.hour() == 2) && (c.minute() == 15 || c.minute() == 45);
       }},
      {"0 1-3 * * *", false,
       [](absl::CivilSecond c) { return c.hour() >= 1 && c.hour() <= 3 && c.minute() == 0; }},
      {"59 1 * * *", false, [](absl::CivilSecond c) { return c.hour() == 1 && c.minute() == 59; }},
      {"0 3 * * *", false, [](absl::CivilSecond c) { return c.hour() == 3 && c.minute() == 0; }},
      {"*/15 2 * * *", true,
       [](absl::CivilSecond c) { return c.hour() == 2 && c.minute() % 15 == 0; }},
      {"*/30 * * * *", true, [](absl::CivilSecond c) { return c.minute() % 30 == 0; }},
      {"0 * * * *", true, [](absl::CivilSecond c) { return c.minute() == 0; }},
      {"* * * * *", true, [](absl::CivilSecond) { return true; }},
      {"7 */1 * * SUN", true,
       [](absl::CivilSecond c) {
         return c.minute() == 7 && absl::GetWeekday(absl::CivilDay(c)) == absl::Weekday::sunday;
       }},
  };
  struct Window {
    const absl::TimeZone* tz;
    absl::Time start;
  };
  const std::vector<Window> windows = {
      {&Paris(), T("2026-03-28T12:00:00Z")},
      {&Paris(), T("2026-10-24T12:00:00Z")},
      {&NewYork(), T("2026-03-07T18:00:00Z")},
      {&NewYork(), T("2026-10-31T18:00:00Z")},
  };
  using Kind = absl::TimeZone::TimeInfo;
  for (const Case& c : cases) {
    std::optional<CronExpr> expr = Expr(c.text);
    ASSERT_TRUE(expr);
    for (const Window& w : windows) {
      const absl::TimeZone& tz = *w.tz;
      const absl::Time end = w.start + absl::Hours(48);
      std::vector<absl::Time> fires;
      for (absl::Time t = w.start; t <= end + absl::Hours(8 * 24); t += absl::Minutes(1)) {
        const absl::CivilSecond wall = tz.At(t).cs;
        const absl::CivilSecond before = tz.At(t - absl::Minutes(1)).cs;
        bool fire = false;
        // Wall-clock minutes skipped just before t fire at t.
        for (absl::CivilSecond g = before + 60; g < wall; g += 60) fire = fire || c.matches(g);
        if (c.matches(wall)) {
          const absl::TimeZone::TimeInfo info = tz.At(wall);
          fire = fire || info.kind == Kind::UNIQUE || t == info.pre || c.interval;
        }
        if (fire) fires.push_back(t);
      }
      ASSERT_FALSE(fires.empty());
      for (absl::Time after = w.start; after < end; after += absl::Seconds(30)) {
        std::optional<absl::Time> want;
        for (absl::Time f : fires) {
          if (f > after) {
            want = f;
            break;
          }
        }
        ASSERT_TRUE(want) << c.text;
        ASSERT_EQ(expr->Next(after, tz), want)
            << c.text << " in " << tz.name() << " after " << absl::FormatTime(after, tz);
      }
    }
  }
}

TEST(CronExpr, NextNIsStrictlyIncreasingAcrossYearsOfTransitions) {
  for (std::string_view text : {"*/7 * * * *", "0 2 * * *", "30 1,2 * * *", "*/45 */2 * * *",
                                "0 0 L * *", "0 0 * * 5L", "0 0 15W * *", "*/10 2 * * * *"}) {
    std::optional<CronExpr> expr = Expr(text);
    ASSERT_TRUE(expr);
    for (const absl::TimeZone* tz : {&Utc(), &Paris(), &NewYork()}) {
      std::vector<absl::Time> times = expr->NextN(T("2025-01-01T00:00:00Z"), *tz, 3000);
      ASSERT_EQ(times.size(), 3000u) << text;
      for (size_t i = 1; i < times.size(); ++i) {
        ASSERT_LT(times[i - 1], times[i]) << text << " in " << tz->name();
      }
    }
  }
}

// --- Errors
// ---------------------------------------------------------------------------------------

TEST(CronExpr, RejectsEmptyText) {
  EXPECT_EQ(ParseError(""), "cron expression is empty");
  EXPECT_EQ(ParseError("  \t "), "cron expression is empty");
  EXPECT_EQ(CronExpr::Parse("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CronExpr, RejectsWrongFieldCount) {
  EXPECT_EQ(ParseError("* * *"), "cron expression must have 5 or 6 fields, got 3");
  EXPECT_EQ(ParseError("* * * * * * *"), "cron expression must have 5 or 6 fields, got 7");
  EXPECT_EQ(ParseError("hello world"), "cron expression must have 5 or 6 fields, got 2");
}

TEST(CronExpr, RejectsOutOfRangeValuesNamingTheField) {
  EXPECT_EQ(ParseError("0 24 * * *"), "cron field 'hour': 24 is out of range 0-23");
  EXPECT_EQ(ParseError("60 * * * *"), "cron field 'minute': 60 is out of range 0-59");
  EXPECT_EQ(ParseError("60 * * * * *"), "cron field 'second': 60 is out of range 0-59");
  EXPECT_EQ(ParseError("0 0 0 * *"), "cron field 'day-of-month': 0 is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 32 * *"), "cron field 'day-of-month': 32 is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "cron field 'month': 13 is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * * 8"), "cron field 'day-of-week': 8 is out of range 0-7");
  EXPECT_EQ(ParseError("0 1-24 * * *"), "cron field 'hour': 24 is out of range 0-23 (in '1-24')");
  EXPECT_EQ(ParseError("99999999999 * * * *"),
            "cron field 'minute': 99999999999 is out of range 0-59");
  EXPECT_EQ(ParseError("0 0 L-31 * *"),
            "cron field 'day-of-month': offset 31 is out of range 0-30 (in 'L-31')");
  EXPECT_EQ(ParseError("0 0 * * 1#6"),
            "cron field 'day-of-week': ordinal 6 is out of range 1-5 (in '1#6')");
  EXPECT_EQ(ParseError("0 0 * * 1#0"),
            "cron field 'day-of-week': ordinal 0 is out of range 1-5 (in '1#0')");
  EXPECT_EQ(ParseError("0 0 0W * *"),
            "cron field 'day-of-month': 0 is out of range 1-31 (in '0W')");
}

TEST(CronExpr, RejectsBadSteps) {
  EXPECT_EQ(ParseError("*/0 * * * *"),
            "cron field 'minute': step 0 is out of range 1-59 (in '*/0')");
  EXPECT_EQ(ParseError("0 */24 * * *"),
            "cron field 'hour': step 24 is out of range 1-23 (in '*/24')");
  EXPECT_EQ(ParseError("*/ * * * *"), "cron field 'minute': invalid step '' in '*/'");
  EXPECT_EQ(ParseError("*/5/2 * * * *"), "cron field 'minute': invalid step '5/2' in '*/5/2'");
}

TEST(CronExpr, RejectsReversedRanges) {
  EXPECT_EQ(ParseError("5-1 * * * *"),
            "cron field 'minute': range '5-1' is reversed (the start must not exceed the end)");
  EXPECT_EQ(ParseError("0 0 * DEC-JAN *"),
            "cron field 'month': range 'DEC-JAN' is reversed (the start must not exceed the end)");
}

TEST(CronExpr, RejectsGarbage) {
  EXPECT_EQ(ParseError("abc * * * *"), "cron field 'minute': invalid value 'abc'");
  EXPECT_EQ(ParseError("1-2-3 * * * *"), "cron field 'minute': invalid value '2-3' (in '1-2-3')");
  EXPECT_EQ(ParseError("-5 * * * *"), "cron field 'minute': missing value in '-5'");
  EXPECT_EQ(ParseError("1,,2 * * * *"), "cron field 'minute': empty list element in '1,,2'");
  EXPECT_EQ(ParseError("L * * * *"), "cron field 'minute': invalid value 'L'");
  EXPECT_EQ(ParseError("? * * * *"),
            "cron field 'minute': '?' is only allowed in day-of-month and day-of-week");
  EXPECT_EQ(ParseError("0 0 1-5W * *"),
            "cron field 'day-of-month': W needs a single day number, got '1-5W'");
  EXPECT_EQ(ParseError("0 0 LX * *"),
            "cron field 'day-of-month': invalid token 'LX' (expected L, L-n, LW or L-nW)");
  EXPECT_EQ(ParseError("0 0 * * L"), "cron field 'day-of-week': unknown name 'L'");
  EXPECT_EQ(ParseError("0 0 \x01 * *"), "cron field 'day-of-month': invalid value '\\x01'");
  EXPECT_EQ(ParseError("@every 5m"), "cron macro '@every' must stand alone");
  EXPECT_EQ(ParseError("@fortnightly"),
            "unknown cron macro '@fortnightly' (expected @yearly, @annually, @monthly, @weekly, "
            "@daily, @midnight or @hourly)");
}

TEST(CronExpr, RejectsUnknownNames) {
  EXPECT_EQ(ParseError("0 0 * FOO *"), "cron field 'month': unknown name 'FOO'");
  EXPECT_EQ(ParseError("0 0 * JAN-Foo *"), "cron field 'month': unknown name 'Foo' (in 'JAN-Foo')");
  EXPECT_EQ(ParseError("0 0 * * MOO"), "cron field 'day-of-week': unknown name 'MOO'");
  EXPECT_EQ(ParseError("0 0 * * MONDAY"), "cron field 'day-of-week': unknown name 'MONDAY'");
  EXPECT_EQ(ParseError("0 0 * * JAN"), "cron field 'day-of-week': unknown name 'JAN'");
  EXPECT_EQ(ParseError("0 MON * * *"), "cron field 'hour': invalid value 'MON'");
}

// --- Zones
// ----------------------------------------------------------------------------------------

TEST(LoadZone, LoadsIanaZones) {
  Result<absl::TimeZone> paris = LoadZone("Europe/Paris");
  ASSERT_TRUE(paris.ok()) << paris.status();
  EXPECT_EQ(paris->name(), "Europe/Paris");
  Result<absl::TimeZone> utc = LoadZone("UTC");
  ASSERT_TRUE(utc.ok()) << utc.status();
  EXPECT_EQ(LoadZone("Etc/GMT+5").status(), absl::OkStatus());
}

TEST(LoadZone, RejectsUnknownZones) {
  for (std::string_view name : {"Mars/Olympus", "", "localtime", "../../etc/passwd",
                                "/etc/localtime", "Europe//Paris", "Europe/Paris "}) {
    Result<absl::TimeZone> tz = LoadZone(name);
    EXPECT_EQ(tz.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(LoadZone("Mars/Olympus").status().message(), "unknown time zone 'Mars/Olympus'");
}

// --- Simple schedules
// -----------------------------------------------------------------------------

std::string Cron(std::string_view json) {
  Result<std::string> cron = SimpleScheduleToCron(boost::json::parse(json));
  return cron.ok() ? *cron : absl::StrCat("error: ", cron.status().message());
}

TEST(SimpleScheduleToCron, ConvertsEveryShape) {
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":15})"), "*/15 * * * *");
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":7})"), "*/7 * * * *");
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":1})"), "* * * * *");
  EXPECT_EQ(Cron(R"({"frequency":"hourly","minute":5})"), "5 * * * *");
  EXPECT_EQ(Cron(R"({"frequency":"hourly"})"), "0 * * * *");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"09:05"})"), "5 9 * * *");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"9:30"})"), "30 9 * * *");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"23:59"})"), "59 23 * * *");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":["MON","FRI"],"time":"08:00"})"), "0 8 * * 1,5");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":["fri",1,"Monday","lun"],"time":"08:00"})"),
            "0 8 * * 1,5");
  EXPECT_EQ(
      Cron(R"({"frequency":"weekly","days":["dim","mar","mer","jeu","ven","sam"],"time":"7:00"})"),
      "0 7 * * 0,2,3,4,5,6");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":[0,6],"time":"12:00"})"), "0 12 * * 0,6");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","day":1,"time":"06:30"})"), "30 6 1 * *");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","day":31,"time":"06:30"})"), "30 6 31 * *");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","day":"last","time":"18:00"})"), "0 18 L * *");
  EXPECT_EQ(Cron(R"({"frequency":"Daily","time":"00:00","timezone":"Europe/Paris"})"), "0 0 * * *");
}

TEST(SimpleScheduleToCron, ItsOutputParses) {
  for (std::string_view json :
       {R"({"frequency":"minutes","interval":59})", R"({"frequency":"hourly","minute":59})",
        R"({"frequency":"weekly","days":["sam"],"time":"00:00"})",
        R"({"frequency":"monthly","day":"last","time":"23:59"})"}) {
    Result<std::string> cron = SimpleScheduleToCron(boost::json::parse(json));
    ASSERT_TRUE(cron.ok()) << cron.status();
    EXPECT_TRUE(CronExpr::Parse(*cron).ok()) << *cron;
  }
}

TEST(SimpleScheduleToCron, ErrorsNameTheField) {
  EXPECT_EQ(Cron(R"([1,2])"), "error: schedule: expected a JSON object, got [1,2]");
  EXPECT_EQ(
      Cron(R"({})"),
      "error: schedule.frequency: missing, expected minutes, hourly, daily, weekly or monthly");
  EXPECT_EQ(Cron(R"({"frequency":"yearly"})"),
            "error: schedule.frequency: expected minutes, hourly, daily, weekly or monthly, got "
            "'yearly'");
  EXPECT_EQ(Cron(R"({"frequency":3})"),
            "error: schedule.frequency: expected minutes, hourly, daily, weekly or monthly, got 3");
  EXPECT_EQ(Cron(R"({"frequency":"minutes"})"),
            "error: schedule.interval: missing, expected an integer 1-59");
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":0})"),
            "error: schedule.interval: expected an integer 1-59, got 0");
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":60})"),
            "error: schedule.interval: expected an integer 1-59, got 60");
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":"5"})"),
            "error: schedule.interval: expected an integer 1-59, got '5'");
  EXPECT_EQ(Cron(R"({"frequency":"minutes","interval":2.5})"),
            "error: schedule.interval: expected an integer 1-59, got 2.5E0");
  EXPECT_EQ(Cron(R"({"frequency":"hourly","minute":60})"),
            "error: schedule.minute: expected an integer 0-59, got 60");
  EXPECT_EQ(Cron(R"({"frequency":"daily"})"), "error: schedule.time: missing, expected HH:MM");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"25:00"})"),
            "error: schedule.time: expected HH:MM, got '25:00'");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"12:60"})"),
            "error: schedule.time: expected HH:MM, got '12:60'");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"12h30"})"),
            "error: schedule.time: expected HH:MM, got '12h30'");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":"12:3"})"),
            "error: schedule.time: expected HH:MM, got '12:3'");
  EXPECT_EQ(Cron(R"({"frequency":"daily","time":1230})"),
            "error: schedule.time: expected HH:MM, got 1230");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","time":"08:00"})"),
            "error: schedule.days: expected a non-empty array of days, got nothing");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":[],"time":"08:00"})"),
            "error: schedule.days: expected a non-empty array of days, got []");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":["MON","xyz"],"time":"08:00"})"),
            "error: schedule.days[1]: unknown day 'xyz'");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":[7],"time":"08:00"})"),
            "error: schedule.days[0]: expected a day name or 0-6, got 7");
  EXPECT_EQ(Cron(R"({"frequency":"weekly","days":["MON"]})"),
            "error: schedule.time: missing, expected HH:MM");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","day":32,"time":"08:00"})"),
            "error: schedule.day: expected 1-31 or 'last', got 32");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","day":"first","time":"08:00"})"),
            "error: schedule.day: expected 1-31 or 'last', got 'first'");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","time":"08:00"})"),
            "error: schedule.day: expected 1-31 or 'last', got nothing");
  EXPECT_EQ(Cron(R"({"frequency":"monthly","day":1,"time":"24:00"})"),
            "error: schedule.time: expected HH:MM, got '24:00'");
  EXPECT_EQ(SimpleScheduleToCron(boost::json::parse("{}")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald::engine
