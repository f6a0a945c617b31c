#include "notify/mime.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::notify {
namespace {

// RFC 5322 section 2.1.1: lines SHOULD be at most 78 characters and MUST be at most 998.
constexpr size_t kFoldColumn = 78;
constexpr size_t kMaxLineLength = 998;
// RFC 2047 section 2: an encoded-word is at most 75 characters.
constexpr size_t kMaxEncodedWord = 75;
constexpr std::string_view kWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kWordSuffix = "?=";
// ASCII words longer than this are sent as encoded-words, which can be split anywhere, so that
// header lines stay near kFoldColumn.
constexpr size_t kMaxPlainWord = 70;
// Keeps "<seed>-alternative" within the 70 characters RFC 2046 allows a boundary.
constexpr size_t kMaxSeedLength = 50;
constexpr size_t kMaxContentTypeLength = 200;
constexpr size_t kMaxContentIdLength = 250;
constexpr size_t kMaxExtraHeaderName = 76;
constexpr std::string_view kUpperHex = "0123456789ABCDEF";
constexpr std::string_view kLowerHex = "0123456789abcdef";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kPreamble = "This is a multi-part message in MIME format.\r\n";

template <typename... Args>
Status Invalid(const Args&... args) {
  return absl::InvalidArgumentError(ToAbsl(StrCat(args...)));
}

unsigned char Byte(char c) { return static_cast<unsigned char>(c); }
bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// VCHAR: printable ASCII without space.
bool IsVisible(char c) { return Byte(c) >= 0x21 && Byte(c) <= 0x7E; }
// RFC 5322 atext.
bool IsAtext(char c) {
  return IsAlnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}
// RFC 2045 token character: VCHAR except tspecials.
bool IsTokenChar(char c) {
  return IsVisible(c) && std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}
// RFC 2231 attribute-char: a token character other than '*', '\'' and '%'.
bool IsAttributeChar(char c) { return IsTokenChar(c) && c != '*' && c != '\'' && c != '%'; }
bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || IsVisible(c); });
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != AsciiLower(prefix[i])) return false;
  }
  return true;
}
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

bool IsValidUtf8(std::string_view s) {
  size_t count = 0;
  return core::CountUtf8(s, count);
}

bool HasCrOrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// The check for text that ends up in a header: CR/LF (header injection) first, so that the
// error says so, then other control characters and invalid UTF-8.
Status CheckHeaderText(std::string_view s, std::string_view field) {
  if (HasCrOrLf(s)) return Invalid(field, " contains CR or LF");
  for (char c : s) {
    if ((Byte(c) < 0x20 && c != '\t') || Byte(c) == 0x7F) {
      return Invalid(field, " contains a control character");
    }
  }
  if (!IsValidUtf8(s)) return Invalid(field, " is not valid UTF-8");
  return absl::OkStatus();
}

Status ValidateDomain(std::string_view domain, std::string_view field) {
  if (domain.empty()) return Invalid(field, " has an empty domain");
  if (domain.size() > 253) return Invalid(field, " has a domain longer than 253 bytes");
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return Invalid(field, " has an empty domain label");
    if (label.size() > 63) return Invalid(field, " has a domain label longer than 63 bytes");
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') {
        return Invalid(field, " has a domain with a character other than letters, digits, '-'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Invalid(field, " has a domain label starting or ending with '-'");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return absl::OkStatus();
}

// An addr-spec with a dot-atom local part and an LDH domain (see the header).
Status ValidateAddrSpec(std::string_view address, std::string_view field) {
  if (address.empty()) return Invalid(field, " is empty");
  if (HasCrOrLf(address)) return Invalid(field, " contains CR or LF");
  if (address.size() > kMaxAddressBytes) {
    return Invalid(field, " is longer than ", kMaxAddressBytes, " bytes");
  }
  const size_t at = address.find('@');
  if (at == std::string_view::npos) return Invalid(field, " has no '@'");
  if (address.find('@', at + 1) != std::string_view::npos) {
    return Invalid(field, " has more than one '@'");
  }
  const std::string_view local = address.substr(0, at);
  if (local.empty()) return Invalid(field, " has an empty local part");
  if (local.size() > kMaxLocalPartBytes) {
    return Invalid(field, " has a local part longer than ", kMaxLocalPartBytes, " bytes");
  }
  for (char c : local) {
    if (!IsAtext(c) && c != '.') {
      return Invalid(field, " has a local part with a character that needs quoting");
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return Invalid(field, " has a local part with a misplaced '.'");
  }
  return ValidateDomain(address.substr(at + 1), field);
}

Status CheckAddress(const MailAddress& address, std::string_view field) {
  HERALD_RETURN_IF_ERROR(ValidateAddrSpec(address.email, StrCat(field, ".email")));
  return CheckHeaderText(address.name, StrCat(field, ".name"));
}

std::string Base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{Byte(in[i])} << 16) | (uint32_t{Byte(in[i + 1])} << 8) |
                       uint32_t{Byte(in[i + 2])};
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{Byte(in[i])} << 16;
    if (rest == 2) v |= uint32_t{Byte(in[i + 1])} << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The longest prefix of `s` of at most `max_bytes` bytes that ends on a character boundary.
size_t Utf8Prefix(std::string_view s, size_t max_bytes) {
  size_t n = 0;
  while (n < s.size()) {
    size_t len = core::Utf8SequenceLength(s, n);
    if (len == 0) len = 1;  // callers validate first; never loop forever regardless
    if (n + len > max_bytes) break;
    n += len;
  }
  return n;
}

// Raw bytes that fit in an encoded-word of at most `room` characters.
size_t RawBytesFor(size_t room) {
  const size_t overhead = kWordPrefix.size() + kWordSuffix.size();
  return room > overhead ? (room - overhead) / 4 * 3 : 0;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// One header field being written. Segments that start with a space or tab may be moved to a
// new line (folded: CRLF inserted before the whitespace, which unfolding removes again); other
// segments are glued to what precedes them.
class HeaderLine {
 public:
  explicit HeaderLine(std::string_view name) : out_(name), column_(name.size() + 1) {
    out_ += ':';
    longest_ = column_;
  }

  void Add(std::string_view segment) {
    if (!segment.empty() && IsWsp(segment.front()) && has_content_ &&
        column_ + segment.size() > kFoldColumn) {
      out_ += "\r\n";
      column_ = 0;
    }
    out_ += segment;
    column_ += segment.size();
    longest_ = std::max(longest_, column_);
    has_content_ = true;
  }

  size_t column() const { return column_; }
  size_t longest_line() const { return longest_; }

  std::string Finish() && {
    out_ += "\r\n";
    return std::move(out_);
  }

 private:
  std::string out_;
  size_t column_;
  size_t longest_;
  bool has_content_ = false;
};

// Appends `text` (valid UTF-8) as RFC 2047 encoded-words. The first word is preceded by
// `first_prefix` (which starts with a space), the others by a space, and `suffix` is glued to
// the last; each word fits the current line when it can and is at most kMaxEncodedWord
// characters. RFC 2047 readers drop the whitespace between adjacent encoded-words, but some
// (Python's address parser before gh-128110) keep it in a display name, so for a `phrase` a
// name that fits one word stays one word (on a line of its own or a little over 78 columns
// if need be), and longer ones are cut after a space when there is one in the word's second
// half: such readers then show a doubled space rather than a space inside a word.
void AddEncodedWords(HeaderLine& h, std::string_view text, std::string_view first_prefix,
                     std::string_view suffix, bool phrase) {
  const size_t max_raw = RawBytesFor(kMaxEncodedWord);
  bool first = true;
  while (!text.empty()) {
    const std::string_view prefix = first ? first_prefix : std::string_view(" ");
    size_t n = 0;
    if (phrase && first && text.size() <= max_raw) {
      n = text.size();
    } else {
      const size_t used = h.column() + prefix.size() + suffix.size();
      const size_t room = used < kFoldColumn ? std::min(kMaxEncodedWord, kFoldColumn - used) : 0;
      n = Utf8Prefix(text, RawBytesFor(room));
      if (n == 0) {  // not even one character fits: the word goes on a new line
        const size_t fresh = kFoldColumn - prefix.size() - suffix.size();
        n = Utf8Prefix(text, RawBytesFor(std::min(kMaxEncodedWord, fresh)));
      }
      if (phrase && n < text.size()) {
        const size_t space = text.substr(0, n).rfind(' ');
        if (space != std::string_view::npos && space + 1 >= n / 2) n = space + 1;
      }
    }
    const bool last = n == text.size();
    h.Add(StrCat(prefix, kWordPrefix, Base64(text.substr(0, n)), kWordSuffix,
                 last ? suffix : std::string_view()));
    text.remove_prefix(n);
    first = false;
  }
}

// Appends WSP-separated words, each with the whitespace before it, so that folding keeps the
// text exactly. `text` must not start with whitespace.
void AddWords(HeaderLine& h, std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && IsWsp(text[j])) ++j;
    while (j < text.size() && !IsWsp(text[j])) ++j;
    h.Add(StrCat(i == 0 ? " " : "", text.substr(i, j - i)));
    i = j;
  }
}

size_t LongestWord(std::string_view text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = IsWsp(c) ? 0 : run + 1;
    longest = std::max(longest, run);
  }
  return longest;
}

// Printable ASCII that a reader cannot mistake for encoded-words and that folds into short
// lines can be written as is.
bool IsPlainText(std::string_view text) {
  return IsPrintableAscii(text) && text.find("=?") == std::string_view::npos &&
         LongestWord(text) <= kMaxPlainWord;
}

void AddUnstructured(HeaderLine& h, std::string_view text) {
  if (text.empty()) return;
  if (IsPlainText(text) && !IsWsp(text.front()) && !IsWsp(text.back())) {
    AddWords(h, text);
  } else {
    AddEncodedWords(h, text, " ", "", /*phrase=*/false);
  }
}

void AddDisplayName(HeaderLine& h, std::string_view name) {
  if (!IsPlainText(name)) {
    AddEncodedWords(h, name, " ", "", /*phrase=*/true);
    return;
  }
  const bool atoms =
      std::all_of(name.begin(), name.end(), [](char c) { return IsAtext(c) || c == ' '; }) &&
      name.front() != ' ' && name.back() != ' ' && name.find("  ") == std::string_view::npos;
  if (atoms) {
    AddWords(h, name);
    return;
  }
  const std::string quoted = Quote(name);
  if (quoted.size() <= kMaxPlainWord + 2) {
    h.Add(StrCat(" ", quoted));
  } else {
    AddEncodedWords(h, name, " ", "", /*phrase=*/true);
  }
}

// `suffix` (a list's comma) is glued to the address so that the line length counts it.
void AddMailbox(HeaderLine& h, const MailAddress& a, std::string_view suffix = "") {
  if (a.name.empty()) {
    h.Add(StrCat(" ", a.email, suffix));
    return;
  }
  AddDisplayName(h, a.name);
  h.Add(StrCat(" <", a.email, ">", suffix));
}

void AddAddressList(HeaderLine& h, const std::vector<MailAddress>& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    AddMailbox(h, list[i], i + 1 < list.size() ? "," : "");
  }
}

// RFC 2231 extended value: UTF-8'' then attribute-chars, everything else as %XX.
std::string PercentEncode(std::string_view s) {
  std::string out = "UTF-8''";
  for (char c : s) {
    if (IsAttributeChar(c)) {
      out += c;
    } else {
      out += '%';
      out += kUpperHex[Byte(c) >> 4];
      out += kUpperHex[Byte(c) & 15];
    }
  }
  return out;
}

bool FilenameNeedsEncoding(std::string_view filename) {
  return !IsPrintableAscii(filename) || filename.find("=?") != std::string_view::npos;
}

// "type/subtype" then optional "; attribute=value" parameters, value a token or quoted-string.
Status ValidateContentType(std::string_view ct, std::string_view field) {
  if (HasCrOrLf(ct)) return Invalid(field, " contains CR or LF");
  const auto bad = [&] {
    return Invalid(field, " is not a valid type/subtype[; attribute=value]");
  };
  if (ct.size() > kMaxContentTypeLength) return bad();
  size_t i = 0;
  const auto token = [&] {
    const size_t start = i;
    while (i < ct.size() && IsTokenChar(ct[i])) ++i;
    return i > start;
  };
  const auto skip_wsp = [&] {
    while (i < ct.size() && IsWsp(ct[i])) ++i;
  };
  if (!token() || i == ct.size() || ct[i] != '/') return bad();
  ++i;
  if (!token()) return bad();
  while (true) {
    skip_wsp();
    if (i == ct.size()) break;
    if (ct[i] != ';') return bad();
    ++i;
    skip_wsp();
    if (!token() || i == ct.size() || ct[i] != '=') return bad();
    ++i;
    if (i < ct.size() && ct[i] == '"') {
      ++i;
      while (i < ct.size() && ct[i] != '"') {
        if (ct[i] == '\\') ++i;
        if (i == ct.size() || !(IsVisible(ct[i]) || IsWsp(ct[i]))) return bad();
        ++i;
      }
      if (i == ct.size()) return bad();
      ++i;
    } else if (!token()) {
      return bad();
    }
  }
  return absl::OkStatus();
}

Status ValidateContentId(std::string_view id, std::string_view field) {
  if (HasCrOrLf(id)) return Invalid(field, " contains CR or LF");
  if (id.size() > kMaxContentIdLength) {
    return Invalid(field, " is longer than ", kMaxContentIdLength, " bytes");
  }
  for (char c : id) {
    if (!IsVisible(c) || std::string_view("<>\"\\").find(c) != std::string_view::npos) {
      return Invalid(field, " may only hold printable ASCII other than '<', '>', '\"', '\\'");
    }
  }
  return absl::OkStatus();
}

Status ValidateAttachment(const Attachment& a, std::string_view field) {
  const std::string filename_field = StrCat(field, ".filename");
  HERALD_RETURN_IF_ERROR(CheckHeaderText(a.filename, filename_field));
  if (a.filename.empty()) return Invalid(filename_field, " is empty");
  if (a.filename.size() > kMaxFilenameBytes) {
    return Invalid(filename_field, " is longer than ", kMaxFilenameBytes, " bytes");
  }
  if (!a.content_type.empty()) {
    HERALD_RETURN_IF_ERROR(ValidateContentType(a.content_type, StrCat(field, ".content_type")));
  }
  return ValidateContentId(a.content_id, StrCat(field, ".content_id"));
}

struct Part {
  std::string headers;  // complete header lines, each ending with CRLF
  std::string body;     // empty or CRLF-terminated lines
};

Part TextPart(std::string_view subtype, std::string_view text) {
  return Part{StrCat("Content-Type: text/", subtype,
                     "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"),
              EncodeQuotedPrintable(text)};
}

Part AttachmentPart(const Attachment& a) {
  const std::string_view type =
      a.content_type.empty() ? GuessContentType(a.filename) : std::string_view(a.content_type);
  const bool encode = FilenameNeedsEncoding(a.filename);
  std::string headers;
  {
    HeaderLine h("Content-Type");
    h.Add(StrCat(" ", type, ";"));
    if (encode) {
      // RFC 2047 inside a quoted parameter is not standard, but it is what mail clients
      // that ignore RFC 2231 display.
      AddEncodedWords(h, a.filename, " name=\"", "\"", /*phrase=*/false);
    } else {
      h.Add(StrCat(" name=", Quote(a.filename)));
    }
    headers += std::move(h).Finish();
  }
  {
    HeaderLine h("Content-Disposition");
    h.Add(a.content_id.empty() ? " attachment;" : " inline;");
    h.Add(encode ? StrCat(" filename*=", PercentEncode(a.filename))
                 : StrCat(" filename=", Quote(a.filename)));
    headers += std::move(h).Finish();
  }
  if (!a.content_id.empty()) headers += StrCat("Content-ID: <", a.content_id, ">\r\n");
  headers += "Content-Transfer-Encoding: base64\r\n";
  return Part{std::move(headers), EncodeBase64Lines(a.data)};
}

// Chooses boundaries and the Message-ID's left part: seeded or random (see BuildOptions).
class Uniques {
 public:
  explicit Uniques(std::string_view seed) : seed_(seed) {}

  bool seeded() const { return !seed_.empty(); }

  Result<std::string> Boundary(std::string_view kind) const {
    if (seeded()) return StrCat(seed_, "-", kind);
    HERALD_ASSIGN_OR_RETURN(std::string random, RandomHex(16));
    return StrCat("=_", random);
  }

  Result<std::string> MessageIdLeft() const {
    if (seeded()) return std::string(seed_);
    return RandomHex(16);
  }

 private:
  static Result<std::string> RandomHex(size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
      return absl::InternalError("random generator failed");
    }
    std::string out;
    for (char c : raw) {
      out += kLowerHex[Byte(c) >> 4];
      out += kLowerHex[Byte(c) & 15];
    }
    return out;
  }

  std::string_view seed_;
};

Result<Part> Multipart(std::string_view subtype, std::string_view type_param,
                       const std::vector<Part>& children, const Uniques& uniques) {
  HERALD_ASSIGN_OR_RETURN(const std::string boundary, uniques.Boundary(subtype));
  const std::string delimiter = StrCat("--", boundary);
  std::string body;
  for (const Part& child : children) {
    if (child.headers.find(delimiter) != std::string::npos ||
        child.body.find(delimiter) != std::string::npos) {
      if (uniques.seeded()) {
        return Invalid("boundary_seed: boundary \"", boundary, "\" occurs in the content");
      }
      return absl::InternalError("MIME boundary collision");
    }
    // The CRLF before each delimiter belongs to the delimiter (RFC 2046 section 5.1.1), so the
    // child's own final CRLF is kept.
    body += StrCat(delimiter, "\r\n", child.headers, "\r\n", child.body, "\r\n");
  }
  body += StrCat(delimiter, "--\r\n");
  HeaderLine h("Content-Type");
  h.Add(StrCat(" multipart/", subtype, ";"));
  h.Add(StrCat(" boundary=\"", boundary, "\"", type_param.empty() ? "" : ";"));
  if (!type_param.empty()) h.Add(StrCat(" type=\"", type_param, "\""));
  return Part{std::move(h).Finish(), std::move(body)};
}

Result<std::string> FormatDate(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return Invalid("date must be finite");
  }
  const absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (cs.year() < 1900 || cs.year() > 9999) return Invalid("date must be in years 1900 to 9999");
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto weekday = static_cast<size_t>(absl::GetWeekday(absl::CivilDay(cs)));
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} +0000", kDays[weekday], cs.day(),
                     kMonths[static_cast<size_t>(cs.month() - 1)], cs.year(), cs.hour(),
                     cs.minute(), cs.second());
}

// List-Unsubscribe and List-Unsubscribe-Post (RFC 2369, RFC 8058); empty when neither is set.
Result<std::string> UnsubscribeHeaders(const MailMessage& m) {
  if (m.list_unsubscribe_url.empty() && m.list_unsubscribe_mailto.empty()) return std::string();
  const auto check_chars = [](std::string_view value, std::string_view field) -> Status {
    if (HasCrOrLf(value)) return Invalid(field, " contains CR or LF");
    if (value.size() > kMaxUnsubscribeBytes) {
      return Invalid(field, " is longer than ", kMaxUnsubscribeBytes, " bytes");
    }
    for (char c : value) {
      if (!IsVisible(c) || c == '<' || c == '>' || c == '"') {
        return Invalid(field, " may only hold printable ASCII other than space, '<', '>', '\"'");
      }
    }
    return absl::OkStatus();
  };
  const std::string& url = m.list_unsubscribe_url;
  bool https = false;
  if (!url.empty()) {
    HERALD_RETURN_IF_ERROR(check_chars(url, "list_unsubscribe_url"));
    https = StartsWithIgnoreCase(url, "https://");
    const size_t scheme = https ? 8 : 7;
    if ((!https && !StartsWithIgnoreCase(url, "http://")) || url.size() == scheme) {
      return Invalid("list_unsubscribe_url must be an http or https URL");
    }
  }
  std::string mailto;
  if (!m.list_unsubscribe_mailto.empty()) {
    mailto = StartsWithIgnoreCase(m.list_unsubscribe_mailto, "mailto:")
                 ? m.list_unsubscribe_mailto
                 : StrCat("mailto:", m.list_unsubscribe_mailto);
    HERALD_RETURN_IF_ERROR(check_chars(mailto, "list_unsubscribe_mailto"));
    const std::string_view rest = std::string_view(mailto).substr(7);
    HERALD_RETURN_IF_ERROR(
        ValidateAddrSpec(rest.substr(0, rest.find('?')), "list_unsubscribe_mailto"));
  }
  HeaderLine h("List-Unsubscribe");
  if (!url.empty()) h.Add(StrCat(" <", url, ">", mailto.empty() ? "" : ","));
  if (!mailto.empty()) h.Add(StrCat(" <", mailto, ">"));
  std::string out = std::move(h).Finish();
  if (https) out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  return out;
}

bool IsReservedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kReserved = {"date",
                                                                 "from",
                                                                 "to",
                                                                 "cc",
                                                                 "bcc",
                                                                 "reply-to",
                                                                 "subject",
                                                                 "message-id",
                                                                 "mime-version",
                                                                 "list-unsubscribe",
                                                                 "list-unsubscribe-post"};
  const std::string lower = Lower(name);
  return std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end() ||
         StartsWithIgnoreCase(lower, "content-");
}

Result<std::string> ExtraHeader(std::string_view name, std::string_view value, size_t index) {
  const std::string field = StrCat("extra_headers[", index, "]");
  if (HasCrOrLf(name) || HasCrOrLf(value)) return Invalid(field, " contains CR or LF");
  if (name.empty() || name.size() > kMaxExtraHeaderName ||
      !std::all_of(name.begin(), name.end(), [](char c) { return IsVisible(c) && c != ':'; })) {
    return Invalid(field, ".name must be 1 to ", kMaxExtraHeaderName,
                   " printable ASCII characters other than ':'");
  }
  if (IsReservedHeader(name)) return Invalid(field, ": header ", name, " is set by the builder");
  value = TrimWsp(value);
  if (!std::all_of(value.begin(), value.end(), [](char c) { return IsVisible(c) || IsWsp(c); })) {
    return Invalid(field, ".value may only hold printable ASCII, spaces and tabs");
  }
  HeaderLine h(name);
  AddWords(h, value);
  if (h.longest_line() > kMaxLineLength) {
    return Invalid(field, ".value has a word too long for a ", kMaxLineLength, "-character line");
  }
  return std::move(h).Finish();
}

Status ValidateSeed(std::string_view seed) {
  if (seed.size() > kMaxSeedLength || !std::all_of(seed.begin(), seed.end(), [](char c) {
        return IsAlnum(c) || c == '_' || c == '-';
      })) {
    return Invalid("boundary_seed must be at most ", kMaxSeedLength,
                   " characters of [A-Za-z0-9_-]");
  }
  return absl::OkStatus();
}

bool LinesAreShort(std::string_view data) {
  size_t start = 0;
  while (start < data.size()) {
    const size_t end = data.find("\r\n", start);
    if (end == std::string_view::npos || end - start > kMaxLineLength) return false;
    start = end + 2;
  }
  return true;
}

}  // namespace

Result<BuiltMessage> BuildMessage(const MailMessage& m, const BuildOptions& o) {
  HERALD_RETURN_IF_ERROR(CheckAddress(m.from, "from"));
  if (m.to.empty() && m.cc.empty()) return Invalid("at least one to or cc recipient is required");
  for (size_t i = 0; i < m.to.size(); ++i) {
    HERALD_RETURN_IF_ERROR(CheckAddress(m.to[i], StrCat("to[", i, "]")));
  }
  for (size_t i = 0; i < m.cc.size(); ++i) {
    HERALD_RETURN_IF_ERROR(CheckAddress(m.cc[i], StrCat("cc[", i, "]")));
  }
  if (m.reply_to) HERALD_RETURN_IF_ERROR(CheckAddress(*m.reply_to, "reply_to"));
  HERALD_RETURN_IF_ERROR(CheckHeaderText(m.subject, "subject"));
  if (!IsValidUtf8(m.text)) return Invalid("text is not valid UTF-8");
  if (!IsValidUtf8(m.html)) return Invalid("html is not valid UTF-8");
  if (m.text.empty() && m.html.empty()) return Invalid("text or html is required");
  std::set<std::string_view> content_ids;
  for (size_t i = 0; i < m.attachments.size(); ++i) {
    const Attachment& a = m.attachments[i];
    HERALD_RETURN_IF_ERROR(ValidateAttachment(a, StrCat("attachments[", i, "]")));
    if (!a.content_id.empty() && !content_ids.insert(a.content_id).second) {
      return Invalid("attachments[", i, "].content_id repeats an earlier one");
    }
  }
  HERALD_ASSIGN_OR_RETURN(const std::string unsubscribe, UnsubscribeHeaders(m));
  std::string extra;
  for (size_t i = 0; i < m.extra_headers.size(); ++i) {
    HERALD_ASSIGN_OR_RETURN(std::string line,
                            ExtraHeader(m.extra_headers[i].first, m.extra_headers[i].second, i));
    extra += line;
  }
  HERALD_ASSIGN_OR_RETURN(const std::string date, FormatDate(o.date));
  std::string_view domain = o.message_id_domain;
  if (domain.empty()) {
    domain = std::string_view(m.from.email).substr(m.from.email.find('@') + 1);
  } else {
    HERALD_RETURN_IF_ERROR(ValidateDomain(domain, "message_id_domain"));
  }
  HERALD_RETURN_IF_ERROR(ValidateSeed(o.boundary_seed));
  const Uniques uniques(o.boundary_seed);

  // The body tree, innermost first.
  std::vector<Part> bodies;
  if (!m.text.empty()) bodies.push_back(TextPart("plain", m.text));
  if (!m.html.empty()) bodies.push_back(TextPart("html", m.html));
  Part root;
  std::string root_type;
  if (bodies.size() == 2) {
    HERALD_ASSIGN_OR_RETURN(root, Multipart("alternative", "", bodies, uniques));
    root_type = "multipart/alternative";
  } else {
    root = std::move(bodies.front());
    root_type = m.text.empty() ? "text/html" : "text/plain";
  }
  std::vector<Part> related{root};
  std::vector<Part> mixed;
  for (const Attachment& a : m.attachments) {
    (a.content_id.empty() ? mixed : related).push_back(AttachmentPart(a));
  }
  if (related.size() > 1) {
    HERALD_ASSIGN_OR_RETURN(root, Multipart("related", root_type, related, uniques));
  }
  if (!mixed.empty()) {
    mixed.insert(mixed.begin(), std::move(root));
    HERALD_ASSIGN_OR_RETURN(root, Multipart("mixed", "", mixed, uniques));
  }
  const bool multipart = related.size() > 1 || !mixed.empty() || bodies.size() == 2;

  BuiltMessage out;
  HERALD_ASSIGN_OR_RETURN(const std::string left, uniques.MessageIdLeft());
  out.message_id = StrCat(left, "@", domain);

  std::string& data = out.data;
  data += StrCat("Date: ", date, "\r\n");
  {
    HeaderLine h("From");
    AddMailbox(h, m.from);
    data += std::move(h).Finish();
  }
  if (!m.to.empty()) {
    HeaderLine h("To");
    AddAddressList(h, m.to);
    data += std::move(h).Finish();
  }
  if (!m.cc.empty()) {
    HeaderLine h("Cc");
    AddAddressList(h, m.cc);
    data += std::move(h).Finish();
  }
  if (m.reply_to) {
    HeaderLine h("Reply-To");
    AddMailbox(h, *m.reply_to);
    data += std::move(h).Finish();
  }
  {
    HeaderLine h("Subject");
    AddUnstructured(h, m.subject);
    data += std::move(h).Finish();
  }
  data += StrCat("Message-ID: <", out.message_id, ">\r\n");
  data += unsubscribe;
  data += extra;
  data += "MIME-Version: 1.0\r\n";
  data += root.headers;
  data += "\r\n";
  if (multipart) data += kPreamble;
  data += root.body;
  // Every piece above keeps lines short by construction; this is the backstop.
  if (!LinesAreShort(data)) return absl::InternalError("MIME builder produced a bad line");
  return out;
}

Result<MailAddress> ParseMailAddress(std::string_view text) {
  if (HasCrOrLf(text)) return Invalid("address contains CR or LF");
  if (text.find('\0') != std::string_view::npos) return Invalid("address contains NUL");
  if (!IsValidUtf8(text)) return Invalid("address is not valid UTF-8");
  text = TrimWsp(text);
  if (text.empty()) return Invalid("address is empty");
  MailAddress out;
  if (text.back() != '>') {
    if (text.find('<') != std::string_view::npos) return Invalid("address: '<' without '>'");
    HERALD_RETURN_IF_ERROR(ValidateAddrSpec(text, "address"));
    out.email = std::string(text);
    return out;
  }
  size_t open = 0;
  if (text.front() == '"') {
    size_t i = 1;
    bool closed = false;
    while (i < text.size()) {
      if (text[i] == '\\' && i + 1 < text.size()) {
        out.name += text[i + 1];
        i += 2;
      } else if (text[i] == '"') {
        closed = true;
        ++i;
        break;
      } else {
        out.name += text[i++];
      }
    }
    if (!closed) return Invalid("address: unterminated quoted display name");
    while (i < text.size() && IsWsp(text[i])) ++i;
    if (i == text.size() || text[i] != '<') {
      return Invalid("address: expected '<' after the quoted display name");
    }
    open = i;
  } else {
    open = text.find('<');
    if (open == std::string_view::npos) return Invalid("address: '>' without '<'");
    const std::string_view name = TrimWsp(text.substr(0, open));
    if (name.find_first_of("\"<>") != std::string_view::npos) {
      return Invalid("address: a display name with '\"', '<' or '>' must be quoted");
    }
    out.name = std::string(name);
  }
  const std::string_view email = text.substr(open + 1, text.size() - open - 2);
  if (email.find_first_of("<>") != std::string_view::npos) {
    return Invalid("address: unbalanced '<' and '>'");
  }
  HERALD_RETURN_IF_ERROR(ValidateAddrSpec(email, "address"));
  HERALD_RETURN_IF_ERROR(CheckHeaderText(out.name, "address display name"));
  out.email = std::string(email);
  return out;
}

std::string_view GuessContentType(std::string_view filename) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 15> kTypes = {{
      {"pdf", "application/pdf"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"txt", "text/plain"},
      {"csv", "text/csv"},
      {"htm", "text/html"},
      {"html", "text/html"},
      {"ics", "text/calendar"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"zip", "application/zip"},
      {"json", "application/json"},
  }};
  const size_t dot = filename.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string ext = Lower(filename.substr(dot + 1));
    for (const auto& [e, type] : kTypes) {
      if (e == ext) return type;
    }
  }
  return "application/octet-stream";
}

std::string EncodeQuotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 8);
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i;
    while (end < text.size() && text[end] != '\n' &&
           !(text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n')) {
      ++end;
    }
    const bool hard_break = end < text.size();
    size_t column = 0;
    for (size_t k = i; k < end; ++k) {
      const char c = text[k];
      const bool last = k + 1 == end;
      char token[3] = {c, 0, 0};
      size_t length = 1;
      // Whitespace at the end of an encoded line would be stripped in transit (RFC 2045 6.7
      // rule 3), so it is encoded there.
      const bool literal = (IsVisible(c) && c != '=') || (IsWsp(c) && !last);
      if (!literal) {
        token[0] = '=';
        token[1] = kUpperHex[Byte(c) >> 4];
        token[2] = kUpperHex[Byte(c) & 15];
        length = 3;
      }
      // Room for the '=' of a soft line break, unless this token ends a line with a hard break.
      const size_t limit = last && hard_break ? 76 : 75;
      if (column + length > limit) {
        out += "=\r\n";
        column = 0;
      }
      out.append(token, length);
      column += length;
    }
    if (hard_break) {
      out += "\r\n";
      i = end + (text[end] == '\r' ? 2 : 1);
    } else {
      out += "=\r\n";
      i = end;
    }
  }
  return out;
}

std::string EncodeBase64Lines(std::string_view bytes) {
  const std::string raw = Base64(bytes);
  std::string out;
  out.reserve(raw.size() + raw.size() / 76 * 2 + 2);
  for (size_t i = 0; i < raw.size(); i += 76) {
    out.append(raw, i, 76);
    out += "\r\n";
  }
  return out;
}

}  // namespace herald::notify
