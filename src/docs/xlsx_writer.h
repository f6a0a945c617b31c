#pragma once
// XlsxWriter: builds .xlsx reports (daily statistics, "rapport delta" of changed items) from
// typed tables, usually filled from JSON (an HTTP API answer or a job payload), and returns the
// file's bytes, ready to attach to an email or store. Built on libxlsxwriter 1.1.4.
//
// A workbook is a list of sheets; each sheet is one table: a header row (bold, filled, with a
// bottom border) and data rows, one typed column per field, optional charts over the table.
// Every cell gets its column's number format; dates are real Excel dates (serial numbers with
// a date format), not text. Header frozen and autofilter over the table by default.
//
// Everything is validated before anything is written, and every error is InvalidArgument
// naming the sheet and, for a cell, its reference, data row and column, e.g.
//   sheet "Ventes" cell C4 (data row 3, column "Montant"): expected a number, got a string
// Excel's limits are enforced here rather than left to Excel to "repair" on opening: sheet
// names of 1 to 31 characters without []:*?/\, not starting or ending with an apostrophe, not
// "History", unique ignoring case (ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic);
// at most 1,048,575 data rows (1,048,576 rows with the header) and 16,384 columns; strings of
// valid UTF-8 without NUL, at most 32,767 characters (UTF-16 code units, as Excel counts);
// finite numbers; integers of at most 15 digits (Excel keeps 15 significant digits: put longer
// identifiers in a string column); dates from 1900-01-01 to 9999-12-31.
//
// Thread-safe: the functions share no state, except that concurrent WriteXlsx calls take turns
// for libxlsxwriter's final packaging step (it calls gmtime(), which is not reentrant).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "boost/json/value.hpp"
#include "core/clock.h"
#include "core/status.h"

namespace herald::docs {

// Excel's sheet limits.
inline constexpr int64_t kXlsxMaxRows = 1'048'576;  // header row included
inline constexpr int kXlsxMaxColumns = 16'384;
inline constexpr size_t kXlsxMaxSheetNameLength = 31;   // UTF-16 code units
inline constexpr size_t kXlsxMaxStringLength = 32'767;  // UTF-16 code units
// The largest integer magnitude an integer column accepts: Excel keeps 15 significant digits.
inline constexpr int64_t kXlsxMaxInteger = 999'999'999'999'999;

// What a column holds, and its default number format.
enum class XlsxKind {
  kString,    // text; General
  kNumber,    // any finite number; General
  kInteger,   // whole numbers, |v| <= kXlsxMaxInteger; "0"
  kMoney,     // a number in XlsxWriteOptions::currency; #,##0.00 "€"
  kPercent,   // a fraction: 0.25 shows as 25.00%; 0.00%
  kDate,      // a day (any time of day is dropped); yyyy-mm-dd
  kDateTime,  // a wall-clock time to the second; yyyy-mm-dd hh:mm:ss
  kBoolean,   // TRUE / FALSE
};

// One cell. monostate is an empty cell and fits every kind. Otherwise: std::string fits
// kString; double or int64_t fits kNumber, kMoney and kPercent; int64_t (or a double with an
// integral value) fits kInteger; absl::CivilSecond fits kDate and kDateTime; bool fits
// kBoolean. An empty string is an empty cell too.
using XlsxValue =
    std::variant<std::monostate, std::string, double, int64_t, bool, absl::CivilSecond>;
// The cells of one data row in column order; missing trailing cells are empty.
using XlsxRow = std::vector<XlsxValue>;

struct XlsxColumn {
  std::string header;
  XlsxKind kind = XlsxKind::kString;
  // Width in Excel character units (0 < width <= 255); 0 picks one from the header and the
  // values, at most XlsxWriteOptions::max_auto_width.
  double width = 0;
  // An Excel number format overriding the kind's default, e.g. "0.0" or "dd/mm/yyyy"; at most
  // 127 bytes (libxlsxwriter's limit).
  std::string number_format;
  // The member of a JSON object row that holds this column (AppendJsonRows); empty: `header`.
  std::string json_key;
};

enum class XlsxChartType { kColumn, kBar, kLine, kPie };

// A chart over the sheet's own table: one series per value column, named after its header,
// over all data rows (an empty table gives an empty chart over row 2).
struct XlsxChart {
  XlsxChartType type = XlsxChartType::kColumn;
  std::string title;  // empty: Excel's default (the series name for a single series)
  // Zero-based index of the column giving the category labels (x axis, pie slices); -1 for
  // none (points numbered 1, 2, ...).
  int category_column = 0;
  // Zero-based indexes of the columns plotted; at least one, all of numeric kinds (number,
  // integer, money, percent). A pie chart takes exactly one.
  std::vector<int> value_columns;
  // Zero-based top-left cell. -1 for both: to the right of the table, one empty column apart,
  // below the sheet's previous automatically placed chart.
  int anchor_row = -1;
  int anchor_column = -1;
  int width_px = 480;  // Excel's default chart size; 1 to 10,000 each
  int height_px = 288;
};

struct XlsxReportSheet {
  std::string name;
  std::vector<XlsxColumn> columns;  // 1 to kXlsxMaxColumns
  std::vector<XlsxRow> rows;        // at most kXlsxMaxRows - 1
  std::vector<XlsxChart> charts;
  bool freeze_header = true;  // header stays visible when scrolling (pane frozen at A2)
  bool autofilter = true;     // filter buttons on the header, over the whole table
};

struct XlsxWriteOptions {
  // Document properties (File > Info in Excel); empty strings are left out.
  std::string title;
  std::string subject;
  std::string author = "Herald";
  std::string company = "Herald";
  // The symbol in the default money format #,##0.00 "<currency>"; must not contain '"'.
  std::string currency = "€";
  // Upper bound of automatic column widths, in character units (1 to 255).
  double max_auto_width = 60;
  // Where the temporary files go (the .xlsx being assembled and libxlsxwriter's own); empty:
  // $TMPDIR, else /tmp. They are removed before WriteXlsx returns.
  std::string temp_dir;
};

// Converts JSON rows and appends them to `sheet.rows`. `rows` must be an array whose elements
// are either arrays (values in column order, at most one per column; missing trailing values
// give empty cells) or objects (the value of each column under its json_key or header; absent
// members give empty cells, members of no column are ignored). null is an empty cell in any
// column. Otherwise a value must fit its column:
//   kString                    a string
//   kNumber, kMoney, kPercent  a number, or a string holding a decimal number ("12.50")
//   kInteger                   an integer, or a number or decimal string with an integral value
//   kBoolean                   true or false
//   kDate, kDateTime           a string "YYYY-MM-DD", or a date-time
//                              "YYYY-MM-DD[T| ]hh:mm[:ss[.fraction]]" optionally followed by
//                              "Z" or "+hh:mm"/"-hh:mm" (RFC 3339). A time with an offset is
//                              converted to `time_zone`; one without is taken as wall-clock
//                              time. Fractions of a second are dropped; a kDate column keeps
//                              only the day.
// and pass the checks listed at the top of this file. InvalidArgument naming the sheet, cell,
// data row (counted on from the rows already in the sheet) and column otherwise; `sheet` is
// unchanged on error.
Status AppendJsonRows(const boost::json::value& rows, XlsxReportSheet& sheet,
                      absl::TimeZone time_zone = absl::UTCTimeZone());

// Writes `sheets` (at least one, in this order) as an .xlsx file and returns its bytes. The
// document's creation time is clock.Now() (to the second). InvalidArgument for anything
// outside the limits above, a value that does not fit its column, a row with more cells than
// columns, a bad chart (column index out of range, non-numeric value column, no value column,
// pie with several, title starting with '=') or bad options. FailedPrecondition if the
// process's C locale does not use '.' as decimal point (libxlsxwriter 1.1.4 formats numbers
// with snprintf). Internal or ResourceExhausted, with libxlsxwriter's message, if writing fails
// (temporary files, disk space, memory).
//
// Workbooks without charts are written in libxlsxwriter's constant-memory mode (rows streamed
// to a temporary file), so memory stays near the size of `sheets` plus the result. With a
// chart anywhere, all cells are kept in memory until the end (roughly 100 bytes per cell)
// because only that mode stores the plotted values in the chart, which previewers that do not
// recalculate (mail clients, Quick Look) need to draw it.
Result<std::string> WriteXlsx(std::span<const XlsxReportSheet> sheets,
                              const XlsxWriteOptions& options, const core::Clock& clock);

}  // namespace herald::docs
