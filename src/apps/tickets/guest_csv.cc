#include "apps/tickets/guest_csv.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "core/strings.h"
#include "core/utf8.h"
#include "notify/mime.h"
#include "notify/sms_providers.h"

namespace herald::apps::tickets {
namespace {

constexpr size_t kMaxNameChars = 100;
constexpr size_t kMaxTicketTypeChars = 64;
// More header cells than any guest list needs; bounds the memory a hostile header can take.
constexpr size_t kMaxColumns = 1000;
constexpr size_t kMaxQuotedBytes = 80;

Status Invalid(std::string_view message) { return absl::InvalidArgumentError(ToAbsl(message)); }

// --- Text helpers -----------------------------------------------------------------------------

// Length of the blank (ASCII whitespace, U+00A0 or U+202F) starting at s[i], or 0.
size_t BlankAt(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') return 1;
  if (s.substr(i, 2) == "\xC2\xA0") return 2;
  if (s.substr(i, 3) == "\xE2\x80\xAF") return 3;
  return 0;
}

// Valid UTF-8 `s` without leading and trailing blanks.
std::string_view Trim(std::string_view s) {
  size_t n;
  while (!s.empty() && (n = BlankAt(s, 0)) > 0) s.remove_prefix(n);
  while (!s.empty()) {
    // The blanks are 1, 2 or 3 bytes long; check each possible start.
    size_t cut = 0;
    for (size_t len = 1; len <= 3 && len <= s.size() && cut == 0; ++len) {
      if (BlankAt(s, s.size() - len) == len) cut = len;
    }
    if (cut == 0) break;
    s.remove_suffix(cut);
  }
  return s;
}

// Whether valid UTF-8 `s` has a C0 control, DEL or a C1 control (U+0080..U+009F).
bool HasControl(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

size_t CharCount(std::string_view s) {
  size_t n = 0;
  core::CountUtf8(s, n);
  return n;
}

// `s` between single quotes, cut to kMaxQuotedBytes on a character boundary ("..." when cut).
std::string Quoted(std::string_view s) {
  if (s.size() <= kMaxQuotedBytes) return StrCat("'", s, "'");
  size_t end = 0;
  while (end < s.size()) {
    const size_t len = std::max<size_t>(core::Utf8SequenceLength(s, end), 1);
    if (end + len > kMaxQuotedBytes) break;
    end += len;
  }
  return StrCat("'", s.substr(0, end), "...'");
}

// The 1-based line of byte `offset` (CRLF, LF and CR each end a line).
int LineAt(std::string_view s, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n'))) ++line;
  }
  return line;
}

// --- Encoding ---------------------------------------------------------------------------------

// Windows-1252 0x80..0x9F (Microsoft's table, as in docs/pdf.cc's encoder); 0 = undefined.
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// The file's text as UTF-8 (see the header for the rule); sets `encoding`.
Result<std::string> DecodeFile(std::string_view bytes, std::string& encoding) {
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    return Invalid(
        "the file is UTF-16 (Excel's \"Unicode text\"); save it as \"CSV UTF-8\" instead");
  }
  const bool bom = bytes.starts_with("\xEF\xBB\xBF");
  if (bom) bytes.remove_prefix(3);
  size_t count = 0;
  if (core::CountUtf8(bytes, count)) {
    encoding = "utf-8";
    return std::string(bytes);
  }
  if (bom) {
    size_t i = 0;
    while (i < bytes.size()) {
      const size_t len = core::Utf8SequenceLength(bytes, i);
      if (len == 0) break;
      i += len;
    }
    return Invalid(StrCat("line ", LineAt(bytes, i),
                          ": the file starts with a UTF-8 byte order mark but is not valid UTF-8"));
  }
  encoding = "windows-1252";
  return Windows1252ToUtf8(bytes);
}

// --- CSV --------------------------------------------------------------------------------------

struct Record {
  int line = 0;                     // where it starts
  std::vector<std::string> fields;  // at most the reader's limit
  size_t field_count = 0;           // all of them, kept or not
  bool extra_nonblank = false;      // a field past the limit has text
};

// Reads RFC 4180 records leniently (see the header), counting physical lines.
class CsvReader {
 public:
  enum class Outcome { kRecord, kEnd, kUnterminated };

  CsvReader(std::string_view text, char delimiter, int first_line)
      : text_(text), delimiter_(delimiter), line_(first_line) {}

  // Reads the next record, keeping at most `limit` (>= 1) fields. kUnterminated: a quote opened
  // at quote_line() is never closed; the reader is then at the end.
  Outcome Read(size_t limit, Record& r) {
    if (pos_ >= text_.size()) return Outcome::kEnd;
    r.line = line_;
    r.fields.assign(1, std::string());
    r.field_count = 1;
    r.extra_nonblank = false;
    std::string* field = &r.fields.back();
    bool in_quotes = false, was_quoted = false, only_spaces = true;
    const auto end_field = [&] {
      if (field == &scratch_) {
        if (!Trim(scratch_).empty()) r.extra_nonblank = true;
        scratch_.clear();
      }
    };
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (in_quotes) {
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            *field += '"';
            pos_ += 2;
          } else {
            in_quotes = false;
            ++pos_;
          }
        } else {
          if (c == '\n' || (c == '\r' && (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '\n'))) {
            ++line_;
          }
          *field += c;
          ++pos_;
        }
        continue;
      }
      if (c == delimiter_) {
        end_field();
        ++r.field_count;
        if (r.fields.size() < limit) {
          r.fields.emplace_back();
          field = &r.fields.back();
        } else {
          field = &scratch_;
        }
        was_quoted = false;
        only_spaces = true;
        ++pos_;
        continue;
      }
      if (c == '\r' || c == '\n') {
        pos_ += (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ? 2 : 1;
        ++line_;
        end_field();
        return Outcome::kRecord;
      }
      if (c == '"' && !was_quoted && only_spaces) {
        field->clear();
        in_quotes = was_quoted = true;
        quote_line_ = line_;
        ++pos_;
        continue;
      }
      if (c != ' ') only_spaces = false;
      *field += c;
      ++pos_;
    }
    end_field();
    return in_quotes ? Outcome::kUnterminated : Outcome::kRecord;
  }

  int quote_line() const { return quote_line_; }

 private:
  std::string_view text_;
  char delimiter_;
  size_t pos_ = 0;
  int line_;
  int quote_line_ = 0;
  std::string scratch_;  // fields past the limit, one at a time
};

bool IsBlankRecord(const Record& r) {
  if (r.extra_nonblank) return false;
  for (const std::string& f : r.fields) {
    if (!Trim(f).empty()) return false;
  }
  return true;
}

struct HeaderLine {
  char delimiter = ',';
  size_t offset = 0;  // of its first byte
  int line = 1;
};

// The first line with something other than blanks and delimiters, and its delimiter: the most
// frequent of ';', tab and ',' outside quotes (ties in that order). nullopt for a blank file.
std::optional<HeaderLine> FindHeaderLine(std::string_view text) {
  size_t start = 0;
  int line = 1;
  while (start < text.size()) {
    size_t semicolons = 0, tabs = 0, commas = 0;
    bool in_quotes = false, content = false;
    size_t i = start;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '"') {
        in_quotes = !in_quotes;
        content = true;
      } else if (in_quotes) {
        continue;
      } else if (c == '\r' || c == '\n') {
        break;
      } else if (c == ';') {
        ++semicolons;
      } else if (c == '\t') {
        ++tabs;
      } else if (c == ',') {
        ++commas;
      } else if (c != ' ') {
        content = true;
      }
    }
    if (content) {
      HeaderLine h{.offset = start, .line = line};
      if (semicolons >= tabs && semicolons >= commas && semicolons > 0) {
        h.delimiter = ';';
      } else if (tabs >= commas && tabs > 0) {
        h.delimiter = '\t';
      }
      return h;
    }
    // A blank line has no quotes, so `i` is at its line break or at the end.
    if (i < text.size())
      i += (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
    start = i;
    ++line;
  }
  return std::nullopt;
}

// --- Header -----------------------------------------------------------------------------------

enum Field : int { kFirstName, kLastName, kFullName, kEmail, kPhone, kTicketType, kFieldCount };

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "first_name", "last_name", "name", "email", "phone", "ticket_type"};

struct Alias {
  std::string_view label;  // normalised (NormaliseLabel)
  Field field;
};
constexpr Alias kAliases[] = {
    {"first name", kFirstName},   {"firstname", kFirstName},
    {"prenom", kFirstName},       {"given name", kFirstName},
    {"last name", kLastName},     {"lastname", kLastName},
    {"nom", kLastName},           {"nom de famille", kLastName},
    {"surname", kLastName},       {"family name", kLastName},
    {"name", kFullName},          {"full name", kFullName},
    {"nom complet", kFullName},   {"email", kEmail},
    {"e mail", kEmail},           {"mail", kEmail},
    {"courriel", kEmail},         {"adresse email", kEmail},
    {"adresse e mail", kEmail},   {"phone", kPhone},
    {"telephone", kPhone},        {"tel", kPhone},
    {"mobile", kPhone},           {"portable", kPhone},
    {"ticket type", kTicketType}, {"type", kTicketType},
    {"categorie", kTicketType},   {"billet", kTicketType},
};

// Latin-1 letters U+00C0..U+00DF and U+00E0..U+00FF (same order) without accents; "" for
// × and ÷, which stay as they are. U+00FF (ÿ) is handled apart.
constexpr std::array<std::string_view, 32> kLatin1Folded = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss"};

// A header cell as looked up in kAliases: trimmed, lower-case, Latin accents removed, '_', '-',
// '.' and blanks as single spaces.
std::string NormaliseLabel(std::string_view cell) {
  std::string out;
  bool space = false;
  const auto put = [&](std::string_view piece) {
    if (space && !out.empty()) out += ' ';
    space = false;
    out += piece;
  };
  for (size_t i = 0; i < cell.size();) {
    if (const size_t blank = BlankAt(cell, i); blank > 0) {
      space = true;
      i += blank;
      continue;
    }
    // `cell` is valid UTF-8 (the file was checked or converted), so len >= 1.
    const size_t len = std::max<size_t>(core::Utf8SequenceLength(cell, i), 1);
    const uint32_t cp = core::DecodeUtf8(cell, i, len);
    if (cp == '_' || cp == '-' || cp == '.') {
      space = true;
    } else if (cp < 0x80) {
      const char c = absl::ascii_tolower(static_cast<unsigned char>(cp));
      put(std::string_view(&c, 1));
    } else if (cp == 0xFF) {
      put("y");
    } else if (cp >= 0xC0 && cp <= 0xFF && !kLatin1Folded[cp & 0x1F].empty()) {
      put(kLatin1Folded[cp & 0x1F]);
    } else {
      put(cell.substr(i, len));
    }
    i += len;
  }
  return out;
}

struct Columns {
  std::array<int, kFieldCount> index;  // -1: absent
  size_t count = 0;                    // header cells
  bool Has(Field f) const { return index[f] >= 0; }
};

Result<Columns> MapHeader(const Record& header, std::vector<std::string>& ignored) {
  Columns cols;
  cols.index.fill(-1);
  cols.count = header.field_count;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string_view label = Trim(header.fields[i]);
    if (label.empty()) continue;
    const std::string key = NormaliseLabel(label);
    std::optional<Field> field;
    for (const Alias& a : kAliases) {
      if (a.label == key) field = a.field;
    }
    if (!field) {
      ignored.emplace_back(label);
      continue;
    }
    if (cols.Has(*field)) {
      const int first = cols.index[*field];
      return Invalid(StrCat("line ", header.line, ": columns ", first + 1, " (",
                            Quoted(Trim(header.fields[first])), ") and ", i + 1, " (",
                            Quoted(label), ") are both the ", kFieldNames[*field], " column"));
    }
    cols.index[*field] = static_cast<int>(i);
  }
  if (!cols.Has(kEmail) && !cols.Has(kPhone)) {
    return Invalid(StrCat("line ", header.line,
                          ": the header has no email or phone column (such as \"email\", "
                          "\"courriel\", \"phone\" or \"téléphone\")"));
  }
  if (!cols.Has(kFirstName) && !cols.Has(kLastName) && !cols.Has(kFullName)) {
    return Invalid(StrCat("line ", header.line,
                          ": the header has no name column (such as \"first name\", "
                          "\"last name\", \"name\", \"prénom\" or \"nom\")"));
  }
  if (cols.Has(kFullName) && (cols.Has(kFirstName) || cols.Has(kLastName))) {
    ignored.emplace_back(Trim(header.fields[cols.index[kFullName]]));
    cols.index[kFullName] = -1;
  }
  return cols;
}

// --- Rows -------------------------------------------------------------------------------------

struct Region {
  std::string_view code;
  std::string_view country_code;
  size_t min_digits, max_digits;  // of the national significant number (after the 0)
  std::string_view example;       // national form
};
constexpr Region kRegions[] = {
    {"FR", "33", 9, 9, "06 12 34 56 78"},
    {"BE", "32", 8, 9, "0470 12 34 56"},
    {"CH", "41", 9, 9, "078 123 45 67"},
};

const Region* FindRegion(std::string_view code) {
  for (const Region& r : kRegions) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

bool IsGuestEmail(std::string_view s) {
  Result<notify::MailAddress> a = notify::ParseMailAddress(s);
  // Only a bare addr-spec: "Jean <jean@x.fr>" in an email cell is more likely a mistake.
  if (!a.ok() || !a->name.empty() || a->email != s) return false;
  return s.find('.', s.find('@')) != std::string_view::npos;
}

// Validates one data record into `row`; the error (field, message) for the first problem.
std::optional<std::pair<std::string, std::string>> CheckRecord(const Record& r, const Columns& cols,
                                                               const Region* region,
                                                               GuestRow& row) {
  using Problem = std::pair<std::string, std::string>;
  if (r.extra_nonblank) {
    return Problem(
        "", StrCat("the row has ", r.field_count, " fields but the header has ", cols.count));
  }
  std::array<std::string_view, kFieldCount> value;
  for (int f = 0; f < kFieldCount; ++f) {
    const int i = cols.index[f];
    value[f] = i >= 0 && static_cast<size_t>(i) < r.fields.size() ? Trim(r.fields[i]) : "";
    if (HasControl(value[f])) {
      return Problem(std::string(kFieldNames[f]),
                     "contains a control character (such as a line break or a tab)");
    }
  }
  Field first_field = kFirstName, last_field = kLastName;
  if (cols.Has(kFullName)) {
    first_field = last_field = kFullName;
    const std::string_view full = value[kFullName];
    const size_t space = full.rfind(' ');
    value[kFirstName] = space == std::string_view::npos ? full : Trim(full.substr(0, space));
    value[kLastName] = space == std::string_view::npos ? "" : Trim(full.substr(space + 1));
  }
  for (const auto& [f, name_field] :
       {std::pair{kFirstName, first_field}, std::pair{kLastName, last_field}}) {
    if (CharCount(value[f]) > kMaxNameChars) {
      return Problem(std::string(kFieldNames[name_field]),
                     StrCat(Quoted(value[f]), " is longer than ", kMaxNameChars, " characters"));
    }
  }
  if (CharCount(value[kTicketType]) > kMaxTicketTypeChars) {
    return Problem("ticket_type", StrCat(Quoted(value[kTicketType]), " is longer than ",
                                         kMaxTicketTypeChars, " characters"));
  }
  if (!value[kEmail].empty() && !IsGuestEmail(value[kEmail])) {
    return Problem("email", StrCat(Quoted(value[kEmail]), " is not an email address"));
  }
  std::string phone;
  if (!value[kPhone].empty()) {
    Result<std::string> p =
        NormalizeGuestPhone(value[kPhone], region != nullptr ? region->code : "");
    if (!p.ok()) return Problem("phone", std::string(ToStd(p.status().message())));
    phone = *std::move(p);
  }
  if (value[kFirstName].empty() && value[kLastName].empty()) {
    return Problem("name", "a first name or a last name is required");
  }
  if (value[kEmail].empty() && phone.empty()) {
    if (!cols.Has(kPhone)) return Problem("email", "an email address is required");
    if (!cols.Has(kEmail)) return Problem("phone", "a phone number is required");
    return Problem("email", "an email address or a phone number is required");
  }
  row.line = r.line;
  row.first_name = std::string(value[kFirstName]);
  row.last_name = std::string(value[kLastName]);
  row.email = std::string(value[kEmail]);
  row.phone = std::move(phone);
  row.ticket_type = std::string(value[kTicketType]);
  return std::nullopt;
}

}  // namespace

Result<std::string> Windows1252ToUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      out += static_cast<char>(b);
    } else if (b >= 0xA0) {
      core::AppendUtf8(b, out);
    } else if (const uint16_t cp = kCp1252High[b - 0x80]; cp != 0) {
      core::AppendUtf8(cp, out);
    } else {
      return Invalid(StrCat("line ", LineAt(bytes, i), ": byte 0x",
                            fmt::format("{:02X}", static_cast<unsigned>(b)),
                            " is neither UTF-8 nor Windows-1252; save the file as \"CSV UTF-8\""));
    }
  }
  return out;
}

Result<std::string> NormalizeGuestPhone(std::string_view text, std::string_view default_region) {
  const Region* region = FindRegion(default_region);
  if (region == nullptr && !default_region.empty()) {
    return Invalid(
        StrCat("unsupported default region ", Quoted(default_region), " (FR, BE, CH or none)"));
  }
  const std::string_view trimmed = Trim(text);
  const auto refuse = [&](std::string_view hint = {}) -> Status {
    if (!hint.empty())
      return Invalid(StrCat(Quoted(trimmed), " is not a phone number (", hint, ")"));
    if (region == nullptr) {
      return Invalid(StrCat(Quoted(trimmed),
                            " is not a phone number (expected an international number such as "
                            "+33 6 12 34 56 78)"));
    }
    return Invalid(StrCat(Quoted(trimmed),
                          " is not a phone number (expected an international number such as "
                          "+33 6 12 34 56 78, or a national ",
                          region->code, " number such as ", region->example, ")"));
  };
  const bool international = trimmed.starts_with('+') || trimmed.starts_with("00");
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < trimmed.size();) {
    const char c = trimmed[i];
    if (international && trimmed.substr(i, 3) == "(0)") {
      i += 3;
    } else if (c >= '0' && c <= '9') {
      digits += c;
      ++i;
    } else if (c == '+' && i == 0) {
      plus = true;
      ++i;
    } else if (c == '.' || c == '-' || c == '/' || c == '(' || c == ')') {
      ++i;
    } else if (const size_t blank = BlankAt(trimmed, i); blank > 0) {
      i += blank;
    } else {
      return refuse();
    }
  }
  std::string e164;
  if (plus) {
    e164 = StrCat("+", digits);
  } else if (digits.starts_with("00")) {
    e164 = StrCat("+", std::string_view(digits).substr(2));
  } else if (digits.starts_with('0') && region != nullptr) {
    const std::string_view national = std::string_view(digits).substr(1);
    if (national.size() < region->min_digits || national.size() > region->max_digits ||
        national.starts_with('0')) {
      return refuse();
    }
    e164 = StrCat("+", region->country_code, national);
  } else if (region != nullptr && region->code == "FR" && digits.size() == 9 &&
             !digits.starts_with('0')) {
    return refuse(
        StrCat("did the spreadsheet drop its leading 0? write 0", digits, " or +33", digits));
  } else {
    return refuse();
  }
  if (!notify::IsE164(e164)) return refuse();
  for (const Region& r : kRegions) {
    const std::string_view rest = std::string_view(e164).substr(1);
    if (!rest.starts_with(r.country_code)) continue;
    const std::string_view national = rest.substr(r.country_code.size());
    if (national.size() < r.min_digits || national.size() > r.max_digits ||
        national.starts_with('0')) {
      return refuse();
    }
  }
  return e164;
}

Result<GuestCsv> ParseGuestCsv(std::string_view text, const GuestCsvOptions& options) {
  if (text.size() > options.max_bytes) {
    return Invalid(StrCat("the file is ", text.size(), " bytes; at most ", options.max_bytes,
                          " are accepted"));
  }
  const Region* region = FindRegion(options.default_region);
  if (region == nullptr && !options.default_region.empty()) {
    return Invalid(StrCat("unsupported default region ", Quoted(options.default_region),
                          " (FR, BE, CH or none)"));
  }
  GuestCsv out;
  HERALD_ASSIGN_OR_RETURN(const std::string body, DecodeFile(text, out.encoding));
  const std::optional<HeaderLine> header_line = FindHeaderLine(body);
  if (!header_line) return Invalid("the file is empty: no header line");
  CsvReader reader(std::string_view(body).substr(header_line->offset), header_line->delimiter,
                   header_line->line);

  Record record;
  CsvReader::Outcome outcome;
  do {
    outcome = reader.Read(kMaxColumns, record);
    if (outcome == CsvReader::Outcome::kEnd) return Invalid("the file is empty: no header line");
    if (outcome == CsvReader::Outcome::kUnterminated) {
      return Invalid(
          StrCat("line ", reader.quote_line(), ": a quote in the header is never closed"));
    }
  } while (IsBlankRecord(record));
  if (record.field_count > kMaxColumns) {
    return Invalid(StrCat("line ", record.line, ": the header has ", record.field_count,
                          " columns; at most ", kMaxColumns, " are accepted"));
  }
  HERALD_ASSIGN_OR_RETURN(const Columns cols, MapHeader(record, out.ignored_columns));

  absl::flat_hash_map<std::string, int> email_lines;  // lower-cased email -> line
  while ((outcome = reader.Read(cols.count, record)) != CsvReader::Outcome::kEnd) {
    if (outcome == CsvReader::Outcome::kRecord && IsBlankRecord(record)) continue;
    if (++out.records > options.max_rows) {
      return Invalid(StrCat("the file has more than ", options.max_rows,
                            " guest rows; split it into smaller files"));
    }
    if (outcome == CsvReader::Outcome::kUnterminated) {
      out.errors.push_back(
          {reader.quote_line(), "",
           StrCat("a quote opened on this line is never closed, so the rest of the file (from "
                  "line ",
                  record.line, ") could not be read")});
      break;
    }
    GuestRow row;
    if (std::optional<std::pair<std::string, std::string>> problem =
            CheckRecord(record, cols, region, row)) {
      out.errors.push_back({record.line, std::move(problem->first), std::move(problem->second)});
      continue;
    }
    if (!row.email.empty()) {
      std::string key = absl::AsciiStrToLower(ToAbsl(row.email));
      const auto [it, inserted] = email_lines.try_emplace(key, row.line);
      if (!inserted) {
        out.errors.push_back(
            {row.line, "email", StrCat(Quoted(row.email), " is already on line ", it->second)});
        continue;
      }
      row.email = std::move(key);
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace herald::apps::tickets
