#include "engine/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "boost/json/serialize.hpp"
#include "boost/json/string.hpp"

namespace herald::engine {
namespace {

enum class Names { kNone, kMonths, kDays };
enum class Field { kSecond, kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek };

struct FieldSpec {
  Field field;
  const char* name;
  int min;
  int max;
  Names names;
  bool allows_question;  // `?` as a synonym of `*`
};

constexpr FieldSpec kSecond{Field::kSecond, "second", 0, 59, Names::kNone, false};
constexpr FieldSpec kMinute{Field::kMinute, "minute", 0, 59, Names::kNone, false};
constexpr FieldSpec kHour{Field::kHour, "hour", 0, 23, Names::kNone, false};
constexpr FieldSpec kDom{Field::kDayOfMonth, "day-of-month", 1, 31, Names::kNone, true};
constexpr FieldSpec kMonth{Field::kMonth, "month", 1, 12, Names::kMonths, false};
constexpr FieldSpec kDow{Field::kDayOfWeek, "day-of-week", 0, 7, Names::kDays, true};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

// Debian 12's Abseil has its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// std::string_view does not convert to; Sv bridges the two at absl calls.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string_view JsonSv(const boost::json::string& s) {
  return std::string_view(s.data(), s.size());
}

// Splits at every `sep`, keeping empty pieces.
std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// Splits at runs of ASCII whitespace, dropping empty pieces.
std::vector<std::string_view> SplitWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  std::vector<std::string_view> out;
  size_t start = text.find_first_not_of(kSpace);
  while (start != std::string_view::npos) {
    const size_t end = text.find_first_of(kSpace, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    start = text.find_first_not_of(kSpace, end);
  }
  return out;
}

// Tokens come from users; keep error messages printable.
std::string Quote(std::string_view token) {
  return absl::StrCat("'", absl::CHexEscape(Sv(token)), "'");
}

absl::Status FieldError(const FieldSpec& spec, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("cron field '", spec.name, "': ", Sv(message)));
}

// " (in '1-24')" when the offending value is part of a larger item, else "".
std::string InItem(std::string_view value, std::string_view item) {
  return value == item ? std::string() : absl::StrCat(" (in ", Quote(item), ")");
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only; values too long to matter saturate so that range checks report them.
int DigitsToInt(std::string_view s) {
  if (s.size() > 6) return 9999999;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Parses a number or (in month/day-of-week) a name, and checks it against the field's range.
// `value` is upper-cased; `raw_value` and `item` are as given, for messages.
Result<int> ParseValue(const FieldSpec& spec, std::string_view value, std::string_view raw_value,
                       std::string_view item) {
  if (value.empty()) return FieldError(spec, absl::StrCat("missing value in ", Quote(item)));
  if (AllDigits(value)) {
    int v = DigitsToInt(value);
    if (v < spec.min || v > spec.max) {
      return FieldError(spec, absl::StrCat(absl::CHexEscape(Sv(raw_value)), " is out of range ",
                                           spec.min, "-", spec.max, InItem(raw_value, item)));
    }
    return v;
  }
  const bool alpha = std::all_of(value.begin(), value.end(), [](char c) {
    return absl::ascii_isalpha(static_cast<uint8_t>(c));
  });
  if (alpha && spec.names != Names::kNone) {
    if (spec.names == Names::kMonths) {
      for (size_t i = 0; i < kMonthNames.size(); ++i) {
        if (value == kMonthNames[i]) return static_cast<int>(i) + 1;
      }
    } else {
      for (size_t i = 0; i < kDayNames.size(); ++i) {
        if (value == kDayNames[i]) return static_cast<int>(i);
      }
    }
    return FieldError(spec,
                      absl::StrCat("unknown name ", Quote(raw_value), InItem(raw_value, item)));
  }
  return FieldError(spec,
                    absl::StrCat("invalid value ", Quote(raw_value), InItem(raw_value, item)));
}

// Parses a bare number in [lo, hi] (a step, an `L-n` offset, a `#n` ordinal).
Result<int> ParseBounded(const FieldSpec& spec, std::string_view what, std::string_view digits,
                         int lo, int hi, std::string_view item) {
  if (!AllDigits(digits)) {
    return FieldError(spec,
                      absl::StrCat("invalid ", Sv(what), " ", Quote(digits), " in ", Quote(item)));
  }
  int v = DigitsToInt(digits);
  if (v < lo || v > hi) {
    return FieldError(spec, absl::StrCat(Sv(what), " ", absl::CHexEscape(Sv(digits)),
                                         " is out of range ", lo, "-", hi, InItem(digits, item)));
  }
  return v;
}

// What one field parses to. Only day-of-month and day-of-week use the special members.
struct ParsedField {
  uint64_t bits = 0;
  uint32_t last = 0;       // dom: `L-n`; dow: `dL`
  uint32_t last_w = 0;     // dom: `L-nW`
  uint32_t nearest_w = 0;  // dom: `nW`
  uint64_t nth = 0;        // dow: `d#n`
};

// Parses the day-of-month items that use L or W. Returns false if `up` is not one of them.
Result<bool> ParseDomSpecial(std::string_view up, std::string_view raw, ParsedField& out) {
  if (!up.empty() && up[0] == 'L') {
    std::string_view rest = up.substr(1);
    bool w = false;
    if (!rest.empty() && rest.back() == 'W') {
      w = true;
      rest.remove_suffix(1);
    }
    int offset = 0;
    if (!rest.empty()) {
      if (rest[0] != '-') {
        return FieldError(
            kDom, absl::StrCat("invalid token ", Quote(raw), " (expected L, L-n, LW or L-nW)"));
      }
      HERALD_ASSIGN_OR_RETURN(offset, ParseBounded(kDom, "offset", rest.substr(1), 0, 30, raw));
    }
    (w ? out.last_w : out.last) |= uint32_t{1} << offset;
    return true;
  }
  if (up.size() > 1 && up.back() == 'W') {
    std::string_view day = up.substr(0, up.size() - 1);
    if (!AllDigits(day)) {
      return FieldError(kDom, absl::StrCat("W needs a single day number, got ", Quote(raw)));
    }
    HERALD_ASSIGN_OR_RETURN(int d, ParseValue(kDom, day, raw.substr(0, day.size()), raw));
    out.nearest_w |= uint32_t{1} << d;
    return true;
  }
  return false;
}

// Parses the day-of-week items `dL` and `d#n`. Returns false if `up` is not one of them.
Result<bool> ParseDowSpecial(std::string_view up, std::string_view raw, ParsedField& out) {
  if (size_t hash = up.find('#'); hash != std::string_view::npos) {
    HERALD_ASSIGN_OR_RETURN(int d, ParseValue(kDow, up.substr(0, hash), raw.substr(0, hash), raw));
    HERALD_ASSIGN_OR_RETURN(int n, ParseBounded(kDow, "ordinal", up.substr(hash + 1), 1, 5, raw));
    out.nth |= uint64_t{1} << ((d % 7) * 5 + (n - 1));
    return true;
  }
  if (up.size() > 1 && up.back() == 'L') {
    std::string_view day = up.substr(0, up.size() - 1);
    HERALD_ASSIGN_OR_RETURN(int d, ParseValue(kDow, day, raw.substr(0, day.size()), raw));
    out.last |= uint32_t{1} << (d % 7);
    return true;
  }
  return false;
}

Status ParseItem(const FieldSpec& spec, std::string_view raw, ParsedField& out) {
  const std::string upper = absl::AsciiStrToUpper(Sv(raw));
  const std::string_view up = upper;
  if (spec.field == Field::kDayOfMonth) {
    HERALD_ASSIGN_OR_RETURN(bool special, ParseDomSpecial(up, raw, out));
    if (special) return absl::OkStatus();
  } else if (spec.field == Field::kDayOfWeek) {
    HERALD_ASSIGN_OR_RETURN(bool special, ParseDowSpecial(up, raw, out));
    if (special) return absl::OkStatus();
  }

  const size_t slash = up.find('/');
  const std::string_view base = up.substr(0, slash);
  const std::string_view raw_base = raw.substr(0, slash);
  int lo = 0;
  int hi = 0;
  if (base == "*" || base == "?") {
    if (base == "?" && !spec.allows_question) {
      return FieldError(spec, "'?' is only allowed in day-of-month and day-of-week");
    }
    lo = spec.min;
    hi = spec.max;
  } else if (size_t dash = base.find('-'); dash != std::string_view::npos) {
    HERALD_ASSIGN_OR_RETURN(lo,
                            ParseValue(spec, base.substr(0, dash), raw_base.substr(0, dash), raw));
    HERALD_ASSIGN_OR_RETURN(
        hi, ParseValue(spec, base.substr(dash + 1), raw_base.substr(dash + 1), raw));
    // FRI-SUN: Sunday closing a range is the 7, not the 0.
    if (spec.field == Field::kDayOfWeek && hi == 0 && lo > 0) hi = 7;
    if (lo > hi) {
      return FieldError(spec, absl::StrCat("range ", Quote(raw_base),
                                           " is reversed (the start must not exceed the end)"));
    }
  } else {
    HERALD_ASSIGN_OR_RETURN(lo, ParseValue(spec, base, raw_base, raw));
    hi = slash == std::string_view::npos ? lo : spec.max;
  }
  int step = 1;
  if (slash != std::string_view::npos) {
    HERALD_ASSIGN_OR_RETURN(step,
                            ParseBounded(spec, "step", up.substr(slash + 1), 1, spec.max, raw));
  }
  for (int v = lo; v <= hi; v += step) {
    out.bits |= uint64_t{1} << (spec.field == Field::kDayOfWeek ? v % 7 : v);
  }
  return absl::OkStatus();
}

Result<ParsedField> ParseField(const FieldSpec& spec, std::string_view text) {
  ParsedField out;
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) {
      return FieldError(spec, absl::StrCat("empty list element in ", Quote(text)));
    }
    HERALD_RETURN_IF_ERROR(ParseItem(spec, item, out));
  }
  return out;
}

bool IsInterval(std::string_view field) {
  return field.find_first_of("*/") != std::string_view::npos;
}

bool StartsWithStar(std::string_view field) {
  return !field.empty() && (field[0] == '*' || field[0] == '?');
}

std::optional<std::string_view> ExpandMacro(std::string_view macro) {
  static constexpr std::pair<std::string_view, std::string_view> kMacros[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  const std::string lower = absl::AsciiStrToLower(Sv(macro));
  for (const auto& [name, expansion] : kMacros) {
    if (lower == name) return expansion;
  }
  return std::nullopt;
}

// The lowest set bit of `mask` at or above `from`, or -1.
int NextBit(uint64_t mask, int from) {
  if (from > 63) return -1;
  const uint64_t rest = mask & (~uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

// 0 = Sunday.
int WeekdayOf(absl::CivilDay day) {
  return (static_cast<int>(absl::GetWeekday(day)) + 1) % 7;  // absl: Monday = 0
}

template <typename F>
void ForEachBit(uint64_t mask, F f) {
  while (mask != 0) {
    f(std::countr_zero(mask));
    mask &= mask - 1;
  }
}

}  // namespace

Result<CronExpr> CronExpr::Parse(std::string_view text) {
  std::vector<std::string_view> fields = SplitWhitespace(text);
  if (fields.empty()) return absl::InvalidArgumentError("cron expression is empty");
  if (fields[0][0] == '@') {
    if (fields.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("cron macro ", Quote(fields[0]), " must stand alone"));
    }
    std::optional<std::string_view> expansion = ExpandMacro(fields[0]);
    if (!expansion) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown cron macro ", Quote(fields[0]),
          " (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"));
    }
    HERALD_ASSIGN_OR_RETURN(CronExpr expr, Parse(*expansion));
    expr.text_ = std::string(text);
    return expr;
  }
  if (fields.size() != 5 && fields.size() != 6) {
    return absl::InvalidArgumentError(
        absl::StrCat("cron expression must have 5 or 6 fields, got ", fields.size()));
  }

  CronExpr expr;
  expr.text_ = std::string(text);
  expr.has_seconds_ = fields.size() == 6;
  if (!expr.has_seconds_) fields.insert(fields.begin(), "0");

  HERALD_ASSIGN_OR_RETURN(ParsedField second, ParseField(kSecond, fields[0]));
  HERALD_ASSIGN_OR_RETURN(ParsedField minute, ParseField(kMinute, fields[1]));
  HERALD_ASSIGN_OR_RETURN(ParsedField hour, ParseField(kHour, fields[2]));
  HERALD_ASSIGN_OR_RETURN(ParsedField dom, ParseField(kDom, fields[3]));
  HERALD_ASSIGN_OR_RETURN(ParsedField month, ParseField(kMonth, fields[4]));
  HERALD_ASSIGN_OR_RETURN(ParsedField dow, ParseField(kDow, fields[5]));

  expr.seconds_ = second.bits;
  expr.minutes_ = minute.bits;
  expr.hours_ = static_cast<uint32_t>(hour.bits);
  expr.months_ = static_cast<uint32_t>(month.bits);
  expr.dom_ = static_cast<uint32_t>(dom.bits);
  expr.dom_last_ = dom.last;
  expr.dom_last_w_ = dom.last_w;
  expr.dom_nearest_w_ = dom.nearest_w;
  expr.dom_star_ = StartsWithStar(fields[3]);
  expr.dow_ = static_cast<uint32_t>(dow.bits);
  expr.dow_last_ = dow.last;
  expr.dow_nth_ = dow.nth;
  expr.dow_star_ = StartsWithStar(fields[5]);
  expr.interval_ = IsInterval(fields[0]) || IsInterval(fields[1]) || IsInterval(fields[2]);
  for (int first = 0; first < 7; ++first) {
    for (int day = 1; day <= 31; ++day) {
      if (expr.dow_ & (uint32_t{1} << ((first + day - 1) % 7))) {
        expr.dow_by_first_[first] |= uint32_t{1} << day;
      }
    }
  }
  return expr;
}

uint32_t CronExpr::DayMask(int64_t year, int month) const {
  const int last = DaysInMonth(year, month);
  const uint32_t valid = static_cast<uint32_t>((uint64_t{1} << (last + 1)) - 2);  // bits 1..last
  const int first_weekday = WeekdayOf(absl::CivilDay(year, month, 1));
  auto weekday = [&](int day) { return (first_weekday + day - 1) % 7; };
  // The weekday nearest to `day` without leaving the month.
  auto nearest_weekday = [&](int day) {
    switch (weekday(day)) {
      case 6:  // Saturday
        return day == 1 ? 3 : day - 1;
      case 0:  // Sunday
        return day == last ? day - 2 : day + 1;
      default:
        return day;
    }
  };

  uint32_t dom = dom_;
  ForEachBit(dom_last_, [&](int n) {
    if (last - n >= 1) dom |= uint32_t{1} << (last - n);
  });
  ForEachBit(dom_last_w_, [&](int n) {
    if (last - n >= 1) dom |= uint32_t{1} << nearest_weekday(last - n);
  });
  ForEachBit(dom_nearest_w_, [&](int day) {
    if (day <= last) dom |= uint32_t{1} << nearest_weekday(day);
  });
  dom &= valid;

  uint32_t dow = dow_by_first_[first_weekday];
  ForEachBit(dow_last_, [&](int d) { dow |= uint32_t{1} << (last - (weekday(last) - d + 7) % 7); });
  ForEachBit(dow_nth_, [&](int bit) {
    const int d = bit / 5;
    const int n = bit % 5 + 1;
    const int day = 1 + (d - first_weekday + 7) % 7 + 7 * (n - 1);
    if (day <= last) dow |= uint32_t{1} << day;
  });
  dow &= valid;

  return dom_star_ || dow_star_ ? dom & dow : dom | dow;
}

std::optional<absl::CivilSecond> CronExpr::NextCivil(absl::CivilSecond from,
                                                     int64_t last_year) const {
  int64_t year = from.year();
  int month = from.month();
  int day = from.day();
  int hour = from.hour();
  int minute = from.minute();
  int second = from.second();
  int64_t mask_year = 0;
  int mask_month = 0;
  uint32_t days = 0;
  // Each step either returns or moves to the first candidate of the next matching unit, so the
  // loop runs a handful of times per call (a few hundred for "0 0 29 2 *" and the like).
  while (year <= last_year) {
    const int next_month = NextBit(months_, month);
    if (next_month < 0) {
      ++year;
      month = 1;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (next_month != month) {
      month = next_month;
      day = 1;
      hour = minute = second = 0;
    }
    if (year != mask_year || month != mask_month) {
      days = DayMask(year, month);
      mask_year = year;
      mask_month = month;
    }
    const int next_day = NextBit(days, day);
    if (next_day < 0) {
      if (++month > 12) {
        ++year;
        month = 1;
      }
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (next_day != day) {
      day = next_day;
      hour = minute = second = 0;
    }
    const int next_hour = NextBit(hours_, hour);
    if (next_hour < 0) {
      ++day;
      hour = minute = second = 0;
      continue;
    }
    if (next_hour != hour) {
      hour = next_hour;
      minute = second = 0;
    }
    const int next_minute = NextBit(minutes_, minute);
    if (next_minute < 0) {
      ++hour;
      minute = second = 0;
      continue;
    }
    if (next_minute != minute) {
      minute = next_minute;
      second = 0;
    }
    const int next_second = NextBit(seconds_, second);
    if (next_second < 0) {
      ++minute;
      second = 0;
      continue;
    }
    return absl::CivilSecond(year, month, day, hour, minute, next_second);
  }
  return std::nullopt;
}

// Every wall-clock match m maps to instants: its only instant when unique; the transition when m
// falls in a skipped span; the earlier (first-copy) instant when m is repeated, plus the later one
// for interval expressions. The earliest instant of m never decreases as m increases, and the
// instants of a repeated span all precede those of later wall-clock times, so scanning matches in
// wall-clock order from just after `after` and stopping at the first whose earliest instant is
// past `after` finds the answer; the second copy of a repeated span is handled up front.
std::optional<absl::Time> CronExpr::Next(absl::Time after, const absl::TimeZone& tz) const {
  if (after == absl::InfiniteFuture() || after == absl::InfinitePast()) return std::nullopt;
  using Kind = absl::TimeZone::TimeInfo;
  const absl::CivilSecond now = tz.At(after).cs;
  const int64_t last_year = now.year() + 100;
  absl::CivilSecond from = now + 1;
  std::optional<absl::Time> best;
  auto consider = [&best](absl::Time t) {
    if (!best || t < *best) best = t;
  };

  const absl::TimeZone::TimeInfo here = tz.At(now);
  if (here.kind == Kind::REPEATED) {
    const bool in_second_copy = after >= here.trans;
    if (!in_second_copy && interval_) {
      // The second copy of the span is still ahead; it begins with the span's first match,
      // which may be earlier on the wall clock than `now`.
      const absl::CivilSecond span_start = tz.At(here.trans).cs;
      if (std::optional<absl::CivilSecond> m = NextCivil(span_start, last_year); m && *m <= now) {
        consider(tz.At(*m).post);
      }
    } else if (in_second_copy && !interval_) {
      // Fixed-time matches in the span fired in its first copy.
      const absl::CivilSecond span_end = tz.At(here.trans - absl::Seconds(1)).cs + 1;
      from = std::max(from, span_end);
    }
  }

  while (std::optional<absl::CivilSecond> m = NextCivil(from, last_year)) {
    const absl::TimeZone::TimeInfo info = tz.At(*m);
    const absl::Time earliest = info.kind == Kind::SKIPPED ? info.trans : info.pre;
    if (earliest > after) {
      consider(earliest);
      break;
    }
    // Only a repeated match can get here: `after` is in the second copy of its span.
    if (info.kind == Kind::REPEATED && interval_ && info.post > after) {
      consider(info.post);
      break;
    }
    from = *m + 1;
  }
  return best;
}

std::vector<absl::Time> CronExpr::NextN(absl::Time after, const absl::TimeZone& tz,
                                        int count) const {
  std::vector<absl::Time> out;
  if (count <= 0) return out;
  out.reserve(std::min(count, 1024));
  for (int i = 0; i < count; ++i) {
    std::optional<absl::Time> next = Next(after, tz);
    if (!next) break;
    out.push_back(*next);
    after = *next;
  }
  return out;
}

Result<absl::TimeZone> LoadZone(std::string_view name) {
  auto unknown = [name] {
    return absl::InvalidArgumentError(absl::StrCat("unknown time zone ", Quote(name)));
  };
  // absl reads TZDIR/<name>; keep user input to IANA-shaped names so it cannot name other files
  // or the host's local zone.
  if (name.empty() || name.size() > 64 || name == "localtime") return unknown();
  for (std::string_view part : Split(name, '/')) {
    if (part.empty() || part == "." || part == "..") return unknown();
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<uint8_t>(c)) && c != '_' && c != '-' && c != '+') {
        return unknown();
      }
    }
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(name), &tz)) return unknown();
  return tz;
}

namespace {

absl::Status ScheduleError(std::string_view field, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("schedule", field.empty() ? "" : ".", Sv(field), ": ", Sv(message)));
}

std::string Describe(const boost::json::value& v) {
  if (const boost::json::string* s = v.if_string()) return Quote(JsonSv(*s));
  return boost::json::serialize(v);
}

std::optional<int64_t> AsInteger(const boost::json::value& v) {
  if (const int64_t* i = v.if_int64()) return *i;
  if (const uint64_t* u = v.if_uint64()) {
    return *u > static_cast<uint64_t>(INT64_MAX) ? std::nullopt
                                                 : std::optional<int64_t>(static_cast<int64_t>(*u));
  }
  return std::nullopt;
}

// An integer field in [lo, hi]; `fallback` when absent, an error when absent without one.
Result<int> IntegerField(const boost::json::object& spec, std::string_view key, int lo, int hi,
                         std::optional<int> fallback) {
  const std::string expected = absl::StrCat("expected an integer ", lo, "-", hi);
  const boost::json::value* v = spec.if_contains(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return ScheduleError(key, absl::StrCat("missing, ", expected));
  }
  std::optional<int64_t> i = AsInteger(*v);
  if (!i || *i < lo || *i > hi) {
    return ScheduleError(key, absl::StrCat(expected, ", got ", Describe(*v)));
  }
  return static_cast<int>(*i);
}

struct HourMinute {
  int hour;
  int minute;
};

Result<HourMinute> TimeField(const boost::json::object& spec) {
  const boost::json::value* v = spec.if_contains("time");
  if (v == nullptr) return ScheduleError("time", "missing, expected HH:MM");
  auto bad = [v] {
    return ScheduleError("time", absl::StrCat("expected HH:MM, got ", Describe(*v)));
  };
  const boost::json::string* s = v->if_string();
  if (s == nullptr) return bad();
  const std::string_view text = JsonSv(*s);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  const std::string_view hh = text.substr(0, colon);
  const std::string_view mm = text.substr(colon + 1);
  if (hh.size() > 2 || mm.size() != 2 || !AllDigits(hh) || !AllDigits(mm)) return bad();
  const HourMinute t{DigitsToInt(hh), DigitsToInt(mm)};
  if (t.hour > 23 || t.minute > 59) return bad();
  return t;
}

Result<int> WeekdayFromJson(const boost::json::value& v, std::string_view field) {
  static constexpr std::array<std::array<std::string_view, 4>, 7> kNames = {{
      {"sun", "sunday", "dim", "dimanche"},
      {"mon", "monday", "lun", "lundi"},
      {"tue", "tuesday", "mar", "mardi"},
      {"wed", "wednesday", "mer", "mercredi"},
      {"thu", "thursday", "jeu", "jeudi"},
      {"fri", "friday", "ven", "vendredi"},
      {"sat", "saturday", "sam", "samedi"},
  }};
  if (const boost::json::string* s = v.if_string()) {
    const std::string lower = absl::AsciiStrToLower(Sv(JsonSv(*s)));
    for (size_t d = 0; d < kNames.size(); ++d) {
      for (std::string_view name : kNames[d]) {
        if (lower == name) return static_cast<int>(d);
      }
    }
    return ScheduleError(field, absl::StrCat("unknown day ", Describe(v)));
  }
  std::optional<int64_t> i = AsInteger(v);
  if (!i || *i < 0 || *i > 6) {
    return ScheduleError(field, absl::StrCat("expected a day name or 0-6, got ", Describe(v)));
  }
  return static_cast<int>(*i);
}

}  // namespace

Result<std::string> SimpleScheduleToCron(const boost::json::value& spec) {
  const boost::json::object* obj = spec.if_object();
  if (obj == nullptr) {
    return ScheduleError("", absl::StrCat("expected a JSON object, got ", Describe(spec)));
  }
  constexpr const char* kFrequencies = "minutes, hourly, daily, weekly or monthly";
  const boost::json::value* freq_value = obj->if_contains("frequency");
  if (freq_value == nullptr) {
    return ScheduleError("frequency", absl::StrCat("missing, expected ", kFrequencies));
  }
  const boost::json::string* freq_string = freq_value->if_string();
  const std::string frequency = freq_string ? absl::AsciiStrToLower(Sv(JsonSv(*freq_string))) : "";

  if (frequency == "minutes") {
    HERALD_ASSIGN_OR_RETURN(int interval, IntegerField(*obj, "interval", 1, 59, std::nullopt));
    return interval == 1 ? std::string("* * * * *") : absl::StrCat("*/", interval, " * * * *");
  }
  if (frequency == "hourly") {
    HERALD_ASSIGN_OR_RETURN(int minute, IntegerField(*obj, "minute", 0, 59, 0));
    return absl::StrCat(minute, " * * * *");
  }
  if (frequency == "daily") {
    HERALD_ASSIGN_OR_RETURN(HourMinute t, TimeField(*obj));
    return absl::StrCat(t.minute, " ", t.hour, " * * *");
  }
  if (frequency == "weekly") {
    const boost::json::value* days_value = obj->if_contains("days");
    const boost::json::array* days = days_value ? days_value->if_array() : nullptr;
    if (days == nullptr || days->empty()) {
      return ScheduleError("days", absl::StrCat("expected a non-empty array of days, got ",
                                                days_value ? Describe(*days_value) : "nothing"));
    }
    uint32_t set = 0;
    for (size_t i = 0; i < days->size(); ++i) {
      HERALD_ASSIGN_OR_RETURN(int d, WeekdayFromJson((*days)[i], absl::StrCat("days[", i, "]")));
      set |= uint32_t{1} << d;
    }
    HERALD_ASSIGN_OR_RETURN(HourMinute t, TimeField(*obj));
    std::vector<int> list;
    ForEachBit(set, [&list](int d) { list.push_back(d); });
    return absl::StrCat(t.minute, " ", t.hour, " * * ", absl::StrJoin(list, ","));
  }
  if (frequency == "monthly") {
    const boost::json::value* day_value = obj->if_contains("day");
    std::string day;
    if (day_value != nullptr) {
      if (const boost::json::string* s = day_value->if_string();
          s != nullptr && absl::AsciiStrToLower(Sv(JsonSv(*s))) == "last") {
        day = "L";
      } else if (std::optional<int64_t> d = AsInteger(*day_value); d && *d >= 1 && *d <= 31) {
        day = absl::StrCat(*d);
      }
    }
    if (day.empty()) {
      return ScheduleError("day", absl::StrCat("expected 1-31 or 'last', got ",
                                               day_value ? Describe(*day_value) : "nothing"));
    }
    HERALD_ASSIGN_OR_RETURN(HourMinute t, TimeField(*obj));
    return absl::StrCat(t.minute, " ", t.hour, " ", day, " * *");
  }
  return ScheduleError("frequency",
                       absl::StrCat("expected ", kFrequencies, ", got ", Describe(*freq_value)));
}

}  // namespace herald::engine
