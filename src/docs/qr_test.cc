#include "docs/qr.h"

#include <png.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "docs/testing/pdf_checks.h"
#include "gtest/gtest.h"

namespace herald::docs {
namespace {

using herald::testing::TempDir;
using herald::testing::ToolRun;
using testing::WriteBytes;
using testing::Zbar;

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

// Deterministic bytes (std::mt19937 is specified exactly, so the same on every platform).
std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xFF);
  return out;
}

std::string Base32(std::string_view bytes, bool upper) {
  const char* alphabet =
      upper ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" : "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

// RFC 4648 section 5, unpadded, as signed ticket codes use it.
std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

// What a signed ticket code looks like: a prefix, ~40 bytes of claims and a 64-byte Ed25519
// signature, base64url-encoded (147 characters).
std::string SignedTicketCode() {
  return StrCat("HRLD1.", Base64Url(Bytes(40, 1)), ".", Base64Url(Bytes(64, 2)));
}

QrCode MustEncode(std::string_view payload, QrErrorCorrection ec = QrErrorCorrection::kMedium) {
  Result<QrCode> code = QrCode::Encode(payload, ec);
  EXPECT_TRUE(code.ok()) << code.status();
  return std::move(code).value();  // throws on error, which fails the test (GoogleTest catches)
}

std::string MustPng(const QrCode& code, const QrRenderOptions& options = {}) {
  Result<std::string> png = RenderPng(code, options);
  EXPECT_TRUE(png.ok()) << png.status();
  return png.ok() ? std::move(*png) : std::string();
}

// Expects zbarimg to read exactly `payload` back from `code` drawn with `options`.
void ExpectZbarReads(const QrCode& code, std::string_view payload,
                     const QrRenderOptions& options = {}) {
  TempDir dir;
  const std::string path = dir.File("qr.png");
  WriteBytes(path, MustPng(code, options));
  const ToolRun run = Zbar(path);
  ASSERT_NE(run.exit_code, 127) << "zbarimg is required (Debian package zbar-tools): " << run.err;
  ASSERT_EQ(run.exit_code, 0) << "zbarimg found no QR code (module_px " << options.module_px
                              << ", quiet zone " << options.quiet_zone << ", version "
                              << code.version() << "): " << run.err;
  EXPECT_EQ(run.out, payload) << "module_px " << options.module_px << ", quiet zone "
                              << options.quiet_zone;
}

void ExpectRoundTrip(std::string_view payload, QrErrorCorrection ec = QrErrorCorrection::kMedium,
                     const QrRenderOptions& options = {}) {
  ExpectZbarReads(MustEncode(payload, ec), payload, options);
}

// The 7x7 finder pattern with its top left module at (x, y): a dark ring, a light ring and a
// dark 3x3 centre.
void ExpectFinderAt(const QrCode& code, int x0, int y0) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const bool ring = x == 0 || x == 6 || y == 0 || y == 6;
      const bool centre = x >= 2 && x <= 4 && y >= 2 && y <= 4;
      EXPECT_EQ(code.dark(x0 + x, y0 + y), ring || centre) << x0 + x << "," << y0 + y;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ParseQrErrorCorrection

TEST(QrParseErrorCorrection, AcceptsTheFourLettersInEitherCase) {
  const std::pair<std::string_view, QrErrorCorrection> cases[] = {
      {"L", QrErrorCorrection::kLow},      {"l", QrErrorCorrection::kLow},
      {"M", QrErrorCorrection::kMedium},   {"m", QrErrorCorrection::kMedium},
      {"Q", QrErrorCorrection::kQuartile}, {"q", QrErrorCorrection::kQuartile},
      {"H", QrErrorCorrection::kHigh},     {"h", QrErrorCorrection::kHigh},
  };
  for (const auto& [text, level] : cases) {
    Result<QrErrorCorrection> parsed = ParseQrErrorCorrection(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(*parsed, level) << text;
  }
}

TEST(QrParseErrorCorrection, RejectsAnythingElse) {
  const std::string_view cases[] = {
      "", "X", "LL", "M ", " M", "low", "medium", "7", std::string_view("M\0", 2)};
  for (std::string_view text : cases) {
    Result<QrErrorCorrection> parsed = ParseQrErrorCorrection(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Message(parsed.status()), "QR error correction must be one of L, M, Q, H");
  }
}

// ---------------------------------------------------------------------------------------------
// QrCode

TEST(QrCode, HasTheSizeOfItsVersionAndFinderPatternsInThreeCorners) {
  const QrCode code = MustEncode("HELLO");
  EXPECT_EQ(code.version(), 1);
  EXPECT_EQ(code.size(), 21);
  ExpectFinderAt(code, 0, 0);
  ExpectFinderAt(code, code.size() - 7, 0);
  ExpectFinderAt(code, 0, code.size() - 7);

  const QrCode ticket = MustEncode(SignedTicketCode());
  EXPECT_EQ(ticket.version(), 8);  // as the QrRenderOptions comment says
  EXPECT_EQ(ticket.size(), 17 + 4 * ticket.version());
  ExpectFinderAt(ticket, 0, 0);
  ExpectFinderAt(ticket, ticket.size() - 7, 0);
  ExpectFinderAt(ticket, 0, ticket.size() - 7);
}

TEST(QrCode, IsDeterministicAndMovable) {
  const std::string payload = SignedTicketCode();
  QrCode a = MustEncode(payload);
  const QrCode b = MustEncode(payload);
  ASSERT_EQ(a.size(), b.size());
  for (int y = 0; y < a.size(); ++y) {
    for (int x = 0; x < a.size(); ++x) ASSERT_EQ(a.dark(x, y), b.dark(x, y)) << x << "," << y;
  }
  QrCode moved = std::move(a);
  EXPECT_EQ(moved.version(), b.version());
  EXPECT_EQ(MustPng(moved), MustPng(b));
}

TEST(QrCode, EncodesFromSeveralThreadsAtOnce) {
  std::vector<std::string> payloads;
  std::vector<std::string> expected;
  for (uint32_t i = 0; i < 16; ++i) {
    payloads.push_back(StrCat("HRLD1.", Base64Url(Bytes(104, 100 + i))));
    expected.push_back(MustPng(MustEncode(payloads.back())));
  }
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (auto& out : got) {
    threads.emplace_back([&payloads, &out] {
      for (int round = 0; round < 5; ++round) {
        for (const std::string& p : payloads) {
          Result<QrCode> code = QrCode::Encode(p);
          Result<std::string> png = code.ok() ? RenderPng(*code) : code.status();
          out.push_back(png.ok() ? std::move(*png) : std::string());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& out : got) {
    ASSERT_EQ(out.size(), 5 * payloads.size());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], expected[i % payloads.size()]) << i;
  }
}

TEST(QrCode, UsesAlphanumericModeForUpperCaseBase32) {
  const std::string bytes = Bytes(62, 3);
  const std::string upper = Base32(bytes, /*upper=*/true);
  const std::string lower = Base32(bytes, /*upper=*/false);
  ASSERT_EQ(upper.size(), 100u);
  ASSERT_EQ(lower.size(), 100u);
  const QrCode upper_code = MustEncode(upper);
  const QrCode lower_code = MustEncode(lower);
  // 100 alphanumeric characters fit version 5 at M (at most 122); 100 bytes need version 6.
  EXPECT_EQ(upper_code.version(), 5);
  EXPECT_LT(upper_code.version(), lower_code.version());
  ExpectZbarReads(upper_code, upper);
  ExpectZbarReads(lower_code, lower);
}

TEST(QrCode, UsesNumericModeForDigits) {
  // In numeric mode 41 digits need version 2 at M (version 1 holds 34); as 8-bit data they
  // would need version 3 (version 2 holds 26 bytes).
  const std::string digits = "12345678901234567890123456789012345678901";
  const QrCode code = MustEncode(digits);
  EXPECT_EQ(code.version(), 2);
  ExpectZbarReads(code, digits);
}

TEST(QrCode, EncodesEveryErrorCorrectionLevel) {
  const std::string payload = SignedTicketCode();
  int previous_version = 0;
  for (QrErrorCorrection ec : {QrErrorCorrection::kLow, QrErrorCorrection::kMedium,
                               QrErrorCorrection::kQuartile, QrErrorCorrection::kHigh}) {
    const QrCode code = MustEncode(payload, ec);
    EXPECT_GT(code.version(), previous_version) << "more recovery takes a bigger symbol";
    previous_version = code.version();
    ExpectZbarReads(code, payload);
  }
}

TEST(QrCode, RejectsAnEmptyPayload) {
  Result<QrCode> code = QrCode::Encode("");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(code.status()), "QR payload is empty");
}

struct Capacity {
  QrErrorCorrection ec;
  size_t bytes, alphanumeric, digits;
};
constexpr Capacity kVersion40[] = {
    {QrErrorCorrection::kLow, 2953, 4296, 7089},
    {QrErrorCorrection::kMedium, 2331, 3391, 5596},
    {QrErrorCorrection::kQuartile, 1663, 2420, 3993},
    {QrErrorCorrection::kHigh, 1273, 1852, 3057},
};

TEST(QrCode, FillsVersion40ToItsCapacityAndNoFurther) {
  for (const Capacity& c : kVersion40) {
    // Binary (with a NUL, so entirely 8-bit mode), lower-case text (8-bit mode chosen by
    // libqrencode), upper-case alphanumeric text and digits.
    std::string binary = Bytes(c.bytes + 1, 4);
    binary[0] = '\0';
    const std::string text(c.bytes + 1, 'x');
    const std::string alphanumeric(c.alphanumeric + 1, 'X');
    const std::string digits(c.digits + 1, '7');
    for (std::string_view payload : {std::string_view(binary), std::string_view(text),
                                     std::string_view(alphanumeric), std::string_view(digits)}) {
      Result<QrCode> fits = QrCode::Encode(payload.substr(0, payload.size() - 1), c.ec);
      ASSERT_TRUE(fits.ok()) << payload.size() - 1 << ": " << fits.status();
      EXPECT_EQ(fits->version(), 40);
      Result<QrCode> too_long = QrCode::Encode(payload, c.ec);
      ASSERT_FALSE(too_long.ok()) << payload.size();
      EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(Message(too_long.status()).find(StrCat("holds at most ", c.bytes, " bytes")),
                std::string::npos)
          << too_long.status();
    }
  }
  Result<QrCode> huge = QrCode::Encode(std::string(100000, 'a'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(Message(huge.status()),
            "QR payload too long: 100000 bytes do not fit level M, whose largest symbol "
            "(version 40) holds at most 2331 bytes (3391 if all upper-case alphanumeric, 5596 if "
            "all digits)");
}

// ---------------------------------------------------------------------------------------------
// Round trips through zbarimg

TEST(QrZbar, ReadsShortAscii) { ExpectRoundTrip("Herald ticket 42"); }

TEST(QrZbar, ReadsAUrl) {
  ExpectRoundTrip("https://tickets.example.com/e/2025-06-21/fete-de-la-musique?seat=B12&t=Zx9_");
}

TEST(QrZbar, ReadsUtf8Text) {
  ExpectRoundTrip(
      "Billet r\u00e9serv\u00e9 \u2014 Th\u00e9\u00e2tre \u00ab Op\u00e9ra \u00bb 25 \u20ac");
}

TEST(QrZbar, ReadsASignedTicketCode) {
  const std::string payload = SignedTicketCode();
  ASSERT_EQ(payload.size(), 147u);
  ExpectRoundTrip(payload);
}

TEST(QrZbar, ReadsBinaryBytesExactly) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  ExpectRoundTrip(all_bytes);
  ExpectRoundTrip(std::string_view("\0\xff\0\xfe\x80", 5));
  ExpectRoundTrip(std::string_view("ticket\0", 7));  // a trailing NUL is kept
  // Without NUL, bytes that are not UTF-8 go through libqrencode's segmenting path.
  ExpectRoundTrip("\xff\xfe\x80 invalid UTF-8 \xc3");
}

TEST(QrZbar, ReadsVersion40) {
  std::string binary = Bytes(2331, 5);
  binary[1000] = '\0';
  const QrCode code = MustEncode(binary);
  ASSERT_EQ(code.version(), 40);
  ExpectZbarReads(code, binary, {.module_px = 3});
  const std::string alphanumeric = Base32(Bytes(2100, 6), /*upper=*/true).substr(0, 3391);
  ExpectRoundTrip(alphanumeric, QrErrorCorrection::kMedium, {.module_px = 3});
}

TEST(QrZbar, ReadsModuleSizesFrom2To8WithOrWithoutTheFullQuietZone) {
  // One pixel per module is too small for zbar's scanner (it finds the symbol only by luck),
  // so it is not tested; printers and phones need far more anyway.
  const std::string payload = SignedTicketCode();
  const QrCode code = MustEncode(payload);
  for (int module_px = 2; module_px <= 8; ++module_px) {
    for (int quiet_zone : {1, 4, 16}) {
      ExpectZbarReads(code, payload, {.module_px = module_px, .quiet_zone = quiet_zone});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PNG

uint32_t BigEndian32(std::string_view bytes) {
  uint32_t v = 0;
  for (unsigned char c : bytes.substr(0, 4)) v = (v << 8) | c;
  return v;
}

// Decodes a PNG to 8-bit gray with libpng's simplified API.
std::vector<unsigned char> DecodeGray(const std::string& png, int* width, int* height) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    ADD_FAILURE() << image.message;
    return {};
  }
  image.format = PNG_FORMAT_GRAY;
  std::vector<unsigned char> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    ADD_FAILURE() << image.message;
    return {};
  }
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  return pixels;
}

TEST(QrRenderPng, Writes1BitGrayscaleOfTheExpectedSize) {
  const QrCode code = MustEncode(SignedTicketCode());
  for (QrRenderOptions options :
       {QrRenderOptions{}, QrRenderOptions{3, 0}, QrRenderOptions{1, 16}, QrRenderOptions{64, 2}}) {
    const std::string png = MustPng(code, options);
    ASSERT_GT(png.size(), 33u);
    EXPECT_EQ(png.substr(0, 8), std::string_view("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(BigEndian32(png.substr(8)), 13u);  // IHDR length
    EXPECT_EQ(png.substr(12, 4), "IHDR");
    const uint32_t side =
        static_cast<uint32_t>((code.size() + 2 * options.quiet_zone) * options.module_px);
    EXPECT_EQ(BigEndian32(png.substr(16)), side);  // width
    EXPECT_EQ(BigEndian32(png.substr(20)), side);  // height
    EXPECT_EQ(png[24], 1);                         // bit depth
    EXPECT_EQ(png[25], 0);                         // colour type: grayscale
    EXPECT_EQ(png[28], 0);                         // not interlaced
    EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
  }
}

TEST(QrRenderPng, DrawsEveryModuleAndAWhiteQuietZone) {
  const QrCode code = MustEncode(SignedTicketCode());
  for (QrRenderOptions options :
       {QrRenderOptions{}, QrRenderOptions{3, 1}, QrRenderOptions{1, 0}, QrRenderOptions{5, 16}}) {
    int width = 0, height = 0;
    const std::vector<unsigned char> pixels = DecodeGray(MustPng(code, options), &width, &height);
    const int side = (code.size() + 2 * options.quiet_zone) * options.module_px;
    ASSERT_EQ(width, side);
    ASSERT_EQ(height, side);
    int mismatches = 0;
    for (int py = 0; py < side; ++py) {
      for (int px = 0; px < side; ++px) {
        const int x = px / options.module_px - options.quiet_zone;
        const int y = py / options.module_px - options.quiet_zone;
        const bool in_symbol = x >= 0 && x < code.size() && y >= 0 && y < code.size();
        const unsigned char expected = in_symbol && code.dark(x, y) ? 0 : 255;
        if (pixels[static_cast<size_t>(py) * side + px] != expected && ++mismatches < 5) {
          ADD_FAILURE() << "pixel " << px << "," << py << " (module " << x << "," << y << ")";
        }
      }
    }
    EXPECT_EQ(mismatches, 0);
    // The top left finder pattern's outer corner, just inside the quiet zone, is black.
    const int corner = options.quiet_zone * options.module_px;
    EXPECT_EQ(pixels[static_cast<size_t>(corner) * side + corner], 0);
    if (corner > 0) {
      EXPECT_EQ(pixels[static_cast<size_t>(corner - 1) * side + corner - 1], 255);
    }
  }
}

TEST(QrRenderPng, RejectsBadOptions) {
  const QrCode code = MustEncode("x");
  for (QrRenderOptions options :
       {QrRenderOptions{0, 4}, QrRenderOptions{65, 4}, QrRenderOptions{-8, 4},
        QrRenderOptions{8, -1}, QrRenderOptions{8, 17}}) {
    Result<std::string> png = RenderPng(code, options);
    ASSERT_FALSE(png.ok()) << options.module_px << " " << options.quiet_zone;
    EXPECT_EQ(png.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(png.status(), ValidateQrRenderOptions(options));
  }
  EXPECT_EQ(Message(ValidateQrRenderOptions({0, 4})), "QR module size must be 1 to 64 px, not 0");
  EXPECT_EQ(Message(ValidateQrRenderOptions({8, 17})),
            "QR quiet zone must be 0 to 16 modules, not 17");
  for (QrRenderOptions options : {QrRenderOptions{1, 0}, QrRenderOptions{64, 16}}) {
    EXPECT_TRUE(ValidateQrRenderOptions(options).ok());
    EXPECT_TRUE(RenderPng(code, options).ok());
  }
}

// ---------------------------------------------------------------------------------------------
// SVG

// The value of attribute `name` in the first tag `tag` of `svg`.
std::string Attribute(std::string_view svg, std::string_view tag, std::string_view name) {
  const size_t start = svg.find(StrCat("<", tag, " "));
  if (start == std::string_view::npos) return "<no tag>";
  const std::string_view element = svg.substr(start, svg.find('>', start) - start);
  const std::string key = StrCat(" ", name, "=\"");
  const size_t at = element.find(key);
  if (at == std::string_view::npos) return "<no attribute>";
  const size_t value = at + key.size();
  return std::string(element.substr(value, element.find('"', value) - value));
}

// Reads a path of "M<x>,<y>h<n>v1h-<n>z" runs back into a side x side matrix; false (and a
// test failure) for anything else, or a run that is not a maximal one.
bool ParseRuns(std::string_view d, int side, std::vector<std::vector<bool>>* matrix) {
  matrix->assign(side, std::vector<bool>(side, false));
  const std::string path(d);
  size_t at = 0;
  while (at < path.size()) {
    int x = 0, y = 0, n = 0, back = 0, used = 0;
    if (std::sscanf(path.c_str() + at, "M%d,%dh%dv1h-%dz%n", &x, &y, &n, &back, &used) != 4 ||
        used == 0) {
      ADD_FAILURE() << "bad path at " << path.substr(at, 20);
      return false;
    }
    at += static_cast<size_t>(used);
    if (n <= 0 || n != back || y < 0 || y >= side || x < 0 || x + n > side) {
      ADD_FAILURE() << "bad run " << x << "," << y << " " << n << " " << back;
      return false;
    }
    std::vector<bool>& row = (*matrix)[y];
    if ((x > 0 && row[x - 1]) || (x + n < side && row[x + n])) {
      ADD_FAILURE() << "runs not merged at " << x << "," << y;
      return false;
    }
    for (int i = x; i < x + n; ++i) {
      if (row[i]) {
        ADD_FAILURE() << "overlapping runs at " << i << "," << y;
        return false;
      }
      row[i] = true;
    }
  }
  return true;
}

TEST(QrRenderSvg, DrawsExactlyTheDarkModulesInMergedRuns) {
  const QrCode code = MustEncode(SignedTicketCode());
  for (QrRenderOptions options :
       {QrRenderOptions{}, QrRenderOptions{1, 0}, QrRenderOptions{64, 16}, QrRenderOptions{3, 2}}) {
    Result<std::string> svg = RenderSvg(code, options);
    ASSERT_TRUE(svg.ok()) << svg.status();
    const int side = code.size() + 2 * options.quiet_zone;
    const std::string side_px = StrCat(side * options.module_px);
    EXPECT_TRUE(svg->starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" "));
    EXPECT_TRUE(svg->ends_with("</svg>\n"));
    EXPECT_EQ(Attribute(*svg, "svg", "width"), side_px);
    EXPECT_EQ(Attribute(*svg, "svg", "height"), side_px);
    EXPECT_EQ(Attribute(*svg, "svg", "viewBox"), StrCat("0 0 ", side, " ", side));
    EXPECT_EQ(Attribute(*svg, "svg", "shape-rendering"), "crispEdges");
    EXPECT_EQ(Attribute(*svg, "rect", "width"), StrCat(side));
    EXPECT_EQ(Attribute(*svg, "rect", "height"), StrCat(side));
    EXPECT_EQ(Attribute(*svg, "rect", "fill"), "#fff");
    EXPECT_EQ(Attribute(*svg, "path", "fill"), "#000");
    // One path, after the background.
    EXPECT_EQ(svg->find("<path"), svg->rfind("<path"));
    EXPECT_LT(svg->find("<rect"), svg->find("<path"));

    std::vector<std::vector<bool>> matrix;
    ASSERT_TRUE(ParseRuns(Attribute(*svg, "path", "d"), side, &matrix));
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        const int mx = x - options.quiet_zone, my = y - options.quiet_zone;
        const bool in_symbol = mx >= 0 && mx < code.size() && my >= 0 && my < code.size();
        ASSERT_EQ(matrix[y][x], in_symbol && code.dark(mx, my)) << x << "," << y;
      }
    }
  }
}

TEST(QrRenderSvg, RejectsBadOptions) {
  const QrCode code = MustEncode("x");
  for (QrRenderOptions options : {QrRenderOptions{0, 4}, QrRenderOptions{65, 4},
                                  QrRenderOptions{8, -1}, QrRenderOptions{8, 17}}) {
    Result<std::string> svg = RenderSvg(code, options);
    ASSERT_FALSE(svg.ok());
    EXPECT_EQ(svg.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace herald::docs
