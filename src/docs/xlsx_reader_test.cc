#include "docs/xlsx_reader.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "boost/json.hpp"
#include "core/strings.h"
#include "core/testing/run_tool.h"
#include "core/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "xlsxwriter.h"

namespace herald::docs {
namespace {

using ::testing::HasSubstr;
using Kind = ColumnSpec::Kind;

// Debian's Python, which has python3-openpyxl (another python3 may come first in PATH).
constexpr char kPython[] = "/usr/bin/python3";

// Helpers for the test scripts. OUT is where a script writes its workbook. package() writes a
// hand-made workbook: no [Content_Types].xml, sharedStrings.xml and styles.xml only if given,
// `parts` added or replaced, `skip` left out.
constexpr std::string_view kPrelude = R"PY(
import datetime, sys, zipfile
OUT = sys.argv[1]
MAIN = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
PKG = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'

def sheet(rows, extra=''):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet {MAIN}>{extra}<sheetData>{rows}</sheetData></worksheet>')

def package(sheets, strings=None, styles=None, workbook_pr='', parts=None, skip=(),
            compression=zipfile.ZIP_DEFLATED):
    files = {'_rels/.rels': f'<Relationships {PKG}><Relationship Id="rId1" '
                            f'Type="{REL}officeDocument" Target="xl/workbook.xml"/></Relationships>'}
    entries = ''.join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                      for i, (n, _) in enumerate(sheets))
    files['xl/workbook.xml'] = (f'<workbook {MAIN}><workbookPr {workbook_pr}/>'
                                f'<sheets>{entries}</sheets></workbook>')
    rels = ''.join(f'<Relationship Id="rId{i + 1}" Type="{REL}worksheet" '
                   f'Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(sheets)))
    if strings is not None:
        rels += f'<Relationship Id="rIdS" Type="{REL}sharedStrings" Target="sharedStrings.xml"/>'
        files['xl/sharedStrings.xml'] = f'<sst {MAIN}>{strings}</sst>'
    if styles is not None:
        rels += f'<Relationship Id="rIdT" Type="{REL}styles" Target="styles.xml"/>'
        files['xl/styles.xml'] = f'<styleSheet {MAIN}>{styles}</styleSheet>'
    files['xl/_rels/workbook.xml.rels'] = f'<Relationships {PKG}>{rels}</Relationships>'
    for i, (_, xml) in enumerate(sheets):
        files[f'xl/worksheets/sheet{i + 1}.xml'] = xml
    files.update(parts or {})
    with zipfile.ZipFile(OUT, 'w', compression) as z:
        for name, data in files.items():
            if name not in skip:
                z.writestr(name, data)

def inline(text):
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'
)PY";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `script` after kPrelude and returns the file it wrote to OUT. Fails the test (rather
// than skipping it) if python3 or openpyxl is missing.
std::string Build(std::string_view script) {
  testing::TempDir dir;
  const std::string path = dir.File("book.xlsx");
  const testing::ToolRun run = testing::RunTool({kPython, "-c", StrCat(kPrelude, script), path});
  EXPECT_EQ(run.exit_code, 0) << "python3 with openpyxl failed: " << run.err;
  return ReadBytes(path);
}

// A workbook with one sheet, "Orders", holding `rows` (sheetData XML); `more` adds arguments to
// package().
std::string OneSheet(std::string_view rows, std::string_view more = "") {
  return Build(StrCat("package([('Orders', sheet(r'''", rows, "'''))]", more, ")\n"));
}

std::string Repeat(std::string_view s, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += s;
  return out;
}

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

// The message of a read that must fail with InvalidArgument.
std::string ReadError(const std::string& bytes, const XlsxLimits& limits = {}) {
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes, limits);
  if (workbook.ok()) {
    ADD_FAILURE() << "the read succeeded";
    return {};
  }
  EXPECT_EQ(workbook.status().code(), absl::StatusCode::kInvalidArgument) << workbook.status();
  return Message(workbook.status());
}

// The cell's value as a short string, for compact expectations: "s:text", "n:12.5", "b:1",
// "d:2024-03-05T14:20:00", "e:#N/A", or "-" for no cell.
std::string Show(const XlsxSheet& sheet, uint32_t row, uint32_t column) {
  const XlsxCell* c = sheet.Find(row, column);
  if (c == nullptr) return "-";
  switch (c->type) {
    case XlsxType::kString:
      return StrCat("s:", c->text);
    case XlsxType::kNumber:
      return StrCat("n:", c->number);
    case XlsxType::kBool:
      return StrCat("b:", c->boolean() ? 1 : 0);
    case XlsxType::kDateTime:
      return StrCat("d:", absl::FormatCivilTime(c->DateTime()));
    case XlsxType::kError:
      return StrCat("e:", c->text);
    case XlsxType::kEmpty:
      break;
  }
  return "empty";
}

// ---------------------------------------------------------------------------------------------
// Reading cells

TEST(XlsxReader, ReadsWorkbookWrittenByOpenpyxl) {
  const std::string bytes = Build(R"PY(
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = 'Commandes'
ws.append(['Produit', 'Quantité', 'Prix €', 'Payé', 'Livraison', 'Créée le'])
ws.append(['Café «moulu»', 3, 12.5, True, datetime.date(2024, 3, 5),
           datetime.datetime(2024, 3, 5, 14, 20, 0)])
ws.append(['Thé vert', -2, 0.001, False, datetime.date(1900, 1, 1),
           datetime.datetime(1999, 12, 31, 23, 59, 59)])
ws['A5'] = 'après un trou'
ws['D5'] = 1234567890123
ws['F6'] = 'x'
for ref, value, fmt in [('B7', 45356, 'dd/mm/yyyy'), ('C7', 0.25, 'h:mm'),
                        ('D7', 1.5, '[h]:mm'), ('E7', 12.5, '0.00 "€"'),
                        ('F7', 3, '[Red]0.00'), ('G7', 45356.5, 'd mmmm yyyy hh:mm')]:
    ws[ref] = value
    ws[ref].number_format = fmt
ws2 = wb.create_sheet('Feuil 2')
ws2['D10'] = 'seul'
ws3 = wb.create_sheet('Cachée')
ws3.sheet_state = 'hidden'
ws3['A1'] = 1
wb.save(OUT)
)PY");
  Result<XlsxWorkbook> read = ReadXlsx(bytes);
  ASSERT_TRUE(read.ok()) << read.status();
  // Cell texts view into the workbook, which may move.
  const XlsxWorkbook workbook = std::move(*read);
  ASSERT_EQ(workbook.sheets().size(), 3u);
  EXPECT_FALSE(workbook.date1904());
  const XlsxSheet& s = workbook.sheets()[0];
  EXPECT_EQ(s.name, "Commandes");
  EXPECT_FALSE(s.hidden);
  EXPECT_EQ(workbook.sheets()[1].name, "Feuil 2");
  EXPECT_TRUE(workbook.sheets()[2].hidden);
  EXPECT_EQ(workbook.FirstVisibleSheet(), &s);
  EXPECT_EQ(workbook.FindSheet("COMMANDES"), &s);
  EXPECT_EQ(workbook.FindSheet("CACHÉE"), &workbook.sheets()[2]);
  EXPECT_EQ(workbook.FindSheet("Nope"), nullptr);

  EXPECT_EQ(Show(s, 1, 2), "s:Quantité");
  EXPECT_EQ(Show(s, 1, 3), "s:Prix €");
  EXPECT_EQ(Show(s, 2, 1), "s:Café «moulu»");
  EXPECT_EQ(Show(s, 2, 2), "n:3");
  EXPECT_EQ(Show(s, 2, 3), "n:12.5");
  EXPECT_EQ(Show(s, 2, 4), "b:1");
  EXPECT_EQ(Show(s, 2, 5), "d:2024-03-05T00:00:00");
  EXPECT_EQ(Show(s, 2, 6), "d:2024-03-05T14:20:00");
  EXPECT_EQ(Show(s, 3, 2), "n:-2");
  EXPECT_EQ(Show(s, 3, 3), "n:0.001");
  EXPECT_EQ(Show(s, 3, 4), "b:0");
  EXPECT_EQ(Show(s, 3, 5), "d:1900-01-01T00:00:00");
  EXPECT_EQ(Show(s, 3, 6), "d:1999-12-31T23:59:59");
  // Gaps: row 4 is empty, B5 and C5 too.
  EXPECT_EQ(Show(s, 4, 1), "-");
  EXPECT_EQ(Show(s, 5, 1), "s:après un trou");
  EXPECT_EQ(Show(s, 5, 2), "-");
  EXPECT_EQ(Show(s, 5, 4), "n:1234567890123");
  EXPECT_EQ(Show(s, 6, 6), "s:x");
  // Number formats: a custom date, a time of day, a duration and two non-dates.
  EXPECT_EQ(Show(s, 7, 2), "d:2024-03-05T00:00:00");
  EXPECT_EQ(Show(s, 7, 3), "d:1899-12-30T06:00:00");
  EXPECT_EQ(s.Find(7, 3)->number, 0.25);
  EXPECT_EQ(Show(s, 7, 4), "n:1.5");
  EXPECT_EQ(Show(s, 7, 5), "n:12.5");
  EXPECT_EQ(Show(s, 7, 6), "n:3");
  EXPECT_EQ(Show(s, 7, 7), "d:2024-03-05T12:00:00");
  EXPECT_EQ(s.cells.size(), 27u);

  const XlsxSheet& s2 = workbook.sheets()[1];
  ASSERT_EQ(s2.cells.size(), 1u);
  EXPECT_EQ(s2.cells[0].row, 10u);
  EXPECT_EQ(s2.cells[0].column, 4);
  EXPECT_EQ(Show(s2, 10, 4), "s:seul");
}

// Debian's openpyxl writes inline strings; libxlsxwriter, like Excel, writes a shared string
// table (with rich text runs) and cached formula results.
TEST(XlsxReader, ReadsWorkbookWrittenByLibxlsxwriter) {
  testing::TempDir dir;
  const std::string path = dir.File("lxw.xlsx");
  lxw_workbook* wb = workbook_new(path.c_str());
  ASSERT_NE(wb, nullptr);
  lxw_worksheet* ws = workbook_add_worksheet(wb, "Tarifs");
  lxw_format* date = workbook_add_format(wb);
  format_set_num_format(date, "dd/mm/yyyy hh:mm");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  worksheet_write_string(ws, 0, 0, "Prix en €", nullptr);
  worksheet_write_string(ws, 0, 1, "«Spécial»", nullptr);
  worksheet_write_string(ws, 1, 0, "Prix en €", nullptr);
  worksheet_write_number(ws, 1, 1, 12.5, nullptr);
  worksheet_write_boolean(ws, 1, 2, 1, nullptr);
  lxw_datetime when = {2024, 3, 5, 14, 20, 0};
  worksheet_write_datetime(ws, 1, 3, &when, date);
  worksheet_write_formula_num(ws, 2, 0, "=B2*2", nullptr, 25);
  worksheet_write_formula_str(ws, 2, 1, "=UPPER(\"é\")", nullptr, "É");
  worksheet_write_blank(ws, 2, 2, bold);
  char gras[] = "Gras", normal[] = " et normal";
  lxw_rich_string_tuple first = {bold, gras}, second = {nullptr, normal};
  lxw_rich_string_tuple* rich[] = {&first, &second, nullptr};
  worksheet_write_rich_string(ws, 3, 0, rich, nullptr);
  workbook_add_worksheet(wb, "Vide");
  ASSERT_EQ(workbook_close(wb), LXW_NO_ERROR);

  const std::string bytes = ReadBytes(path);
  ASSERT_NE(bytes.find("xl/sharedStrings.xml"), std::string::npos);
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  ASSERT_EQ(workbook->sheets().size(), 2u);
  const XlsxSheet& s = workbook->sheets()[0];
  EXPECT_EQ(Show(s, 1, 1), "s:Prix en €");
  EXPECT_EQ(Show(s, 1, 2), "s:«Spécial»");
  EXPECT_EQ(Show(s, 2, 1), "s:Prix en €");
  EXPECT_EQ(Show(s, 2, 2), "n:12.5");
  EXPECT_EQ(Show(s, 2, 3), "b:1");
  EXPECT_EQ(Show(s, 2, 4), "d:2024-03-05T14:20:00");
  EXPECT_EQ(Show(s, 3, 1), "n:25");
  EXPECT_EQ(Show(s, 3, 2), "s:É");
  EXPECT_EQ(Show(s, 3, 3), "-");
  EXPECT_EQ(Show(s, 4, 1), "s:Gras et normal");
  EXPECT_EQ(s.cells.size(), 9u);
  EXPECT_TRUE(workbook->sheets()[1].cells.empty());
}

TEST(XlsxReader, ReadsEveryKindOfCell) {
  const std::string bytes = Build(R"PY(
rows = (
    '<row r="1">'
    '<c r="A1" t="inlineStr"><is><t xml:space="preserve">  espace </t></is></c>'
    '<c r="B1" t="inlineStr"><is><r><t>Gr</t></r><r><rPr><b/></rPr><t>as</t></r>'
    '<rPh sb="0" eb="1"><t>ignored</t></rPh></is></c>'
    '<c r="C1" t="inlineStr"><is><t>a_x000D_b _x005F_x000D_ _xD83D__xDE00_ _xD800_ _x00e9_ _x12</t></is></c>'
    '<c r="D1" t="str"><f>UPPER("x")</f><v>X</v></c>'
    '<c r="E1"><f>1+1</f><v>2</v></c>'
    '<c r="F1"><f>SUM(A9:A10)</f></c>'
    '<c r="G1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
    '<c r="H1" t="b"><v>1</v></c>'
    '<c r="I1" t="d"><v>2024-03-05T14:20:00</v></c>'
    '<c r="J1" t="d"><v>2024-03-05</v></c>'
    '<c r="K1" t="n"><v> -1.5E3 </v></c>'
    '<c r="L1" t="inlineStr"><is><t>&lt;&amp;&gt; &#233;<![CDATA[<cdata>]]></t></is></c>'
    '<c r="M1" t="str"><v></v></c>'
    '<c r="N1" t="e"><v>#N/A</v></c>'
    '<c r="O1" t="b"><v>false</v></c>'
    '</row>'
    '<row><c><v>1</v></c><c><v>2</v></c><c r="E2"><v>5</v></c><c><v>6</v></c></row>'
    '<row r="4" spans="1:2"><c r="A4" s="3"/><c r="B4"><v></v></c></row>'
    '<row><c r="A5" t="inlineStr"><is><t>cinq</t></is></c></row>')
prefixed = ('<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<x:sheetData><x:row r="2"><x:c r="B2" t="inlineStr"><x:is><x:t>préfixe</x:t>'
            '</x:is></x:c></x:row></x:sheetData></x:worksheet>')
wb_rels = (f'<Relationships {PKG}>'
           f'<Relationship Id="rId1" Type="{REL}worksheet" Target="/xl/worksheets/sheet1.xml"/>'
           f'<Relationship Id="rId2" Type="{REL}chartsheet" Target="chartsheets/sheet1.xml"/>'
           f'<Relationship Id="rId3" Type="{REL}worksheet" Target="./worksheets/../worksheets/p.xml"/>'
           f'<Relationship Id="rId9" Type="{REL}hyperlink" Target="http://x" TargetMode="External"/>'
           '</Relationships>')
workbook = (f'<workbook {MAIN}><sheets><sheet name="Cellules" sheetId="1" r:id="rId1"/>'
            '<sheet name="Graphique" sheetId="2" r:id="rId2"/>'
            '<sheet name="Préfixes" sheetId="3" r:id="rId3"/></sheets></workbook>')
package([('Cellules', sheet(rows))],
        parts={'xl/workbook.xml': workbook, 'xl/_rels/workbook.xml.rels': wb_rels,
               'xl/worksheets/p.xml': prefixed})
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  ASSERT_EQ(workbook->sheets().size(), 2u);  // the chart sheet is skipped
  const XlsxSheet& s = workbook->sheets()[0];
  EXPECT_EQ(Show(s, 1, 1), "s:  espace ");
  EXPECT_EQ(Show(s, 1, 2), "s:Gras");
  EXPECT_EQ(Show(s, 1, 3), "s:a\rb _x000D_ \xF0\x9F\x98\x80 \xEF\xBF\xBD \xC3\xA9 _x12");
  EXPECT_EQ(Show(s, 1, 4), "s:X");
  EXPECT_EQ(Show(s, 1, 5), "n:2");
  EXPECT_EQ(Show(s, 1, 6), "-");  // a formula never calculated
  EXPECT_EQ(Show(s, 1, 7), "e:#DIV/0!");
  EXPECT_EQ(Show(s, 1, 8), "b:1");
  EXPECT_EQ(Show(s, 1, 9), "d:2024-03-05T14:20:00");
  EXPECT_EQ(Show(s, 1, 10), "d:2024-03-05T00:00:00");
  EXPECT_EQ(Show(s, 1, 11), "n:-1500");
  EXPECT_EQ(Show(s, 1, 12), "s:<&> \xC3\xA9<cdata>");
  EXPECT_EQ(Show(s, 1, 13), "s:");
  EXPECT_EQ(Show(s, 1, 14), "e:#N/A");
  EXPECT_EQ(Show(s, 1, 15), "b:0");
  // Cells and rows without a reference take the next position.
  EXPECT_EQ(Show(s, 2, 1), "n:1");
  EXPECT_EQ(Show(s, 2, 2), "n:2");
  EXPECT_EQ(Show(s, 2, 5), "n:5");
  EXPECT_EQ(Show(s, 2, 6), "n:6");
  EXPECT_EQ(Show(s, 4, 1), "-");  // formatted but empty
  EXPECT_EQ(Show(s, 4, 2), "-");
  EXPECT_EQ(Show(s, 5, 1), "s:cinq");
  EXPECT_EQ(s.cells.size(), 19u);

  const XlsxSheet& p = workbook->sheets()[1];
  EXPECT_EQ(p.name, "Préfixes");
  EXPECT_EQ(Show(p, 2, 2), "s:préfixe");
}

TEST(XlsxReader, ReadsRichTextSharedStrings) {
  const std::string bytes = Build(R"PY(
strings = ('<si><t>Simple</t></si>'
           '<si><r><rPr><b/></rPr><t>Gras</t></r><r><t xml:space="preserve"> et </t></r>'
           '<r><rPr><i/></rPr><t>italique</t></r><rPh sb="0" eb="4"><t>グラ</t></rPh>'
           '<phoneticPr fontId="1"/></si>'
           '<si><t/></si>'
           '<si><t xml:space="preserve"> </t></si>'
           '<si><t>Prix en €, «guillemets», ligne_x000A_suivante</t></si>')
rows = '<row r="1">' + ''.join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate('ABCDE')) + '</row>'
package([('Orders', sheet(rows))], strings=strings)
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const XlsxSheet& s = workbook->sheets()[0];
  EXPECT_EQ(Show(s, 1, 1), "s:Simple");
  EXPECT_EQ(Show(s, 1, 2), "s:Gras et italique");
  EXPECT_EQ(Show(s, 1, 3), "s:");
  EXPECT_EQ(Show(s, 1, 4), "s: ");
  EXPECT_EQ(Show(s, 1, 5), "s:Prix en €, «guillemets», ligne\nsuivante");
}

TEST(XlsxReader, ReadsUtf16Parts) {
  const std::string bytes = Build(R"PY(
strings = ('<?xml version="1.0" encoding="UTF-16"?>'
           f'<sst {MAIN}><si><t>Été</t></si></sst>').encode('utf-16')
package([('Orders', sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))], strings='',
        parts={'xl/sharedStrings.xml': strings})
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  EXPECT_EQ(Show(workbook->sheets()[0], 1, 1), "s:Été");
}

TEST(XlsxReader, Honours1904DateSystem) {
  const std::string bytes = Build(R"PY(
import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904
wb = openpyxl.Workbook()
wb.epoch = CALENDAR_MAC_1904
ws = wb.active
ws['A1'] = datetime.date(2024, 3, 5)
ws['A2'] = datetime.time(12, 0, 0)
ws['A3'] = datetime.datetime(1904, 1, 2, 6, 0, 0)
wb.save(OUT)
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  EXPECT_TRUE(workbook->date1904());
  const XlsxSheet& s = workbook->sheets()[0];
  EXPECT_EQ(Show(s, 1, 1), "d:2024-03-05T00:00:00");
  EXPECT_EQ(s.Find(1, 1)->number, 45356);  // the same value as in the 1900 system
  // A time of day (a serial below 1) is the same in both systems.
  EXPECT_EQ(Show(s, 2, 1), "d:1899-12-30T12:00:00");
  EXPECT_EQ(Show(s, 3, 1), "d:1904-01-02T06:00:00");
}

TEST(XlsxReader, ConvertsSerialsWithExcelsLeapYearBug) {
  // Excel's 1900 system counts a 1900-02-29 that never was (serial 60).
  const std::string bytes =
      OneSheet(R"(<row r="1"><c r="A1" s="1"><v>1</v></c><c r="B1" s="1"><v>59</v></c>)"
               R"(<c r="C1" s="1"><v>60</v></c><c r="D1" s="1"><v>61</v></c>)"
               R"(<c r="E1" s="1"><v>0.5</v></c><c r="F1" s="1"><v>45356.75</v></c>)"
               R"(<c r="G1" s="1"><v>-1</v></c><c r="H1" s="1"><v>2958465</v></c>)"
               R"(<c r="I1" s="1"><v>2958466</v></c><c r="J1" s="1"><v>0.59722222222222221</v></c>)"
               R"(<c r="K1" s="1"><v>0</v></c><c r="L1" s="1"><v>45356.999999999</v></c></row>)",
               R"(, styles='<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="22"/></cellXfs>')");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const XlsxSheet& s = workbook->sheets()[0];
  EXPECT_EQ(Show(s, 1, 1), "d:1900-01-01T00:00:00");
  EXPECT_EQ(Show(s, 1, 2), "d:1900-02-28T00:00:00");
  EXPECT_EQ(Show(s, 1, 3), "n:60");  // no such day
  EXPECT_EQ(Show(s, 1, 4), "d:1900-03-01T00:00:00");
  EXPECT_EQ(Show(s, 1, 5), "d:1899-12-30T12:00:00");  // a time of day
  EXPECT_EQ(Show(s, 1, 6), "d:2024-03-05T18:00:00");
  EXPECT_EQ(Show(s, 1, 7), "n:-1");
  EXPECT_EQ(Show(s, 1, 8), "d:9999-12-31T00:00:00");
  EXPECT_EQ(Show(s, 1, 9), "n:2958466");
  EXPECT_EQ(Show(s, 1, 10), "d:1899-12-30T14:20:00");  // rounded to the second
  EXPECT_EQ(Show(s, 1, 11), "d:1899-12-30T00:00:00");
  EXPECT_EQ(Show(s, 1, 12), "d:2024-03-06T00:00:00");
}

TEST(XlsxReader, DetectsDateFormats) {
  const std::string bytes = Build(R"PY(
import html
formats = ['yyyy-mm-dd', '[$-40C]d mmmm yyyy', '0.00" d"', '[Red]#,##0.00', '[h]:mm:ss',
           'General', '#,##0\\ \\m', 'hh:mm AM/PM', '_(* #,##0_)', '[mm]:ss', 'DD/MM/YYYY',
           '@', '0.00E+00', '[Blue][>=100]0;[Red]0']
builtin = [14, 22, 45, 46, 47, 2, 0, 27, 49]
num_fmts = ''.join(f'<numFmt numFmtId="{164 + i}" formatCode="{html.escape(f)}"/>'
                   for i, f in enumerate(formats))
# A numFmt may redefine a built-in id.
num_fmts += '<numFmt numFmtId="15" formatCode="0.00"/>'
ids = [164 + i for i in range(len(formats))] + builtin + [15]
xfs = ''.join(f'<xf numFmtId="{i}"/>' for i in ids)
styles = f'<numFmts>{num_fmts}</numFmts><cellXfs>{xfs}</cellXfs>'
cells = ''.join(f'<c s="{s}"><v>45356.5</v></c>' for s in range(len(ids) + 1))
package([('Orders', sheet(f'<row>{cells}</row>'))], styles=styles)
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const XlsxSheet& s = workbook->sheets()[0];
  std::string kinds;
  for (const XlsxCell& c : s.cells) kinds += c.type == XlsxType::kDateTime ? 'D' : 'n';
  // The custom formats in order, then the built-in ids, the redefined 15, and a style index
  // past the end of cellXfs (General).
  EXPECT_EQ(kinds, StrCat("DDnnnnnDnnDnnn", "DDDnDnnDn", "n", "n"));
}

TEST(XlsxReader, KeepsSheetsSparse) {
  const std::string bytes = Build(R"PY(
rows = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
package([('Orders', sheet(rows, extra='<dimension ref="A1:XFD1048576"/>'))])
)PY");
  const absl::Time start = absl::Now();
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const XlsxSheet& s = workbook->sheets()[0];
  ASSERT_EQ(s.cells.size(), 1u);
  EXPECT_EQ(s.cells[0].row, 1048576u);
  EXPECT_EQ(s.cells[0].column, 16384);
  EXPECT_EQ(XlsxColumnName(s.cells[0].column), "XFD");
}

TEST(XlsxReader, NamesColumns) {
  EXPECT_EQ(XlsxColumnName(1), "A");
  EXPECT_EQ(XlsxColumnName(26), "Z");
  EXPECT_EQ(XlsxColumnName(27), "AA");
  EXPECT_EQ(XlsxColumnName(702), "ZZ");
  EXPECT_EQ(XlsxColumnName(703), "AAA");
  EXPECT_EQ(XlsxColumnName(16384), "XFD");
}

// ---------------------------------------------------------------------------------------------
// Bad input

TEST(XlsxReader, RefusesWhatIsNotAnXlsxFile) {
  EXPECT_EQ(ReadError(""), "not an .xlsx file (not a zip archive)");
  EXPECT_EQ(ReadError("Produit;Quantité\nChaise;3\n"), "not an .xlsx file (not a zip archive)");
  EXPECT_THAT(ReadError(std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") + std::string(600, '\0')),
              HasSubstr("old .xls workbook or a password-protected one"));
  EXPECT_EQ(ReadError(Build("zipfile.ZipFile(OUT, 'w').writestr('hello.txt', 'hi')\n")),
            "not an .xlsx file (no xl/workbook.xml in the zip archive)");
  EXPECT_EQ(ReadError(Build("zipfile.ZipFile(OUT, 'w').writestr('word/document.xml', '<w/>')\n")),
            "not an .xlsx file: this is a Word document");
  XlsxLimits small;
  small.max_input_bytes = 100;
  EXPECT_EQ(ReadError(std::string(101, 'x'), small), "the file is larger than the 100 bytes limit");
}

TEST(XlsxReader, RefusesTruncatedAndCorruptArchives) {
  const std::string bytes = OneSheet(R"(<row r="1"><c r="A1"><v>1</v></c></row>)");
  ASSERT_TRUE(ReadXlsx(bytes).ok());
  for (size_t size = 0; size < bytes.size(); size += 1 + bytes.size() / 40) {
    EXPECT_FALSE(ReadXlsx(bytes.substr(0, size)).ok()) << size;
  }
  EXPECT_THAT(ReadError(bytes.substr(0, bytes.size() / 2)),
              HasSubstr("damaged .xlsx file: the zip archive is truncated or corrupt"));
  // Flipped bytes anywhere: an error (bad CRC, bad deflate stream, bad XML...) or, where the
  // byte does not matter, a good read; never a crash.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    const Result<XlsxWorkbook> workbook = ReadXlsx(bad);
    if (!workbook.ok()) {
      EXPECT_EQ(workbook.status().code(), absl::StatusCode::kInvalidArgument) << i;
    }
  }
}

TEST(XlsxReader, RefusesMissingParts) {
  const std::string rows = R"(<row r="1"><c r="A1"><v>1</v></c></row>)";
  EXPECT_EQ(ReadError(OneSheet(rows, ", skip=['xl/workbook.xml']")),
            "not an .xlsx file (no xl/workbook.xml in the zip archive)");
  EXPECT_EQ(ReadError(OneSheet(rows, ", skip=['xl/worksheets/sheet1.xml']")),
            "damaged .xlsx file: sheet 'Orders' (xl/worksheets/sheet1.xml) is missing");
  EXPECT_EQ(ReadError(OneSheet(rows, ", skip=['xl/_rels/workbook.xml.rels']")),
            "damaged .xlsx file: xl/_rels/workbook.xml.rels is missing");
  // The package relationships are optional: the workbook is then at its usual place.
  EXPECT_TRUE(ReadXlsx(OneSheet(rows, ", skip=['_rels/.rels']")).ok());
}

TEST(XlsxReader, RefusesMalformedXml) {
  EXPECT_THAT(ReadError(OneSheet(R"(<row r="1"><c r="A1"><v>1</v></row>)")),
              HasSubstr("xl/worksheets/sheet1.xml is not valid XML (Start-end tags mismatch"));
  EXPECT_THAT(ReadError(OneSheet("<row/>", ", parts={'xl/workbook.xml': '<workbook><sheets>'}")),
              HasSubstr("xl/workbook.xml is not valid XML"));
  EXPECT_THAT(ReadError(OneSheet("<row/>", ", strings='<si><t>a</si>'")),
              HasSubstr("xl/sharedStrings.xml is not valid XML"));
  EXPECT_EQ(ReadError(OneSheet("<row/>", ", parts={'xl/worksheets/sheet1.xml': '<html/>'}")),
            "xl/worksheets/sheet1.xml is not a worksheet");
}

TEST(XlsxReader, RefusesZipBombs) {
  // 8 MiB of spaces deflate to about 8 KiB: far above 200:1, refused after 1 MiB.
  const std::string bomb =
      OneSheet("<row/>", ", parts={'xl/worksheets/sheet1.xml': sheet('<row/>') + ' ' * (8 << 20)}");
  EXPECT_LT(bomb.size(), 100'000u);
  EXPECT_EQ(ReadError(bomb), "xl/worksheets/sheet1.xml: compression ratio above 200:1 (zip bomb?)");
  // Below ratio_check_bytes a part may compress as well as it likes.
  const std::string small = OneSheet(
      "<row/>", ", parts={'xl/worksheets/sheet1.xml': sheet('<row/>') + ' ' * (512 << 10)}");
  EXPECT_TRUE(ReadXlsx(small).ok());

  // Sizes in the zip headers are not believed: claim 100 bytes for the bomb.
  std::string lying = bomb;
  const std::string name = "xl/worksheets/sheet1.xml";
  for (size_t at = lying.find(name); at != std::string::npos; at = lying.find(name, at + 1)) {
    const bool central = at >= 46 && lying.compare(at - 46, 4, "PK\x01\x02") == 0;
    const size_t size_field = central ? at - 46 + 24 : at - 30 + 22;
    lying.replace(size_field, 4, std::string("\x64\0\0\0", 4));
  }
  EXPECT_THAT(ReadError(lying), ::testing::AnyOf(HasSubstr("zip bomb"), HasSubstr("damaged")));

  // Without compression, the size limits apply.
  XlsxLimits limits;
  limits.max_part_bytes = 1 << 20;
  const std::string stored =
      OneSheet("<row/>",
               ", parts={'xl/worksheets/sheet1.xml': sheet('<row/>') + ' ' * (2 << 20)}, "
               "compression=zipfile.ZIP_STORED");
  EXPECT_EQ(ReadError(stored, limits), "xl/worksheets/sheet1.xml is larger than the 1 MiB limit");
  limits.max_part_bytes = 1 << 20;
  limits.max_total_bytes = 1 << 20;
  const std::string two = Build(R"PY(
big = sheet('<row/>') + ' ' * (600 << 10)
package([('A', big), ('B', big)], compression=zipfile.ZIP_STORED)
)PY");
  EXPECT_EQ(ReadError(two, limits), "the workbook is larger than the 1 MiB limit (uncompressed)");
}

TEST(XlsxReader, RefusesWhatExceedsTheLimits) {
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="1048577"><c><v>1</v></c></row>)")),
            "sheet 'Orders': row 1048577 is beyond the limit of 1048576 rows");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="3"><c r="XFE3"><v>1</v></c></row>)")),
            "sheet 'Orders': cell XFE3 is beyond the limit of 16384 columns (XFD)");

  XlsxLimits limits;
  limits.max_rows = 100;
  limits.max_columns = 26;
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="101"/>)"), limits),
            "sheet 'Orders': row 101 is beyond the limit of 100 rows");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="2"><c r="Z2"/><c/></row>)"), limits),
            "sheet 'Orders': cell AA2 is beyond the limit of 26 columns (Z)");

  // Text between elements is a node of its own in pugixml's DOM, and counts.
  limits = {};
  limits.max_xml_nodes = 50;
  EXPECT_EQ(ReadError(OneSheet(StrCat("<row>", Repeat("<b/>x", 30), "</row>")), limits),
            "xl/worksheets/sheet1.xml has more than 50 XML nodes and attributes");
  EXPECT_TRUE(ReadXlsx(OneSheet(StrCat("<row>", Repeat("<b/>x", 10), "</row>")), limits).ok());

  limits = {};
  limits.max_cells = 10;
  const std::string eleven = Build(R"PY(
package([('A', sheet('<row>' + '<c><v>1</v></c>' * 6 + '</row>')),
         ('B', sheet('<row>' + '<c/>' * 5 + '</row>'))])
)PY");
  EXPECT_EQ(ReadError(eleven, limits), "the workbook has more than 10 cells");
  limits.max_cells = 11;
  EXPECT_TRUE(ReadXlsx(eleven, limits).ok());

  limits = {};
  limits.max_sheets = 1;
  EXPECT_EQ(ReadError(eleven, limits), "the workbook has more than 1 sheets");

  limits = {};
  limits.max_shared_strings = 2;
  EXPECT_EQ(
      ReadError(OneSheet("<row/>", ", strings='<si><t>a</t></si><si/><si><t/></si>'"), limits),
      "the workbook has more than 2 shared strings");

  limits = {};
  limits.max_string_chars = 5;
  EXPECT_EQ(ReadError(OneSheet("<row/>", ", strings='<si><t>abcdef</t></si>'"), limits),
            "shared string 0 is longer than 5 characters");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="2"><c r="C2" t="inlineStr"><is><t>abcdef</t></is></c>)"
                               "</row>"),
                      limits),
            "sheet 'Orders': row 2 column C: text longer than 5 characters");
  // Characters, not bytes.
  EXPECT_TRUE(
      ReadXlsx(OneSheet(R"(<row><c t="inlineStr"><is><t>ééééé</t></is></c></row>)"), limits).ok());
}

TEST(XlsxReader, RefusesBadCellReferences) {
  for (const std::string ref : {"b5", "A0", "A05", "AAAA5", "5A", "A", "5", "A5:B6", "$A$5", " A5",
                                "A5 ", "A-5", "A10485760"}) {
    EXPECT_EQ(ReadError(OneSheet(StrCat(R"(<row r="5"><c r=")", ref, R"("><v>1</v></c></row>)"))),
              StrCat("sheet 'Orders': row 5: bad cell reference '", ref, "'"));
  }
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="4"><c r="B5"><v>1</v></c></row>)")),
            "sheet 'Orders': cell B5 is inside row 4");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="x"/>)")), "sheet 'Orders': bad row number 'x'");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="0"/>)")), "sheet 'Orders': bad row number '0'");
}

TEST(XlsxReader, RefusesCellsOutOfOrderOrRepeated) {
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="5"><c r="B5"/><c r="B5"><v>1</v></c></row>)")),
            "sheet 'Orders': cell B5 appears twice");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="5"><c r="C5"/><c r="B5"/></row>)")),
            "sheet 'Orders': cell B5 comes after C5 (cells out of order)");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="5"><c r="A5"/><c/><c r="B5"/></row>)")),
            "sheet 'Orders': cell B5 appears twice");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="5"/><row r="3"/>)")),
            "sheet 'Orders': row 3 comes after row 5 (rows out of order)");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="5"/><row r="5"/>)")),
            "sheet 'Orders': row 5 appears twice");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="5"/><row/><row r="6"/>)")),
            "sheet 'Orders': row 6 appears twice");
}

TEST(XlsxReader, RefusesBadValues) {
  const std::string strings = ", strings='" + [] {
    std::string s;
    for (int i = 0; i < 12; ++i) s += StrCat("<si><t>s", i, "</t></si>");
    return s;
  }() + "'";
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="12"><c r="C12" t="s"><v>99</v></c></row>)", strings)),
            "sheet 'Orders': row 12 column C: shared string index 99 out of range (the workbook "
            "has 12 shared strings)");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="12"><c r="C12" t="s"><v>0</v></c></row>)")),
            "sheet 'Orders': row 12 column C: shared string index 0 out of range (the workbook "
            "has 0 shared strings)");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="1"><c r="A1" t="s"><v>-1</v></c></row>)", strings)),
            "sheet 'Orders': row 1 column A: bad shared string index '-1'");
  for (const std::string v : {"abc", "nan", "inf", "1e999", "0x10", "1,5", "+-1", "--1"}) {
    EXPECT_EQ(ReadError(OneSheet(StrCat(R"(<row r="1"><c r="B1"><v>)", v, "</v></c></row>"))),
              StrCat("sheet 'Orders': row 1 column B: '", v, "' is not a number"));
  }
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="1"><c r="A1" t="b"><v>2</v></c></row>)")),
            "sheet 'Orders': row 1 column A: '2' is not a boolean");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="1"><c r="A1" t="d"><v>2024-02-30</v></c></row>)")),
            "sheet 'Orders': row 1 column A: '2024-02-30' is not an ISO 8601 date");
  EXPECT_EQ(ReadError(OneSheet(R"(<row r="1"><c r="A1" t="x"><v>1</v></c></row>)")),
            "sheet 'Orders': row 1 column A: unknown cell type 'x'");
  // User text in messages is cut short.
  EXPECT_EQ(
      ReadError(
          OneSheet(StrCat(R"(<row r="1"><c r="A1"><v>)", std::string(100, 'z'), "</v></c></row>"))),
      StrCat("sheet 'Orders': row 1 column A: '", std::string(40, 'z'), "...' is not a number"));
}

// ---------------------------------------------------------------------------------------------
// Records

// "row: {json}" for each record.
std::vector<std::string> Lines(const XlsxRecords& records) {
  std::vector<std::string> out;
  for (const XlsxRecord& r : records.records) {
    out.push_back(StrCat(r.row, ": ", boost::json::serialize(r.values)));
  }
  return out;
}

std::vector<std::string> Errors(const XlsxRecords& records) {
  std::vector<std::string> out;
  for (const RecordError& e : records.errors) out.push_back(e.ToString());
  return out;
}

TEST(XlsxReaderRecords, MapsRowsUnderTheHeaderToRecords) {
  const std::string bytes = Build(R"PY(
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = 'Commande'
ws.append(['Bon de commande n° 42'])
ws.append([])
ws.append([' Référence ', 'QUANTITÉ', 'Prix unitaire', 'Cadeau', 'Livraison', 'Rendez-vous',
           'Note'])
ws.append(['A-1', 3, 12.5, True, datetime.date(2024, 3, 5),
           datetime.datetime(2024, 3, 5, 14, 20), 'x'])
ws.append(['A-1', '4', '12,5', 'oui', '05/03/2024', '2024-03-05 14:20', None])
ws.append([None] * 7)
ws.append(['C-3', 1.0, '1\u00a0234,5', 'Non', '2024-03-06', '2024-03-05T14:20:00+02:00', None])
ws.append([None, None, None, None, None, None, 'only a note'])
ws.append([42, 1, 7, 0, datetime.datetime(2024, 3, 7, 9, 30), datetime.date(2024, 3, 7), None])
wb.save(OUT)
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const std::vector<ColumnSpec> specs = {
      {"Référence", Kind::kString, true},      {"Quantité", Kind::kInteger, true},
      {"Prix unitaire", Kind::kNumber, false}, {"Cadeau", Kind::kBool, false},
      {"Livraison", Kind::kDate, false},       {"Rendez-vous", Kind::kDateTime, false},
      {"Commentaire", Kind::kString, false}};
  RecordOptions options;
  options.time_zone = absl::FixedTimeZone(3600);  // Paris in winter
  const Result<XlsxRecords> records = ReadRecords(*workbook, specs, options);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->sheet, "Commande");
  EXPECT_EQ(records->header_row, 3u);
  EXPECT_THAT(Errors(*records), ::testing::IsEmpty());
  EXPECT_FALSE(records->errors_truncated);
  EXPECT_THAT(
      Lines(*records),
      ::testing::ElementsAre(
          R"(4: {"Référence":"A-1","Quantité":3,"Prix unitaire":1.25E1,"Cadeau":true,)"
          R"("Livraison":"2024-03-05","Rendez-vous":"2024-03-05T13:20:00.000Z","Commentaire":null})",
          R"(5: {"Référence":"A-1","Quantité":4,"Prix unitaire":1.25E1,"Cadeau":true,)"
          R"("Livraison":"2024-03-05","Rendez-vous":"2024-03-05T13:20:00.000Z","Commentaire":null})",
          R"(7: {"Référence":"C-3","Quantité":1,"Prix unitaire":1.2345E3,"Cadeau":false,)"
          R"("Livraison":"2024-03-06","Rendez-vous":"2024-03-05T12:20:00.000Z","Commentaire":null})",
          R"(9: {"Référence":"42","Quantité":1,"Prix unitaire":7E0,"Cadeau":false,)"
          R"("Livraison":"2024-03-07","Rendez-vous":"2024-03-06T23:00:00.000Z","Commentaire":null})"));
}

TEST(XlsxReaderRecords, ReportsHeaderProblems) {
  const std::string bytes = OneSheet(
      "<row>"
      "<c t='inlineStr'><is><t>Produit</t></is></c>"
      "<c t='inlineStr'><is><t>Quantité</t></is></c>"
      "<c t='inlineStr'><is><t>Qty2</t></is></c>"
      "<c t='inlineStr'><is><t>Prix</t></is></c>"
      "<c t='inlineStr'><is><t> PRIX</t></is></c></row>"
      "<row><c t='inlineStr'><is><t>Chaise</t></is></c><c><v>2</v></c></row>");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const std::vector<ColumnSpec> specs = {{"Produit", Kind::kString, true},
                                         {"Quantité", Kind::kInteger, true},
                                         {"Prix", Kind::kNumber, false},
                                         {"Livraison", Kind::kDate, true}};
  RecordOptions options;
  options.strict = true;
  const Result<XlsxRecords> records = ReadRecords(*workbook, specs, options);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_THAT(Errors(*records),
              ::testing::ElementsAre(
                  "sheet 'Orders', row 1, column C (Qty2): unknown column 'Qty2'",
                  "sheet 'Orders', row 1, column E (PRIX): column 'PRIX' appears twice (D and E)",
                  "sheet 'Orders', row 1: missing column 'Livraison'"));
  // A required column is missing, so no row makes a record.
  EXPECT_THAT(records->records, ::testing::IsEmpty());
  ASSERT_FALSE(records->errors.empty());
  EXPECT_EQ(records->errors[0].sheet, "Orders");
  EXPECT_EQ(records->errors[0].row, 1u);
  EXPECT_EQ(records->errors[0].column, "C");
  EXPECT_EQ(records->errors[0].header, "Qty2");
  EXPECT_EQ(records->errors[0].message, "unknown column 'Qty2'");

  // Not strict: the unknown column is ignored.
  options.strict = false;
  const Result<XlsxRecords> lenient = ReadRecords(*workbook, specs, options);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->errors.size(), 2u);
}

TEST(XlsxReaderRecords, ReportsValueErrorsNamingSheetRowAndColumn) {
  const std::string bytes = Build(R"PY(
def row(*cells):
    return '<row>' + ''.join(cells) + '</row>'
num = lambda v: f'<c><v>{v}</v></c>'
rows = (row(inline('Produit'), inline('Quantité'), inline('Prix'), inline('Livraison'))
        + row(inline('Chaise'), inline('abc'), num(12.5), '<c s="1"><v>45356</v></c>')
        + row(inline('Table'), num(2.5), inline('x'), inline('2024-02-30'))
        + row('<c/>', num(3), num(1), inline('12/31/2024'))
        + row(inline('Lampe'), '<c t="e"><v>#N/A</v></c>', num(1e20), num(45356))
        + row(inline('  '), inline(' '), '<c t="b"><v>1</v></c>', '<c s="2"><v>0.5</v></c>')
        + row(inline('Banc'), num(1e20), inline('1,234.5'), '<c s="1"><v>45357</v></c>'))
styles = '<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="20"/></cellXfs>'
package([('Commande', sheet(rows)), ('Autre', sheet(''))], styles=styles)
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const std::vector<ColumnSpec> specs = {{"Produit", Kind::kString, true},
                                         {"Quantité", Kind::kInteger, true},
                                         {"Prix", Kind::kNumber, false},
                                         {"Livraison", Kind::kDate, false}};
  const Result<XlsxRecords> records = ReadRecords(*workbook, specs);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_THAT(
      Errors(*records),
      ::testing::ElementsAre(
          "sheet 'Commande', row 2, column B (Quantité): expected a number, found text 'abc'",
          "sheet 'Commande', row 3, column B (Quantité): expected a whole number, found 2.5",
          "sheet 'Commande', row 3, column C (Prix): expected a number, found text 'x'",
          "sheet 'Commande', row 3, column D (Livraison): expected a date (YYYY-MM-DD or "
          "DD/MM/YYYY), found text '2024-02-30'",
          "sheet 'Commande', row 4, column A (Produit): required value missing",
          "sheet 'Commande', row 4, column D (Livraison): expected a date (YYYY-MM-DD or "
          "DD/MM/YYYY), found text '12/31/2024'",
          "sheet 'Commande', row 5, column B (Quantité): the cell shows the error #N/A",
          "sheet 'Commande', row 5, column D (Livraison): expected a date (YYYY-MM-DD or "
          "DD/MM/YYYY), found the number 45356",
          "sheet 'Commande', row 6, column A (Produit): required value missing",
          "sheet 'Commande', row 6, column B (Quantité): required value missing",
          "sheet 'Commande', row 6, column C (Prix): expected a number, found TRUE",
          "sheet 'Commande', row 6, column D (Livraison): expected a date (YYYY-MM-DD or "
          "DD/MM/YYYY), found the time 12:00:00",
          "sheet 'Commande', row 7, column B (Quantité): expected a whole number, found 1e+20",
          "sheet 'Commande', row 7, column C (Prix): expected a number, found text "
          "'1,234.5'"));
  EXPECT_THAT(records->records, ::testing::IsEmpty());

  // The same sheet, by name, with a cap on the errors.
  RecordOptions options;
  options.sheet = "commande";
  options.max_errors = 3;
  const Result<XlsxRecords> capped = ReadRecords(*workbook, specs, options);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->errors.size(), 3u);
  EXPECT_TRUE(capped->errors_truncated);
}

TEST(XlsxReaderRecords, ReadsNumbersWrittenAsText) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"12", "1.2E1"},
                                                                  {"12,5", "1.25E1"},
                                                                  {"-3,25", "-3.25E0"},
                                                                  {"+7", "7E0"},
                                                                  {" 8 ", "8E0"},
                                                                  {"1 234,5", "1.2345E3"},
                                                                  {"1\u00a0234", "1.234E3"},
                                                                  {"1\u202f234.5", "1.2345E3"},
                                                                  {"0.5", "5E-1"},
                                                                  {"1,234", "1.234E0"},
                                                                  {"1,234.5", "error"},
                                                                  {"1.234,5", "error"},
                                                                  {"12abc", "error"},
                                                                  {"1e3", "error"},
                                                                  {",5", "error"},
                                                                  {"5,", "error"},
                                                                  {"1  234", "error"},
                                                                  {"- 1", "error"},
                                                                  {"€12", "error"},
                                                                  {"12 %", "error"}};
  std::string rows = "<row><c t='inlineStr'><is><t>Prix</t></is></c></row>";
  for (const auto& [text, expected] : cases) {
    rows += StrCat("<row><c t='inlineStr'><is><t>", text, "</t></is></c></row>");
  }
  const Result<XlsxWorkbook> workbook = ReadXlsx(OneSheet(rows));
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const std::vector<ColumnSpec> specs = {{"Prix", Kind::kNumber, true}};
  const Result<XlsxRecords> records = ReadRecords(*workbook, specs);
  ASSERT_TRUE(records.ok()) << records.status();
  std::vector<std::string> got(cases.size(), "error");
  for (const XlsxRecord& r : records->records) {
    got[r.row - 2] = boost::json::serialize(r.values.at("Prix"));
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got[i], cases[i].second) << "'" << cases[i].first << "'";
  }
}

TEST(XlsxReaderRecords, CapsTheErrorsOfAGarbageFile) {
  const std::string bytes = Build(R"PY(
rows = '<row>' + inline('Quantité') + '</row>' + ''.join(
    f'<row r="{r}">' + inline(f'beaucoup {r}') + '</row>' for r in range(2, 20002))
package([('Orders', sheet(rows))])
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const std::vector<ColumnSpec> specs = {{"Quantité", Kind::kInteger, true}};
  const Result<XlsxRecords> records = ReadRecords(*workbook, specs);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->errors.size(), 100u);
  EXPECT_TRUE(records->errors_truncated);
  EXPECT_EQ(records->errors.back().row, 101u);
}

TEST(XlsxReaderRecords, FindsTheSheet) {
  const std::string bytes = Build(R"PY(
import openpyxl
wb = openpyxl.Workbook()
wb.active.title = 'Cachée'
wb.active.sheet_state = 'hidden'
wb.active['A1'] = 'Quantité'
wb.active['A2'] = 1
ws = wb.create_sheet('Données')
ws['B2'] = 'Quantité'
ws['B3'] = 2
wb.create_sheet('Vide')
wb.save(OUT)
)PY");
  const Result<XlsxWorkbook> workbook = ReadXlsx(bytes);
  ASSERT_TRUE(workbook.ok()) << workbook.status();
  const std::vector<ColumnSpec> specs = {{"Quantité", Kind::kInteger, true}};
  // The first visible sheet.
  Result<XlsxRecords> records = ReadRecords(*workbook, specs);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->sheet, "Données");
  EXPECT_THAT(Lines(*records), ::testing::ElementsAre(R"(3: {"Quantité":2})"));
  RecordOptions options;
  options.sheet = "CACHÉE";
  records = ReadRecords(*workbook, specs, options);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_THAT(Lines(*records), ::testing::ElementsAre(R"(2: {"Quantité":1})"));

  options.sheet = "Nope";
  EXPECT_EQ(Message(ReadRecords(*workbook, specs, options).status()),
            "no sheet named 'Nope' (the workbook has 'Cachée', 'Données', 'Vide')");
  options.sheet = "vide";
  EXPECT_EQ(Message(ReadRecords(*workbook, specs, options).status()), "sheet 'Vide' is empty");
  options.sheet = "";
  EXPECT_EQ(ReadRecords(*workbook, {}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<ColumnSpec> twice = {{"Quantité", Kind::kInteger},
                                         {" quantité", Kind::kNumber}};
  EXPECT_EQ(Message(ReadRecords(*workbook, twice, options).status()),
            "two column specs for ' quantité'");
  options.max_errors = 0;
  EXPECT_EQ(ReadRecords(*workbook, specs, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald::docs
