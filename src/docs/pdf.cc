#include "docs/pdf.h"

#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include "absl/time/civil_time.h"
#include "core/strings.h"
#include "core/utf8.h"
#include "hpdf.h"
#include "png.h"

namespace herald::docs {
namespace internal {
// scripts/subset_fonts.py, compiled in by src/CMakeLists.txt.
extern const unsigned char kDejaVuSans[];
extern const size_t kDejaVuSansSize;
extern const unsigned char kDejaVuSansBold[];
extern const size_t kDejaVuSansBoldSize;
}  // namespace internal

namespace {

constexpr char kSubsetRegular[] = "DejaVuSans-Win1252.ttf";
constexpr char kSubsetBold[] = "DejaVuSans-Bold-Win1252.ttf";
// Idle libharu documents kept for reuse (each holds its fonts, about 1 MB with the full ones).
constexpr size_t kMaxPooled = 16;

// Unicode code point → Windows-1252 byte for 0x80–0x9F (Microsoft's table); 0 = none.
uint8_t Cp1252High(uint32_t cp) {
  switch (cp) {
    case 0x20AC:
      return 0x80;
    case 0x201A:
      return 0x82;
    case 0x0192:
      return 0x83;
    case 0x201E:
      return 0x84;
    case 0x2026:
      return 0x85;
    case 0x2020:
      return 0x86;
    case 0x2021:
      return 0x87;
    case 0x02C6:
      return 0x88;
    case 0x2030:
      return 0x89;
    case 0x0160:
      return 0x8A;
    case 0x2039:
      return 0x8B;
    case 0x0152:
      return 0x8C;
    case 0x017D:
      return 0x8E;
    case 0x2018:
      return 0x91;
    case 0x2019:
      return 0x92;
    case 0x201C:
      return 0x93;
    case 0x201D:
      return 0x94;
    case 0x2022:
      return 0x95;
    case 0x2013:
      return 0x96;
    case 0x2014:
      return 0x97;
    case 0x02DC:
      return 0x98;
    case 0x2122:
      return 0x99;
    case 0x0161:
      return 0x9A;
    case 0x203A:
      return 0x9B;
    case 0x0153:
      return 0x9C;
    case 0x017E:
      return 0x9E;
    case 0x0178:
      return 0x9F;
    default:
      return 0;
  }
}

uint32_t DecodeAt(std::string_view s, size_t i, size_t n) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k])); };
  switch (n) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// Valid UTF-8 without control characters, for libharu's UTF-8 encoder.
std::string CleanUtf8(std::string_view text) {
  std::string valid = core::ToValidUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    if (static_cast<uint8_t>(c) >= 0x20 && c != 0x7F) out += c;
  }
  return out;
}

Status WriteFile(const std::filesystem::path& path, const unsigned char* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) return absl::InternalError(StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

HPDF_Date ToHpdfDate(absl::Time t) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  HPDF_Date d{};
  d.year = static_cast<HPDF_INT>(c.year());
  d.month = c.month();
  d.day = c.day();
  d.hour = c.hour();
  d.minutes = c.minute();
  d.seconds = c.second();
  d.ind = 'Z';
  return d;
}

}  // namespace

bool ToCp1252(std::string_view utf8, std::string& out, char replacement) {
  out.clear();
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<uint8_t>(utf8[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x7F) out += static_cast<char>(c);
      ++i;
      continue;
    }
    const size_t n = core::Utf8SequenceLength(utf8, i);
    if (n == 0) {
      if (replacement == 0) return false;
      out += replacement;
      ++i;
      continue;
    }
    const uint32_t cp = DecodeAt(utf8, i, n);
    i += n;
    if (cp >= 0xA0 && cp <= 0xFF) {
      out += static_cast<char>(cp);
    } else if (cp < 0xA0) {
      continue;  // C1 controls
    } else if (uint8_t b = Cp1252High(cp); b != 0) {
      out += static_cast<char>(b);
    } else if (replacement != 0) {
      out += replacement;
    } else {
      return false;
    }
  }
  return true;
}

Result<Rgb> ParseRgb(std::string_view hex) {
  if (!hex.empty() && hex[0] == '#') hex.remove_prefix(1);
  if (hex.size() != 6) return absl::InvalidArgumentError("a colour is written #rrggbb");
  Rgb rgb;
  double* parts[3] = {&rgb.r, &rgb.g, &rgb.b};
  for (int i = 0; i < 3; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      const char ch = hex[2 * i + k];
      int d = ch >= '0' && ch <= '9'   ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                       : -1;
      if (d < 0) return absl::InvalidArgumentError("a colour is written #rrggbb");
      v = v * 16 + d;
    }
    *parts[i] = v / 255.0;
  }
  return rgb;
}

// One libharu document and the fonts loaded into it. libharu keeps font definitions across
// HPDF_NewDoc, so each is parsed once per Context, not once per PDF.
struct PdfCanvas::Context {
  HPDF_Doc doc = nullptr;
  HPDF_STATUS error = 0;  // first libharu error since the document began
  HPDF_STATUS error_detail = 0;
  const char* subset[2] = {nullptr, nullptr};  // font definition names, by FontStyle
  const char* full[2] = {nullptr, nullptr};    // loaded on first use
  bool utf_encodings = false;
  bool full_missing = false;  // font_dir lacks the full fonts
  std::filesystem::path font_dir;
  HPDF_Page page = nullptr;
  PageSize size;
  int pages = 0;
  std::string scratch;

  ~Context() {
    if (doc != nullptr) HPDF_Free(doc);
  }

  static void OnError(HPDF_STATUS error_no, HPDF_STATUS detail_no, void* user_data) {
    auto* c = static_cast<Context*>(user_data);
    if (c->error == 0) {
      c->error = error_no;
      c->error_detail = detail_no;
    }
  }

  Status LastError(std::string_view what) const {
    char code[16];
    std::snprintf(code, sizeof code, "0x%04X", static_cast<unsigned>(error));
    return absl::InternalError(StrCat("PDF library error ", code, " (detail ",
                                      static_cast<unsigned>(error_detail), ") ", what));
  }

  // The font for `text` in `style`; sets `bytes` to what libharu must be given.
  HPDF_Font FontFor(std::string_view text, FontStyle style, std::string& bytes) {
    const int i = style == FontStyle::kBold ? 1 : 0;
    // Without the full fonts, draw what Windows-1252 can ('?' for the rest).
    if (ToCp1252(text, scratch) || (full_missing && ToCp1252(text, scratch, '?'))) {
      bytes.swap(scratch);
      return HPDF_GetFont(doc, subset[i], "CP1252");
    }
    if (full[i] == nullptr) {
      if (!utf_encodings) {
        HPDF_UseUTFEncodings(doc);
        utf_encodings = true;
      }
      const std::filesystem::path file =
          font_dir / (style == FontStyle::kBold ? "DejaVuSans-Bold.ttf" : "DejaVuSans.ttf");
      full[i] = HPDF_LoadTTFontFromFile(doc, file.c_str(), HPDF_TRUE);
      if (full[i] == nullptr) {  // not installed: not an error of this document
        HPDF_ResetError(doc);
        error = 0;
        full_missing = true;
        return FontFor(text, style, bytes);
      }
    }
    bytes = CleanUtf8(text);
    return HPDF_GetFont(doc, full[i], "UTF-8");
  }

  double Y(double top) const { return size.height - top; }

  void Fill(Rgb c) {
    HPDF_Page_SetRGBFill(page, static_cast<HPDF_REAL>(c.r), static_cast<HPDF_REAL>(c.g),
                         static_cast<HPDF_REAL>(c.b));
  }
  void Stroke(double line_width, Rgb c) {
    HPDF_Page_SetLineWidth(page, static_cast<HPDF_REAL>(line_width));
    HPDF_Page_SetRGBStroke(page, static_cast<HPDF_REAL>(c.r), static_cast<HPDF_REAL>(c.g),
                           static_cast<HPDF_REAL>(c.b));
  }
};

Status PdfCanvas::NewPage(PageSize size) {
  if (c_.pages >= kMaxPdfPages) {
    return absl::ResourceExhaustedError(StrCat("a document has at most ", kMaxPdfPages, " pages"));
  }
  c_.page = HPDF_AddPage(c_.doc);
  if (c_.page == nullptr) return c_.LastError("adding a page");
  HPDF_Page_SetWidth(c_.page, static_cast<HPDF_REAL>(size.width));
  HPDF_Page_SetHeight(c_.page, static_cast<HPDF_REAL>(size.height));
  c_.size = size;
  ++c_.pages;
  return absl::OkStatus();
}

PageSize PdfCanvas::page_size() const { return c_.size; }
int PdfCanvas::page_count() const { return c_.pages; }

double PdfCanvas::TextWidth(std::string_view text, FontStyle style, double size) {
  std::string bytes;
  HPDF_Font font = c_.FontFor(text, style, bytes);
  if (font == nullptr || bytes.empty()) return 0;
  const HPDF_TextWidth w = HPDF_Font_TextWidth(
      font, reinterpret_cast<const HPDF_BYTE*>(bytes.data()), static_cast<HPDF_UINT>(bytes.size()));
  return w.width * size / 1000.0;
}

void PdfCanvas::Text(double x, double y, std::string_view text, FontStyle style, double size,
                     Rgb color) {
  if (c_.page == nullptr) return;
  std::string bytes;
  HPDF_Font font = c_.FontFor(text, style, bytes);
  if (font == nullptr || bytes.empty()) return;
  c_.Fill(color);
  HPDF_Page_BeginText(c_.page);
  HPDF_Page_SetFontAndSize(c_.page, font, static_cast<HPDF_REAL>(size));
  HPDF_Page_TextOut(c_.page, static_cast<HPDF_REAL>(x), static_cast<HPDF_REAL>(c_.Y(y)),
                    bytes.c_str());
  HPDF_Page_EndText(c_.page);
}

void PdfCanvas::FillRect(double x, double y, double w, double h, Rgb color) {
  if (c_.page == nullptr) return;
  c_.Fill(color);
  HPDF_Page_Rectangle(c_.page, static_cast<HPDF_REAL>(x), static_cast<HPDF_REAL>(c_.Y(y + h)),
                      static_cast<HPDF_REAL>(w), static_cast<HPDF_REAL>(h));
  HPDF_Page_Fill(c_.page);
}

void PdfCanvas::StrokeRect(double x, double y, double w, double h, double line_width, Rgb color) {
  if (c_.page == nullptr) return;
  c_.Stroke(line_width, color);
  HPDF_Page_Rectangle(c_.page, static_cast<HPDF_REAL>(x), static_cast<HPDF_REAL>(c_.Y(y + h)),
                      static_cast<HPDF_REAL>(w), static_cast<HPDF_REAL>(h));
  HPDF_Page_Stroke(c_.page);
}

void PdfCanvas::Line(double x1, double y1, double x2, double y2, double line_width, Rgb color) {
  if (c_.page == nullptr) return;
  c_.Stroke(line_width, color);
  HPDF_Page_MoveTo(c_.page, static_cast<HPDF_REAL>(x1), static_cast<HPDF_REAL>(c_.Y(y1)));
  HPDF_Page_LineTo(c_.page, static_cast<HPDF_REAL>(x2), static_cast<HPDF_REAL>(c_.Y(y2)));
  HPDF_Page_Stroke(c_.page);
}

void PdfCanvas::Qr(const QrCode& code, double x, double y, double side) {
  if (c_.page == nullptr) return;
  constexpr int kQuiet = 4;
  const int n = code.size();
  const double m = side / (n + 2 * kQuiet);
  const double left = x + kQuiet * m;
  const double top = y + kQuiet * m;
  c_.Fill({0, 0, 0});
  // One rectangle per horizontal run of dark modules, all filled at once.
  for (int row = 0; row < n; ++row) {
    for (int col = 0; col < n;) {
      if (!code.dark(col, row)) {
        ++col;
        continue;
      }
      int end = col;
      while (end < n && code.dark(end, row)) ++end;
      HPDF_Page_Rectangle(c_.page, static_cast<HPDF_REAL>(left + col * m),
                          static_cast<HPDF_REAL>(c_.Y(top + (row + 1) * m)),
                          static_cast<HPDF_REAL>((end - col) * m), static_cast<HPDF_REAL>(m));
      col = end;
    }
  }
  HPDF_Page_Fill(c_.page);
}

Status PdfCanvas::Png(std::string_view png, double x, double y, double w, double h) {
  if (c_.page == nullptr) return absl::FailedPreconditionError("no page");
  // Decoded here with libpng's simplified API, which reports errors as values; libharu's own
  // PNG reader aborts the process on a corrupt file. Transparency is flattened onto white.
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, png.data(), png.size()) == 0) {
    return absl::InvalidArgumentError(StrCat("image is not a PNG file: ", image.message));
  }
  if (static_cast<uint64_t>(image.width) * image.height > kMaxImagePixels) {
    png_image_free(&image);
    return absl::InvalidArgumentError(
        StrCat("image is ", image.width, "x", image.height, " pixels; at most ", kMaxImagePixels));
  }
  image.format = PNG_FORMAT_RGB;
  std::string pixels(PNG_IMAGE_SIZE(image), '\0');
  const png_color white{255, 255, 255};
  if (png_image_finish_read(&image, &white, pixels.data(), 0, nullptr) == 0) {
    std::string message = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError(StrCat("image is not a readable PNG file: ", message));
  }
  HPDF_Image raw =
      HPDF_LoadRawImageFromMem(c_.doc, reinterpret_cast<const HPDF_BYTE*>(pixels.data()),
                               image.width, image.height, HPDF_CS_DEVICE_RGB, 8);
  if (raw == nullptr) return c_.LastError("adding an image");
  HPDF_Page_DrawImage(c_.page, raw, static_cast<HPDF_REAL>(x), static_cast<HPDF_REAL>(c_.Y(y + h)),
                      static_cast<HPDF_REAL>(w), static_cast<HPDF_REAL>(h));
  return absl::OkStatus();
}

void PdfCanvas::Link(double x, double y, double w, double h, std::string_view url) {
  if (c_.page == nullptr) return;
  std::string clean = CleanUtf8(url);
  HPDF_Rect rect{static_cast<HPDF_REAL>(x), static_cast<HPDF_REAL>(c_.Y(y + h)),
                 static_cast<HPDF_REAL>(x + w), static_cast<HPDF_REAL>(c_.Y(y))};
  HPDF_Annotation link = HPDF_Page_CreateURILinkAnnot(c_.page, rect, clean.c_str());
  if (link != nullptr) HPDF_LinkAnnot_SetBorderStyle(link, 0, 0, 0);
}

Result<std::unique_ptr<PdfEngine>> PdfEngine::Create(const PdfEngineOptions& options) {
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  std::string dir = (tmp / "herald-fonts-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        StrCat("cannot create a folder for the PDF fonts in ", tmp.string()));
  }
  const std::filesystem::path subset_dir = dir;
  Status written =
      WriteFile(subset_dir / kSubsetRegular, internal::kDejaVuSans, internal::kDejaVuSansSize);
  if (written.ok()) {
    written = WriteFile(subset_dir / kSubsetBold, internal::kDejaVuSansBold,
                        internal::kDejaVuSansBoldSize);
  }
  if (!written.ok()) {
    std::filesystem::remove_all(subset_dir, ec);
    return written;
  }
  auto engine = std::unique_ptr<PdfEngine>(new PdfEngine(options, subset_dir));
  // Fail now rather than on the first document if libharu cannot load the fonts.
  std::unique_ptr<Context> first = engine->Acquire();
  if (first == nullptr) return absl::InternalError("the PDF library cannot load its fonts");
  engine->Release(std::move(first));
  return engine;
}

PdfEngine::PdfEngine(PdfEngineOptions options, std::filesystem::path subset_dir)
    : options_(std::move(options)), subset_dir_(std::move(subset_dir)) {}

PdfEngine::~PdfEngine() {
  {
    absl::MutexLock lock(&mu_);
    pool_.clear();  // closes the font files before they are removed
  }
  std::error_code ec;
  std::filesystem::remove_all(subset_dir_, ec);
}

std::unique_ptr<PdfEngine::Context> PdfEngine::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!pool_.empty()) {
      std::unique_ptr<Context> c = std::move(pool_.back());
      pool_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<Context>();
  c->font_dir = options_.font_dir;
  c->doc = HPDF_New(&Context::OnError, c.get());
  if (c->doc == nullptr) return nullptr;
  const std::filesystem::path regular = subset_dir_ / kSubsetRegular;
  const std::filesystem::path bold = subset_dir_ / kSubsetBold;
  c->subset[0] = HPDF_LoadTTFontFromFile(c->doc, regular.c_str(), HPDF_TRUE);
  c->subset[1] = HPDF_LoadTTFontFromFile(c->doc, bold.c_str(), HPDF_TRUE);
  if (c->subset[0] == nullptr || c->subset[1] == nullptr || c->error != 0) return nullptr;
  return c;
}

void PdfEngine::Release(std::unique_ptr<Context> context) {
  HPDF_FreeDoc(context->doc);  // frees the document, keeps the fonts
  context->page = nullptr;
  absl::MutexLock lock(&mu_);
  if (pool_.size() < kMaxPooled) pool_.push_back(std::move(context));
}

Result<std::string> PdfEngine::Render(const PdfInfo& info,
                                      const std::function<Status(PdfCanvas&)>& draw) {
  std::unique_ptr<Context> c = Acquire();
  if (c == nullptr) return absl::InternalError("the PDF library cannot start a document");
  c->error = 0;
  c->page = nullptr;
  c->pages = 0;
  if (HPDF_NewDoc(c->doc) != HPDF_OK) return c->LastError("starting a document");
  HPDF_SetCompressionMode(c->doc,
                          options_.compress ? HPDF_COMP_TEXT | HPDF_COMP_IMAGE : HPDF_COMP_NONE);
  std::string text;
  const auto set_info = [&](HPDF_InfoType type, const std::string& value) {
    if (value.empty()) return;
    // The information dictionary is PDFDocEncoding, which agrees with Windows-1252 on letters.
    if (!ToCp1252(value, text)) text = CleanUtf8(value);
    HPDF_SetInfoAttr(c->doc, type, text.c_str());
  };
  set_info(HPDF_INFO_TITLE, info.title);
  set_info(HPDF_INFO_SUBJECT, info.subject);
  set_info(HPDF_INFO_AUTHOR, info.author);
  set_info(HPDF_INFO_CREATOR, "Herald");
  HPDF_SetInfoDateAttr(c->doc, HPDF_INFO_CREATION_DATE, ToHpdfDate(info.created));

  PdfCanvas canvas(*c);
  if (Status drawn = draw(canvas); !drawn.ok()) {
    Release(std::move(c));
    return drawn;
  }
  if (c->pages == 0) {
    Release(std::move(c));
    return absl::InvalidArgumentError("the document has no page");
  }
  if (c->error != 0) return c->LastError("drawing the document");  // the Context is dropped
  if (HPDF_SaveToStream(c->doc) != HPDF_OK || c->error != 0) {
    return c->LastError("saving the document");
  }
  HPDF_UINT32 size = HPDF_GetStreamSize(c->doc);
  std::string pdf(size, '\0');
  const HPDF_STATUS read =
      size == 0 ? HPDF_INVALID_PARAMETER
                : HPDF_ReadFromStream(c->doc, reinterpret_cast<HPDF_BYTE*>(pdf.data()), &size);
  if (read != HPDF_OK && read != HPDF_STREAM_EOF) return c->LastError("reading the document");
  pdf.resize(size);
  Release(std::move(c));
  return pdf;
}

}  // namespace herald::docs
