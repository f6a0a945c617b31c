#include "docs/xlsx_writer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "boost/json.hpp"
#include "core/clock.h"
#include "core/strings.h"
#include "core/testing/run_tool.h"
#include "core/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::docs {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// Debian's python3, where python3-openpyxl is installed (a python3 earlier on PATH may lack it).
// The tests fail, not skip, without it.
constexpr char kPython[] = "/usr/bin/python3";

// Prints a JSON description of the workbook at argv[1]: document properties and, per sheet,
// its name, pane, autofilter, every cell's type and value, number formats, column widths,
// header style and charts. argv[2] == "count" reads in read-only mode and only counts rows.
constexpr char kInspectScript[] = R"PY(
import datetime, json, sys, zipfile
import openpyxl

path, mode = sys.argv[1], sys.argv[2]

def cell(v):
    if v is None: return None
    if isinstance(v, datetime.datetime): return {"t": "datetime", "v": v.isoformat()}
    if isinstance(v, bool): return {"t": "bool", "v": v}
    if isinstance(v, int): return {"t": "int", "v": v}
    if isinstance(v, float): return {"t": "float", "v": v}
    if isinstance(v, str): return {"t": "str", "v": v}
    return {"t": type(v).__name__, "v": str(v)}

def ref(r):
    if r is None: return None
    for attr in ("numRef", "strRef"):
        x = getattr(r, attr, None)
        if x is not None: return x.f
    return None

def title(ch):
    try:
        return "".join(run.t for p in ch.title.tx.rich.p for run in (p.r or []))
    except AttributeError:
        return None

if mode == "count":
    wb = openpyxl.load_workbook(path, read_only=True)
    out = []
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        out.append({"name": ws.title, "rows": len(rows),
                    "first": [cell(v) for v in rows[1]], "last": [cell(v) for v in rows[-1]]})
    print(json.dumps({"sheets": out}))
    sys.exit(0)

wb = openpyxl.load_workbook(path)
p = wb.properties
out = {"props": {"title": p.title, "subject": p.subject, "creator": p.creator,
                 "created": p.created.isoformat() if p.created else None},
       "sheets": []}
with zipfile.ZipFile(path) as z:
    out["app_xml"] = z.read("docProps/app.xml").decode()
    out["parts"] = {n: z.read(n).decode() for n in z.namelist()
                    if n.startswith("xl/charts/") or n.startswith("xl/worksheets/sheet")
                    or n == "xl/sharedStrings.xml"}
for ws in wb.worksheets:
    s = {"name": ws.title, "freeze": ws.freeze_panes, "autofilter": ws.auto_filter.ref,
         "rows": [[cell(c.value) for c in row] for row in ws.iter_rows()],
         "formats": [[c.number_format for c in row] for row in ws.iter_rows()],
         "widths": {k: d.width for k, d in ws.column_dimensions.items()},
         "header": [{"bold": bool(c.font.b), "fill": c.fill.fgColor.rgb,
                     "border": c.border.bottom.style} for c in ws[1]],
         "charts": []}
    for ch in ws._charts:
        s["charts"].append({
            "type": ch.tagname, "dir": getattr(ch, "barDir", None), "title": title(ch),
            "row": ch.anchor._from.row, "col": ch.anchor._from.col,
            "series": [{"val": ref(x.val), "cat": ref(x.cat),
                        "tx": x.tx.strRef.f if x.tx is not None and x.tx.strRef is not None
                              else None} for x in ch.series]})
    out["sheets"].append(s)
print(json.dumps(out))
)PY";

// Runs the script over `bytes` (written to a file first); fails the test if python3 or
// openpyxl is missing or the file does not open.
json::value Inspect(const std::string& bytes, std::string_view mode = "full") {
  testing::TempDir dir;
  const std::string path = dir.File("report.xlsx");
  {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  testing::ToolRun run = testing::RunTool({kPython, "-c", kInspectScript, path, std::string(mode)});
  EXPECT_EQ(run.exit_code, 0) << "python3 with openpyxl (Debian package python3-openpyxl) must "
                                 "be installed at "
                              << kPython << "\n"
                              << run.err;
  if (run.exit_code != 0) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(run.out, ec);
  EXPECT_FALSE(ec) << run.out;
  return v;
}

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string().data(), v.get_string().size())
                       : "<not a string>";
}

// {"t": type, "v": value} as "type:value" for compact comparisons; "null" for an empty cell.
std::string Cell(const json::value& c) {
  if (c.is_null()) return "null";
  const json::object& o = c.as_object();
  const json::value& v = o.at("v");
  std::string value = v.is_string()   ? Str(v)
                      : v.is_double() ? StrCat(v.get_double())
                                      : json::serialize(v);
  return StrCat(Str(o.at("t")), ":", value);
}

const json::object& SheetNamed(const json::value& report, std::string_view name) {
  for (const json::value& s : report.at("sheets").as_array()) {
    if (Str(s.at("name")) == name) return s.as_object();
  }
  ADD_FAILURE() << "no sheet " << name;
  static const json::object empty;
  return empty;
}

constexpr absl::Time kCreated = absl::FromUnixSeconds(1'770'091'506);  // 2026-02-03T04:05:06Z

std::vector<XlsxColumn> SalesColumns() {
  return {
      {.header = "Produit", .kind = XlsxKind::kString},
      {.header = "Quantité", .kind = XlsxKind::kInteger, .json_key = "qty"},
      {.header = "Montant", .kind = XlsxKind::kMoney, .json_key = "amount"},
      {.header = "Part", .kind = XlsxKind::kPercent, .json_key = "share"},
      {.header = "Jour", .kind = XlsxKind::kDate, .json_key = "day"},
      {.header = "Créé le", .kind = XlsxKind::kDateTime, .json_key = "created_at"},
      {.header = "Payé", .kind = XlsxKind::kBoolean, .json_key = "paid"},
      {.header = "Note", .kind = XlsxKind::kNumber, .width = 30, .json_key = "score"},
  };
}

// The rows as a report job would get them from an API.
constexpr std::string_view kSalesJson = R"([
  {"Produit": "Crème brûlée", "qty": 3, "amount": 1234.5, "share": 0.25, "day": "2026-01-30",
   "created_at": "2026-01-30T03:00:00Z", "paid": true, "score": 4.5, "ignored": [1, 2]},
  {"Produit": "Café ☕ 100 €", "qty": "12", "amount": "-7.10", "share": 1, "day": "1900-01-01",
   "created_at": "2026-01-30T04:05:06.789+01:00", "paid": false, "score": null},
  ["Œuf", null, 0, 0.125, "1900-03-01", "2026-06-01 23:59", true, 1e-3]
])";

XlsxReportSheet SalesSheet(std::string name) {
  XlsxReportSheet sheet{.name = std::move(name), .columns = SalesColumns()};
  Status st = AppendJsonRows(json::parse(kSalesJson), sheet);
  EXPECT_TRUE(st.ok()) << st;
  return sheet;
}

// ---------------------------------------------------------------------------------------------
// Round trip, in constant-memory mode (no chart) and in-memory mode (a chart on another sheet)

class XlsxRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(XlsxRoundTrip, CellsTypesFormatsAndLayoutSurviveOpenpyxl) {
  const bool with_chart = GetParam();
  core::ManualClock clock(kCreated);
  std::vector<XlsxReportSheet> sheets;
  sheets.push_back(SalesSheet("Ventes été €"));
  XlsxReportSheet summary{
      .name = "Résumé",
      .columns = {{.header = "Clé"}, {.header = "Valeur", .kind = XlsxKind::kNumber}},
      .rows = {{std::string("lignes"), int64_t{3}},
               {std::string("moyenne"), 412.4666666666667},
               {XlsxValue(), -0.5},
               {std::string(120, 'x')}},
      .freeze_header = false,
      .autofilter = false};
  if (with_chart) {
    summary.charts.push_back({.title = "Valeurs", .value_columns = {1}});
  }
  sheets.push_back(summary);
  XlsxWriteOptions options{.title = "Rapport quotidien", .subject = "Ventes"};
  Result<std::string> bytes = WriteXlsx(sheets, options, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const json::value report = Inspect(*bytes);
  ASSERT_TRUE(report.is_object());

  // Document properties.
  const json::value& props = report.at("props");
  EXPECT_EQ(Str(props.at("title")), "Rapport quotidien");
  EXPECT_EQ(Str(props.at("subject")), "Ventes");
  EXPECT_EQ(Str(props.at("creator")), "Herald");
  EXPECT_EQ(Str(props.at("created")), "2026-02-03T04:05:06");
  EXPECT_THAT(Str(report.at("app_xml")), HasSubstr("<Company>Herald</Company>"));

  // Sheet order and names.
  const json::array& all = report.at("sheets").as_array();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(Str(all[0].at("name")), "Ventes été €");
  EXPECT_EQ(Str(all[1].at("name")), "Résumé");

  const json::object& sales = SheetNamed(report, "Ventes été €");
  const json::array& rows = sales.at("rows").as_array();
  ASSERT_EQ(rows.size(), 4u);
  std::vector<std::vector<std::string>> cells;
  for (const json::value& row : rows) {
    std::vector<std::string> r;
    for (const json::value& c : row.as_array()) r.push_back(Cell(c));
    cells.push_back(r);
  }
  EXPECT_THAT(cells[0],
              ::testing::ElementsAre("str:Produit", "str:Quantité", "str:Montant", "str:Part",
                                     "str:Jour", "str:Créé le", "str:Payé", "str:Note"));
  EXPECT_THAT(cells[1],
              ::testing::ElementsAre("str:Crème brûlée", "int:3", "float:1234.5", "float:0.25",
                                     "datetime:2026-01-30T00:00:00", "datetime:2026-01-30T03:00:00",
                                     "bool:true", "float:4.5"));
  // Offsets are converted to UTC (the default zone) and fractions of a second dropped; an
  // integral money or percent value comes back as an int, as Excel stores numbers.
  EXPECT_THAT(cells[2],
              ::testing::ElementsAre("str:Café ☕ 100 €", "int:12", "float:-7.1", "int:1",
                                     "datetime:1900-01-01T00:00:00", "datetime:2026-01-30T03:05:06",
                                     "bool:false", "null"));
  EXPECT_THAT(cells[3],
              ::testing::ElementsAre("str:Œuf", "null", "int:0", "float:0.125",
                                     "datetime:1900-03-01T00:00:00", "datetime:2026-06-01T23:59:00",
                                     "bool:true", "float:0.001"));

  // Number formats of the data cells, per kind.
  const json::array& formats = sales.at("formats").as_array()[1].as_array();
  std::vector<std::string> f;
  for (const json::value& v : formats) f.push_back(Str(v));
  EXPECT_THAT(f, ::testing::ElementsAre("General", "0", "#,##0.00 \"€\"", "0.00%", "yyyy-mm-dd",
                                        "yyyy-mm-dd hh:mm:ss", "General", "General"));

  // Header style, pane, filter.
  for (const json::value& h : sales.at("header").as_array()) {
    EXPECT_TRUE(h.at("bold").as_bool());
    EXPECT_EQ(Str(h.at("fill")), "FFD9E1F2");
    EXPECT_EQ(Str(h.at("border")), "thin");
  }
  EXPECT_EQ(Str(sales.at("freeze")), "A2");
  EXPECT_EQ(Str(sales.at("autofilter")), "A1:H4");

  // Widths: explicit (libxlsxwriter stores Excel's padded value), automatic from the content
  // ("Crème brûlée", 12 characters) or the header, capped.
  const json::object& widths = sales.at("widths").as_object();
  EXPECT_NEAR(widths.at("H").as_double(), 30.71, 0.01);
  EXPECT_GE(widths.at("A").as_double(), 13);
  EXPECT_LE(widths.at("A").as_double(), 16);
  EXPECT_GE(widths.at("E").as_double(), 11);  // yyyy-mm-dd
  EXPECT_GE(widths.at("F").as_double(), 20);  // yyyy-mm-dd hh:mm:ss

  const json::object& resume = SheetNamed(report, "Résumé");
  EXPECT_TRUE(resume.at("freeze").is_null());
  EXPECT_TRUE(resume.at("autofilter").is_null());
  const json::array& rrows = resume.at("rows").as_array();
  ASSERT_EQ(rrows.size(), 5u);
  EXPECT_EQ(Cell(rrows[1].as_array()[1]), "int:3");
  EXPECT_EQ(Cell(rrows[2].as_array()[1]), "float:412.4666666666667");
  EXPECT_EQ(Cell(rrows[3].as_array()[0]), "null");
  EXPECT_NEAR(resume.at("widths").at("A").as_double(), 60.71, 0.01);  // capped
  EXPECT_EQ(resume.at("charts").as_array().size(), with_chart ? 1u : 0u);
  EXPECT_EQ(sales.at("charts").as_array().size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, XlsxRoundTrip, ::testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? "InMemory" : "ConstantMemory";
                         });

// ---------------------------------------------------------------------------------------------
// Charts

TEST(WriteXlsx, ChartsReferenceTheirSheetsTable) {
  core::ManualClock clock(kCreated);
  XlsxReportSheet sales = SalesSheet("Rapport d'août");
  sales.charts = {
      {.type = XlsxChartType::kColumn, .title = "Montants", .value_columns = {2}},
      {.type = XlsxChartType::kLine, .category_column = 4, .value_columns = {1, 3}},
      {.type = XlsxChartType::kPie,
       .title = "Parts",
       .value_columns = {3},
       .anchor_row = 20,
       .anchor_column = 1},
      {.type = XlsxChartType::kBar, .category_column = -1, .value_columns = {7}},
  };
  XlsxReportSheet empty{.name = "Delta",
                        .columns = {{.header = "Id"}, {.header = "Δ", .kind = XlsxKind::kInteger}},
                        .charts = {{.value_columns = {1}}}};
  XlsxReportSheet plain{.name = "Plain", .columns = {{.header = "x"}}};
  const std::vector<XlsxReportSheet> sheets = {sales, empty, plain};
  Result<std::string> bytes = WriteXlsx(sheets, {}, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const json::value report = Inspect(*bytes);
  ASSERT_TRUE(report.is_object());

  const json::array& charts = SheetNamed(report, "Rapport d'août").at("charts").as_array();
  ASSERT_EQ(charts.size(), 4u);
  const std::string q = "'Rapport d''août'!";
  EXPECT_EQ(Str(charts[0].at("type")), "barChart");
  EXPECT_EQ(Str(charts[0].at("dir")), "col");
  EXPECT_EQ(Str(charts[0].at("title")), "Montants");
  ASSERT_EQ(charts[0].at("series").as_array().size(), 1u);
  const json::value& s0 = charts[0].at("series").as_array()[0];
  EXPECT_EQ(Str(s0.at("val")), q + "$C$2:$C$4");
  EXPECT_EQ(Str(s0.at("cat")), q + "$A$2:$A$4");
  EXPECT_EQ(Str(s0.at("tx")), q + "$C$1");
  // Placed automatically right of the table (8 columns, one apart), then below each other.
  EXPECT_EQ(charts[0].at("col").as_int64(), 9);
  EXPECT_EQ(charts[0].at("row").as_int64(), 1);

  EXPECT_EQ(Str(charts[1].at("type")), "lineChart");
  ASSERT_EQ(charts[1].at("series").as_array().size(), 2u);
  EXPECT_EQ(Str(charts[1].at("series").as_array()[0].at("val")), q + "$B$2:$B$4");
  EXPECT_EQ(Str(charts[1].at("series").as_array()[1].at("val")), q + "$D$2:$D$4");
  EXPECT_EQ(Str(charts[1].at("series").as_array()[1].at("cat")), q + "$E$2:$E$4");
  EXPECT_EQ(charts[1].at("col").as_int64(), 9);
  EXPECT_EQ(charts[1].at("row").as_int64(), 17);  // 1 + 288 px / 20 px per row + 1

  EXPECT_EQ(Str(charts[2].at("type")), "pieChart");
  EXPECT_EQ(Str(charts[2].at("title")), "Parts");
  EXPECT_EQ(charts[2].at("row").as_int64(), 20);
  EXPECT_EQ(charts[2].at("col").as_int64(), 1);

  EXPECT_EQ(Str(charts[3].at("type")), "barChart");
  EXPECT_EQ(Str(charts[3].at("dir")), "bar");
  EXPECT_TRUE(charts[3].at("series").as_array()[0].at("cat").is_null());
  EXPECT_EQ(charts[3].at("row").as_int64(), 33);  // below the second automatic chart

  // A chart over an empty table refers to the first data row (one cell: no range).
  const json::array& delta = SheetNamed(report, "Delta").at("charts").as_array();
  ASSERT_EQ(delta.size(), 1u);
  EXPECT_EQ(Str(delta[0].at("series").as_array()[0].at("val")), "Delta!$B$2");
  EXPECT_EQ(SheetNamed(report, "Plain").at("charts").as_array().size(), 0u);

  // The plotted values are cached in the chart for viewers that do not recalculate.
  const json::object& parts = report.at("parts").as_object();
  ASSERT_TRUE(parts.contains("xl/charts/chart1.xml"));
  EXPECT_THAT(Str(parts.at("xl/charts/chart1.xml")), HasSubstr("<c:numCache>"));
  EXPECT_THAT(Str(parts.at("xl/charts/chart1.xml")), HasSubstr("<c:v>1234.5</c:v>"));
}

// ---------------------------------------------------------------------------------------------
// Size

XlsxReportSheet BigSheet(int rows) {
  XlsxReportSheet sheet{.name = "Données"};
  for (int c = 0; c < 10; ++c) {
    static constexpr XlsxKind kKinds[] = {XlsxKind::kString, XlsxKind::kInteger, XlsxKind::kMoney,
                                          XlsxKind::kDate, XlsxKind::kNumber};
    sheet.columns.push_back({.header = StrCat("Colonne ", c + 1), .kind = kKinds[c % 5]});
  }
  sheet.rows.reserve(rows);
  for (int r = 0; r < rows; ++r) {
    XlsxRow row;
    for (int c = 0; c < 10; ++c) {
      switch (c % 5) {
        case 0:
          row.emplace_back(StrCat("élément ", r, "-", c));
          break;
        case 1:
          row.emplace_back(int64_t{r});
          break;
        case 2:
          row.emplace_back(r * 1.25);
          break;
        case 3:
          row.emplace_back(absl::CivilSecond(2026, 1, 1 + r % 365));
          break;
        default:
          row.emplace_back(r / 7.0);
      }
    }
    sheet.rows.push_back(std::move(row));
  }
  return sheet;
}

TEST(WriteXlsx, TwentyThousandRowsOpen) {
  core::ManualClock clock(kCreated);
  const std::vector<XlsxReportSheet> sheets = {BigSheet(20'000)};
  Result<std::string> bytes = WriteXlsx(sheets, {}, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const json::value report = Inspect(*bytes, "count");
  ASSERT_TRUE(report.is_object());
  const json::value& sheet = report.at("sheets").as_array()[0];
  EXPECT_EQ(Str(sheet.at("name")), "Données");
  EXPECT_EQ(sheet.at("rows").as_int64(), 20'001);
  const json::array& last = sheet.at("last").as_array();
  EXPECT_EQ(Cell(last[0]), "str:élément 19999-0");
  EXPECT_EQ(Cell(last[1]), "int:19999");
  EXPECT_EQ(Cell(last[2]), "float:24998.75");
  EXPECT_EQ(Cell(last[3]), "datetime:2026-10-17T00:00:00");  // day 1 + 19999 % 365
}

// ---------------------------------------------------------------------------------------------
// Text details

TEST(WriteXlsx, KeepsLiteralExcelEscapesAndLongStrings) {
  core::ManualClock clock(kCreated);
  std::string longest;
  for (int i = 0; i < 32'767; ++i) longest += "é";
  const std::vector<XlsxReportSheet> sheets = {
      {.name = "Texte",
       .columns = {{.header = "t"}},
       .rows = {{std::string("_x0041_ and _x00e9_")}, {longest}, {std::string("")}}}};
  Result<std::string> bytes = WriteXlsx(sheets, {}, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const json::value report = Inspect(*bytes);
  ASSERT_TRUE(report.is_object());
  // Excel would read "_x0041_" as "A"; the underscore is written escaped.
  EXPECT_THAT(Str(report.at("parts").at("xl/worksheets/sheet1.xml")),
              HasSubstr("_x005F_x0041_ and _x005F_x00e9_"));
  const json::array& rows = SheetNamed(report, "Texte").at("rows").as_array();
  ASSERT_EQ(rows.size(), 3u);  // the empty string is an empty cell, not a row
  EXPECT_EQ(Cell(rows[2].as_array()[0]), StrCat("str:", longest));
}

TEST(WriteXlsx, CustomNumberFormatsAndCurrency) {
  core::ManualClock clock(kCreated);
  const std::vector<XlsxReportSheet> sheets = {
      {.name = "F",
       .columns = {{.header = "usd", .kind = XlsxKind::kMoney},
                   {.header = "d", .kind = XlsxKind::kDate, .number_format = "dd/mm/yyyy"},
                   {.header = "n", .kind = XlsxKind::kNumber, .number_format = "0.0"}},
       .rows = {{9.99, absl::CivilSecond(2026, 3, 4, 5, 6, 7), 2.25}}}};
  Result<std::string> bytes = WriteXlsx(sheets, {.currency = "$"}, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const json::value report = Inspect(*bytes);
  ASSERT_TRUE(report.is_object());
  const json::object& sheet = SheetNamed(report, "F");
  const json::array& formats = sheet.at("formats").as_array()[1].as_array();
  EXPECT_EQ(Str(formats[0]), "#,##0.00 \"$\"");
  EXPECT_EQ(Str(formats[1]), "dd/mm/yyyy");
  EXPECT_EQ(Str(formats[2]), "0.0");
  // A date column keeps only the day.
  EXPECT_EQ(Cell(sheet.at("rows").as_array()[1].as_array()[1]), "datetime:2026-03-04T00:00:00");
}

TEST(WriteXlsx, LeavesNoTemporaryFiles) {
  core::ManualClock clock(kCreated);
  testing::TempDir dir;
  std::vector<XlsxReportSheet> sheets = {SalesSheet("A"), SalesSheet("B")};
  Result<std::string> bytes = WriteXlsx(sheets, {.temp_dir = dir.path().string()}, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  sheets[0].charts.push_back({.value_columns = {2}});
  bytes = WriteXlsx(sheets, {.temp_dir = dir.path().string()}, clock);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));

  Result<std::string> missing =
      WriteXlsx(sheets, {.temp_dir = (dir.path() / "missing").string()}, clock);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(Message(missing.status()), HasSubstr("cannot create a temporary file"));
}

TEST(WriteXlsx, CreationTimeComesFromTheClock) {
  core::ManualClock clock(kCreated);
  const std::vector<XlsxReportSheet> sheets = {{.name = "S", .columns = {{.header = "h"}}}};
  Result<std::string> first = WriteXlsx(sheets, {}, clock);
  clock.Advance(absl::Hours(24));
  Result<std::string> second = WriteXlsx(sheets, {}, clock);
  ASSERT_TRUE(first.ok() && second.ok());
  const json::value report = Inspect(*second);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(Str(report.at("props").at("created")), "2026-02-04T04:05:06");
  // Nothing else in the file depends on the time.
  clock.Set(kCreated);
  Result<std::string> again = WriteXlsx(sheets, {}, clock);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
}

// ---------------------------------------------------------------------------------------------
// Errors

Status WriteOne(XlsxReportSheet sheet, const XlsxWriteOptions& options = {}) {
  core::ManualClock clock(kCreated);
  const std::vector<XlsxReportSheet> sheets = {std::move(sheet)};
  return WriteXlsx(sheets, options, clock).status();
}

XlsxReportSheet Named(std::string name) {
  return {.name = std::move(name), .columns = {{.header = "h"}}};
}

TEST(WriteXlsx, RejectsSheetNamesExcelRefuses) {
  std::string thirty_one_accents, thirty_two_accents;
  for (int i = 0; i < 31; ++i) thirty_one_accents += "é";
  thirty_two_accents = thirty_one_accents + "é";
  EXPECT_TRUE(WriteOne(Named(thirty_one_accents)).ok());
  EXPECT_TRUE(WriteOne(Named("Rapport d'août (€)")).ok());
  for (const std::string& bad :
       {std::string(), std::string(32, 'a'), thirty_two_accents, std::string("a/b"),
        std::string("a\\b"), std::string("x:y"), std::string("what?"), std::string("*"),
        std::string("[x]"), std::string("'quoted'"), std::string("end'"), std::string("HISTORY"),
        std::string("bad\xff"), std::string("nul\0x", 5)}) {
    Status st = WriteOne(Named(bad));
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(Message(st), HasSubstr("sheet name")) << bad;
  }
  EXPECT_THAT(Message(WriteOne(Named(std::string(40, 'a')))), HasSubstr("more than Excel's 31"));
}

TEST(WriteXlsx, RejectsDuplicateSheetNamesIgnoringCase) {
  core::ManualClock clock(kCreated);
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"Ventes", "VENTES"}, {"Été", "éTÉ"}, {"Œuvre ÿ", "œuvre Ÿ"}, {"Данные", "данные"}}) {
    const std::vector<XlsxReportSheet> sheets = {Named(a), Named(b)};
    Result<std::string> r = WriteXlsx(sheets, {}, clock);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << a << " " << b;
    EXPECT_THAT(Message(r.status()), HasSubstr("ignores case")) << a << " " << b;
  }
  const std::vector<XlsxReportSheet> distinct = {Named("Ventes"), Named("Ventes 2")};
  EXPECT_TRUE(WriteXlsx(distinct, {}, clock).ok());
  EXPECT_EQ(WriteXlsx(std::vector<XlsxReportSheet>{}, {}, clock).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WriteXlsx, RejectsValuesThatDoNotFitTheirColumn) {
  const auto with_value = [](XlsxKind kind, XlsxValue v) {
    XlsxReportSheet sheet{.name = "Ventes",
                          .columns = {{.header = "Produit"}, {.header = "Montant", .kind = kind}},
                          .rows = {{std::string("a"), 1.0}, {std::string("b"), std::move(v)}}};
    sheet.rows[0][1] = XlsxValue();
    return WriteOne(std::move(sheet));
  };
  Status st = with_value(XlsxKind::kMoney, std::string("12"));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(st),
            "sheet \"Ventes\" cell B3 (data row 2, column \"Montant\"): expected a number, got a "
            "string");
  EXPECT_THAT(Message(with_value(XlsxKind::kNumber, std::nan(""))), HasSubstr("not finite"));
  EXPECT_THAT(Message(with_value(XlsxKind::kNumber, std::numeric_limits<double>::infinity())),
              HasSubstr("not finite"));
  EXPECT_THAT(Message(with_value(XlsxKind::kInteger, 2.5)),
              HasSubstr("expected an integer, got 2.5"));
  EXPECT_THAT(Message(with_value(XlsxKind::kInteger, int64_t{1'000'000'000'000'000})),
              HasSubstr("more than 15 digits"));
  EXPECT_TRUE(with_value(XlsxKind::kInteger, int64_t{-kXlsxMaxInteger}).ok());
  EXPECT_TRUE(with_value(XlsxKind::kInteger, 7.0).ok());
  EXPECT_THAT(Message(with_value(XlsxKind::kDate, absl::CivilSecond(1899, 12, 31))),
              HasSubstr("outside Excel's dates"));
  EXPECT_THAT(Message(with_value(XlsxKind::kBoolean, int64_t{1})),
              HasSubstr("expected a boolean, got an integer"));
  EXPECT_THAT(Message(with_value(XlsxKind::kString, true)),
              HasSubstr("expected a string, got a boolean"));
  EXPECT_THAT(Message(with_value(XlsxKind::kString, std::string(32'768, 'x'))),
              HasSubstr("32768 characters long, more than Excel's 32767"));
  std::string astral;  // outside the BMP: two UTF-16 code units each
  for (int i = 0; i < 16'384; ++i) astral += "😀";
  EXPECT_THAT(Message(with_value(XlsxKind::kString, astral)), HasSubstr("32768 characters"));
  EXPECT_THAT(Message(with_value(XlsxKind::kString, std::string("a\0b", 3))), HasSubstr("NUL"));
  EXPECT_THAT(Message(with_value(XlsxKind::kString, std::string("\xc3("))),
              HasSubstr("not valid UTF-8"));

  XlsxReportSheet wide = Named("W");
  wide.rows = {{std::string("a"), std::string("b")}};
  EXPECT_THAT(Message(WriteOne(wide)),
              HasSubstr("sheet \"W\" data row 1: has 2 cells for 1 columns"));
  XlsxReportSheet no_columns{.name = "N"};
  EXPECT_THAT(Message(WriteOne(no_columns)), HasSubstr("columns"));
  XlsxReportSheet too_long = Named("L");
  too_long.rows.resize(static_cast<size_t>(kXlsxMaxRows));
  EXPECT_THAT(Message(WriteOne(too_long)), HasSubstr("1048576 data rows"));
  XlsxReportSheet bad_width = Named("B");
  bad_width.columns[0].width = -1;
  EXPECT_THAT(Message(WriteOne(bad_width)), HasSubstr("width"));
  XlsxReportSheet bad_format = Named("B");
  bad_format.columns[0].number_format = std::string(128, '0');
  EXPECT_THAT(Message(WriteOne(bad_format)), HasSubstr("number format"));
  EXPECT_THAT(Message(WriteOne(Named("O"), {.currency = "\"x"})), HasSubstr("currency"));
  EXPECT_THAT(Message(WriteOne(Named("O"), {.max_auto_width = 0})), HasSubstr("max_auto_width"));
}

TEST(WriteXlsx, RejectsBadCharts) {
  const auto with_chart = [](XlsxChart chart) {
    XlsxReportSheet sheet{.name = "C",
                          .columns = {{.header = "label"},
                                      {.header = "a", .kind = XlsxKind::kNumber},
                                      {.header = "b", .kind = XlsxKind::kMoney}},
                          .charts = {std::move(chart)}};
    return WriteOne(std::move(sheet));
  };
  EXPECT_TRUE(with_chart({.value_columns = {1, 2}}).ok());
  EXPECT_THAT(Message(with_chart({.value_columns = {}})), HasSubstr("chart 1: has no value"));
  EXPECT_THAT(Message(with_chart({.value_columns = {0}})), HasSubstr("is not numeric"));
  EXPECT_THAT(Message(with_chart({.value_columns = {3}})), HasSubstr("out of range"));
  EXPECT_THAT(Message(with_chart({.category_column = 5, .value_columns = {1}})),
              HasSubstr("category column 5 out of range"));
  EXPECT_THAT(Message(with_chart({.type = XlsxChartType::kPie, .value_columns = {1, 2}})),
              HasSubstr("exactly one"));
  EXPECT_THAT(Message(with_chart({.title = "=A1", .value_columns = {1}})), HasSubstr("'='"));
  EXPECT_THAT(Message(with_chart({.value_columns = {1}, .anchor_row = 3})), HasSubstr("anchor"));
  EXPECT_THAT(Message(with_chart({.value_columns = {1}, .width_px = 0})), HasSubstr("size"));
}

// ---------------------------------------------------------------------------------------------
// JSON

XlsxReportSheet JsonSheet() {
  return {.name = "Ventes",
          .columns = {{.header = "Produit"},
                      {.header = "Quantité", .kind = XlsxKind::kInteger},
                      {.header = "Montant", .kind = XlsxKind::kMoney, .json_key = "amount"},
                      {.header = "Jour", .kind = XlsxKind::kDate},
                      {.header = "Heure", .kind = XlsxKind::kDateTime},
                      {.header = "Payé", .kind = XlsxKind::kBoolean}}};
}

TEST(AppendJsonRows, ConvertsArraysAndObjects) {
  XlsxReportSheet sheet = JsonSheet();
  ASSERT_TRUE(AppendJsonRows(json::parse(R"([["a", 1, 2.5, "2026-01-30", "2026-01-30T10:00:00Z",
                                              true]])"),
                             sheet)
                  .ok());
  // A second page appends; offsets go to the zone asked for (here UTC+1).
  Status st = AppendJsonRows(json::parse(R"([
      {"Produit": "b", "Quantité": "7", "amount": "3.10", "Jour": "2026-01-30T23:30:00-02:00",
       "Heure": "2026-01-30T23:30:00.5-02:00", "extra": {}},
      {"Quantité": 4.0, "amount": 18446744073709551615, "Heure": "2026-01-30 08:15"},
      ["c"],
      {"Produit": null, "Heure": "2016-12-31T23:59:60Z"}
    ])"),
                             sheet, absl::FixedTimeZone(3600));
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(sheet.rows.size(), 5u);
  const XlsxRow& a = sheet.rows[0];
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(std::get<std::string>(a[0]), "a");
  EXPECT_EQ(std::get<int64_t>(a[1]), 1);
  EXPECT_EQ(std::get<double>(a[2]), 2.5);
  EXPECT_EQ(std::get<absl::CivilSecond>(a[3]), absl::CivilSecond(2026, 1, 30));
  EXPECT_EQ(std::get<absl::CivilSecond>(a[4]), absl::CivilSecond(2026, 1, 30, 10, 0, 0));
  EXPECT_EQ(std::get<bool>(a[5]), true);
  const XlsxRow& b = sheet.rows[1];
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(std::get<int64_t>(b[1]), 7);
  EXPECT_EQ(std::get<double>(b[2]), 3.1);
  // 23:30 at -02:00 is 02:30 the next day at +01:00; a date column keeps the day.
  EXPECT_EQ(std::get<absl::CivilSecond>(b[3]), absl::CivilSecond(2026, 1, 31));
  EXPECT_EQ(std::get<absl::CivilSecond>(b[4]), absl::CivilSecond(2026, 1, 31, 2, 30, 0));
  EXPECT_EQ(b[5].index(), 0u);  // absent
  const XlsxRow& c = sheet.rows[2];
  EXPECT_EQ(std::get<int64_t>(c[1]), 4);
  EXPECT_EQ(std::get<double>(c[2]), 18446744073709551615.0);
  EXPECT_EQ(std::get<absl::CivilSecond>(c[4]), absl::CivilSecond(2026, 1, 30, 8, 15, 0));
  EXPECT_EQ(sheet.rows[3].size(), 1u);
  EXPECT_EQ(sheet.rows[4][0].index(), 0u);
  // A leap second becomes the next minute's first second.
  EXPECT_EQ(std::get<absl::CivilSecond>(sheet.rows[4][4]), absl::CivilSecond(2017, 1, 1, 1, 0, 0));
}

TEST(AppendJsonRows, ErrorsNameSheetCellRowAndColumnAndChangeNothing) {
  XlsxReportSheet sheet = JsonSheet();
  ASSERT_TRUE(AppendJsonRows(json::parse(R"([["a"]])"), sheet).ok());
  const auto error = [&](std::string_view rows) {
    Status st = AppendJsonRows(json::parse(rows), sheet);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << rows;
    EXPECT_EQ(sheet.rows.size(), 1u);
    return Message(st);
  };
  EXPECT_EQ(error(R"([{"Produit": "ok"}, {"amount": "douze"}])"),
            "sheet \"Ventes\" cell C4 (data row 3, column \"Montant\"): expected a number, got "
            "the string \"douze\"");
  EXPECT_EQ(error(R"([{"Produit": 12}])"),
            "sheet \"Ventes\" cell A3 (data row 2, column \"Produit\"): expected a string, got a "
            "number");
  EXPECT_THAT(error(R"([{"Quantité": 2.5}])"), HasSubstr("expected an integer, got 2.5"));
  EXPECT_THAT(error(R"([{"Quantité": 12345678901234567}])"), HasSubstr("more than 15 digits"));
  EXPECT_THAT(error(R"([{"Jour": "2026-02-30"}])"),
              HasSubstr("column \"Jour\"): expected a date (YYYY-MM-DD or RFC 3339), got "
                        "\"2026-02-30\""));
  EXPECT_THAT(error(R"([{"Jour": "30/01/2026"}])"), HasSubstr("expected a date"));
  EXPECT_THAT(error(R"([{"Heure": "2026-01-30T25:00:00Z"}])"), HasSubstr("expected a date-time"));
  EXPECT_THAT(error(R"([{"Heure": "2026-01-30T10:00:00+0100"}])"),
              HasSubstr("expected a date-time"));
  EXPECT_THAT(error(R"([{"Jour": "1899-12-31"}])"), HasSubstr("outside Excel's dates"));
  EXPECT_THAT(error(R"([{"Payé": "yes"}])"), HasSubstr("expected a boolean, got a string"));
  EXPECT_THAT(error(R"([{"amount": "NaN"}])"), HasSubstr("not finite"));
  EXPECT_THAT(error(R"([{"amount": [1]}])"), HasSubstr("expected a number, got an array"));
  EXPECT_EQ(error(R"([[1, 2, 3, 4, 5, 6, 7]])"),
            "sheet \"Ventes\" data row 2: has 7 values for 6 columns");
  EXPECT_EQ(error(R"(["row"])"),
            "sheet \"Ventes\" data row 2: expected an array or an object, got a string");
  EXPECT_EQ(error(R"({"rows": []})"), "sheet \"Ventes\": rows must be a JSON array, got an object");
}

}  // namespace
}  // namespace herald::docs
