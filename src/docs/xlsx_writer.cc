#include "docs/xlsx_writer.h"

#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/synchronization/mutex.h"
#include "boost/json.hpp"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::docs {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Names and messages

std::string ColumnName(int col) {
  std::string name;
  for (int n = col + 1; n > 0; n = (n - 1) / 26) {
    name.insert(name.begin(), static_cast<char>('A' + (n - 1) % 26));
  }
  return name;
}

// `s` quoted for an error message: valid UTF-8, at most about 64 bytes.
std::string Quoted(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return StrCat("\"", core::ToValidUtf8(s), "\"");
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return StrCat("\"", core::ToValidUtf8(s.substr(0, cut)), "...\"");
}

std::string SheetContext(const XlsxReportSheet& sheet) {
  return StrCat("sheet ", Quoted(sheet.name));
}

std::string RowContext(const XlsxReportSheet& sheet, size_t row) {
  return StrCat(SheetContext(sheet), " data row ", row + 1);
}

std::string CellContext(const XlsxReportSheet& sheet, size_t row, size_t col) {
  return StrCat(SheetContext(sheet), " cell ", ColumnName(static_cast<int>(col)), row + 2,
                " (data row ", row + 1, ", column ", Quoted(sheet.columns[col].header), ")");
}

Status Invalid(std::string_view context, std::string_view why) {
  return absl::InvalidArgumentError(StrCat(context, ": ", why));
}

std::string_view Expected(XlsxKind kind) {
  switch (kind) {
    case XlsxKind::kString:
      return "expected a string";
    case XlsxKind::kNumber:
    case XlsxKind::kMoney:
    case XlsxKind::kPercent:
      return "expected a number";
    case XlsxKind::kInteger:
      return "expected an integer";
    case XlsxKind::kDate:
      return "expected a date";
    case XlsxKind::kDateTime:
      return "expected a date-time";
    case XlsxKind::kBoolean:
      return "expected a boolean";
  }
  return "expected a value";
}

bool IsNumeric(XlsxKind kind) {
  return kind == XlsxKind::kNumber || kind == XlsxKind::kInteger || kind == XlsxKind::kMoney ||
         kind == XlsxKind::kPercent;
}

bool IsKnownKind(XlsxKind kind) { return kind >= XlsxKind::kString && kind <= XlsxKind::kBoolean; }

// ---------------------------------------------------------------------------------------------
// Value checks

// Checks that `s` is text Excel can hold: valid UTF-8 without NUL, at most `max_units` UTF-16
// code units. Sets `code_points` (a display width estimate). Returns the reason if not.
std::optional<std::string> CheckText(std::string_view s, size_t max_units, size_t* code_points) {
  size_t units = 0, points = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == 0) return "contains a NUL character";
      ++units;
      ++points;
      ++i;
      continue;
    }
    const size_t n = core::Utf8SequenceLength(s, i);
    if (n == 0) return "is not valid UTF-8";
    units += n == 4 ? 2 : 1;  // outside the BMP: a UTF-16 surrogate pair
    ++points;
    i += n;
  }
  if (units > max_units) {
    return StrCat("is ", units, " characters long, more than Excel's ", max_units);
  }
  if (code_points != nullptr) *code_points = points;
  return std::nullopt;
}

bool InExcelDateRange(const absl::CivilSecond& t) { return t.year() >= 1900 && t.year() <= 9999; }

// Checks that `v` fits a column of `kind`; returns the reason if not.
std::optional<std::string> CheckValue(const XlsxValue& v, XlsxKind kind) {
  const auto wrong = [&](std::string_view got) { return StrCat(Expected(kind), ", got ", got); };
  switch (v.index()) {
    case 0:  // empty
      return std::nullopt;
    case 1: {
      if (kind != XlsxKind::kString) return wrong("a string");
      if (auto why = CheckText(std::get<std::string>(v), kXlsxMaxStringLength, nullptr)) {
        return StrCat("string ", *why);
      }
      return std::nullopt;
    }
    case 2: {
      const double d = std::get<double>(v);
      if (!IsNumeric(kind)) return wrong("a number");
      if (!std::isfinite(d)) return StrCat("number ", d, " is not finite");
      if (kind == XlsxKind::kInteger) {
        if (d != std::trunc(d)) return wrong(StrCat(d));
        if (std::fabs(d) > static_cast<double>(kXlsxMaxInteger)) {
          return StrCat("integer ", d, " has more than 15 digits, which Excel cannot hold");
        }
      }
      return std::nullopt;
    }
    case 3: {
      const int64_t i = std::get<int64_t>(v);
      if (!IsNumeric(kind)) return wrong("an integer");
      if (kind == XlsxKind::kInteger && (i > kXlsxMaxInteger || i < -kXlsxMaxInteger)) {
        return StrCat("integer ", i, " has more than 15 digits, which Excel cannot hold");
      }
      return std::nullopt;
    }
    case 4:
      if (kind != XlsxKind::kBoolean) return wrong("a boolean");
      return std::nullopt;
    case 5: {
      if (kind != XlsxKind::kDate && kind != XlsxKind::kDateTime) return wrong("a date");
      const auto& t = std::get<absl::CivilSecond>(v);
      if (!InExcelDateRange(t)) {
        return StrCat("date ", absl::FormatCivilTime(t),
                      " is outside Excel's dates (1900-01-01 to 9999-12-31)");
      }
      return std::nullopt;
    }
  }
  return "unknown value type";
}

// ---------------------------------------------------------------------------------------------
// Excel representations

// The Excel serial number of `t` (days since 1899-12-30, the time of day as a fraction).
double ExcelSerial(const absl::CivilSecond& t, bool date_only) {
  int64_t days = absl::CivilDay(t) - absl::CivilDay(1899, 12, 30);
  // Excel numbers 1900-02-29, a day that never was (kept from Lotus 1-2-3), so days before
  // 1900-03-01 are one lower than the plain count.
  if (days < 61) --days;
  if (date_only) return static_cast<double>(days);
  return static_cast<double>(days) + (t.hour() * 3600 + t.minute() * 60 + t.second()) / 86400.0;
}

// Excel reads "_xHHHH_" in a cell as the character U+HHHH (libxlsxwriter writes control
// characters that way). A literal one must have its '_' written as "_x005F_" to survive.
bool NeedsUnderscoreEscape(std::string_view s, size_t i) {
  if (i + 6 >= s.size() || s[i] != '_' || s[i + 1] != 'x' || s[i + 6] != '_') return false;
  for (size_t k = i + 2; k < i + 6; ++k) {
    if (HexDigitValue(s[k]) < 0) return false;
  }
  return true;
}

// `s`, or a copy in `buffer` with the escapes above, NUL-terminated.
const char* CellText(const std::string& s, std::string& buffer) {
  if (s.find("_x") == std::string::npos) return s.c_str();
  buffer.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (NeedsUnderscoreEscape(s, i)) {
      buffer += "_x005F_";
    } else {
      buffer += s[i];
    }
  }
  return buffer.c_str();
}

std::string DefaultNumberFormat(XlsxKind kind, std::string_view currency) {
  switch (kind) {
    case XlsxKind::kInteger:
      return "0";
    case XlsxKind::kMoney:
      return StrCat("#,##0.00 \"", currency, "\"");
    case XlsxKind::kPercent:
      return "0.00%";
    case XlsxKind::kDate:
      return "yyyy-mm-dd";
    case XlsxKind::kDateTime:
      return "yyyy-mm-dd hh:mm:ss";
    case XlsxKind::kString:
    case XlsxKind::kNumber:
    case XlsxKind::kBoolean:
      break;
  }
  return "";  // General
}

size_t Digits(double magnitude) {
  return magnitude < 10 ? 1 : static_cast<size_t>(std::floor(std::log10(magnitude))) + 1;
}

// Roughly how many characters Excel shows for `v` in its column's default format.
size_t DisplayWidth(const XlsxValue& v, XlsxKind kind, size_t currency_width) {
  double d = 0;
  switch (v.index()) {
    case 1:
      return 0;  // strings are measured by CheckText
    case 2:
      d = std::get<double>(v);
      break;
    case 3:
      d = static_cast<double>(std::get<int64_t>(v));
      break;
    case 4:
      return 5;  // FALSE
    case 5:
      return kind == XlsxKind::kDate ? 10 : 19;
    default:
      return 0;
  }
  const size_t sign = d < 0 ? 1 : 0;
  const double m = std::fabs(d);
  switch (kind) {
    case XlsxKind::kInteger:
      return sign + Digits(m);
    case XlsxKind::kMoney: {
      const size_t digits = Digits(m);
      return sign + digits + (digits - 1) / 3 + 3 + 1 + currency_width;
    }
    case XlsxKind::kPercent:
      return sign + Digits(m * 100) + 4;
    default:
      // General shows at most 11 characters.
      return std::min<size_t>(fmt::formatted_size("{:.10g}", d), 11);
  }
}

// ---------------------------------------------------------------------------------------------
// Sheet names

// Lowercase for the letters Excel compares without case that reports are likely to use:
// ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.
char32_t FoldCase(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x178) return 0xFF;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    if (c != 0x138 && c != 0x149 && c != 0x17F) return c | 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// `s` (valid UTF-8) as case-folded code points.
std::u32string FoldedName(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = std::max<size_t>(core::Utf8SequenceLength(s, i), 1);
    const auto b0 = static_cast<unsigned char>(s[i]);
    char32_t c = n == 1 ? b0 : n == 2 ? b0 & 0x1F : n == 3 ? b0 & 0x0F : b0 & 0x07;
    for (size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += FoldCase(c);
    i += n;
  }
  return out;
}

std::optional<std::string> CheckSheetName(std::string_view name) {
  if (name.empty()) return "is empty";
  if (auto why = CheckText(name, kXlsxMaxSheetNameLength, nullptr)) return why;
  for (char c : name) {
    if (std::strchr("[]:*?/\\", c) != nullptr) {
      return "contains one of the characters [ ] : * ? / \\ that Excel forbids";
    }
  }
  if (name.front() == '\'' || name.back() == '\'') {
    return "starts or ends with an apostrophe, which Excel forbids";
  }
  if (FoldedName(name) == U"history") return "is \"History\", which Excel reserves";
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Validation plan: what WriteXlsx needs to know about a sheet once it is valid.

struct SheetPlan {
  std::vector<std::string> number_formats;  // per column; empty = General
  std::vector<double> widths;               // per column
};

Status CheckOptions(const XlsxWriteOptions& options) {
  const std::pair<std::string_view, const std::string*> texts[] = {
      {"title", &options.title},       {"subject", &options.subject},
      {"author", &options.author},     {"company", &options.company},
      {"currency", &options.currency}, {"temp_dir", &options.temp_dir}};
  for (const auto& [what, text] : texts) {
    if (auto why = CheckText(*text, kXlsxMaxStringLength, nullptr)) {
      return Invalid(StrCat("options.", what), *why);
    }
  }
  if (options.currency.find('"') != std::string::npos) {
    return Invalid("options.currency", "contains '\"'");
  }
  if (DefaultNumberFormat(XlsxKind::kMoney, options.currency).size() >= LXW_FORMAT_FIELD_LEN) {
    return Invalid("options.currency", "is too long for a number format");
  }
  if (!(options.max_auto_width >= 1 && options.max_auto_width <= 255)) {
    return Invalid("options.max_auto_width", "must be between 1 and 255");
  }
  return Status();
}

Status CheckChart(const XlsxReportSheet& sheet, size_t index, const XlsxChart& chart) {
  const std::string context = StrCat(SheetContext(sheet), " chart ", index + 1);
  const int columns = static_cast<int>(sheet.columns.size());
  if (chart.type < XlsxChartType::kColumn || chart.type > XlsxChartType::kPie) {
    return Invalid(context, "unknown chart type");
  }
  if (auto why = CheckText(chart.title, kXlsxMaxStringLength, nullptr)) {
    return Invalid(context, StrCat("title ", *why));
  }
  if (!chart.title.empty() && chart.title.front() == '=') {
    return Invalid(context, "title starts with '=' (libxlsxwriter would take it for a formula)");
  }
  if (chart.category_column < -1 || chart.category_column >= columns) {
    return Invalid(context, StrCat("category column ", chart.category_column, " out of range"));
  }
  if (chart.value_columns.empty()) return Invalid(context, "has no value column");
  if (chart.type == XlsxChartType::kPie && chart.value_columns.size() != 1) {
    return Invalid(context, "a pie chart takes exactly one value column");
  }
  for (int c : chart.value_columns) {
    if (c < 0 || c >= columns) return Invalid(context, StrCat("value column ", c, " out of range"));
    if (!IsNumeric(sheet.columns[c].kind)) {
      return Invalid(context, StrCat("value column ", c, " (", Quoted(sheet.columns[c].header),
                                     ") is not numeric"));
    }
  }
  const bool automatic = chart.anchor_row == -1 && chart.anchor_column == -1;
  if (!automatic && (chart.anchor_row < 0 || chart.anchor_row >= kXlsxMaxRows ||
                     chart.anchor_column < 0 || chart.anchor_column >= kXlsxMaxColumns)) {
    return Invalid(context, "anchor cell out of range (use -1 for both to place automatically)");
  }
  if (chart.width_px < 1 || chart.width_px > 10'000 || chart.height_px < 1 ||
      chart.height_px > 10'000) {
    return Invalid(context, "size must be 1 to 10,000 pixels each way");
  }
  return Status();
}

Status PlanSheet(const XlsxReportSheet& sheet, const XlsxWriteOptions& options, SheetPlan& plan) {
  if (auto why = CheckSheetName(sheet.name)) {
    return Invalid(StrCat("sheet name ", Quoted(sheet.name)), *why);
  }
  const std::string context = SheetContext(sheet);
  const size_t columns = sheet.columns.size();
  if (columns == 0 || columns > static_cast<size_t>(kXlsxMaxColumns)) {
    return Invalid(context,
                   StrCat("has ", columns, " columns; Excel takes 1 to ", kXlsxMaxColumns));
  }
  if (sheet.rows.size() > static_cast<size_t>(kXlsxMaxRows - 1)) {
    return Invalid(context, StrCat("has ", sheet.rows.size(), " data rows; Excel takes at most ",
                                   kXlsxMaxRows - 1, " below the header"));
  }
  size_t currency_width = 0;
  (void)CheckText(options.currency, kXlsxMaxStringLength, &currency_width);

  plan.number_formats.assign(columns, "");
  plan.widths.assign(columns, 0);
  std::vector<size_t> content(columns, 0);  // widest value, in characters
  for (size_t c = 0; c < columns; ++c) {
    const XlsxColumn& col = sheet.columns[c];
    const std::string col_context = StrCat(context, " column ", ColumnName(static_cast<int>(c)));
    if (!IsKnownKind(col.kind)) return Invalid(col_context, "unknown kind");
    size_t header_width = 0;
    if (auto why = CheckText(col.header, kXlsxMaxStringLength, &header_width)) {
      return Invalid(col_context, StrCat("header ", *why));
    }
    if (auto why = CheckText(col.number_format, LXW_FORMAT_FIELD_LEN, nullptr)) {
      return Invalid(col_context, StrCat("number format ", *why));
    }
    if (col.number_format.size() >= LXW_FORMAT_FIELD_LEN) {
      return Invalid(col_context,
                     StrCat("number format is longer than ", LXW_FORMAT_FIELD_LEN - 1, " bytes"));
    }
    if (!(col.width >= 0 && col.width <= 255)) {
      return Invalid(col_context, "width must be 0 (automatic) or up to 255");
    }
    plan.number_formats[c] = col.number_format.empty()
                                 ? DefaultNumberFormat(col.kind, options.currency)
                                 : col.number_format;
    // Bold is a little wider; the filter button takes about two characters.
    content[c] = static_cast<size_t>(std::ceil(header_width * 1.1)) + (sheet.autofilter ? 2 : 0);
  }

  for (size_t r = 0; r < sheet.rows.size(); ++r) {
    const XlsxRow& row = sheet.rows[r];
    if (row.size() > columns) {
      return Invalid(RowContext(sheet, r),
                     StrCat("has ", row.size(), " cells for ", columns, " columns"));
    }
    for (size_t c = 0; c < row.size(); ++c) {
      const XlsxValue& v = row[c];
      if (v.index() == 0) continue;
      const XlsxKind kind = sheet.columns[c].kind;
      size_t width = 0;
      if (const auto* s = std::get_if<std::string>(&v); s != nullptr && kind == XlsxKind::kString) {
        if (auto why = CheckText(*s, kXlsxMaxStringLength, &width)) {
          return Invalid(CellContext(sheet, r, c), StrCat("string ", *why));
        }
      } else {
        if (auto why = CheckValue(v, kind)) return Invalid(CellContext(sheet, r, c), *why);
        width = DisplayWidth(v, kind, currency_width);
      }
      content[c] = std::max(content[c], width);
    }
  }

  for (size_t c = 0; c < columns; ++c) {
    const double explicit_width = sheet.columns[c].width;
    plan.widths[c] =
        explicit_width > 0
            ? explicit_width
            : std::min(std::max(static_cast<double>(content[c]) + 1, 4.0), options.max_auto_width);
  }

  for (size_t i = 0; i < sheet.charts.size(); ++i) {
    HERALD_RETURN_IF_ERROR(CheckChart(sheet, i, sheet.charts[i]));
  }
  return Status();
}

// ---------------------------------------------------------------------------------------------
// libxlsxwriter and the file system

Status LxwStatus(lxw_error error, std::string_view what) {
  const std::string msg = StrCat(what, ": ", lxw_strerror(error));
  switch (error) {
    case LXW_ERROR_MEMORY_MALLOC_FAILED:
      return absl::ResourceExhaustedError(msg);
    case LXW_ERROR_FEATURE_NOT_SUPPORTED:
    case LXW_ERROR_NULL_PARAMETER_IGNORED:
    case LXW_ERROR_PARAMETER_VALIDATION:
    case LXW_ERROR_SHEETNAME_LENGTH_EXCEEDED:
    case LXW_ERROR_INVALID_SHEETNAME_CHARACTER:
    case LXW_ERROR_SHEETNAME_START_END_APOSTROPHE:
    case LXW_ERROR_SHEETNAME_ALREADY_USED:
    case LXW_ERROR_32_STRING_LENGTH_EXCEEDED:
    case LXW_ERROR_128_STRING_LENGTH_EXCEEDED:
    case LXW_ERROR_255_STRING_LENGTH_EXCEEDED:
    case LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED:
    case LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE:
      return absl::InvalidArgumentError(msg);
    default:  // temporary files, the zip container, the output file
      return absl::InternalError(msg);
  }
}

Status ErrnoStatus(int err, std::string_view what) {
  const std::string msg = StrCat(what, ": ", std::generic_category().message(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

// A file created with mkstemp, removed (and closed) on destruction. Reading goes through the
// descriptor, so what is read is the file created here whatever happens to its name.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ < 0) return;
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  Status Create(const std::string& dir) {
    path_ = StrCat(dir, "/herald-xlsx-XXXXXX");
    fd_ = ::mkstemp(path_.data());
    if (fd_ < 0) {
      const int err = errno;
      return ErrnoStatus(err, StrCat("cannot create a temporary file in ", dir));
    }
    return Status();
  }

  const std::string& path() const { return path_; }

  Result<std::string> ReadAll() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      return ErrnoStatus(err, "cannot stat the written workbook");
    }
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n =
          ::pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        return ErrnoStatus(err, "cannot read the written workbook");
      }
      if (n == 0) return absl::InternalError("the written workbook shrank while being read");
      done += static_cast<size_t>(n);
    }
    return data;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// Owns a workbook until workbook_close (which frees it) takes it over.
class Workbook {
 public:
  explicit Workbook(lxw_workbook* wb) : wb_(wb) {}
  Workbook(const Workbook&) = delete;
  Workbook& operator=(const Workbook&) = delete;
  ~Workbook() {
    if (wb_ == nullptr) return;
    // libxlsxwriter 1.1.4's lxw_workbook_free leaves the temporary file of each constant-memory
    // worksheet open; close them here.
    for (lxw_worksheet* ws : sheets_) {
      if (ws->optimize_tmpfile != nullptr) std::fclose(ws->optimize_tmpfile);
      ws->optimize_tmpfile = nullptr;
      ws->file = nullptr;
    }
    lxw_workbook_free(wb_);
  }

  lxw_workbook* get() const { return wb_; }
  void AddSheet(lxw_worksheet* ws) { sheets_.push_back(ws); }
  lxw_workbook* Release() {
    sheets_.clear();
    return std::exchange(wb_, nullptr);
  }

 private:
  lxw_workbook* wb_;
  std::vector<lxw_worksheet*> sheets_;
};

// libxlsxwriter writes the document's dates with gmtime(), whose result is shared by the
// whole process; packaging one workbook at a time keeps them from mixing.
ABSL_CONST_INIT absl::Mutex close_mu(absl::kConstInit);

std::string TempDir(const XlsxWriteOptions& options) {
  if (!options.temp_dir.empty()) return options.temp_dir;
  const char* env = std::getenv("TMPDIR");
  return env != nullptr && env[0] != '\0' ? std::string(env) : std::string("/tmp");
}

uint8_t LxwChartType(XlsxChartType type) {
  switch (type) {
    case XlsxChartType::kColumn:
      return LXW_CHART_COLUMN;
    case XlsxChartType::kBar:
      return LXW_CHART_BAR;
    case XlsxChartType::kLine:
      return LXW_CHART_LINE;
    case XlsxChartType::kPie:
      return LXW_CHART_PIE;
  }
  return LXW_CHART_COLUMN;
}

// Formats shared by the whole workbook, one per number format.
class Formats {
 public:
  explicit Formats(lxw_workbook* wb) : wb_(wb) {}

  Result<lxw_format*> Header() {
    if (header_ == nullptr) {
      header_ = workbook_add_format(wb_);
      if (header_ == nullptr) return absl::ResourceExhaustedError("cannot add a cell format");
      format_set_bold(header_);
      format_set_pattern(header_, LXW_PATTERN_SOLID);
      format_set_bg_color(header_, 0xD9E1F2);  // Excel's "Blue, Accent 1, Lighter 80%"
      format_set_bottom(header_, LXW_BORDER_THIN);
      format_set_align(header_, LXW_ALIGN_VERTICAL_CENTER);
    }
    return header_;
  }

  // nullptr (General) for an empty format.
  Result<lxw_format*> ForNumberFormat(const std::string& number_format) {
    if (number_format.empty()) return static_cast<lxw_format*>(nullptr);
    auto [it, added] = by_number_format_.try_emplace(number_format, nullptr);
    if (added) {
      it->second = workbook_add_format(wb_);
      if (it->second == nullptr) return absl::ResourceExhaustedError("cannot add a cell format");
      format_set_num_format(it->second, number_format.c_str());
    }
    return it->second;
  }

 private:
  lxw_workbook* wb_;
  lxw_format* header_ = nullptr;
  std::map<std::string, lxw_format*> by_number_format_;
};

Status WriteSheet(const XlsxReportSheet& sheet, const SheetPlan& plan, lxw_workbook* wb,
                  lxw_worksheet* ws, Formats& formats) {
  const std::string context = SheetContext(sheet);
  const auto columns = static_cast<lxw_col_t>(sheet.columns.size());
  const auto rows = static_cast<lxw_row_t>(sheet.rows.size());
  std::vector<lxw_format*> cell_formats(columns, nullptr);
  for (lxw_col_t c = 0; c < columns; ++c) {
    HERALD_ASSIGN_OR_RETURN(cell_formats[c], formats.ForNumberFormat(plan.number_formats[c]));
    if (lxw_error e = worksheet_set_column(ws, c, c, plan.widths[c], nullptr)) {
      return LxwStatus(e, StrCat(context, ": setting column widths"));
    }
  }
  // In constant-memory mode libxlsxwriter 1.1.4 refuses an autofilter over rows already
  // flushed, so it is set before any row is written.
  if (sheet.autofilter) {
    if (lxw_error e = worksheet_autofilter(ws, 0, 0, rows, columns - 1)) {
      return LxwStatus(e, StrCat(context, ": setting the autofilter"));
    }
  }
  if (sheet.freeze_header) worksheet_freeze_panes(ws, 1, 0);

  HERALD_ASSIGN_OR_RETURN(lxw_format * header_format, formats.Header());
  for (lxw_col_t c = 0; c < columns; ++c) {
    std::string buffer;
    if (lxw_error e = worksheet_write_string(ws, 0, c, CellText(sheet.columns[c].header, buffer),
                                             header_format)) {
      return LxwStatus(e, StrCat(context, " column ", ColumnName(c), ": writing the header"));
    }
  }

  std::string buffer;
  for (lxw_row_t r = 0; r < rows; ++r) {
    const XlsxRow& row = sheet.rows[r];
    for (lxw_col_t c = 0; c < row.size(); ++c) {
      const XlsxValue& v = row[c];
      lxw_format* format = cell_formats[c];
      lxw_error e = LXW_NO_ERROR;
      switch (v.index()) {
        case 0:
          continue;
        case 1:
          e = worksheet_write_string(ws, r + 1, c, CellText(std::get<std::string>(v), buffer),
                                     format);
          break;
        case 2:
          e = worksheet_write_number(ws, r + 1, c, std::get<double>(v), format);
          break;
        case 3:
          e = worksheet_write_number(ws, r + 1, c, static_cast<double>(std::get<int64_t>(v)),
                                     format);
          break;
        case 4:
          e = worksheet_write_boolean(ws, r + 1, c, std::get<bool>(v) ? 1 : 0, format);
          break;
        case 5:
          e = worksheet_write_number(
              ws, r + 1, c,
              ExcelSerial(std::get<absl::CivilSecond>(v), sheet.columns[c].kind == XlsxKind::kDate),
              format);
          break;
      }
      if (e != LXW_NO_ERROR) return LxwStatus(e, StrCat(CellContext(sheet, r, c), ": writing"));
    }
  }

  const lxw_row_t last_row = std::max<lxw_row_t>(rows, 1);
  int next_auto_row = 1;
  for (size_t i = 0; i < sheet.charts.size(); ++i) {
    const XlsxChart& spec = sheet.charts[i];
    const std::string chart_context = StrCat(context, " chart ", i + 1);
    lxw_chart* chart = workbook_add_chart(wb, LxwChartType(spec.type));
    if (chart == nullptr) return absl::ResourceExhaustedError(StrCat(chart_context, ": no memory"));
    if (!spec.title.empty()) chart_title_set_name(chart, spec.title.c_str());
    for (int value_column : spec.value_columns) {
      lxw_chart_series* series = chart_add_series(chart, nullptr, nullptr);
      if (series == nullptr) {
        return absl::ResourceExhaustedError(StrCat(chart_context, ": no memory"));
      }
      const auto vc = static_cast<lxw_col_t>(value_column);
      chart_series_set_values(series, sheet.name.c_str(), 1, vc, last_row, vc);
      chart_series_set_name_range(series, sheet.name.c_str(), 0, vc);
      if (spec.category_column >= 0) {
        const auto cc = static_cast<lxw_col_t>(spec.category_column);
        chart_series_set_categories(series, sheet.name.c_str(), 1, cc, last_row, cc);
      }
      // libxlsxwriter 1.1.4 counts a series' cached points in a uint16_t: past 65,535 rows the
      // cache would be corrupt, so leave it out (Excel recomputes it from the cells anyway).
      if (last_row > 65'535) {
        series->values->ignore_cache = LXW_TRUE;
        if (series->categories != nullptr) series->categories->ignore_cache = LXW_TRUE;
      }
    }
    lxw_row_t anchor_row;
    lxw_col_t anchor_col;
    if (spec.anchor_row == -1) {
      anchor_row = static_cast<lxw_row_t>(next_auto_row);
      anchor_col = static_cast<lxw_col_t>(std::min<int>(columns + 1, kXlsxMaxColumns - 1));
      next_auto_row += (spec.height_px + 19) / 20 + 1;  // default rows are 20 pixels high
    } else {
      anchor_row = static_cast<lxw_row_t>(spec.anchor_row);
      anchor_col = static_cast<lxw_col_t>(spec.anchor_column);
    }
    lxw_chart_options chart_options = {};
    chart_options.x_scale = spec.width_px / 480.0;
    chart_options.y_scale = spec.height_px / 288.0;
    if (lxw_error e =
            worksheet_insert_chart_opt(ws, anchor_row, anchor_col, chart, &chart_options)) {
      return LxwStatus(e, StrCat(chart_context, ": inserting"));
    }
  }
  return Status();
}

// ---------------------------------------------------------------------------------------------
// JSON

std::string_view JsonKindName(const json::value& j) {
  switch (j.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// Reads `n` decimal digits at s[pos].
bool ReadDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD" or "YYYY-MM-DD[T| ]hh:mm[:ss[.fraction]][Z|+hh:mm|-hh:mm]"; a time with an
// offset is converted to `zone`.
std::optional<absl::CivilSecond> ParseDateTime(std::string_view s, absl::TimeZone zone) {
  int year, month, day;
  if (!ReadDigits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !ReadDigits(s, 5, 2, month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, day)) {
    return std::nullopt;
  }
  const absl::CivilDay civil_day(year, month, day);
  if (month < 1 || month > 12 || civil_day.month() != month || civil_day.day() != day) {
    return std::nullopt;
  }
  if (s.size() == 10) return absl::CivilSecond(civil_day);
  int hour, minute, second = 0;
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !ReadDigits(s, 11, 2, hour) ||
      s.size() < 16 || s[13] != ':' || !ReadDigits(s, 14, 2, minute) || hour > 23 || minute > 59) {
    return std::nullopt;
  }
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!ReadDigits(s, pos + 1, 2, second) || second > 60) return std::nullopt;  // 60: leap
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      const size_t start = ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return std::nullopt;
    }
  }
  // CivilSecond normalises a leap second into the next minute.
  absl::CivilSecond t(year, month, day, hour, minute, second);
  if (pos == s.size()) return t;
  int offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return std::nullopt;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (s.size() != pos + 6 || !ReadDigits(s, pos + 1, 2, oh) || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const absl::Time instant = absl::FromCivil(t, absl::UTCTimeZone()) - absl::Seconds(offset);
  return absl::ToCivilSecond(instant, zone);
}

template <typename T>
bool ParseWhole(std::string_view s, T& out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// The value of `j` for a column of `kind`, or why it does not fit (without context).
Result<XlsxValue> ValueFromJson(const json::value& j, XlsxKind kind, absl::TimeZone zone) {
  if (j.is_null()) return XlsxValue();
  const auto wrong = [&] {
    return absl::InvalidArgumentError(StrCat(Expected(kind), ", got ", JsonKindName(j)));
  };
  switch (kind) {
    case XlsxKind::kString:
      if (!j.is_string()) return wrong();
      return XlsxValue(std::string(j.get_string().data(), j.get_string().size()));
    case XlsxKind::kNumber:
    case XlsxKind::kMoney:
    case XlsxKind::kPercent:
    case XlsxKind::kInteger: {
      double d = 0;
      switch (j.kind()) {
        case json::kind::int64:
          return XlsxValue(j.get_int64());
        case json::kind::uint64:
          if (j.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
            return XlsxValue(static_cast<int64_t>(j.get_uint64()));
          }
          d = static_cast<double>(j.get_uint64());
          break;
        case json::kind::double_:
          d = j.get_double();
          break;
        case json::kind::string: {
          const std::string_view s(j.get_string().data(), j.get_string().size());
          int64_t i = 0;
          if (ParseWhole(s, i)) return XlsxValue(i);
          if (!ParseWhole(s, d)) {
            return absl::InvalidArgumentError(
                StrCat(Expected(kind), ", got the string ", Quoted(s)));
          }
          break;
        }
        default:
          return wrong();
      }
      if (kind == XlsxKind::kInteger && std::isfinite(d) && d == std::trunc(d) &&
          std::fabs(d) <= static_cast<double>(kXlsxMaxInteger)) {
        return XlsxValue(static_cast<int64_t>(d));
      }
      return XlsxValue(d);
    }
    case XlsxKind::kDate:
    case XlsxKind::kDateTime: {
      if (!j.is_string()) return wrong();
      const std::string_view s(j.get_string().data(), j.get_string().size());
      std::optional<absl::CivilSecond> t = ParseDateTime(s, zone);
      if (!t) {
        return absl::InvalidArgumentError(
            StrCat(Expected(kind), " (YYYY-MM-DD or RFC 3339), got ", Quoted(s)));
      }
      if (kind == XlsxKind::kDate) t = absl::CivilSecond(absl::CivilDay(*t));
      return XlsxValue(*t);
    }
    case XlsxKind::kBoolean:
      if (!j.is_bool()) return wrong();
      return XlsxValue(j.get_bool());
  }
  return wrong();
}

}  // namespace

Status AppendJsonRows(const json::value& rows, XlsxReportSheet& sheet, absl::TimeZone time_zone) {
  const json::array* array = rows.if_array();
  if (array == nullptr) {
    return Invalid(SheetContext(sheet),
                   StrCat("rows must be a JSON array, got ", JsonKindName(rows)));
  }
  const size_t columns = sheet.columns.size();
  const size_t base = sheet.rows.size();
  std::vector<XlsxRow> converted;
  converted.reserve(array->size());
  const auto convert = [&](const json::value& j, size_t r, size_t c) -> Result<XlsxValue> {
    Result<XlsxValue> v = ValueFromJson(j, sheet.columns[c].kind, time_zone);
    if (!v.ok()) return Invalid(CellContext(sheet, r, c), ToStd(v.status().message()));
    if (auto why = CheckValue(*v, sheet.columns[c].kind)) {
      return Invalid(CellContext(sheet, r, c), *why);
    }
    return v;
  };
  for (size_t i = 0; i < array->size(); ++i) {
    const size_t r = base + i;
    const json::value& row = (*array)[i];
    XlsxRow out;
    if (const json::array* values = row.if_array()) {
      if (values->size() > columns) {
        return Invalid(RowContext(sheet, r),
                       StrCat("has ", values->size(), " values for ", columns, " columns"));
      }
      out.reserve(values->size());
      for (size_t c = 0; c < values->size(); ++c) {
        HERALD_ASSIGN_OR_RETURN(XlsxValue v, convert((*values)[c], r, c));
        out.push_back(std::move(v));
      }
    } else if (const json::object* object = row.if_object()) {
      out.resize(columns);
      for (size_t c = 0; c < columns; ++c) {
        const XlsxColumn& col = sheet.columns[c];
        const std::string& key = col.json_key.empty() ? col.header : col.json_key;
        const json::value* member = object->if_contains(key);
        if (member == nullptr) continue;
        HERALD_ASSIGN_OR_RETURN(out[c], convert(*member, r, c));
      }
    } else {
      return Invalid(RowContext(sheet, r),
                     StrCat("expected an array or an object, got ", JsonKindName(row)));
    }
    converted.push_back(std::move(out));
  }
  sheet.rows.insert(sheet.rows.end(), std::make_move_iterator(converted.begin()),
                    std::make_move_iterator(converted.end()));
  return Status();
}

Result<std::string> WriteXlsx(std::span<const XlsxReportSheet> sheets,
                              const XlsxWriteOptions& options, const core::Clock& clock) {
  HERALD_RETURN_IF_ERROR(CheckOptions(options));
  if (sheets.empty()) return absl::InvalidArgumentError("a workbook needs at least one sheet");
  std::vector<SheetPlan> plans(sheets.size());
  std::map<std::u32string, size_t> names;
  bool any_chart = false;
  for (size_t i = 0; i < sheets.size(); ++i) {
    HERALD_RETURN_IF_ERROR(PlanSheet(sheets[i], options, plans[i]));
    auto [it, added] = names.emplace(FoldedName(sheets[i].name), i);
    if (!added) {
      return absl::InvalidArgumentError(StrCat("sheet names ", Quoted(sheets[it->second].name),
                                               " and ", Quoted(sheets[i].name),
                                               " are the same to Excel, which ignores case"));
    }
    any_chart = any_chart || !sheets[i].charts.empty();
  }
  // libxlsxwriter formats numbers with snprintf("%.16G"), which follows LC_NUMERIC.
  if (std::strcmp(std::localeconv()->decimal_point, ".") != 0) {
    return absl::FailedPreconditionError(
        "the C locale's decimal point is not '.'; libxlsxwriter would write invalid numbers");
  }

  const std::string dir = TempDir(options);
  TempFile out;
  HERALD_RETURN_IF_ERROR(out.Create(dir));

  lxw_workbook_options lxw_options = {};
  lxw_options.constant_memory = any_chart ? LXW_FALSE : LXW_TRUE;
  lxw_options.tmpdir = const_cast<char*>(dir.c_str());
  Workbook wb(workbook_new_opt(out.path().c_str(), &lxw_options));
  if (wb.get() == nullptr) return absl::ResourceExhaustedError("cannot create a workbook");

  const int64_t created = absl::ToUnixSeconds(clock.Now());
  lxw_doc_properties properties = {};
  const auto text_or_null = [](const std::string& s) {
    return s.empty() ? nullptr : const_cast<char*>(s.c_str());
  };
  properties.title = text_or_null(options.title);
  properties.subject = text_or_null(options.subject);
  properties.author = text_or_null(options.author);
  properties.company = text_or_null(options.company);
  // 0 would make libxlsxwriter read the real clock; the epoch itself is written one second off.
  properties.created = static_cast<time_t>(created == 0 ? 1 : created);
  if (lxw_error e = workbook_set_properties(wb.get(), &properties)) {
    return LxwStatus(e, "setting document properties");
  }

  Formats formats(wb.get());
  for (size_t i = 0; i < sheets.size(); ++i) {
    const XlsxReportSheet& sheet = sheets[i];
    if (lxw_error e = workbook_validate_sheet_name(wb.get(), sheet.name.c_str())) {
      return LxwStatus(e, StrCat("sheet name ", Quoted(sheet.name)));
    }
    lxw_worksheet* ws = workbook_add_worksheet(wb.get(), sheet.name.c_str());
    if (ws == nullptr) {
      return absl::InternalError(
          StrCat(SheetContext(sheet), ": libxlsxwriter cannot add it (memory or temporary file)"));
    }
    wb.AddSheet(ws);
    HERALD_RETURN_IF_ERROR(WriteSheet(sheet, plans[i], wb.get(), ws, formats));
  }

  lxw_error closed;
  {
    absl::MutexLock lock(&close_mu);
    closed = workbook_close(wb.Release());
  }
  if (closed != LXW_NO_ERROR) return LxwStatus(closed, "writing the workbook");
  return out.ReadAll();
}

}  // namespace herald::docs
