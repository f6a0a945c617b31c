#pragma once
// Reading .xlsx workbooks (Office Open XML spreadsheets, ECMA-376) that users send, such as an
// order file attached to an email, and mapping a sheet's rows to records under a header row.
//
// The input is untrusted. Every size is limited (XlsxLimits); sizes declared in the zip headers
// are never believed (entries are inflated in chunks and stopped at the limit); anything
// unexpected is an InvalidArgument error whose message a user can act on ("sheet 'Orders': row
// 12 column C: shared string index 99 out of range"), never a crash.
//
// What is read: the worksheets, in tab order (chart, dialog and macro sheets are skipped), and
// for each the cells that hold a value:
//   - shared strings (rich text runs concatenated, phonetic <rPh> runs left out), inline
//     strings, formula string results (t="str"); _xHHHH_ escapes are decoded ("_x000D_" is a
//     carriage return) and invalid UTF-8 is replaced with U+FFFD;
//   - numbers, booleans, errors ("#N/A", "#DIV/0!" ... as text), ISO 8601 date cells (t="d");
//   - date-times: a number whose cell style has a date or time number format (built-in ids
//     14-22, 27-36, 45, 47, 50-58, 71-81, or a custom format with d, m, y, h or s outside
//     quotes, escapes and [...] sections). Elapsed-time formats ([h]:mm, built-in 46) are
//     durations, so those cells stay numbers.
// Formulas are never evaluated: a formula cell holds its cached result, or is empty if the file
// has none. Styles other than number formats, merged cells, comments, hidden rows and
// [Content_Types].xml are ignored; <dimension> is not believed.
//
// Storage is sparse: only cells with a value are kept (32 bytes each plus their text), so a
// sheet whose one cell is XFD1048576 costs one cell. Rows and cells must come in increasing
// order, as Excel writes them; a cell or row without an `r` attribute takes the next position.
//
// Memory: a part is inflated into one buffer and parsed with pugixml into a DOM, which takes
// about 7 times the XML size for typical sheet XML; max_xml_nodes caps it for any XML.
// The peak is about max_part_bytes + 64 x max_xml_nodes (under 0.6 GiB at the defaults) plus
// the cells kept so far. Time is linear in the bytes inflated.
//
// Thread-safety: the functions are thread-safe; an XlsxWorkbook is immutable once read.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "core/status.h"

namespace herald::docs {

inline constexpr size_t kXlsxMiB = size_t{1} << 20;

// Every limit, when exceeded, fails the read with InvalidArgument naming the limit.
struct XlsxLimits {
  // The .xlsx file itself. Mail servers cap attachments at about 25 MB; an order file is a few
  // KiB.
  size_t max_input_bytes = 32 * kXlsxMiB;
  // Entries in the zip archive. Excel writes about ten plus one or two per sheet.
  size_t max_zip_entries = 10'000;
  // Uncompressed bytes of one part (XML file). A 64 MiB sheet holds 1.3 to 1.8 million cells.
  size_t max_part_bytes = 64 * kXlsxMiB;
  // XML nodes (elements, text) plus attributes in one part, counted from above with a quick
  // scan before the part is parsed. pugixml's DOM takes 64 bytes per node and 40 per attribute,
  // so this bounds its memory to 0.5 GiB at the default; without it, contrived XML such as
  // "<b/>x<b/>x..." would take 25 times max_part_bytes. A cell counts five or six (two
  // elements, their text, two or three attributes): the default admits about 1.4 million cells
  // a sheet.
  size_t max_xml_nodes = 8'000'000;
  // Uncompressed bytes of all the parts read.
  size_t max_total_bytes = 256 * kXlsxMiB;
  // Zip bomb guard: inflated bytes per compressed byte of one entry. Sheet XML compresses about
  // 10:1, repetitive XML up to 100:1; deflate's ceiling is about 1032:1. Checked only once the
  // entry has inflated past ratio_check_bytes, since a tiny entry may compress far better.
  uint32_t max_compression_ratio = 200;
  size_t ratio_check_bytes = 1 * kXlsxMiB;
  // Worksheets. Excel has no fixed limit; 256 is more than any hand-made workbook.
  size_t max_sheets = 256;
  // Row and column numbers, Excel's own maxima (1,048,576 rows, 16,384 columns: A to XFD).
  // Columns above 16,384 are always refused.
  uint32_t max_rows = 1'048'576;
  uint32_t max_columns = 16'384;
  // <c> elements in all sheets, empty ones included. 10 million kept cells take about 320 MB.
  size_t max_cells = 10'000'000;
  // Entries in the shared string table; more than the sheets of a workbook within
  // max_total_bytes can reference.
  size_t max_shared_strings = 2'000'000;
  // Characters (code points) in one string: Excel's limit for a cell.
  size_t max_string_chars = 32'767;
};

enum class XlsxType : uint8_t { kEmpty, kString, kNumber, kBool, kDateTime, kError };

struct XlsxCell {
  uint32_t row = 0;     // 1-based, as Excel shows it
  uint16_t column = 0;  // 1-based: A = 1 ... XFD = 16384
  XlsxType type = XlsxType::kEmpty;
  // kNumber: the value (finite). kBool: 0 or 1. kDateTime: days since 1899-12-30 00:00, the
  // same whatever the workbook's date system (for dates from 1900-03-01 on this is the serial
  // Excel shows in the 1900 system); a value below 1 is a time of day without a date.
  double number = 0;
  // kString: the text (valid UTF-8, possibly empty). kError: the error, e.g. "#N/A". A view
  // into the XlsxWorkbook the cell came from, valid while that workbook lives.
  std::string_view text;

  bool boolean() const { return number != 0; }
  // kDateTime: the civil date-time (no time zone: Excel has none), rounded to the second.
  absl::CivilSecond DateTime() const;
};

struct XlsxSheet {
  std::string name;
  bool hidden = false;          // state="hidden" or "veryHidden"
  std::vector<XlsxCell> cells;  // cells with a value, ordered by row then column

  // The cell at (row, column), or nullptr if it holds no value. O(log cells).
  const XlsxCell* Find(uint32_t row, uint32_t column) const;
};

class XlsxWorkbook {
 public:
  XlsxWorkbook(XlsxWorkbook&&) noexcept;
  XlsxWorkbook& operator=(XlsxWorkbook&&) noexcept;
  ~XlsxWorkbook();

  // The worksheets in tab order, hidden ones included.
  const std::vector<XlsxSheet>& sheets() const { return sheets_; }
  // The sheet named `name`, compared as Excel does (ignoring case), or nullptr.
  const XlsxSheet* FindSheet(std::string_view name) const;
  // The first sheet that is not hidden, or nullptr if there are no sheets.
  const XlsxSheet* FirstVisibleSheet() const;
  // Whether the workbook uses the 1904 date system (already applied to kDateTime cells).
  bool date1904() const { return date1904_; }

 private:
  friend class XlsxReader;  // the parser, in xlsx_reader.cc
  XlsxWorkbook();

  std::vector<XlsxSheet> sheets_;
  bool date1904_ = false;
  std::vector<std::unique_ptr<char[]>> text_blocks_;  // what XlsxCell::text views point into
};

// Reads a workbook from the bytes of an .xlsx (or .xlsm) file. InvalidArgument, with a message
// for the user, if the bytes are not a zip archive ("not an .xlsx file (not a zip archive)"),
// are an .xls or password-protected workbook, a damaged archive, lack the workbook part or a
// sheet it references, hold malformed XML, a cell reference that is not strictly "B12", rows
// or cells out of order or repeated, a shared string index out of range, a value that does not
// parse for its type, or exceed a limit. Missing sharedStrings.xml or styles.xml is fine.
Result<XlsxWorkbook> ReadXlsx(std::string_view bytes, const XlsxLimits& limits = {});

// "A" for 1, "Z" for 26, "AA" for 27 ... "XFD" for 16384. Requires column >= 1.
std::string XlsxColumnName(uint32_t column);

// ---------------------------------------------------------------------------------------------
// Records: the rows of a sheet under a header row, as JSON objects.

struct ColumnSpec {
  // What the value must be, and what it becomes in the record:
  //   kString: text as is, but trimmed of surrounding spaces; a number cell as Excel's General
  //     format shows it ("12", "12.5"), a boolean as "TRUE"/"FALSE", a date as "YYYY-MM-DD"
  //     or "YYYY-MM-DDTHH:MM:SS".
  //   kNumber: a double. kInteger: an int64 (a whole number up to 2^53 in magnitude).
  //     Text converts too: an optional sign, digits, optionally grouped by spaces (also U+00A0
  //     and U+202F), and at most one decimal separator, '.' or ',' (French "12,5" is 12.5, so
  //     "1,234" is 1.234, and "1,234.5" is refused as ambiguous). No exponent, no currency.
  //   kBool: a boolean cell, the numbers 0 and 1, or the text true/false, yes/no, oui/non,
  //     vrai/faux, 1/0 (ignoring case).
  //   kDate: "YYYY-MM-DD" from a date-time cell (its time of day dropped), or text
  //     "YYYY-MM-DD" or "DD/MM/YYYY" (the European order, as French users type dates).
  //   kDateTime: an RFC 3339 UTC string ("2026-03-05T13:20:00.000Z") from a date-time cell or
  //     text "YYYY-MM-DD[ T]HH:MM[:SS]" or "DD/MM/YYYY HH:MM[:SS]", read as civil time in
  //     RecordOptions::time_zone; or RFC 3339 text with its own offset.
  //   A number cell is not a date: 45356 in a date column is an error, since the user sees a
  //   number too. Error cells (#N/A ...) are errors for every kind.
  enum class Kind { kString, kNumber, kInteger, kBool, kDate, kDateTime };

  std::string header;  // matched ignoring case (Latin, Greek, Cyrillic) and surrounding spaces
  Kind kind = Kind::kString;
  bool required = false;  // the column must exist and every data row must have a value in it
};

struct RecordOptions {
  std::string sheet;        // the sheet's name; empty for the first visible sheet
  bool strict = false;      // a header that matches no spec is an error ("unknown column 'Qty2'")
  size_t max_errors = 100;  // stop after this many errors, so a garbage file stays cheap
  absl::TimeZone time_zone = absl::UTCTimeZone();  // for civil date-times (kDateTime)
};

struct RecordError {
  std::string sheet;
  uint32_t row = 0;     // 1-based, as Excel shows it
  std::string column;   // "C"; empty for a missing column
  std::string header;   // the header as the sheet spells it (the spec's for a missing column)
  std::string message;  // "expected a number, found text 'abc'"

  // "sheet 'Orders', row 12, column C (Quantité): expected a number, found text 'abc'"
  std::string ToString() const;
};

struct XlsxRecord {
  uint32_t row = 0;  // where the record came from
  // One key per ColumnSpec::header (the spec's spelling); null for an empty optional value or
  // a column the sheet lacks.
  boost::json::object values;
};

struct XlsxRecords {
  std::string sheet;
  uint32_t header_row = 0;
  // The rows without errors, in order; none if a required column is missing.
  std::vector<XlsxRecord> records;
  std::vector<RecordError> errors;  // at most max_errors, in the order found
  bool errors_truncated = false;    // reading stopped at max_errors; records is incomplete
};

// Maps the rows of a sheet to records. The header row is the first row where a cell matches a
// spec's header (so title rows above the table are skipped), or else the first row with a
// value, in which case every required column is reported missing. Each header cell is matched
// to a spec; two header cells matching one spec are an error, and so is, in strict mode, a
// non-empty header matching none. Below the header, a row with no value in a matched column is
// skipped; every other row gives a record or errors: "required value missing", "expected a
// number, found text 'abc'", "expected a whole number, found 12.5", "the cell shows the error
// #N/A". Cells in unmatched columns are ignored.
// InvalidArgument if there is no such sheet, the sheet is empty, `columns` is empty, two specs
// have the same header or one's is blank, or max_errors is 0.
Result<XlsxRecords> ReadRecords(const XlsxWorkbook& workbook, std::span<const ColumnSpec> columns,
                                const RecordOptions& options = {});

}  // namespace herald::docs
