// libFuzzer target for the .xlsx files users send (docs/xlsx_reader.h). Random bytes almost
// never form a zip archive, so the first byte picks what the rest of the input is:
//   0      the whole file;
//   1 - 5  one part of an otherwise valid workbook built here as a stored zip: the sheet, the
//          shared strings, the styles, the workbook, the workbook's relationships;
//   6 - 9  text spliced, XML-escaped, into that workbook: a cell's value (its type and style
//          picked by the next byte), a cell reference, a custom number format, a shared string;
//   10     lines of comma-separated inline strings under a header row, for the record mapping.
// Every read either fails with InvalidArgument or gives a workbook within the limits: cells in
// strictly increasing order, values of their type, valid UTF-8 text. Records are then mapped
// from the first sheet; that too fails only with InvalidArgument, keeps to max_errors and gives
// every record one value of the right JSON kind per column spec.

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/utf8.h"
#include "docs/xlsx_reader.h"

namespace {

namespace docs = herald::docs;
using Files = std::vector<std::pair<std::string, std::string>>;

void Check(bool ok) {
  if (!ok) std::abort();
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    return table;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = kTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void Put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}

void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}

// A zip archive holding `files`, every entry stored (method 0), dated 1980-01-01.
std::string StoredZip(const Files& files) {
  std::string out, directory;
  for (const auto& file : files) {
    // Not a structured binding: clang before 16 cannot capture those in a lambda.
    const std::string& name = file.first;
    const std::string& data = file.second;
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t crc = Crc32(data);
    const auto common = [&](std::string& s) {
      Put16(s, 20);    // version needed
      Put16(s, 0);     // flags
      Put16(s, 0);     // stored
      Put16(s, 0);     // time
      Put16(s, 0x21);  // date
      Put32(s, crc);
      Put32(s, static_cast<uint32_t>(data.size()));
      Put32(s, static_cast<uint32_t>(data.size()));
      Put16(s, static_cast<uint32_t>(name.size()));
      Put16(s, 0);  // extra field
    };
    Put32(out, 0x04034B50);
    common(out);
    out += name;
    out += data;
    Put32(directory, 0x02014B50);
    Put16(directory, 20);  // version made by
    common(directory);
    Put16(directory, 0);  // comment
    Put16(directory, 0);  // disk
    Put16(directory, 0);  // internal attributes
    Put32(directory, 0);  // external attributes
    Put32(directory, offset);
    directory += name;
  }
  const uint32_t directory_offset = static_cast<uint32_t>(out.size());
  out += directory;
  Put32(out, 0x06054B50);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, static_cast<uint32_t>(files.size()));
  Put16(out, static_cast<uint32_t>(files.size()));
  Put32(out, static_cast<uint32_t>(directory.size()));
  Put32(out, directory_offset);
  Put16(out, 0);
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr std::string_view kMain =
    R"(xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" )"
    R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships")";
constexpr std::string_view kRel =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";

struct Parts {
  std::string sheet = std::string("<worksheet ") + std::string(kMain) +
                      R"(><dimension ref="A1:XFD1048576"/><sheetData>)"
                      R"(<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>)"
                      R"(<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>12</v></c>)"
                      R"(<c r="C2" s="1"><v>45356.5</v></c><c t="b"><v>1</v></c>)"
                      R"(<c t="inlineStr"><is><t>x_x000D_y</t></is></c><c t="e"><v>#N/A</v></c>)"
                      R"(</row><row><c r="A3" t="str"><f>A2</f><v>z</v></c><c r="C3" s="2">)"
                      R"(<v>1.25</v></c><c r="D3" s="3"><v>2</v></c></row>)"
                      "</sheetData></worksheet>";
  std::string strings =
      std::string("<sst ") + std::string(kMain) +
      R"(><si><t>Name</t></si><si><t>Qty</t></si><si><r><t>Caf</t></r><r><t>é</t></r>)"
      R"(<rPh><t>x</t></rPh></si></sst>)";
  std::string styles = std::string("<styleSheet ") + std::string(kMain) +
                       R"(><numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>)"
                       R"(<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>)"
                       R"(<xf numFmtId="46"/></cellXfs></styleSheet>)";
  std::string workbook =
      std::string("<workbook ") + std::string(kMain) +
      R"(><workbookPr/><sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>)";
  std::string rels =
      std::string(
          R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
          R"(<Relationship Id="rId1" Type=")") +
      std::string(kRel) +
      R"(worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type=")" +
      std::string(kRel) + R"(styles" Target="styles.xml"/><Relationship Id="rId3" Type=")" +
      std::string(kRel) + R"(sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>)";

  std::string Zip() const {
    return StoredZip(
        {{"_rels/.rels",
          std::string(
              R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
              R"(<Relationship Id="rId1" Type=")") +
              std::string(kRel) + R"(officeDocument" Target="xl/workbook.xml"/></Relationships>)"},
         {"xl/workbook.xml", workbook},
         {"xl/_rels/workbook.xml.rels", rels},
         {"xl/styles.xml", styles},
         {"xl/sharedStrings.xml", strings},
         {"xl/worksheets/sheet1.xml", sheet}});
  }

  void SetSheetData(std::string_view rows) {
    sheet = std::string("<worksheet ") + std::string(kMain) + "><sheetData>" + std::string(rows) +
            "</sheetData></worksheet>";
  }
};

std::string BuildInput(std::string_view in) {
  if (in.empty()) return {};
  const unsigned mode = static_cast<unsigned char>(in[0]) % 11;
  std::string_view rest = in.substr(1);
  if (mode == 0) return std::string(rest);
  Parts parts;
  switch (mode) {
    case 1:
      parts.sheet = rest;
      break;
    case 2:
      parts.strings = rest;
      break;
    case 3:
      parts.styles = rest;
      break;
    case 4:
      parts.workbook = rest;
      break;
    case 5:
      parts.rels = rest;
      break;
    case 6: {
      static constexpr std::array<std::string_view, 9> kTypes = {"",  "n", "s",         "str", "b",
                                                                 "e", "d", "inlineStr", "q"};
      const unsigned pick = rest.empty() ? 0 : static_cast<unsigned char>(rest[0]);
      if (!rest.empty()) rest.remove_prefix(1);
      const std::string_view type = kTypes[pick % kTypes.size()];
      const std::string t = type.empty() ? "" : " t=\"" + std::string(type) + "\"";
      const std::string s = " s=\"" + std::to_string((pick / 16) % 5) + "\"";
      const std::string value = type == "inlineStr" ? "<is><t>" + Escape(rest) + "</t></is>"
                                                    : "<v>" + Escape(rest) + "</v>";
      parts.SetSheetData(R"(<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2")" +
                         t + s + ">" + value + "</c></row>");
      break;
    }
    case 7:
      parts.SetSheetData(R"(<row r="3"><c r="B3"><v>1</v></c><c r=")" + Escape(rest) +
                         R"("><v>2</v></c></row>)");
      break;
    case 8:
      parts.styles = std::string("<styleSheet ") + std::string(kMain) +
                     R"(><numFmts><numFmt numFmtId="164" formatCode=")" + Escape(rest) +
                     R"("/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs>)"
                     "</styleSheet>";
      parts.SetSheetData(
          R"(<row r="1"><c r="A1" s="1"><v>45356.75</v></c><c r="B1" s="1"><v>0.5</v></c></row>)");
      break;
    case 9:
      parts.strings = std::string("<sst ") + std::string(kMain) +
                      R"(><si><t xml:space="preserve">)" + Escape(rest) + "</t></si></sst>";
      parts.SetSheetData(R"(<row r="1"><c r="A1" t="s"><v>0</v></c></row>)");
      break;
    default: {
      std::string rows =
          R"(<row><c t="inlineStr"><is><t>Name</t></is></c><c t="inlineStr"><is><t>Qty</t></is>)"
          R"(</c><c t="inlineStr"><is><t>Price</t></is></c><c t="inlineStr"><is><t>Paid</t></is>)"
          R"(</c><c t="inlineStr"><is><t>Day</t></is></c><c t="inlineStr"><is><t>When</t></is>)"
          "</c></row>";
      while (!rest.empty()) {
        const size_t newline = rest.find('\n');
        std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        rows += "<row>";
        while (true) {
          const size_t comma = line.find(',');
          rows += "<c t=\"inlineStr\"><is><t>" + Escape(line.substr(0, comma)) + "</t></is></c>";
          if (comma == std::string_view::npos) break;
          line.remove_prefix(comma + 1);
        }
        rows += "</row>";
      }
      parts.SetSheetData(rows);
    }
  }
  return parts.Zip();
}

bool ValidText(std::string_view s, size_t max_chars) {
  size_t chars = 0;
  return herald::core::CountUtf8(s, chars) && chars <= max_chars;
}

void CheckWorkbook(const docs::XlsxWorkbook& workbook, const docs::XlsxLimits& limits) {
  Check(workbook.sheets().size() <= limits.max_sheets);
  size_t cells = 0;
  for (const docs::XlsxSheet& sheet : workbook.sheets()) {
    Check(!sheet.name.empty() && ValidText(sheet.name, 255));
    Check(workbook.FindSheet(sheet.name) == &sheet);
    cells += sheet.cells.size();
    for (size_t i = 0; i < sheet.cells.size(); ++i) {
      const docs::XlsxCell& c = sheet.cells[i];
      Check(c.row >= 1 && c.row <= limits.max_rows);
      Check(c.column >= 1 && c.column <= limits.max_columns && c.column <= 16384);
      if (i > 0) {
        const docs::XlsxCell& p = sheet.cells[i - 1];
        Check(p.row < c.row || (p.row == c.row && p.column < c.column));
      }
      Check(sheet.Find(c.row, c.column) == &c);
      switch (c.type) {
        case docs::XlsxType::kEmpty:
          Check(false);
          break;
        case docs::XlsxType::kNumber:
          Check(std::isfinite(c.number));
          break;
        case docs::XlsxType::kBool:
          Check(c.number == 0 || c.number == 1);
          break;
        case docs::XlsxType::kDateTime: {
          Check(c.number >= 0 && c.number < 2958466);
          const absl::CivilSecond when = c.DateTime();
          Check(when.year() >= 1899 && when.year() <= 10000);
          break;
        }
        case docs::XlsxType::kString:
        case docs::XlsxType::kError:
          Check(ValidText(c.text, limits.max_string_chars));
          break;
      }
    }
  }
  Check(cells <= limits.max_cells);
}

void CheckRecords(const docs::XlsxWorkbook& workbook) {
  using Kind = docs::ColumnSpec::Kind;
  const std::vector<docs::ColumnSpec> specs = {
      {"Name", Kind::kString, true},   {"Qty", Kind::kInteger, true},
      {"Price", Kind::kNumber, false}, {"Paid", Kind::kBool, false},
      {"Day", Kind::kDate, false},     {"When", Kind::kDateTime, false}};
  docs::RecordOptions options;
  options.max_errors = 5;
  options.strict = true;
  const auto records = docs::ReadRecords(workbook, specs, options);
  if (!records.ok()) {
    Check(records.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(records->errors.size() <= options.max_errors);
  Check(!records->errors_truncated || records->errors.size() == options.max_errors);
  for (const docs::RecordError& e : records->errors) {
    Check(!e.message.empty() && e.row >= 1 && !e.ToString().empty());
  }
  uint32_t last_row = records->header_row;
  for (const docs::XlsxRecord& r : records->records) {
    Check(r.row > last_row);
    last_row = r.row;
    Check(r.values.size() == specs.size());
    for (const docs::ColumnSpec& spec : specs) {
      const boost::json::value* v = r.values.if_contains(spec.header);
      Check(v != nullptr);
      if (v->is_null()) {
        Check(!spec.required);
        continue;
      }
      switch (spec.kind) {
        case Kind::kString:
        case Kind::kDate:
        case Kind::kDateTime:
          Check(v->is_string());
          break;
        case Kind::kInteger:
          Check(v->is_int64());
          break;
        case Kind::kNumber:
          Check(v->is_double() && std::isfinite(v->get_double()));
          break;
        case Kind::kBool:
          Check(v->is_bool());
          break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = BuildInput(std::string_view(reinterpret_cast<const char*>(data), size));
  // Small limits, so that a zip bomb found by the fuzzer stays cheap.
  docs::XlsxLimits limits;
  limits.max_input_bytes = 1 * docs::kXlsxMiB;
  limits.max_part_bytes = 4 * docs::kXlsxMiB;
  limits.max_total_bytes = 8 * docs::kXlsxMiB;
  limits.ratio_check_bytes = 64 * 1024;
  limits.max_cells = 100'000;
  limits.max_string_chars = 1000;
  const auto workbook = docs::ReadXlsx(input, limits);
  if (!workbook.ok()) {
    Check(workbook.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!workbook.status().message().empty());
    return 0;
  }
  CheckWorkbook(*workbook, limits);
  CheckRecords(*workbook);
  return 0;
}
