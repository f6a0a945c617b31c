#include "notify/mime.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "core/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::notify {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kSubject = "Vos billets pour « Fête de la Musique » — 15 € ✓";

MailMessage Basic() {
  MailMessage m;
  m.from = {"billetterie@example.fr", "Billetterie"};
  m.to = {{"jane@example.com", "Jane Doe"}};
  m.subject = "Your tickets";
  m.text = "Hello Jane,\nhere are your tickets.\n";
  return m;
}

BuildOptions Options(std::string seed = "test") {
  BuildOptions o;
  o.date = absl::FromUnixSeconds(1773562509);  // 2026-03-15T08:15:09Z, a Sunday
  o.boundary_seed = std::move(seed);
  return o;
}

std::string Build(const MailMessage& m, const BuildOptions& o = Options()) {
  Result<BuiltMessage> built = BuildMessage(m, o);
  if (!built.ok()) {
    ADD_FAILURE() << built.status();
    return "";
  }
  return built->data;
}

// The error message when building fails with InvalidArgument; a test failure otherwise.
std::string BuildError(const MailMessage& m, const BuildOptions& o = Options()) {
  Result<BuiltMessage> built = BuildMessage(m, o);
  if (built.ok()) {
    ADD_FAILURE() << "built a message that should be refused:\n" << built->data;
    return "";
  }
  EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument) << built.status();
  return std::string(ToStd(built.status().message()));
}

// Owning copies, so that `for (auto line : Lines(Temporary()))` is safe.
std::vector<std::string> Lines(std::string_view data) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find("\r\n", start);
    if (end == std::string_view::npos) end = data.size();
    lines.emplace_back(data.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// Every line ends with CRLF, no bare CR or LF, no line over 998 characters.
void ExpectWellFormed(std::string_view data) {
  ASSERT_GE(data.size(), 2u);
  EXPECT_EQ(data.substr(data.size() - 2), "\r\n");
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') {
      ASSERT_TRUE(i + 1 < data.size() && data[i + 1] == '\n') << "bare CR at " << i;
    } else if (data[i] == '\n') {
      ASSERT_TRUE(i > 0 && data[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  for (std::string_view line : Lines(data)) EXPECT_LE(line.size(), 998u) << line.substr(0, 80);
}

std::string HeaderSection(std::string_view data) {
  const size_t end = data.find("\r\n\r\n");
  return std::string(data.substr(0, end == std::string_view::npos ? data.size() : end + 2));
}

std::string Unfold(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "\r\n " || s.substr(i, 3) == "\r\n\t") {
      ++i;  // drop CRLF, keep the whitespace
      continue;
    }
    out += s[i];
  }
  return out;
}

// The whole unfolded value of the first header `name` in the top-level header section.
std::string Header(std::string_view data, std::string_view name) {
  const std::string headers = Unfold(HeaderSection(data));
  for (std::string_view line : Lines(headers)) {
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return std::string(value);
    }
  }
  return "<absent>";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A strict quoted-printable decoder: fails the test on anything EncodeQuotedPrintable must not
// produce (long lines, trailing whitespace, unencoded controls, lowercase or short escapes).
std::string QpDecode(std::string_view encoded) {
  std::string out;
  if (!encoded.empty()) {
    EXPECT_EQ(encoded.substr(encoded.size() - 2), "\r\n");
  }
  for (std::string_view line : Lines(encoded)) {
    EXPECT_LE(line.size(), 76u) << line;
    if (!line.empty()) {
      EXPECT_FALSE(line.back() == ' ' || line.back() == '\t') << line;
    }
    const bool soft = !line.empty() && line.back() == '=';
    if (soft) line.remove_suffix(1);
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '=') {
        const int hi = i + 1 < line.size() ? HexValue(line[i + 1]) : -1;
        const int lo = i + 2 < line.size() ? HexValue(line[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          ADD_FAILURE() << "bad escape in " << line;
          return out;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        EXPECT_TRUE((c >= 33 && c <= 126) || c == ' ' || c == '\t') << int{c};
        out += c;
      }
    }
    if (!soft) out += "\r\n";
  }
  return out;
}

// LF or CRLF become CRLF, as the encoder treats them.
std::string Crlf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Base64Decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\r' || c == '\n') continue;
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) {
      ADD_FAILURE() << "not base64: " << int{c};
      return out;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(byte(rng));
  return out;
}

// Every RFC 2047 encoded-word in `headers`: at most 75 characters, and its payload is valid
// UTF-8 on its own (no character split between words).
void ExpectGoodEncodedWords(std::string_view headers, int* count = nullptr) {
  int n = 0;
  for (size_t start = headers.find("=?UTF-8?B?"); start != std::string_view::npos;
       start = headers.find("=?UTF-8?B?", start + 1)) {
    const size_t end = headers.find("?=", start + 10);
    ASSERT_NE(end, std::string_view::npos);
    const std::string_view word = headers.substr(start, end + 2 - start);
    EXPECT_LE(word.size(), 75u) << word;
    size_t chars = 0;
    EXPECT_TRUE(core::CountUtf8(Base64Decode(word.substr(10, word.size() - 12)), chars)) << word;
    ++n;
  }
  if (count != nullptr) *count = n;
}

// Decodes a header value the RFC 2047 way: encoded-words are decoded and the whitespace
// between two adjacent ones is dropped (section 6.2); other words are kept with one space.
std::string DecodeWords(std::string_view value) {
  std::string out;
  bool previous_encoded = false;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && value[i] == ' ') ++i;
    if (i == value.size()) break;
    size_t end = value.find(' ', i);
    if (end == std::string_view::npos) end = value.size();
    const std::string_view word = value.substr(i, end - i);
    const bool encoded = word.size() >= 12 && word.substr(0, 10) == "=?UTF-8?B?" &&
                         word.substr(word.size() - 2) == "?=";
    if (!out.empty() && !(encoded && previous_encoded)) out += ' ';
    out += encoded ? Base64Decode(word.substr(10, word.size() - 12)) : std::string(word);
    previous_encoded = encoded;
    i = end;
  }
  return out;
}

// Python's address parser before gh-128110 keeps the space between adjacent encoded-words in
// a display name; comparisons of such names with Python's reading ignore spaces.
std::string WithoutSpaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') out += c;
  }
  return out;
}

// --- Parsing the built message with Python's email package -------------------------------

constexpr std::string_view kPythonScript = R"py(
import sys, email, email.policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
out = []
def put(k, v):
    if isinstance(v, str):
        v = v.encode('utf-8')
    out.append(k + '\t' + v.hex())
put('subject', str(m['Subject']))
f = m['From'].addresses[0]
put('from.name', f.display_name)
put('from.email', f.addr_spec)
for h in ('To', 'Cc', 'Reply-To'):
    if m[h] is not None:
        put(h.lower(), ', '.join(a.display_name + '|' + a.addr_spec for a in m[h].addresses))
for h in ('List-Unsubscribe', 'List-Unsubscribe-Post', 'Message-ID', 'MIME-Version'):
    if m[h] is not None:
        put(h.lower(), str(m[h]))
put('date', m['Date'].datetime.isoformat())
put('structure', ' '.join(p.get_content_type() for p in m.walk()))
for kind in ('plain', 'html'):
    b = m.get_body(preferencelist=(kind,))
    if b is not None:
        put(kind, b.get_content())
n = 0
defects = []
for p in m.walk():
    defects += ['part:' + type(d).__name__ for d in p.defects]
    for k, v in p.items():
        # The RFC 2047 name= fallback on an attachment's Content-Type is knowingly non-standard.
        if k.lower() == 'content-type' and p.get_filename() is not None:
            continue
        defects += [k + ':' + type(d).__name__ for d in getattr(v, 'defects', ())]
    if p.get_content_maintype() == 'multipart' or p.get_filename() is None:
        continue
    put('att%d.filename' % n, p.get_filename())
    put('att%d.name' % n, p.get_param('name', header='content-type') or '')
    put('att%d.type' % n, p.get_content_type())
    put('att%d.disposition' % n, p.get_content_disposition())
    put('att%d.cid' % n, p.get('Content-ID') or '')
    put('att%d.data' % n, p.get_payload(decode=True))
    n += 1
put('attachments', str(n))
put('defects', ' '.join(defects))
print('\n'.join(out))
)py";

bool PythonAvailable() {
  static const bool available =
      std::system("python3 -c 'import email.policy' >/dev/null 2>&1") == 0;
  return available;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string HexDecode(std::string_view hex) {
  std::string out;
  const auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1]));
  }
  return out;
}

// Parses `data` with email.message_from_bytes(..., policy=email.policy.default) and returns
// the fields kPythonScript extracts.
std::map<std::string, std::string> PythonParse(const std::string& data) {
  testing::TempDir dir;
  const std::string script = dir.File("parse.py"), message = dir.File("message.eml");
  std::ofstream(script, std::ios::binary) << kPythonScript;
  std::ofstream(message, std::ios::binary) << data;
  const std::string out = dir.File("out.txt"), err = dir.File("err.txt");
  const int rc = std::system(
      StrCat("python3 '", script, "' '", message, "' >'", out, "' 2>'", err, "'").c_str());
  EXPECT_EQ(rc, 0) << ReadFile(err);
  std::map<std::string, std::string> fields;
  for (std::string_view line : Lines(Crlf(ReadFile(out)))) {
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    fields[std::string(line.substr(0, tab))] = HexDecode(line.substr(tab + 1));
  }
  return fields;
}

#define REQUIRE_PYTHON() \
  if (!PythonAvailable()) GTEST_SKIP() << "python3 with the email package is not installed"

// --- Quoted-printable ----------------------------------------------------------------------

TEST(QuotedPrintable, EncodesEqualsAndNonAscii) {
  EXPECT_EQ(EncodeQuotedPrintable("a=b é"), "a=3Db =C3=A9=\r\n");
  EXPECT_EQ(EncodeQuotedPrintable("15 €\n"), "15 =E2=82=AC\r\n");
}

TEST(QuotedPrintable, KeepsLineBreaksAsCrlfAndEncodesLoneCr) {
  EXPECT_EQ(EncodeQuotedPrintable("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
  EXPECT_EQ(EncodeQuotedPrintable("a\rb\n\n"), "a=0Db\r\n\r\n");
}

TEST(QuotedPrintable, EncodesWhitespaceBeforeLineBreaks) {
  EXPECT_EQ(EncodeQuotedPrintable("a \nb\t\n"), "a=20\r\nb=09\r\n");
  EXPECT_EQ(EncodeQuotedPrintable("a b  c "), "a b  c=20=\r\n");
}

TEST(QuotedPrintable, EmptyTextIsEmpty) { EXPECT_EQ(EncodeQuotedPrintable(""), ""); }

TEST(QuotedPrintable, ClosesTextWithoutFinalBreakWithSoftBreak) {
  EXPECT_EQ(EncodeQuotedPrintable("Hello"), "Hello=\r\n");
  EXPECT_EQ(QpDecode(EncodeQuotedPrintable("Hello")), "Hello");
}

TEST(QuotedPrintable, SoftBreaksKeepLinesAt76) {
  const std::string a76(76, 'a'), a75(75, 'a');
  // A line of exactly 76 characters followed by a hard break needs no soft break.
  EXPECT_EQ(EncodeQuotedPrintable(a76 + "\n"), a76 + "\r\n");
  EXPECT_EQ(EncodeQuotedPrintable(a76 + "a\n"), a75 + "=\r\naa\r\n");
  // Without a final break the closing soft break needs the 76th column.
  EXPECT_EQ(EncodeQuotedPrintable(a75), a75 + "=\r\n");
  EXPECT_EQ(EncodeQuotedPrintable(a76), a75 + "=\r\na=\r\n");
}

TEST(QuotedPrintable, NeverSplitsAnEscape) {
  const std::string a74(74, 'a');
  EXPECT_EQ(EncodeQuotedPrintable(a74 + "é\n"), a74 + "=\r\n=C3=A9\r\n");
  EXPECT_EQ(EncodeQuotedPrintable(std::string(73, 'a') + "é\n"),
            std::string(73, 'a') + "=\r\n=C3=A9\r\n");
  EXPECT_EQ(EncodeQuotedPrintable(std::string(72, 'a') + "é\n"),
            std::string(72, 'a') + "=C3=\r\n=A9\r\n");
  // A trailing space that must be encoded moves to the next line when =20 does not fit.
  EXPECT_EQ(EncodeQuotedPrintable(std::string(74, 'a') + " \n"), a74 + "=\r\n=20\r\n");
}

TEST(QuotedPrintable, RandomTextRoundTrips) {
  std::mt19937_64 rng(5322);
  const std::vector<std::string> pieces = {"a", "Z", " ", "\t", "=", "\n",   "\r",   "\r\n", "é",
                                           "€", "✓", "🎉", ".",  "-", "\x01", "\x7F", "~"};
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1), length(0, 300);
  for (int run = 0; run < 2000; ++run) {
    std::string text;
    const size_t n = length(rng);
    for (size_t i = 0; i < n; ++i) {
      // Long runs of one piece exercise the 76-column limit.
      text += pick(rng) < 3 ? std::string(length(rng) / 3, 'x') : pieces[pick(rng)];
    }
    const std::string encoded = EncodeQuotedPrintable(text);
    ASSERT_EQ(QpDecode(encoded), Crlf(text)) << "input: " << text;
  }
}

// --- Base64 --------------------------------------------------------------------------------

TEST(Base64Lines, PadsTheLastGroup) {
  EXPECT_EQ(EncodeBase64Lines(""), "");
  EXPECT_EQ(EncodeBase64Lines("f"), "Zg==\r\n");
  EXPECT_EQ(EncodeBase64Lines("fo"), "Zm8=\r\n");
  EXPECT_EQ(EncodeBase64Lines("foo"), "Zm9v\r\n");
  EXPECT_EQ(EncodeBase64Lines("foobar"), "Zm9vYmFy\r\n");
  EXPECT_EQ(EncodeBase64Lines(std::string("\xFF\xFE\x00", 3)), "//4A\r\n");
}

TEST(Base64Lines, BreaksAt76Columns) {
  // 57 bytes are exactly one 76-character line.
  const std::string one = EncodeBase64Lines(std::string(57, 'x'));
  EXPECT_EQ(one.size(), 78u);
  EXPECT_EQ(Lines(one).size(), 1u);
  const std::string two = EncodeBase64Lines(std::string(58, 'x'));
  ASSERT_EQ(Lines(two).size(), 2u);
  EXPECT_EQ(Lines(two)[0].size(), 76u);
  EXPECT_EQ(Lines(two)[1], "eA==");
  EXPECT_EQ(Lines(EncodeBase64Lines(std::string(114, 'x'))).size(), 2u);
}

TEST(Base64Lines, RandomBytesRoundTrip) {
  for (size_t n : {1u, 2u, 3u, 56u, 57u, 58u, 113u, 114u, 115u, 3000u}) {
    const std::string bytes = RandomBytes(n, n);
    const std::string encoded = EncodeBase64Lines(bytes);
    ASSERT_EQ(encoded.substr(encoded.size() - 2), "\r\n");
    const std::vector<std::string> lines = Lines(encoded);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i + 1 < lines.size()) {
        EXPECT_EQ(lines[i].size(), 76u);
      } else {
        EXPECT_LE(lines[i].size(), 76u);
      }
    }
    EXPECT_EQ(Base64Decode(encoded), bytes) << n;
  }
}

// --- ParseMailAddress ----------------------------------------------------------------------

TEST(ParseMailAddress, AcceptsBareAndNamedForms) {
  struct Case {
    std::string text, email, name;
  };
  const std::string local64(64, 'l');
  const std::string long_domain =
      std::string(63, 'd') + "." + std::string(63, 'd') + "." + std::string(61, 'd');  // 189 bytes
  const std::string total254 = local64 + "@" + long_domain;
  ASSERT_EQ(total254.size(), 254u);
  const Case cases[] = {
      {"jane@example.com", "jane@example.com", ""},
      {"  jane@example.com\t", "jane@example.com", ""},
      {"Jane Doe <jane@example.com>", "jane@example.com", "Jane Doe"},
      {" Jane  Doe\t<jane@example.com> ", "jane@example.com", "Jane  Doe"},
      {"<jane@example.com>", "jane@example.com", ""},
      {"\"Doe, Jane\" <jane@example.com>", "jane@example.com", "Doe, Jane"},
      {"\"Jane \\\"JJ\\\" D\\\\oe\"<jane@example.com>", "jane@example.com", "Jane \"JJ\" D\\oe"},
      {"\"\" <jane@example.com>", "jane@example.com", ""},
      {"Élodie Müller <elodie@example.fr>", "elodie@example.fr", "Élodie Müller"},
      {"Doe, Jane <jane@example.com>", "jane@example.com", "Doe, Jane"},
      {"first.last+tag@sub-domain.example.co.uk", "first.last+tag@sub-domain.example.co.uk", ""},
      {"o'brien!#$%&*/=?^_`{|}~-@x.io", "o'brien!#$%&*/=?^_`{|}~-@x.io", ""},
      {"root@localhost", "root@localhost", ""},
      {"a@xn--bcher-kva.example", "a@xn--bcher-kva.example", ""},
      {local64 + "@example.com", local64 + "@example.com", ""},
      {total254, total254, ""},
  };
  for (const Case& c : cases) {
    Result<MailAddress> parsed = ParseMailAddress(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status();
    EXPECT_EQ(parsed->email, c.email) << c.text;
    EXPECT_EQ(parsed->name, c.name) << c.text;
  }
}

TEST(ParseMailAddress, RefusesMalformedAddresses) {
  const std::string local65(65, 'l');
  const std::string total255 = std::string(64, 'l') + "@" + std::string(63, 'd') + "." +
                               std::string(63, 'd') + "." + std::string(62, 'd');
  ASSERT_EQ(total255.size(), 255u);
  const std::string cases[] = {
      "",
      "   ",
      "jane",
      "jane@",
      "@example.com",
      "jane@@example.com",
      "jane@doe@example.com",
      "jane@example..com",
      "jane@.example.com",
      "jane@example.com.",
      "jane@-example.com",
      "jane@exa_mple.com",
      "jane@[192.0.2.1]",
      ".jane@example.com",
      "jane.@example.com",
      "ja..ne@example.com",
      "ja ne@example.com",
      "\"jane doe\"@example.com",
      "jané@example.com",
      "Jane <jane@example.com",
      "Jane jane@example.com>",
      "Jane <<jane@example.com>>",
      "Jane < jane@example.com>",
      "Jane \"JJ\" <jane@example.com>",
      "\"Jane <jane@example.com>",
      "\"Jane\" x <jane@example.com>",
      "jane@example.com\r\n",
      "jane@example.com\nBcc: x@example.com",
      "Jane\r <jane@example.com>",
      std::string("jane@exa\0mple.com", 17),
      std::string("Ja\0ne <jane@example.com>", 24),
      "Ja\x01ne <jane@example.com>",
      "J\xC3 <jane@example.com>",
      "\xFF@example.com",
      local65 + "@example.com",
      total255,
      "jane@" + std::string(64, 'd') + ".com",
  };
  for (const std::string& text : cases) {
    Result<MailAddress> parsed = ParseMailAddress(text);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << text;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(ToStd(parsed.status().message())), HasSubstr("address"));
    }
  }
}

// --- Message structure ---------------------------------------------------------------------

TEST(BuildMessage, TextOnlyIsASinglePart) {
  const std::string data = Build(Basic());
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Header(data, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(Header(data, "MIME-Version"), "1.0");
  EXPECT_EQ(data.find("multipart"), std::string::npos);
  EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4), "Hello Jane,\r\nhere are your tickets.\r\n");
}

TEST(BuildMessage, HtmlOnlyIsASinglePart) {
  MailMessage m = Basic();
  m.text.clear();
  m.html = "<p>Hello</p>";
  const std::string data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4), "<p>Hello</p>=\r\n");
}

TEST(BuildMessage, HeadersInOrderWithDateInUtc) {
  MailMessage m = Basic();
  m.cc = {{"cc@example.com", ""}};
  m.reply_to = MailAddress{"support@example.fr", "Support"};
  const std::string data = Build(m);
  EXPECT_EQ(HeaderSection(data),
            "Date: Sun, 15 Mar 2026 08:15:09 +0000\r\n"
            "From: Billetterie <billetterie@example.fr>\r\n"
            "To: Jane Doe <jane@example.com>\r\n"
            "Cc: cc@example.com\r\n"
            "Reply-To: Support <support@example.fr>\r\n"
            "Subject: Your tickets\r\n"
            "Message-ID: <test@example.fr>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n");
  BuildOptions o = Options();
  o.date = absl::FromUnixSeconds(0) + absl::Hours(24 * 4) + absl::Seconds(1);
  EXPECT_EQ(Header(Build(m, o), "Date"), "Mon, 05 Jan 1970 00:00:01 +0000");
}

TEST(BuildMessage, RefusesDatesItCannotWrite) {
  BuildOptions o = Options();
  o.date = absl::InfiniteFuture();
  EXPECT_THAT(BuildError(Basic(), o), HasSubstr("date"));
  o.date = absl::FromCivil(absl::CivilSecond(1899, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  EXPECT_THAT(BuildError(Basic(), o), HasSubstr("date"));
  o.date = absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_THAT(BuildError(Basic(), o), HasSubstr("date"));
}

TEST(BuildMessage, TextAndHtmlMakeAlternative) {
  MailMessage m = Basic();
  m.html = "<p>Hello</p>";
  const std::string data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "Content-Type"), "multipart/alternative; boundary=\"test-alternative\"");
  EXPECT_EQ(Header(data, "Content-Transfer-Encoding"), "<absent>");
  const size_t plain = data.find("Content-Type: text/plain"),
               html = data.find("Content-Type: text/html");
  ASSERT_NE(plain, std::string::npos);
  ASSERT_NE(html, std::string::npos);
  EXPECT_LT(plain, html);  // the preferred alternative comes last
  EXPECT_NE(data.find("\r\n--test-alternative--\r\n"), std::string::npos);
}

TEST(BuildMessage, InlinePartsMakeRelatedAndAttachmentsMakeMixed) {
  MailMessage m = Basic();
  m.html = "<img src=\"cid:logo@example.fr\">";
  m.attachments.push_back({"logo.png", "", "\x89PNG", "logo@example.fr"});
  std::string data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "Content-Type"),
            "multipart/related; boundary=\"test-related\"; type=\"multipart/alternative\"");
  EXPECT_NE(data.find("Content-Type: image/png; name=\"logo.png\"\r\n"
                      "Content-Disposition: inline; filename=\"logo.png\"\r\n"
                      "Content-ID: <logo@example.fr>\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n"
                      "iVBORw==\r\n"),
            std::string::npos)
      << data;

  m.attachments.push_back({"ticket.pdf", "", "%PDF-1.7", ""});
  data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "Content-Type"), "multipart/mixed; boundary=\"test-mixed\"");
  const size_t related = data.find("--test-related\r\n"), pdf = data.find("application/pdf");
  ASSERT_NE(related, std::string::npos);
  ASSERT_NE(pdf, std::string::npos);
  EXPECT_LT(data.find("--test-related--"), pdf);

  m.html.clear();  // one body: related's root is text/plain itself
  data = Build(m);
  EXPECT_NE(data.find("Content-Type: multipart/related; boundary=\"test-related\"; "
                      "type=\"text/plain\"\r\n"),
            std::string::npos)
      << data;
  EXPECT_EQ(data.find("multipart/alternative"), std::string::npos);
}

TEST(BuildMessage, AttachmentsWithoutInlinePartsSkipRelated) {
  MailMessage m = Basic();
  m.attachments.push_back({"data.csv", "", "a,b\n1,2\n", ""});
  const std::string data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "Content-Type"), "multipart/mixed; boundary=\"test-mixed\"");
  EXPECT_EQ(data.find("related"), std::string::npos);
  EXPECT_NE(data.find("Content-Type: text/csv; name=\"data.csv\"\r\n"
                      "Content-Disposition: attachment; filename=\"data.csv\"\r\n"),
            std::string::npos);
}

TEST(BuildMessage, SeededOutputIsDeterministic) {
  MailMessage m = Basic();
  m.html = "<p>x</p>";
  m.attachments.push_back({"a.bin", "", RandomBytes(100, 1), ""});
  Result<BuiltMessage> a = BuildMessage(m, Options("seed-1"));
  Result<BuiltMessage> b = BuildMessage(m, Options("seed-1"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data, b->data);
  EXPECT_EQ(a->message_id, "seed-1@example.fr");
  Result<BuiltMessage> c = BuildMessage(m, Options("seed-2"));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->data, c->data);
}

TEST(BuildMessage, RandomBoundariesAndMessageIds) {
  MailMessage m = Basic();
  m.html = "<p>x</p>";
  Result<BuiltMessage> a = BuildMessage(m, Options(""));
  Result<BuiltMessage> b = BuildMessage(m, Options(""));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->message_id, b->message_id);
  ASSERT_EQ(a->message_id.size(), 32u + 1 + 10);
  EXPECT_EQ(a->message_id.substr(32), "@example.fr");
  EXPECT_EQ(a->message_id.find_first_not_of("0123456789abcdef"), 32u);
  EXPECT_EQ(Header(a->data, "Message-ID"), StrCat("<", a->message_id, ">"));
  const std::string type = Header(a->data, "Content-Type");
  EXPECT_EQ(type.find("multipart/alternative; boundary=\"=_"), 0u) << type;
  EXPECT_EQ(type.size(), std::string_view("multipart/alternative; boundary=\"=_\"").size() + 32);
  ExpectWellFormed(a->data);
}

TEST(BuildMessage, MessageIdDomainOption) {
  BuildOptions o = Options("id");
  o.message_id_domain = "mail.herald.example";
  Result<BuiltMessage> built = BuildMessage(Basic(), o);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->message_id, "id@mail.herald.example");
  o.message_id_domain = "bad domain";
  EXPECT_THAT(BuildError(Basic(), o), HasSubstr("message_id_domain"));
}

TEST(BuildMessage, SeededBoundaryInContentIsRefused) {
  MailMessage m = Basic();
  m.html = "<p>x</p>";
  m.text = "a line that looks like\n--s-alternative\n";
  EXPECT_THAT(BuildError(m, Options("s")), HasSubstr("boundary_seed"));
  // Only boundaries in use matter.
  m.text = "--s-mixed";
  EXPECT_TRUE(BuildMessage(m, Options("s")).ok());
  // With an attachment the text sits inside the mixed part.
  m.attachments.push_back({"x.txt", "", "--s-related", ""});  // base64 hides it
  EXPECT_THAT(BuildError(m, Options("s")), HasSubstr("boundary_seed"));
  m.text = "--s-related";
  EXPECT_TRUE(BuildMessage(m, Options("s")).ok());
  // Boundaries are compared as substrings, wherever they occur.
  m.html = "<p>--s-mixed--</p>";
  EXPECT_THAT(BuildError(m, Options("s")), HasSubstr("boundary_seed"));
}

TEST(BuildMessage, RefusesBadSeeds) {
  EXPECT_THAT(BuildError(Basic(), Options("a b")), HasSubstr("boundary_seed"));
  EXPECT_THAT(BuildError(Basic(), Options("a=b")), HasSubstr("boundary_seed"));
  EXPECT_THAT(BuildError(Basic(), Options(std::string(51, 's'))), HasSubstr("boundary_seed"));
  EXPECT_TRUE(BuildMessage(Basic(), Options(std::string(50, 's'))).ok());
}

// --- Required fields and validation ------------------------------------------------------

TEST(BuildMessage, RequiresFromRecipientAndBody) {
  MailMessage m = Basic();
  m.from = {};
  EXPECT_THAT(BuildError(m), HasSubstr("from.email"));
  m = Basic();
  m.to.clear();
  EXPECT_THAT(BuildError(m), HasSubstr("recipient"));
  m.cc = {{"cc@example.com", ""}};
  EXPECT_TRUE(BuildMessage(m, Options()).ok());
  m = Basic();
  m.text.clear();
  EXPECT_THAT(BuildError(m), HasSubstr("text or html"));
}

TEST(BuildMessage, RefusesBadAddresses) {
  MailMessage m = Basic();
  m.to.push_back({"not-an-address", ""});
  EXPECT_THAT(BuildError(m), HasSubstr("to[1].email"));
  m = Basic();
  m.cc = {{"a@b.c", ""}, {"x@y..z", ""}};
  EXPECT_THAT(BuildError(m), HasSubstr("cc[1].email"));
  m = Basic();
  m.reply_to = MailAddress{"reply@", ""};
  EXPECT_THAT(BuildError(m), HasSubstr("reply_to.email"));
  m = Basic();
  m.from.email = "Jane <jane@example.com>";  // a parsed form belongs in ParseMailAddress
  EXPECT_THAT(BuildError(m), HasSubstr("from.email"));
}

TEST(BuildMessage, RefusesInvalidUtf8) {
  const std::string bad = "caf\xC3";
  MailMessage m = Basic();
  m.text = bad;
  EXPECT_THAT(BuildError(m), HasSubstr("text is not valid UTF-8"));
  m = Basic();
  m.html = "\xED\xA0\x80";  // a surrogate
  EXPECT_THAT(BuildError(m), HasSubstr("html is not valid UTF-8"));
  m = Basic();
  m.subject = bad;
  EXPECT_THAT(BuildError(m), HasSubstr("subject is not valid UTF-8"));
  m = Basic();
  m.to[0].name = bad;
  EXPECT_THAT(BuildError(m), HasSubstr("to[0].name is not valid UTF-8"));
  m = Basic();
  m.attachments.push_back({bad, "", "x", ""});
  EXPECT_THAT(BuildError(m), HasSubstr("attachments[0].filename is not valid UTF-8"));
}

TEST(BuildMessage, RefusesHeaderInjection) {
  struct Case {
    std::string_view field;
    std::function<void(MailMessage&)> edit;
  };
  const std::string injected = "x\r\nBcc: victim@example.com";
  const Case cases[] = {
      {"subject", [&](MailMessage& m) { m.subject = injected; }},
      {"subject", [](MailMessage& m) { m.subject = "x\nBcc: victim@example.com"; }},
      {"subject", [](MailMessage& m) { m.subject = "x\rBcc: victim@example.com"; }},
      {"from.name", [&](MailMessage& m) { m.from.name = injected; }},
      {"from.email", [&](MailMessage& m) { m.from.email = "a@example.com" + injected; }},
      {"to[0].name", [&](MailMessage& m) { m.to[0].name = injected; }},
      {"to[0].email", [&](MailMessage& m) { m.to[0].email = "a@example.com" + injected; }},
      {"cc[0].name",
       [&](MailMessage& m) {
         m.cc = {{"cc@example.com", injected}};
       }},
      {"reply_to.name",
       [&](MailMessage& m) {
         m.reply_to = MailAddress{"r@example.com", injected};
       }},
      {"attachments[0].filename",
       [&](MailMessage& m) {
         m.attachments.push_back({"a.pdf" + injected, "", "x", ""});
       }},
      {"attachments[0].content_type",
       [&](MailMessage& m) {
         m.attachments.push_back({"a.pdf", "text/plain" + injected, "x", ""});
       }},
      {"attachments[0].content_id",
       [&](MailMessage& m) {
         m.attachments.push_back({"a.png", "", "x", "id" + injected});
       }},
      {"extra_headers[0]",
       [&](MailMessage& m) {
         m.extra_headers = {{"X-Ref", injected}};
       }},
      {"extra_headers[0]",
       [&](MailMessage& m) {
         m.extra_headers = {{"X-Ref\r\nBcc", "victim@example.com"}};
       }},
      {"list_unsubscribe_url",
       [&](MailMessage& m) { m.list_unsubscribe_url = "https://example.fr/u" + injected; }},
      {"list_unsubscribe_mailto",
       [&](MailMessage& m) { m.list_unsubscribe_mailto = "u@example.fr" + injected; }},
  };
  for (const Case& c : cases) {
    MailMessage m = Basic();
    c.edit(m);
    const std::string error = BuildError(m);
    EXPECT_THAT(error, HasSubstr(c.field));
    EXPECT_THAT(error, HasSubstr("CR or LF")) << c.field;
  }
}

TEST(BuildMessage, RefusesOtherControlCharactersInHeaderText) {
  MailMessage m = Basic();
  m.subject = std::string("a\0b", 3);
  EXPECT_THAT(BuildError(m), HasSubstr("subject contains a control character"));
  m.subject = "a\x1B[31mred";
  EXPECT_THAT(BuildError(m), HasSubstr("subject contains a control character"));
  m = Basic();
  m.from.name = "a\x7F";
  EXPECT_THAT(BuildError(m), HasSubstr("from.name contains a control character"));
  // A tab is fine: it travels inside an encoded-word.
  m = Basic();
  m.subject = "a\tb";
  EXPECT_TRUE(BuildMessage(m, Options()).ok());
}

TEST(BuildMessage, ExtraHeaders) {
  MailMessage m = Basic();
  const std::string long_value =
      "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
      "fifteen sixteen seventeen eighteen nineteen twenty";
  m.extra_headers = {{"X-Campaign-Id", "  receipt-42 "},
                     {"Auto-Submitted", "auto-generated"},
                     {"X-Long", long_value},
                     {"X-Empty", ""}};
  const std::string data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "X-Campaign-Id"), "receipt-42");
  EXPECT_EQ(Header(data, "Auto-Submitted"), "auto-generated");
  EXPECT_EQ(Header(data, "X-Long"), long_value);
  EXPECT_EQ(Header(data, "X-Empty"), "");
  for (std::string_view line : Lines(HeaderSection(data))) EXPECT_LE(line.size(), 78u) << line;
  // Extra headers come after Message-ID and before MIME-Version.
  EXPECT_LT(data.find("Message-ID:"), data.find("X-Campaign-Id:"));
  EXPECT_LT(data.find("X-Empty:"), data.find("MIME-Version:"));
}

TEST(BuildMessage, RefusesBadOrReservedExtraHeaders) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "x"},
      {"X Ref", "x"},
      {"X:Ref", "x"},
      {"X-Réf", "x"},
      {std::string(77, 'X'), "x"},
      {"Subject", "x"},
      {"bcc", "victim@example.com"},
      {"TO", "x@example.com"},
      {"Content-Type", "text/html"},
      {"content-transfer-encoding", "8bit"},
      {"Mime-Version", "1.0"},
      {"Message-Id", "<x@y>"},
      {"LIST-UNSUBSCRIBE", "<https://x>"},
      {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
      {"X-Ref", "caf\xC3\xA9"},
      {"X-Ref", std::string("a\0b", 3)},
      {"X-Ref", std::string(1000, 'w')},
  };
  for (const auto& [name, value] : bad) {
    MailMessage m = Basic();
    m.extra_headers = {{"X-Ok", "fine"}, {name, value}};
    EXPECT_THAT(BuildError(m), HasSubstr("extra_headers[1]")) << name;
  }
}

TEST(BuildMessage, ListUnsubscribeHeaders) {
  MailMessage m = Basic();
  m.list_unsubscribe_url = "https://example.fr/unsubscribe?token=abc";
  std::string data = Build(m);
  EXPECT_EQ(Header(data, "List-Unsubscribe"), "<https://example.fr/unsubscribe?token=abc>");
  EXPECT_EQ(Header(data, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");

  m.list_unsubscribe_mailto = "unsubscribe@example.fr?subject=stop";
  data = Build(m);
  ExpectWellFormed(data);
  EXPECT_EQ(Header(data, "List-Unsubscribe"),
            "<https://example.fr/unsubscribe?token=abc>, "
            "<mailto:unsubscribe@example.fr?subject=stop>");

  // One-click needs https.
  m.list_unsubscribe_url = "http://example.fr/u";
  data = Build(m);
  EXPECT_EQ(Header(data, "List-Unsubscribe-Post"), "<absent>");

  m.list_unsubscribe_url.clear();
  m.list_unsubscribe_mailto = "MAILTO:u@example.fr";
  data = Build(m);
  EXPECT_EQ(Header(data, "List-Unsubscribe"), "<MAILTO:u@example.fr>");
  EXPECT_EQ(Header(data, "List-Unsubscribe-Post"), "<absent>");

  EXPECT_EQ(Header(Build(Basic()), "List-Unsubscribe"), "<absent>");
}

TEST(BuildMessage, RefusesBadUnsubscribeTargets) {
  for (const std::string& url : std::vector<std::string>{
           "ftp://example.fr/u", "example.fr/u", "https://", "https://a b", "https://a/<x>",
           "https://a/\"x\"", "https://a/é", "https://a/" + std::string(900, 'x')}) {
    MailMessage m = Basic();
    m.list_unsubscribe_url = url;
    EXPECT_THAT(BuildError(m), HasSubstr("list_unsubscribe_url")) << url;
  }
  for (std::string mailto : {"mailto:", "nobody", "mailto:a@b..c", "a@b.c d", "mailto:<a@b.c>"}) {
    MailMessage m = Basic();
    m.list_unsubscribe_mailto = mailto;
    EXPECT_THAT(BuildError(m), HasSubstr("list_unsubscribe_mailto")) << mailto;
  }
}

// --- Header encoding -----------------------------------------------------------------------

TEST(BuildMessage, PlainAsciiSubjectIsFoldedNotEncoded) {
  MailMessage m = Basic();
  m.subject =
      "Your order 12345 has shipped and will arrive on Tuesday between nine and noon, "
      "track it online";
  const std::string data = Build(m);
  const std::string headers = HeaderSection(data);
  EXPECT_EQ(headers.find("=?"), std::string::npos);
  EXPECT_EQ(Header(data, "Subject"), m.subject);
  for (std::string_view line : Lines(headers)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(BuildMessage, SubjectsThatNeedEncodingUseEncodedWords) {
  for (std::string subject :
       {std::string(kSubject), std::string(" leading space"), std::string("trailing space "),
        std::string("looks =?like?= a word"), std::string(100, 'w'), std::string("tab\there"),
        std::string(200, 'x') + "é", std::string("🎉✓€é") + std::string(150, 'y') + "🎉🎉🎉🎉"}) {
    MailMessage m = Basic();
    m.subject = subject;
    const std::string data = Build(m);
    ExpectWellFormed(data);
    const std::string headers = HeaderSection(data);
    int words = 0;
    ExpectGoodEncodedWords(headers, &words);
    EXPECT_GT(words, 0) << subject;
    for (std::string_view line : Lines(headers)) EXPECT_LE(line.size(), 78u) << line;
  }
}

TEST(BuildMessage, EncodedWordsNeverSplitCharacters) {
  MailMessage m = Basic();
  // 4-byte characters, then 3-byte, then 2-byte, in runs long enough for many words.
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "🎉";
  for (int i = 0; i < 40; ++i) subject += "✓";
  for (int i = 0; i < 40; ++i) subject += "é";
  m.subject = subject;
  m.from.name = subject;
  const std::string headers = HeaderSection(Build(m));
  int words = 0;
  ExpectGoodEncodedWords(headers, &words);
  EXPECT_GT(words, 10);
}

TEST(BuildMessage, AsciiDisplayNamesAreQuotedWhenNeeded) {
  MailMessage m = Basic();
  m.to = {{"a@example.com", "Doe, Jane"},
          {"b@example.com", "Jane \"JJ\" D\\oe"},
          {"c@example.com", "Jane Q. Public"},
          {"d@example.com", "Plain Name"}};
  const std::string data = Build(m);
  EXPECT_EQ(Header(data, "To"),
            "\"Doe, Jane\" <a@example.com>, \"Jane \\\"JJ\\\" D\\\\oe\" <b@example.com>, "
            "\"Jane Q. Public\" <c@example.com>, Plain Name <d@example.com>");
  for (std::string_view line : Lines(HeaderSection(data))) EXPECT_LE(line.size(), 78u) << line;
}

TEST(GuessContentType, ByExtension) {
  EXPECT_EQ(GuessContentType("facture-été.PDF"), "application/pdf");
  EXPECT_EQ(GuessContentType("a.png"), "image/png");
  EXPECT_EQ(GuessContentType("a.jpg"), "image/jpeg");
  EXPECT_EQ(GuessContentType("a.JPEG"), "image/jpeg");
  EXPECT_EQ(GuessContentType("a.gif"), "image/gif");
  EXPECT_EQ(GuessContentType("a.svg"), "image/svg+xml");
  EXPECT_EQ(GuessContentType("a.txt"), "text/plain");
  EXPECT_EQ(GuessContentType("a.csv"), "text/csv");
  EXPECT_EQ(GuessContentType("a.html"), "text/html");
  EXPECT_EQ(GuessContentType("invite.ics"), "text/calendar");
  EXPECT_EQ(GuessContentType("a.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(GuessContentType("a.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(GuessContentType("a.zip"), "application/zip");
  EXPECT_EQ(GuessContentType("a.json"), "application/json");
  EXPECT_EQ(GuessContentType("a.exe"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("pdf"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("archive.tar.gz"), "application/octet-stream");
}

TEST(BuildMessage, AttachmentContentTypesAndIds) {
  MailMessage m = Basic();
  m.attachments = {{"invite.ics", "text/calendar; method=REQUEST", "BEGIN:VCALENDAR", ""},
                   {"notes.txt", "text/plain; charset=\"utf-8\"", "é", ""}};
  const std::string data = Build(m);
  EXPECT_NE(data.find("Content-Type: text/calendar; method=REQUEST; name=\"invite.ics\""),
            std::string::npos);
  EXPECT_NE(data.find("Content-Type: text/plain; charset=\"utf-8\";"), std::string::npos);

  for (std::string type :
       {"pdf", "application/", "/pdf", "text/plain;", "text/plain; charset", "text/plain; a=\"open",
        "text/plain; a=b c", "text/pl@in", "text/plain; a=\"é\""}) {
    m = Basic();
    m.attachments = {{"a.txt", type, "x", ""}};
    EXPECT_THAT(BuildError(m), HasSubstr("attachments[0].content_type")) << type;
  }
  m = Basic();
  m.attachments = {{"a.png", "", "x", "logo"}, {"b.png", "", "y", "logo"}};
  EXPECT_THAT(BuildError(m), HasSubstr("attachments[1].content_id"));
  for (const std::string& id :
       std::vector<std::string>{"a b", "<a>", "a\"b", std::string(251, 'i')}) {
    m = Basic();
    m.attachments = {{"a.png", "", "x", id}};
    EXPECT_THAT(BuildError(m), HasSubstr("attachments[0].content_id")) << id;
  }
  m = Basic();
  m.attachments = {{"", "", "x", ""}};
  EXPECT_THAT(BuildError(m), HasSubstr("attachments[0].filename is empty"));
  m.attachments = {{std::string(256, 'f'), "", "x", ""}};
  EXPECT_THAT(BuildError(m), HasSubstr("attachments[0].filename"));
}

TEST(BuildMessage, NonAsciiFilenameUsesRfc2231AndRfc2047) {
  MailMessage m = Basic();
  m.attachments = {{"facture-été.pdf", "", "%PDF", ""}};
  const std::string data = Build(m);
  EXPECT_NE(data.find("Content-Type: application/pdf; name=\"=?UTF-8?B?"), std::string::npos);
  EXPECT_NE(data.find("Content-Disposition: attachment; "
                      "filename*=UTF-8''facture-%C3%A9t%C3%A9.pdf\r\n"),
            std::string::npos)
      << data;
}

// --- The whole message, read back by Python's email package -------------------------------

TEST(BuildMessage, PythonReadsBackACompleteMessage) {
  REQUIRE_PYTHON();
  MailMessage m;
  m.from = {"billetterie@example.fr", "Billetterie Fête de la Musique — Équipe"};
  m.to = {{"jane@example.com", "Jane Doe"}, {"bob@example.com", ""}};
  m.cc = {{"compta@example.fr", "Doe, Comptabilité"}};
  m.reply_to = MailAddress{"support@example.fr", "Support « Billetterie »"};
  m.subject = std::string(kSubject);
  m.text =
      "Bonjour Jane,\n\nVoici vos billets. Montant = 15 € TTC.   \n"
      "Une ligne très longue qui dépasse largement soixante-seize caractères pour vérifier "
      "les sauts de ligne doux du quoted-printable.\n.\nFrom here on\n-- \nL'équipe\n";
  m.html =
      "<html><body><p>Bonjour Jane,</p><p>Voici vos billets. Montant = 15&nbsp;€ TTC.</p>"
      "<img src=\"cid:logo@example.fr\" alt=\"logo\"></body></html>\n";
  const std::string pdf = RandomBytes(3000, 42);
  const std::string png = RandomBytes(500, 7);
  m.attachments = {{"facture-été.pdf", "", pdf, ""},
                   {"logo.png", "", png, "logo@example.fr"},
                   {"my \"report\" (final).txt", "text/plain", "plain text\n", ""}};
  m.list_unsubscribe_url = "https://example.fr/unsubscribe?t=0123456789abcdef";
  m.list_unsubscribe_mailto = "unsubscribe@example.fr";
  m.extra_headers = {{"X-Herald-Notification", "n-42"}};

  Result<BuiltMessage> built = BuildMessage(m, Options(""));
  ASSERT_TRUE(built.ok()) << built.status();
  const std::string& data = built->data;
  ExpectWellFormed(data);
  ExpectGoodEncodedWords(HeaderSection(data));
  for (std::string_view line : Lines(data)) EXPECT_LE(line.size(), 78u) << line;

  std::map<std::string, std::string> py = PythonParse(data);
  EXPECT_EQ(py["defects"], "");
  EXPECT_EQ(py["subject"], kSubject);
  EXPECT_EQ(py["from.name"], m.from.name);
  EXPECT_EQ(py["from.email"], m.from.email);
  EXPECT_EQ(py["to"], "Jane Doe|jane@example.com, |bob@example.com");
  EXPECT_EQ(py["cc"], "Doe, Comptabilité|compta@example.fr");
  EXPECT_EQ(py["reply-to"], "Support « Billetterie »|support@example.fr");
  EXPECT_EQ(py["date"], "2026-03-15T08:15:09+00:00");
  EXPECT_EQ(py["message-id"], StrCat("<", built->message_id, ">"));
  EXPECT_EQ(py["mime-version"], "1.0");
  EXPECT_EQ(py["list-unsubscribe"],
            "<https://example.fr/unsubscribe?t=0123456789abcdef>, "
            "<mailto:unsubscribe@example.fr>");
  EXPECT_EQ(py["list-unsubscribe-post"], "List-Unsubscribe=One-Click");
  EXPECT_EQ(py["structure"],
            "multipart/mixed multipart/related multipart/alternative text/plain text/html "
            "image/png application/pdf text/plain");
  // Python hands the decoded text back with the CRLF line breaks it was sent with.
  EXPECT_EQ(py["plain"], Crlf(m.text));
  EXPECT_EQ(py["html"], Crlf(m.html));
  ASSERT_EQ(py["attachments"], "3");
  EXPECT_EQ(py["att0.filename"], "logo.png");
  EXPECT_EQ(py["att0.disposition"], "inline");
  EXPECT_EQ(py["att0.cid"], "<logo@example.fr>");
  EXPECT_EQ(py["att0.data"], png);
  EXPECT_EQ(py["att1.filename"], "facture-été.pdf");
  EXPECT_EQ(py["att1.name"], "facture-été.pdf");  // the RFC 2047 fallback decodes too
  EXPECT_EQ(py["att1.type"], "application/pdf");
  EXPECT_EQ(py["att1.disposition"], "attachment");
  EXPECT_EQ(py["att1.data"], pdf);
  EXPECT_EQ(py["att2.filename"], "my \"report\" (final).txt");
  EXPECT_EQ(py["att2.data"], "plain text\n");
}

TEST(BuildMessage, PythonReadsBackSinglePartsAndHardNames) {
  REQUIRE_PYTHON();
  MailMessage m = Basic();
  m.text = "no final newline, and a trailing space ";
  m.from.name = "Jane \"JJ\" D\\oe, (Ops)";
  const std::string long_name = std::string(90, 'n');
  const std::string long_phrase = "Comité d'organisation de la Fête de la Musique de Strasbourg";
  m.to = {{"a@example.com", long_name},
          {"b@example.com", "=?UTF-8?B?Zm9v?="},
          {"c@example.com", "😀 Émoji Øresund 🇫🇷"},
          {"d@example.com", long_phrase}};
  m.subject = std::string(120, 's');
  const std::string data = Build(m);
  ExpectWellFormed(data);
  ExpectGoodEncodedWords(HeaderSection(data));
  EXPECT_EQ(DecodeWords(Header(data, "To")),
            StrCat(long_name, " <a@example.com>, =?UTF-8?B?Zm9v?= <b@example.com>, ", m.to[2].name,
                   " <c@example.com>, ", long_phrase, " <d@example.com>"));

  std::map<std::string, std::string> py = PythonParse(data);
  EXPECT_EQ(py["defects"], "");
  EXPECT_EQ(py["structure"], "text/plain");
  EXPECT_EQ(py["plain"], m.text);
  EXPECT_EQ(py["from.name"], m.from.name);
  EXPECT_EQ(py["subject"], m.subject);
  EXPECT_EQ(WithoutSpaces(py["to"]),
            WithoutSpaces(StrCat(long_name, "|a@example.com, =?UTF-8?B?Zm9v?=|b@example.com, ",
                                 m.to[2].name, "|c@example.com, ", long_phrase, "|d@example.com")));
  // Names of up to 45 bytes are one encoded-word, which every reader gets exactly right.
  EXPECT_NE(py["to"].find(StrCat(", ", m.to[2].name, "|c@example.com")), std::string::npos);
}

TEST(BuildMessage, PythonReadsBackALongNonAsciiFilename) {
  REQUIRE_PYTHON();
  MailMessage m = Basic();
  std::string filename;
  while (filename.size() + 2 + 4 <= kMaxFilenameBytes) filename += "é";
  filename += ".pdf";
  m.attachments = {{filename, "", "data", ""}, {"=?a?=.txt", "", "x", ""}};
  const std::string data = Build(m);
  ExpectWellFormed(data);
  std::map<std::string, std::string> py = PythonParse(data);
  EXPECT_EQ(py["defects"], "");
  EXPECT_EQ(py["att0.filename"], filename);
  EXPECT_EQ(py["att0.name"], filename);
  EXPECT_EQ(py["att1.filename"], "=?a?=.txt");
}

TEST(BuildMessage, PythonReadsBackEmptyAndBinaryEdgeCases) {
  REQUIRE_PYTHON();
  MailMessage m = Basic();
  m.text = "line\n";
  m.html = std::string("<p>", 3) + std::string(500, 'h') + "</p>";
  m.attachments = {{"empty.bin", "application/octet-stream", "", ""},
                   {"nul.bin", "", std::string("\0\r\n\r\n.\r\n", 8), ""}};
  const std::string data = Build(m);
  ExpectWellFormed(data);
  std::map<std::string, std::string> py = PythonParse(data);
  EXPECT_EQ(py["defects"], "");
  EXPECT_EQ(py["plain"], "line\r\n");
  EXPECT_EQ(py["html"], m.html);
  ASSERT_EQ(py["attachments"], "2");
  EXPECT_EQ(py["att0.data"], "");
  EXPECT_EQ(py["att1.data"], std::string("\0\r\n\r\n.\r\n", 8));
}

}  // namespace
}  // namespace herald::notify
