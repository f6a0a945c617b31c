#include "docs/xlsx_reader.h"

#include <zip.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "core/rfc3339.h"
#include "core/strings.h"
#include "core/utf8.h"
#include "fmt/format.h"
#include "pugixml.hpp"

namespace herald::docs {
namespace {

// parse_ws_pcdata_single keeps whitespace-only text when it is an element's only content
// (<t xml:space="preserve"> </t>); parse_embed_pcdata stores that text in the element itself,
// saving a 64-byte node per cell value.
constexpr unsigned kXmlOptions =
    pugi::parse_default | pugi::parse_ws_pcdata_single | pugi::parse_embed_pcdata;

constexpr size_t kReadChunk = 64 * 1024;
// Text blocks grow from 4 KiB to 64 KiB; longer strings get a block of their own.
constexpr size_t kFirstTextBlockBytes = 4 * 1024;
constexpr size_t kTextBlockBytes = 64 * 1024;
constexpr uint32_t kExcelMaxColumns = 16'384;
constexpr size_t kMaxSheetNameChars = 255;
constexpr size_t kQuoteChars = 40;
constexpr size_t kMaxErrorChars = 255;
constexpr size_t kSheetsListed = 10;
// kDateTime values count days from 1899-12-30; Excel's dates end with 9999-12-31.
constexpr double kEndOfDates = 2'958'466;
constexpr double kDays1900To1904 = 1462;
constexpr double kSecondsPerDay = 86'400;
// Whole numbers beyond 2^53 are not exact in a double.
constexpr double kMaxExactInteger = 9'007'199'254'740'992.0;
const absl::CivilDay kDayZero(1899, 12, 30);

// An OLE compound file: an .xls workbook, or an .xlsx encrypted with a password.
constexpr std::string_view kCompoundFileMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

Status Invalid(std::string_view message) { return absl::InvalidArgumentError(ToAbsl(message)); }

std::string SizeText(size_t bytes) {
  if (bytes % kXlsxMiB == 0) return StrCat(bytes / kXlsxMiB, " MiB");
  if (bytes % 1024 == 0) return StrCat(bytes / 1024, " KiB");
  return StrCat(bytes, " bytes");
}

// Text from the file inside an error message: quoted, at most kQuoteChars characters, valid
// UTF-8, control characters shown as spaces.
std::string Quote(std::string_view s) {
  std::string out = "'";
  size_t i = 0;
  for (size_t chars = 0; i < s.size() && chars < kQuoteChars; ++chars) {
    const size_t n = core::Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else if (n == 1 && static_cast<unsigned char>(s[i]) < 0x20) {
      out += ' ';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (i < s.size()) out += "...";
  out += "'";
  return out;
}

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimXmlSpace(std::string_view s) {
  while (!s.empty() && IsXmlSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsXmlSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Spaces around what a user typed: ASCII whitespace, U+00A0 and U+202F (the no-break spaces
// French typography puts before ':' and in numbers).
std::string_view TrimUserSpace(std::string_view s) {
  while (true) {
    if (!s.empty() && (IsXmlSpace(s.front()) || s.front() == '\v' || s.front() == '\f')) {
      s.remove_prefix(1);
    } else if (s.starts_with("\xC2\xA0")) {
      s.remove_prefix(2);
    } else if (s.starts_with("\xE2\x80\xAF")) {
      s.remove_prefix(3);
    } else {
      break;
    }
  }
  while (true) {
    if (!s.empty() && (IsXmlSpace(s.back()) || s.back() == '\v' || s.back() == '\f')) {
      s.remove_suffix(1);
    } else if (s.ends_with("\xC2\xA0")) {
      s.remove_suffix(2);
    } else if (s.ends_with("\xE2\x80\xAF")) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

// ---------------------------------------------------------------------------------------------
// UTF-8

// Makes `text` valid UTF-8 and returns its length in code points.
size_t SanitizeUtf8(std::string& text) {
  size_t chars = 0;
  if (core::CountUtf8(text, chars)) return chars;
  text = core::ToValidUtf8(text);
  chars = 0;
  core::CountUtf8(text, chars);
  return chars;
}

// Simple lowercase mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic: enough to
// match "QUANTITÉ" with "Quantité" without a Unicode library.
uint32_t FoldCodePoint(uint32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x130 || cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F) return cp;
    if (cp == 0x178) return 0xFF;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
      return cp % 2 == 1 ? cp + 1 : cp;
    }
    return cp % 2 == 0 ? cp + 1 : cp;
  }
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

std::string FoldCase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = core::Utf8SequenceLength(s, i);
    if (n == 0) {
      out += s[i++];
      continue;
    }
    core::AppendUtf8(FoldCodePoint(core::DecodeUtf8(s, i, n)), out);
    i += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// XML helpers. pugixml does not resolve namespaces and some writers prefix SpreadsheetML
// elements ("x:row"), so elements are matched by their local name.

std::string_view LocalName(const char* name) {
  const std::string_view n(name);
  const size_t colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

bool Named(pugi::xml_node node, std::string_view local) {
  return node.type() == pugi::node_element && LocalName(node.name()) == local;
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node n = parent.first_child(); n; n = n.next_sibling()) {
    if (Named(n, local)) return n;
  }
  return {};
}

// The value of the attribute whose local name is `local`, whatever its prefix ("r:id").
std::string_view AttributeByLocalName(pugi::xml_node node, std::string_view local) {
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    if (LocalName(a.name()) == local) return a.value();
  }
  return {};
}

bool ParseHexUnit(std::string_view s, size_t at, uint32_t& unit) {
  if (at + 7 > s.size() || s[at] != '_' || s[at + 1] != 'x' || s[at + 6] != '_') return false;
  unit = 0;
  for (size_t k = at + 2; k < at + 6; ++k) {
    const int d = HexDigitValue(s[k]);
    if (d < 0) return false;
    unit = unit * 16 + static_cast<uint32_t>(d);
  }
  return true;
}

// Appends `s`, decoding ECMA-376's _xHHHH_ escapes of UTF-16 code units ("_x000D_" is a
// carriage return, "_x005F_" a literal '_' so that "_x005F_x000D_" reads "_x000D_").
void AppendUnescaped(std::string_view s, std::string& out) {
  size_t pos = 0;
  while (true) {
    const size_t at = s.find("_x", pos);
    uint32_t unit = 0;
    if (at == std::string_view::npos) {
      out.append(s.substr(pos));
      return;
    }
    if (!ParseHexUnit(s, at, unit)) {
      out.append(s.substr(pos, at + 1 - pos));
      pos = at + 1;
      continue;
    }
    out.append(s.substr(pos, at - pos));
    pos = at + 7;
    uint32_t low = 0;
    if (unit >= 0xD800 && unit <= 0xDBFF && ParseHexUnit(s, pos, low) && low >= 0xDC00 &&
        low <= 0xDFFF) {
      core::AppendUtf8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), out);
      pos += 7;
    } else if (unit >= 0xD800 && unit <= 0xDFFF) {
      core::AppendUtf8(0xFFFD, out);  // a lone surrogate
    } else {
      core::AppendUtf8(unit, out);
    }
  }
}

// Appends the text of `element`: its own value (where parse_embed_pcdata puts the first text)
// and its text and CDATA children, unescaped.
void AppendText(pugi::xml_node element, std::string& out) {
  AppendUnescaped(element.value(), out);
  for (pugi::xml_node n = element.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata)
      AppendUnescaped(n.value(), out);
  }
}

// The raw text of `element` (numbers, indices), in `scratch` only when it is in several pieces.
std::string_view RawText(pugi::xml_node element, std::string& scratch) {
  if (!element.first_child()) return element.value();
  scratch.assign(element.value());
  for (pugi::xml_node n = element.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) scratch.append(n.value());
  }
  return scratch;
}

// The text of a string item (<si> or <is>): its <t>, or the <t> of each rich text run <r>.
// Phonetic runs (<rPh>) are a reading aid, not content.
void AppendStringItem(pugi::xml_node item, std::string& out) {
  for (pugi::xml_node n = item.first_child(); n; n = n.next_sibling()) {
    if (Named(n, "t")) {
      AppendText(n, out);
    } else if (Named(n, "r")) {
      for (pugi::xml_node t = n.first_child(); t; t = t.next_sibling()) {
        if (Named(t, "t")) AppendText(t, out);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Values

std::optional<uint64_t> ParseDigits(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// A strict cell reference: 1 to 3 capital letters, then a row number of 1 to 7 digits (Excel
// has 1,048,576 rows) without leading zeros.
bool ParseCellRef(std::string_view ref, uint64_t& row, uint32_t& column) {
  size_t i = 0;
  column = 0;
  while (i < ref.size() && i < 3 && ref[i] >= 'A' && ref[i] <= 'Z') {
    column = column * 26 + static_cast<uint32_t>(ref[i] - 'A' + 1);
    ++i;
  }
  if (i == 0 || i == ref.size() || ref[i] < '1' || ref[i] > '9' || ref.size() - i > 7) {
    return false;
  }
  const std::optional<uint64_t> r = ParseDigits(ref.substr(i));
  if (!r) return false;
  row = *r;
  return true;
}

// An xsd:double as SpreadsheetML writes numbers; finite only.
std::optional<double> ParseXmlNumber(std::string_view s) {
  if (s.starts_with('+')) {
    s.remove_prefix(1);
    if (s.starts_with('-')) return std::nullopt;
  }
  double d = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

bool IsBuiltinDateFormat(uint64_t id) {
  // 14-22 and 45, 47: dates and times in every locale. 27-36 and 50-58: East Asian dates,
  // 71-81: Thai dates, used by those locales without a <numFmt>. 46 ([h]:mm:ss) is a duration.
  return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || id == 45 || id == 47 ||
         (id >= 50 && id <= 58) || (id >= 71 && id <= 81);
}

// [h], [mm], [ss]: elapsed time, i.e. a duration.
bool IsElapsedTimeSection(std::string_view inside) {
  if (inside.empty()) return false;
  const char first = static_cast<char>(inside[0] | 0x20);
  if (first != 'h' && first != 'm' && first != 's') return false;
  for (char c : inside) {
    if (static_cast<char>(c | 0x20) != first) return false;
  }
  return true;
}

// Whether a custom number format shows a date or time: a d, m, y, h or s token outside quoted
// text, backslash escapes, _x and *x fillers and [...] sections (colours, conditions, locales).
bool IsDateFormatCode(std::string_view code) {
  bool date = false;
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (c == '"') {
      const size_t end = code.find('"', i + 1);
      if (end == std::string_view::npos) break;
      i = end;
    } else if (c == '\\' || c == '_' || c == '*') {
      ++i;
    } else if (c == '[') {
      const size_t end = code.find(']', i + 1);
      if (end == std::string_view::npos) break;
      if (IsElapsedTimeSection(code.substr(i + 1, end - i - 1))) return false;
      i = end;
    } else {
      const char lower = static_cast<char>(c | 0x20);
      if (lower == 'd' || lower == 'm' || lower == 'y' || lower == 'h' || lower == 's') date = true;
    }
  }
  return date;
}

// Days since 1899-12-30 for an Excel serial in the workbook's date system, or nullopt if the
// serial is no date Excel can show: negative, after 9999-12-31, or the 1900 system's
// 1900-02-29 (serial 60), a day that never existed. Excel counts it, so serials before it are
// one day off; a serial below 1 is a time of day without a date.
std::optional<double> SerialToDays(double serial, bool date1904) {
  if (!(serial >= 0)) return std::nullopt;
  if (serial < 1) return serial;
  double days = serial;
  if (date1904) {
    days = serial + kDays1900To1904;
  } else if (serial < 60) {
    days = serial + 1;
  } else if (serial < 61) {
    return std::nullopt;
  }
  if (days >= kEndOfDates) return std::nullopt;
  return days;
}

bool ReadDigits(std::string_view s, size_t& pos, size_t min, size_t max, int& out) {
  size_t n = 0;
  out = 0;
  while (pos < s.size() && n < max && s[pos] >= '0' && s[pos] <= '9') {
    out = out * 10 + (s[pos] - '0');
    ++pos;
    ++n;
  }
  return n >= min;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

struct CivilText {
  absl::CivilSecond when;
  double fraction = 0;  // of a second
  bool has_time = false;
};

// "YYYY-MM-DD", or "DD/MM/YYYY" (1 or 2 digit day and month) if `day_first` is allowed; then
// optionally 'T' or ' ' and "HH:MM", ":SS", ".fff"; then 'Z' if `allow_z`. Years 1 to 9999.
std::optional<CivilText> ParseCivilText(std::string_view s, bool day_first, bool allow_z) {
  size_t pos = 0;
  int y = 0, mo = 0, d = 0;
  if (s.size() >= 10 && s[4] == '-') {
    if (!ReadDigits(s, pos, 4, 4, y) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, 2, mo) ||
        !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, 2, d)) {
      return std::nullopt;
    }
  } else if (!day_first || !ReadDigits(s, pos, 1, 2, d) || !Expect(s, pos, '/') ||
             !ReadDigits(s, pos, 1, 2, mo) || !Expect(s, pos, '/') ||
             !ReadDigits(s, pos, 4, 4, y)) {
    return std::nullopt;
  }
  CivilText out;
  int h = 0, mi = 0, sec = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!ReadDigits(s, pos, 2, 2, h) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, 2, mi)) {
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!ReadDigits(s, pos, 2, 2, sec)) return std::nullopt;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        double scale = 0.1;
        const size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 9) {
          out.fraction += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return std::nullopt;
      }
    }
    if (allow_z && pos < s.size() && s[pos] == 'Z') ++pos;
    out.has_time = true;
  }
  if (pos != s.size() || y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) {
    return std::nullopt;
  }
  out.when = absl::CivilSecond(y, mo, d, h, mi, sec);
  if (out.when.day() != d || out.when.month() != mo) return std::nullopt;  // 2024-02-30
  return out;
}

double CivilToDays(const absl::CivilSecond& when, double fraction) {
  const absl::CivilSecond midnight = absl::CivilSecond(absl::CivilDay(when));
  return static_cast<double>(absl::CivilDay(when) - kDayZero) +
         (static_cast<double>(when - midnight) + fraction) / kSecondsPerDay;
}

// A t="d" cell: ISO 8601 "YYYY-MM-DD", optionally with "THH:MM[:SS[.fff]]" and 'Z', within
// Excel's years 1900 to 9999.
std::optional<double> ParseIsoDateDays(std::string_view s) {
  const std::optional<CivilText> civil = ParseCivilText(s, /*day_first=*/false, /*allow_z=*/true);
  if (!civil || civil->when.year() < 1900 || civil->when.year() > 9999) return std::nullopt;
  return CivilToDays(civil->when, civil->fraction);
}

// The nodes (elements, text, CDATA) and attributes that pugixml will allocate for `xml`, counted
// from above by a quick scan so that the DOM is bounded before it is built. Text counts even
// where kXmlOptions embeds it in its element, and UTF-16 counts high.
size_t CountXmlNodes(std::string_view xml) {
  size_t n = 0;
  bool text = false;  // non-whitespace since the last markup
  size_t i = 0;
  const auto skip_past = [&](std::string_view end) {
    const size_t at = xml.find(end, i);
    i = at == std::string_view::npos ? xml.size() : at + end.size();
  };
  while (i < xml.size()) {
    const char c = xml[i];
    if (c != '<') {
      text = text || !IsXmlSpace(c);
      ++i;
      continue;
    }
    n += text ? 1 : 0;
    text = false;
    const std::string_view rest = xml.substr(i);
    if (rest.starts_with("<!--")) {
      skip_past("-->");
    } else if (rest.starts_with("<![CDATA[")) {
      ++n;
      skip_past("]]>");
    } else if (rest.starts_with("<?")) {
      skip_past("?>");
    } else if (rest.starts_with("<!")) {
      skip_past(">");  // a DOCTYPE's internal subset, if any, then counts as text
    } else {
      n += rest.starts_with("</") ? 0 : 1;
      char quote = 0;
      for (++i; i < xml.size(); ++i) {
        const char t = xml[i];
        if (quote != 0) {
          if (t == quote) quote = 0;
        } else if (t == '"' || t == '\'') {
          quote = t;
        } else if (t == '=') {
          ++n;  // an attribute
        } else if (t == '>') {
          break;
        }
      }
      ++i;
    }
  }
  return n + (text ? 1 : 0);
}

struct ZipDiscard {
  void operator()(zip_t* zip) const { zip_discard(zip); }
};
struct ZipFileClose {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

std::string_view Directory(std::string_view part) {
  const size_t slash = part.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : part.substr(0, slash + 1);
}

// The part a relationship of `source` points to: relative to the source's folder, or to the
// package root if it starts with '/'. "." and ".." are resolved; nullopt if it leaves the root.
std::optional<std::string> ResolveTarget(std::string_view source, std::string_view target) {
  const std::string path =
      target.starts_with('/') ? std::string(target.substr(1)) : StrCat(Directory(source), target);
  std::vector<std::string_view> segments;
  std::string_view rest = path;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment == "..") {
      if (segments.empty()) return std::nullopt;
      segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (segments.empty()) return std::nullopt;
  std::string out;
  for (std::string_view segment : segments) {
    if (!out.empty()) out += '/';
    out.append(segment);
  }
  return out;
}

// "xl/_rels/workbook.xml.rels" for "xl/workbook.xml", "_rels/.rels" for the package ("").
// "B12". Columns never exceed ZZZ here: references have at most three letters.
std::string CellName(uint64_t column, uint64_t row) {
  return StrCat(XlsxColumnName(static_cast<uint32_t>(column)), row);
}

std::string RelationshipsPart(std::string_view part) {
  const std::string_view dir = Directory(part);
  return StrCat(dir, "_rels/", part.substr(dir.size()), ".rels");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// XlsxReader: one read of one file.

class XlsxReader {
 public:
  XlsxReader(std::string_view bytes, const XlsxLimits& limits) : bytes_(bytes), limits_(limits) {}

  Result<XlsxWorkbook> Read();

 private:
  struct Relationship {
    std::string id, type, target;
  };

  Status OpenZip();
  std::optional<zip_uint64_t> Locate(std::string_view name);
  Result<std::string> ReadPart(zip_uint64_t index, std::string_view name);
  Status ParseXml(std::string& xml, std::string_view name, pugi::xml_document& doc);
  // The relationships of `part`; `found` says whether it has a relationships part at all.
  Result<std::vector<Relationship>> ReadRelationships(std::string_view part, bool& found);
  Status ExplainMissingWorkbook(std::string_view name);
  // Reads the workbook part: the date system, the sheets (into workbook_) and where the styles
  // and shared strings are. Returns each sheet's part.
  Result<std::vector<std::string>> ReadWorkbookPart(const std::string& name);
  Status ReadStyles(std::string_view name);
  Status ReadSharedStrings(std::string_view name);
  Status ReadSheet(std::string_view name, XlsxSheet& sheet);
  Status ReadCell(pugi::xml_node c, std::string_view type, const char* style,
                  const XlsxSheet& sheet, XlsxCell& cell);
  Status StoreText(const XlsxSheet& sheet, XlsxType type, XlsxCell& cell);
  Status CellError(const XlsxSheet& sheet, const XlsxCell& cell, std::string_view message);
  std::string_view Keep(std::string_view s);

  std::string_view bytes_;
  XlsxLimits limits_;
  std::unique_ptr<zip_t, ZipDiscard> zip_;
  size_t total_bytes_ = 0;
  size_t cells_ = 0;
  XlsxWorkbook workbook_;
  std::vector<std::string_view> shared_strings_;
  std::string styles_part_, strings_part_;
  std::vector<bool> date_styles_;  // by cellXfs index
  std::unique_ptr<char[]> chunk_;  // inflated bytes on their way to a part's buffer
  char* text_next_ = nullptr;
  size_t text_free_ = 0;
  size_t text_block_bytes_ = kFirstTextBlockBytes;
  std::string scratch_, text_;
};

Status XlsxReader::OpenZip() {
  if (bytes_.size() > limits_.max_input_bytes) {
    return Invalid(
        StrCat("the file is larger than the ", SizeText(limits_.max_input_bytes), " limit"));
  }
  if (bytes_.starts_with(kCompoundFileMagic)) {
    return Invalid(
        "not an .xlsx file: this is an old .xls workbook or a password-protected one; save it "
        "as an Excel Workbook (.xlsx) without a password");
  }
  if (bytes_.size() < 22 || !bytes_.starts_with("PK")) {
    return Invalid("not an .xlsx file (not a zip archive)");
  }
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes_.data(), bytes_.size(), 0, &error);
  zip_t* zip = source == nullptr ? nullptr : zip_open_from_source(source, ZIP_RDONLY, &error);
  if (zip == nullptr) {
    const std::string reason = zip_error_strerror(&error);
    if (source != nullptr) zip_source_free(source);
    zip_error_fini(&error);
    return Invalid(
        StrCat("damaged .xlsx file: the zip archive is truncated or corrupt (", reason, ")"));
  }
  zip_error_fini(&error);
  zip_.reset(zip);
  const zip_int64_t entries = zip_get_num_entries(zip, 0);
  if (entries < 0 || static_cast<uint64_t>(entries) > limits_.max_zip_entries) {
    return Invalid(StrCat("the zip archive has more than ", limits_.max_zip_entries, " entries"));
  }
  return absl::OkStatus();
}

std::optional<zip_uint64_t> XlsxReader::Locate(std::string_view name) {
  // Part names are case-insensitive (Open Packaging Conventions).
  const zip_int64_t index = zip_name_locate(zip_.get(), std::string(name).c_str(), ZIP_FL_NOCASE);
  if (index < 0) return std::nullopt;
  return static_cast<zip_uint64_t>(index);
}

Result<std::string> XlsxReader::ReadPart(zip_uint64_t index, std::string_view name) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(zip_.get(), index, 0, &stat) != 0) {
    return Invalid(StrCat("damaged .xlsx file: cannot read ", name));
  }
  // The declared sizes only guide the ratio check and the first allocation; the real size is
  // what inflating produces, and that is what is limited.
  const uint64_t compressed = std::clamp<uint64_t>(
      (stat.valid & ZIP_STAT_COMP_SIZE) != 0 ? stat.comp_size : bytes_.size(), 1, bytes_.size());
  std::unique_ptr<zip_file_t, ZipFileClose> file(zip_fopen_index(zip_.get(), index, 0));
  if (file == nullptr) {
    const int code = zip_error_code_zip(zip_get_error(zip_.get()));
    if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP) {
      return Invalid(StrCat("the .xlsx file is encrypted (", name, ")"));
    }
    if (code == ZIP_ER_COMPNOTSUPP) {
      return Invalid(StrCat(name, " uses a compression method that is not supported"));
    }
    return Invalid(StrCat("damaged .xlsx file: cannot read ", name));
  }
  const bool total_binds = limits_.max_total_bytes - total_bytes_ < limits_.max_part_bytes;
  const size_t limit =
      total_binds ? limits_.max_total_bytes - total_bytes_ : limits_.max_part_bytes;
  std::string out;
  if ((stat.valid & ZIP_STAT_SIZE) != 0) {
    out.reserve(static_cast<size_t>(std::min<uint64_t>(stat.size, limit)) + 1);
  }
  if (chunk_ == nullptr) chunk_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
  while (true) {
    // One byte past the limit tells "at the limit" from "over it".
    const size_t room = limit - out.size();
    const size_t want = room < kReadChunk ? room + 1 : kReadChunk;
    const zip_int64_t n = zip_fread(file.get(), chunk_.get(), want);
    if (n < 0) return Invalid(StrCat("damaged .xlsx file: cannot inflate ", name));
    out.append(chunk_.get(), static_cast<size_t>(n));
    if (n == 0) break;
    if (out.size() > limit) {
      if (total_binds) {
        return Invalid(StrCat("the workbook is larger than the ", SizeText(limits_.max_total_bytes),
                              " limit (uncompressed)"));
      }
      return Invalid(
          StrCat(name, " is larger than the ", SizeText(limits_.max_part_bytes), " limit"));
    }
    // out.size() > compressed * ratio, without overflow.
    if (out.size() > limits_.ratio_check_bytes &&
        (out.size() - 1) / compressed >= limits_.max_compression_ratio) {
      return Invalid(StrCat(name, ": compression ratio above ", limits_.max_compression_ratio,
                            ":1 (zip bomb?)"));
    }
  }
  total_bytes_ += out.size();
  return out;
}

Status XlsxReader::ParseXml(std::string& xml, std::string_view name, pugi::xml_document& doc) {
  if (CountXmlNodes(xml) > limits_.max_xml_nodes) {
    return Invalid(
        StrCat(name, " has more than ", limits_.max_xml_nodes, " XML nodes and attributes"));
  }
  const pugi::xml_parse_result result =
      doc.load_buffer_inplace(xml.data(), xml.size(), kXmlOptions, pugi::encoding_auto);
  if (!result) {
    return Invalid(
        StrCat(name, " is not valid XML (", result.description(), " at byte ", result.offset, ")"));
  }
  return absl::OkStatus();
}

Result<std::vector<XlsxReader::Relationship>> XlsxReader::ReadRelationships(std::string_view part,
                                                                            bool& found) {
  std::vector<Relationship> out;
  const std::string name = RelationshipsPart(part);
  const std::optional<zip_uint64_t> index = Locate(name);
  found = index.has_value();
  if (!found) return out;
  HERALD_ASSIGN_OR_RETURN(std::string xml, ReadPart(*index, name));
  pugi::xml_document doc;
  HERALD_RETURN_IF_ERROR(ParseXml(xml, name, doc));
  const pugi::xml_node root = doc.document_element();
  if (!Named(root, "Relationships")) return Invalid(StrCat(name, " is not a relationships part"));
  for (pugi::xml_node rel = root.first_child(); rel; rel = rel.next_sibling()) {
    if (!Named(rel, "Relationship")) continue;
    if (std::string_view(rel.attribute("TargetMode").value()) == "External") continue;
    std::optional<std::string> target = ResolveTarget(part, rel.attribute("Target").value());
    out.push_back(Relationship{rel.attribute("Id").value(), rel.attribute("Type").value(),
                               target.value_or(std::string())});
  }
  return out;
}

Status XlsxReader::ExplainMissingWorkbook(std::string_view name) {
  if (Locate("xl/workbook.bin")) {
    return Invalid(
        "not an .xlsx file: this is an Excel binary workbook (.xlsb); save it as an Excel "
        "Workbook (.xlsx)");
  }
  if (Locate("word/document.xml")) return Invalid("not an .xlsx file: this is a Word document");
  if (Locate("ppt/presentation.xml")) {
    return Invalid("not an .xlsx file: this is a PowerPoint presentation");
  }
  if (Locate("content.xml") && Locate("mimetype")) {
    return Invalid(
        "not an .xlsx file: this is an OpenDocument file (.ods); save it as an Excel Workbook "
        "(.xlsx)");
  }
  return Invalid(StrCat("not an .xlsx file (no ", name, " in the zip archive)"));
}

Status XlsxReader::ReadStyles(std::string_view name) {
  const std::optional<zip_uint64_t> index = Locate(name);
  if (!index) return absl::OkStatus();  // every number is then in the General format
  HERALD_ASSIGN_OR_RETURN(std::string xml, ReadPart(*index, name));
  pugi::xml_document doc;
  HERALD_RETURN_IF_ERROR(ParseXml(xml, name, doc));
  const pugi::xml_node root = doc.document_element();
  if (!Named(root, "styleSheet")) return Invalid(StrCat(name, " is not a style sheet"));
  absl::flat_hash_map<uint64_t, bool> custom;  // numFmtId -> shows a date
  for (pugi::xml_node f = Child(root, "numFmts").first_child(); f; f = f.next_sibling()) {
    if (!Named(f, "numFmt")) continue;
    const std::optional<uint64_t> id = ParseDigits(f.attribute("numFmtId").value());
    if (id) custom[*id] = IsDateFormatCode(f.attribute("formatCode").value());
  }
  for (pugi::xml_node xf = Child(root, "cellXfs").first_child(); xf; xf = xf.next_sibling()) {
    if (!Named(xf, "xf")) continue;
    const uint64_t id = ParseDigits(xf.attribute("numFmtId").value()).value_or(0);
    const auto it = custom.find(id);
    date_styles_.push_back(it != custom.end() ? it->second : IsBuiltinDateFormat(id));
  }
  return absl::OkStatus();
}

Status XlsxReader::ReadSharedStrings(std::string_view name) {
  const std::optional<zip_uint64_t> index = Locate(name);
  if (!index) return absl::OkStatus();  // a t="s" cell is then out of range
  HERALD_ASSIGN_OR_RETURN(std::string xml, ReadPart(*index, name));
  pugi::xml_document doc;
  HERALD_RETURN_IF_ERROR(ParseXml(xml, name, doc));
  const pugi::xml_node root = doc.document_element();
  if (!Named(root, "sst")) return Invalid(StrCat(name, " is not a shared string table"));
  for (pugi::xml_node si = root.first_child(); si; si = si.next_sibling()) {
    if (!Named(si, "si")) continue;
    if (shared_strings_.size() >= limits_.max_shared_strings) {
      return Invalid(
          StrCat("the workbook has more than ", limits_.max_shared_strings, " shared strings"));
    }
    text_.clear();
    AppendStringItem(si, text_);
    if (SanitizeUtf8(text_) > limits_.max_string_chars) {
      return Invalid(StrCat("shared string ", shared_strings_.size(), " is longer than ",
                            limits_.max_string_chars, " characters"));
    }
    shared_strings_.push_back(Keep(text_));
  }
  return absl::OkStatus();
}

Status XlsxReader::CellError(const XlsxSheet& sheet, const XlsxCell& cell,
                             std::string_view message) {
  return Invalid(StrCat("sheet ", Quote(sheet.name), ": row ", cell.row, " column ",
                        XlsxColumnName(cell.column), ": ", message));
}

Status XlsxReader::StoreText(const XlsxSheet& sheet, XlsxType type, XlsxCell& cell) {
  const size_t max = type == XlsxType::kError ? kMaxErrorChars : limits_.max_string_chars;
  if (SanitizeUtf8(text_) > max) {
    return CellError(sheet, cell, StrCat("text longer than ", max, " characters"));
  }
  cell.type = type;
  cell.text = Keep(text_);
  return absl::OkStatus();
}

Status XlsxReader::ReadSheet(std::string_view name, XlsxSheet& sheet) {
  const std::optional<zip_uint64_t> index = Locate(name);
  if (!index) {
    return Invalid(
        StrCat("damaged .xlsx file: sheet ", Quote(sheet.name), " (", name, ") is missing"));
  }
  HERALD_ASSIGN_OR_RETURN(std::string xml, ReadPart(*index, name));
  pugi::xml_document doc;
  HERALD_RETURN_IF_ERROR(ParseXml(xml, name, doc));
  const pugi::xml_node root = doc.document_element();
  if (!Named(root, "worksheet")) return Invalid(StrCat(name, " is not a worksheet"));
  const std::string prefix = StrCat("sheet ", Quote(sheet.name), ": ");
  const uint32_t max_columns = std::min(limits_.max_columns, kExcelMaxColumns);
  uint64_t last_row = 0;
  for (pugi::xml_node row = Child(root, "sheetData").first_child(); row; row = row.next_sibling()) {
    if (!Named(row, "row")) continue;
    uint64_t r = last_row + 1;
    if (const pugi::xml_attribute a = row.attribute("r")) {
      const std::optional<uint64_t> parsed = ParseDigits(a.value());
      if (!parsed || *parsed == 0) {
        return Invalid(StrCat(prefix, "bad row number ", Quote(a.value())));
      }
      r = *parsed;
    }
    if (r > limits_.max_rows) {
      return Invalid(
          StrCat(prefix, "row ", r, " is beyond the limit of ", limits_.max_rows, " rows"));
    }
    if (r == last_row) return Invalid(StrCat(prefix, "row ", r, " appears twice"));
    if (r < last_row) {
      return Invalid(
          StrCat(prefix, "row ", r, " comes after row ", last_row, " (rows out of order)"));
    }
    last_row = r;
    uint64_t last_column = 0;
    for (pugi::xml_node c = row.first_child(); c; c = c.next_sibling()) {
      if (!Named(c, "c")) continue;
      if (++cells_ > limits_.max_cells) {
        return Invalid(StrCat("the workbook has more than ", limits_.max_cells, " cells"));
      }
      const char* ref = nullptr;
      const char* style = nullptr;
      std::string_view type;
      for (pugi::xml_attribute a = c.first_attribute(); a; a = a.next_attribute()) {
        const char* n = a.name();
        if (n[0] == 0 || n[1] != 0) continue;
        if (n[0] == 'r') ref = a.value();
        if (n[0] == 't') type = a.value();
        if (n[0] == 's') style = a.value();
      }
      uint64_t column = last_column + 1;
      if (ref != nullptr) {
        uint64_t ref_row = 0;
        uint32_t ref_column = 0;
        if (!ParseCellRef(ref, ref_row, ref_column)) {
          return Invalid(StrCat(prefix, "row ", r, ": bad cell reference ", Quote(ref)));
        }
        if (ref_row != r) return Invalid(StrCat(prefix, "cell ", ref, " is inside row ", r));
        column = ref_column;
      }
      if (column > max_columns) {
        return Invalid(StrCat(prefix, "cell ", CellName(column, r), " is beyond the limit of ",
                              max_columns, " columns (", XlsxColumnName(max_columns), ")"));
      }
      if (column == last_column) {
        return Invalid(StrCat(prefix, "cell ", CellName(column, r), " appears twice"));
      }
      if (column < last_column) {
        return Invalid(StrCat(prefix, "cell ", CellName(column, r), " comes after ",
                              CellName(last_column, r), " (cells out of order)"));
      }
      last_column = column;
      XlsxCell cell;
      cell.row = static_cast<uint32_t>(r);
      cell.column = static_cast<uint16_t>(column);
      HERALD_RETURN_IF_ERROR(ReadCell(c, type, style, sheet, cell));
      if (cell.type != XlsxType::kEmpty) sheet.cells.push_back(cell);
    }
  }
  return absl::OkStatus();
}

Status XlsxReader::ReadCell(pugi::xml_node c, std::string_view type, const char* style,
                            const XlsxSheet& sheet, XlsxCell& cell) {
  pugi::xml_node v, is;
  for (pugi::xml_node n = c.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) continue;
    const std::string_view local = LocalName(n.name());
    if (local == "v") v = n;
    if (local == "is") is = n;
  }
  if (type == "inlineStr") {
    if (!is && !v) return absl::OkStatus();
    text_.clear();
    if (is) {
      AppendStringItem(is, text_);
    } else {
      AppendText(v, text_);
    }
    return StoreText(sheet, XlsxType::kString, cell);
  }
  // No value: an empty (perhaps formatted) cell, or a formula without a cached result.
  if (!v) return absl::OkStatus();
  if (type == "str") {
    text_.clear();
    AppendText(v, text_);
    return StoreText(sheet, XlsxType::kString, cell);
  }
  const std::string_view raw = TrimXmlSpace(RawText(v, scratch_));
  if (raw.empty()) return absl::OkStatus();
  if (type.empty() || type == "n") {
    const std::optional<double> number = ParseXmlNumber(raw);
    if (!number) return CellError(sheet, cell, StrCat(Quote(raw), " is not a number"));
    cell.type = XlsxType::kNumber;
    cell.number = *number;
    const std::optional<uint64_t> s = style == nullptr ? std::nullopt : ParseDigits(style);
    // A style without a definition is the General format.
    if (s && *s < date_styles_.size() && date_styles_[*s]) {
      if (const std::optional<double> days = SerialToDays(*number, workbook_.date1904_)) {
        cell.type = XlsxType::kDateTime;
        cell.number = *days;
      }
    }
    return absl::OkStatus();
  }
  if (type == "s") {
    const std::optional<uint64_t> index = ParseDigits(raw);
    if (!index) {
      return CellError(sheet, cell, StrCat("bad shared string index ", Quote(raw)));
    }
    if (*index >= shared_strings_.size()) {
      return CellError(sheet, cell,
                       StrCat("shared string index ", *index, " out of range (the workbook has ",
                              shared_strings_.size(), " shared strings)"));
    }
    cell.type = XlsxType::kString;
    cell.text = shared_strings_[*index];
    return absl::OkStatus();
  }
  if (type == "b") {
    if (raw != "0" && raw != "1" && raw != "true" && raw != "false") {
      return CellError(sheet, cell, StrCat(Quote(raw), " is not a boolean"));
    }
    cell.type = XlsxType::kBool;
    cell.number = raw == "1" || raw == "true" ? 1 : 0;
    return absl::OkStatus();
  }
  if (type == "e") {
    text_.assign(raw);
    return StoreText(sheet, XlsxType::kError, cell);
  }
  if (type == "d") {
    const std::optional<double> days = ParseIsoDateDays(raw);
    if (!days) return CellError(sheet, cell, StrCat(Quote(raw), " is not an ISO 8601 date"));
    cell.type = XlsxType::kDateTime;
    cell.number = *days;
    return absl::OkStatus();
  }
  return CellError(sheet, cell, StrCat("unknown cell type ", Quote(type)));
}

std::string_view XlsxReader::Keep(std::string_view s) {
  if (s.empty()) return {};
  if (s.size() > kTextBlockBytes / 4) {
    std::unique_ptr<char[]>& block =
        workbook_.text_blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(s.size()));
    std::memcpy(block.get(), s.data(), s.size());
    return {block.get(), s.size()};
  }
  if (s.size() > text_free_) {
    const size_t bytes = std::max(text_block_bytes_, s.size());
    text_next_ =
        workbook_.text_blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(bytes)).get();
    text_free_ = bytes;
    text_block_bytes_ = std::min(2 * text_block_bytes_, kTextBlockBytes);
  }
  std::memcpy(text_next_, s.data(), s.size());
  const std::string_view kept(text_next_, s.size());
  text_next_ += s.size();
  text_free_ -= s.size();
  return kept;
}

Result<XlsxWorkbook> XlsxReader::Read() {
  HERALD_RETURN_IF_ERROR(OpenZip());
  bool found = false;
  // The workbook part is where the package relationships say, else where Excel puts it.
  std::string workbook_part = "xl/workbook.xml";
  HERALD_ASSIGN_OR_RETURN(std::vector<Relationship> package, ReadRelationships("", found));
  for (const Relationship& rel : package) {
    if (EndsWith(rel.type, "/officeDocument") && !rel.target.empty()) {
      workbook_part = rel.target;
      break;
    }
  }
  HERALD_ASSIGN_OR_RETURN(std::vector<std::string> sheet_parts, ReadWorkbookPart(workbook_part));
  HERALD_RETURN_IF_ERROR(ReadStyles(styles_part_));
  HERALD_RETURN_IF_ERROR(ReadSharedStrings(strings_part_));
  for (size_t i = 0; i < sheet_parts.size(); ++i) {
    HERALD_RETURN_IF_ERROR(ReadSheet(sheet_parts[i], workbook_.sheets_[i]));
  }
  return std::move(workbook_);
}

Result<std::vector<std::string>> XlsxReader::ReadWorkbookPart(const std::string& name) {
  const std::optional<zip_uint64_t> index = Locate(name);
  if (!index) return ExplainMissingWorkbook(name);
  HERALD_ASSIGN_OR_RETURN(std::string xml, ReadPart(*index, name));
  pugi::xml_document doc;
  HERALD_RETURN_IF_ERROR(ParseXml(xml, name, doc));
  const pugi::xml_node root = doc.document_element();
  if (!Named(root, "workbook")) {
    return Invalid(StrCat("not an .xlsx file (", name, " is not a workbook)"));
  }
  const std::string_view date1904 = Child(root, "workbookPr").attribute("date1904").value();
  workbook_.date1904_ = date1904 == "1" || date1904 == "true";

  bool have_rels = false;
  HERALD_ASSIGN_OR_RETURN(std::vector<Relationship> rels, ReadRelationships(name, have_rels));
  for (const Relationship& rel : rels) {
    if (EndsWith(rel.type, "/styles")) styles_part_ = rel.target;
    if (EndsWith(rel.type, "/sharedStrings")) strings_part_ = rel.target;
  }
  // Some writers leave these relationships out; the parts then sit at their usual place.
  if (styles_part_.empty()) styles_part_ = StrCat(Directory(name), "styles.xml");
  if (strings_part_.empty()) strings_part_ = StrCat(Directory(name), "sharedStrings.xml");

  std::vector<std::string> parts;
  std::vector<std::string> folded_names;
  for (pugi::xml_node s = Child(root, "sheets").first_child(); s; s = s.next_sibling()) {
    if (!Named(s, "sheet")) continue;
    const std::string_view sheet_name = s.attribute("name").value();
    const std::string_view id = AttributeByLocalName(s, "id");
    const auto rel =
        std::find_if(rels.begin(), rels.end(), [&](const Relationship& r) { return r.id == id; });
    if (rel == rels.end()) {
      return Invalid(have_rels
                         ? StrCat("damaged .xlsx file: sheet ", Quote(sheet_name),
                                  " has no relationship ", Quote(id))
                         : StrCat("damaged .xlsx file: ", RelationshipsPart(name), " is missing"));
    }
    if (!EndsWith(rel->type, "/worksheet")) continue;  // a chart, dialog or macro sheet
    if (workbook_.sheets_.size() >= limits_.max_sheets) {
      return Invalid(StrCat("the workbook has more than ", limits_.max_sheets, " sheets"));
    }
    XlsxSheet sheet;
    sheet.name = sheet_name;
    const size_t chars = SanitizeUtf8(sheet.name);
    if (chars == 0 || chars > kMaxSheetNameChars) {
      return Invalid(StrCat("damaged .xlsx file: a sheet name is empty or longer than ",
                            kMaxSheetNameChars, " characters"));
    }
    std::string folded = FoldCase(sheet.name);
    if (std::find(folded_names.begin(), folded_names.end(), folded) != folded_names.end()) {
      return Invalid(StrCat("damaged .xlsx file: two sheets are named ", Quote(sheet.name)));
    }
    if (rel->target.empty()) {
      return Invalid(StrCat("damaged .xlsx file: sheet ", Quote(sheet.name),
                            " has a bad relationship target"));
    }
    folded_names.push_back(std::move(folded));
    const std::string_view state = s.attribute("state").value();
    sheet.hidden = state == "hidden" || state == "veryHidden";
    parts.push_back(rel->target);
    workbook_.sheets_.push_back(std::move(sheet));
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Public types

absl::CivilSecond XlsxCell::DateTime() const {
  constexpr double kLimit = kEndOfDates * kSecondsPerDay;
  double seconds = std::round(number * kSecondsPerDay);
  if (!(seconds >= -kLimit)) seconds = -kLimit;  // also NaN: only kDateTime is meaningful
  if (seconds > kLimit) seconds = kLimit;
  return absl::CivilSecond(kDayZero) + static_cast<int64_t>(seconds);
}

const XlsxCell* XlsxSheet::Find(uint32_t row, uint32_t column) const {
  const auto it = std::lower_bound(cells.begin(), cells.end(), std::pair(row, column),
                                   [](const XlsxCell& c, const std::pair<uint32_t, uint32_t>& p) {
                                     return std::pair<uint32_t, uint32_t>(c.row, c.column) < p;
                                   });
  if (it == cells.end() || it->row != row || it->column != column) return nullptr;
  return &*it;
}

XlsxWorkbook::XlsxWorkbook() = default;
XlsxWorkbook::XlsxWorkbook(XlsxWorkbook&&) noexcept = default;
XlsxWorkbook& XlsxWorkbook::operator=(XlsxWorkbook&&) noexcept = default;
XlsxWorkbook::~XlsxWorkbook() = default;

const XlsxSheet* XlsxWorkbook::FindSheet(std::string_view name) const {
  const std::string folded = FoldCase(name);
  for (const XlsxSheet& sheet : sheets_) {
    if (FoldCase(sheet.name) == folded) return &sheet;
  }
  return nullptr;
}

const XlsxSheet* XlsxWorkbook::FirstVisibleSheet() const {
  for (const XlsxSheet& sheet : sheets_) {
    if (!sheet.hidden) return &sheet;
  }
  return sheets_.empty() ? nullptr : &sheets_.front();
}

Result<XlsxWorkbook> ReadXlsx(std::string_view bytes, const XlsxLimits& limits) {
  return XlsxReader(bytes, limits).Read();
}

std::string XlsxColumnName(uint32_t column) {
  std::string out;
  while (column > 0) {
    const uint32_t digit = (column - 1) % 26;
    out.insert(out.begin(), static_cast<char>('A' + digit));
    column = (column - 1) / 26;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Records

namespace {

using Kind = ColumnSpec::Kind;

std::string NumberText(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return StrCat(static_cast<int64_t>(d));
  return fmt::format("{:.15g}", d);  // what Excel's General format shows
}

std::string DateTimeText(const XlsxCell& cell) {
  const absl::CivilSecond when = cell.DateTime();
  if (cell.number < 1) return absl::FormatCivilTime(when).substr(11);  // "14:20:00"
  if (when == absl::CivilSecond(absl::CivilDay(when))) {
    return absl::FormatCivilTime(absl::CivilDay(when));
  }
  return absl::FormatCivilTime(when);
}

bool IsBlank(const XlsxCell* cell) {
  return cell == nullptr || cell->type == XlsxType::kEmpty ||
         (cell->type == XlsxType::kString && TrimUserSpace(cell->text).empty());
}

// The text a header cell shows, for matching.
std::string HeaderText(const XlsxCell& cell) {
  switch (cell.type) {
    case XlsxType::kString:
      return std::string(TrimUserSpace(cell.text));
    case XlsxType::kNumber:
      return NumberText(cell.number);
    case XlsxType::kBool:
      return cell.boolean() ? "TRUE" : "FALSE";
    case XlsxType::kDateTime:
      return DateTimeText(cell);
    case XlsxType::kEmpty:
    case XlsxType::kError:
      break;
  }
  return {};
}

// What a cell holds, for "expected ..., found ..." messages.
std::string Found(const XlsxCell& cell) {
  switch (cell.type) {
    case XlsxType::kString:
      return StrCat("text ", Quote(TrimUserSpace(cell.text)));
    case XlsxType::kNumber:
      return StrCat("the number ", NumberText(cell.number));
    case XlsxType::kBool:
      return cell.boolean() ? "TRUE" : "FALSE";
    case XlsxType::kDateTime:
      return StrCat(cell.number < 1 ? "the time " : "the date ", DateTimeText(cell));
    case XlsxType::kEmpty:
    case XlsxType::kError:
      break;
  }
  return "nothing";
}

// A number as a user types it: an optional sign, digits optionally grouped by spaces, and at
// most one decimal separator, '.' or ','.
std::optional<double> ParseUserNumber(std::string_view s) {
  s = TrimUserSpace(s);
  std::string plain;
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    if (s[0] == '-') plain += '-';
    ++i;
  }
  bool separator = false, digit_before = false;
  const auto digit_at = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  while (i < s.size()) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      plain += c;
      digit_before = true;
      ++i;
      continue;
    }
    if ((c == '.' || c == ',') && !separator && digit_before && digit_at(i + 1)) {
      plain += '.';
      separator = true;
      ++i;
      continue;
    }
    // Group separators: only between digits of the whole part.
    size_t width = 0;
    if (c == ' ') width = 1;
    if (s.substr(i).starts_with("\xC2\xA0")) width = 2;
    if (s.substr(i).starts_with("\xE2\x80\xAF")) width = 3;
    if (width == 0 || separator || !digit_before || !digit_at(i + width)) return std::nullopt;
    i += width;
  }
  if (!digit_before || plain.size() > 400) return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), d);
  if (ec != std::errc() || end != plain.data() + plain.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

std::optional<bool> ParseUserBool(std::string_view s) {
  const std::string folded = FoldCase(TrimUserSpace(s));
  for (std::string_view yes : {"true", "yes", "oui", "vrai", "1"}) {
    if (folded == yes) return true;
  }
  for (std::string_view no : {"false", "no", "non", "faux", "0"}) {
    if (folded == no) return false;
  }
  return std::nullopt;
}

struct Converted {
  boost::json::value value;
  std::string error;  // empty on success
};

Converted Fail(std::string message) { return Converted{nullptr, std::move(message)}; }

Converted ToNumber(const XlsxCell& cell, bool integer) {
  std::optional<double> d;
  if (cell.type == XlsxType::kNumber) d = cell.number;
  if (cell.type == XlsxType::kString) d = ParseUserNumber(cell.text);
  if (!d) return Fail(StrCat("expected a number, found ", Found(cell)));
  if (!integer) return Converted{*d, {}};
  if (*d != std::floor(*d) || std::fabs(*d) > kMaxExactInteger) {
    return Fail(StrCat("expected a whole number, found ", NumberText(*d)));
  }
  return Converted{static_cast<int64_t>(*d), {}};
}

Converted ToDateTime(const XlsxCell& cell, bool date_only, const absl::TimeZone& zone) {
  std::optional<absl::CivilSecond> when;
  if (cell.type == XlsxType::kDateTime && cell.number >= 1) when = cell.DateTime();
  if (cell.type == XlsxType::kString) {
    const std::string_view text = TrimUserSpace(cell.text);
    absl::Time t;
    std::string ignored;
    if (!date_only && absl::ParseTime(absl::RFC3339_full, ToAbsl(text), &t, &ignored)) {
      const int64_t year = absl::ToCivilYear(t, absl::UTCTimeZone()).year();
      if (year >= 1 && year <= 9999) {
        return Converted{boost::json::string(core::FormatRfc3339(t)), {}};
      }
    }
    if (const std::optional<CivilText> civil = ParseCivilText(text, true, false)) {
      when = civil->when;
    }
  }
  if (!when) {
    return Fail(StrCat(date_only ? "expected a date (YYYY-MM-DD or DD/MM/YYYY), found "
                                 : "expected a date and time (YYYY-MM-DD HH:MM), found ",
                       Found(cell)));
  }
  if (date_only)
    return Converted{boost::json::string(absl::FormatCivilTime(absl::CivilDay(*when))), {}};
  return Converted{boost::json::string(core::FormatRfc3339(absl::FromCivil(*when, zone))), {}};
}

Converted Convert(const XlsxCell& cell, Kind kind, const absl::TimeZone& zone) {
  if (cell.type == XlsxType::kError) return Fail(StrCat("the cell shows the error ", cell.text));
  switch (kind) {
    case Kind::kString:
      if (cell.type == XlsxType::kString) {
        return Converted{boost::json::string(TrimUserSpace(cell.text)), {}};
      }
      return Converted{boost::json::string(HeaderText(cell)), {}};
    case Kind::kNumber:
      return ToNumber(cell, false);
    case Kind::kInteger:
      return ToNumber(cell, true);
    case Kind::kBool: {
      std::optional<bool> b;
      if (cell.type == XlsxType::kBool) b = cell.boolean();
      if (cell.type == XlsxType::kNumber && (cell.number == 0 || cell.number == 1)) {
        b = cell.number == 1;
      }
      if (cell.type == XlsxType::kString) b = ParseUserBool(cell.text);
      if (!b) return Fail(StrCat("expected yes or no (TRUE or FALSE), found ", Found(cell)));
      return Converted{*b, {}};
    }
    case Kind::kDate:
      return ToDateTime(cell, true, zone);
    case Kind::kDateTime:
      return ToDateTime(cell, false, zone);
  }
  return Fail("unknown column kind");
}

class RecordsBuilder {
 public:
  RecordsBuilder(const XlsxSheet& sheet, std::span<const ColumnSpec> specs,
                 const RecordOptions& options)
      : sheet_(sheet),
        specs_(specs),
        options_(options),
        columns_(specs.size(), 0),
        headers_(specs.size()) {
    out_.sheet = sheet.name;
  }

  Result<XlsxRecords> Build(const std::vector<std::string>& folded_specs);

 private:
  // Records an error; false once max_errors is reached (and reading must stop).
  bool AddError(uint32_t row, uint32_t column, std::string header, std::string message) {
    if (out_.errors.size() >= options_.max_errors) {
      out_.errors_truncated = true;
      return false;
    }
    out_.errors.push_back(RecordError{sheet_.name, row, column == 0 ? "" : XlsxColumnName(column),
                                      std::move(header), std::move(message)});
    return true;
  }
  bool MapHeader(std::span<const XlsxCell> row, const std::vector<std::string>& folded_specs);
  bool ReadRow(std::span<const XlsxCell> row);

  const XlsxSheet& sheet_;
  std::span<const ColumnSpec> specs_;
  const RecordOptions& options_;
  std::vector<uint32_t> columns_;     // by spec: the sheet column, 0 if none
  std::vector<std::string> headers_;  // by spec: the header as the sheet spells it
  XlsxRecords out_;
};

std::optional<size_t> MatchSpec(const XlsxCell& cell, const std::vector<std::string>& folded) {
  const std::string text = HeaderText(cell);
  if (text.empty()) return std::nullopt;
  const auto it = std::find(folded.begin(), folded.end(), FoldCase(text));
  if (it == folded.end()) return std::nullopt;
  return static_cast<size_t>(it - folded.begin());
}

bool RecordsBuilder::MapHeader(std::span<const XlsxCell> row,
                               const std::vector<std::string>& folded_specs) {
  for (const XlsxCell& cell : row) {
    const std::string text = HeaderText(cell);
    if (text.empty()) continue;
    const std::optional<size_t> spec = MatchSpec(cell, folded_specs);
    if (!spec) {
      if (options_.strict &&
          !AddError(cell.row, cell.column, text, StrCat("unknown column ", Quote(text)))) {
        return false;
      }
      continue;
    }
    if (columns_[*spec] != 0) {
      if (!AddError(
              cell.row, cell.column, text,
              StrCat("column ", Quote(text), " appears twice (", XlsxColumnName(columns_[*spec]),
                     " and ", XlsxColumnName(cell.column), ")"))) {
        return false;
      }
      continue;
    }
    columns_[*spec] = cell.column;
    headers_[*spec] = text;
  }
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (columns_[i] == 0 && specs_[i].required &&
        !AddError(out_.header_row, 0, specs_[i].header,
                  StrCat("missing column ", Quote(specs_[i].header)))) {
      return false;
    }
  }
  return true;
}

bool RecordsBuilder::ReadRow(std::span<const XlsxCell> row) {
  std::vector<const XlsxCell*> cells(specs_.size(), nullptr);
  bool blank = true;
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (columns_[i] == 0) continue;
    const auto it =
        std::lower_bound(row.begin(), row.end(), columns_[i],
                         [](const XlsxCell& c, uint32_t column) { return c.column < column; });
    if (it != row.end() && it->column == columns_[i]) cells[i] = &*it;
    blank = blank && IsBlank(cells[i]);
  }
  if (blank) return true;
  const uint32_t r = row.front().row;
  XlsxRecord record{r, {}};
  bool ok = true;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const ColumnSpec& spec = specs_[i];
    if (IsBlank(cells[i])) {
      // A missing required column was reported once, at the header row.
      if (spec.required) ok = false;
      if (columns_[i] != 0 && spec.required &&
          !AddError(r, columns_[i], headers_[i], "required value missing")) {
        return false;
      }
      record.values[spec.header] = nullptr;
      continue;
    }
    Converted c = Convert(*cells[i], spec.kind, options_.time_zone);
    if (!c.error.empty()) {
      ok = false;
      if (!AddError(r, columns_[i], headers_[i], std::move(c.error))) return false;
      continue;
    }
    record.values[spec.header] = std::move(c.value);
  }
  if (ok) out_.records.push_back(std::move(record));
  return true;
}

// The cells of the row starting at cells[begin].
std::span<const XlsxCell> RowAt(const std::vector<XlsxCell>& cells, size_t begin) {
  size_t end = begin;
  while (end < cells.size() && cells[end].row == cells[begin].row) ++end;
  return std::span<const XlsxCell>(cells).subspan(begin, end - begin);
}

Result<XlsxRecords> RecordsBuilder::Build(const std::vector<std::string>& folded_specs) {
  const std::vector<XlsxCell>& cells = sheet_.cells;
  // The header row: the first with a cell matching a spec, else the first with a value.
  size_t header = cells.size();
  for (size_t i = 0; i < cells.size() && header == cells.size(); ++i) {
    if (MatchSpec(cells[i], folded_specs)) header = i;
  }
  if (header == cells.size()) {
    header = 0;
    while (header < cells.size() && IsBlank(&cells[header])) ++header;
    if (header == cells.size()) {
      return Invalid(StrCat("sheet ", Quote(sheet_.name), " is empty"));
    }
  }
  while (header > 0 && cells[header - 1].row == cells[header].row) --header;
  const std::span<const XlsxCell> header_cells = RowAt(cells, header);
  out_.header_row = header_cells.front().row;
  if (!MapHeader(header_cells, folded_specs)) return std::move(out_);
  for (size_t i = header + header_cells.size(); i < cells.size();) {
    const std::span<const XlsxCell> row = RowAt(cells, i);
    if (!ReadRow(row)) break;
    i += row.size();
  }
  return std::move(out_);
}

}  // namespace

std::string RecordError::ToString() const {
  std::string out = StrCat("sheet '", sheet, "', row ", row);
  if (!column.empty()) {
    out += StrCat(", column ", column);
    if (!header.empty()) out += StrCat(" (", header, ")");
  }
  return StrCat(out, ": ", message);
}

Result<XlsxRecords> ReadRecords(const XlsxWorkbook& workbook, std::span<const ColumnSpec> columns,
                                const RecordOptions& options) {
  if (columns.empty()) return Invalid("no column specs");
  if (options.max_errors == 0) return Invalid("max_errors must be positive");
  std::vector<std::string> folded;
  for (const ColumnSpec& spec : columns) {
    std::string f = FoldCase(TrimUserSpace(spec.header));
    if (f.empty()) return Invalid("a column spec has a blank header");
    if (std::find(folded.begin(), folded.end(), f) != folded.end()) {
      return Invalid(StrCat("two column specs for ", Quote(spec.header)));
    }
    folded.push_back(std::move(f));
  }
  const XlsxSheet* sheet =
      options.sheet.empty() ? workbook.FirstVisibleSheet() : workbook.FindSheet(options.sheet);
  if (sheet == nullptr) {
    if (options.sheet.empty()) return Invalid("the workbook has no sheets");
    std::string names;
    for (size_t i = 0; i < workbook.sheets().size() && i < kSheetsListed; ++i) {
      names += StrCat(i == 0 ? "" : ", ", Quote(workbook.sheets()[i].name));
    }
    if (workbook.sheets().size() > kSheetsListed) names += ", ...";
    return Invalid(
        StrCat("no sheet named ", Quote(options.sheet), " (the workbook has ", names, ")"));
  }
  if (sheet->cells.empty()) return Invalid(StrCat("sheet ", Quote(sheet->name), " is empty"));
  return RecordsBuilder(*sheet, columns, options).Build(folded);
}

}  // namespace herald::docs
