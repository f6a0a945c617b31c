#pragma once
// PDF drawing over libharu: PdfEngine owns the fonts and a pool of libharu documents;
// PdfEngine::Render hands a PdfCanvas to a drawing function and returns the PDF bytes.
//
// Text is UTF-8. Text that Windows-1252 can spell (all of French, German, Spanish, Italian,
// Portuguese, Dutch and the Nordic languages: é è à ç « » € œ …) is drawn with DejaVu Sans cut
// down to that repertoire (scripts/subset_fonts.py) in a single-byte encoding: fast and small
// (a ticket is about 37 KB). Any other text (Polish, Czech, Greek, Cyrillic …) is drawn with the
// full DejaVu Sans from `font_dir` as a CID font in libharu's UTF-8 encoding, embedded only in
// the documents that need it: slower (about 30 ms more) but correct. Invalid UTF-8 bytes become
// U+FFFD; control characters are dropped.
//
// Coordinates are points (1/72 inch) from the top left corner of the page, y growing down.
//
// Thread-safe: concurrent Render calls each take their own libharu document from the pool.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/status.h"
#include "docs/qr.h"

namespace herald::docs {

struct PageSize {
  double width = 0;  // points
  double height = 0;
};
inline constexpr PageSize kA4{595.28, 841.89};
inline constexpr PageSize kA5{419.53, 595.28};
// A4 width, a third of its height: three tickets per A4 sheet when printed.
inline constexpr PageSize kTicketPage{595.28, 280.63};

enum class FontStyle { kRegular, kBold };

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0 to 1
};
// "#rrggbb" (or "rrggbb"); InvalidArgument otherwise.
Result<Rgb> ParseRgb(std::string_view hex);

struct PdfInfo {
  std::string title;
  std::string subject;
  std::string author = "Herald";
  absl::Time created = absl::UnixEpoch();
};

// Drawing on one document. Valid only inside the function given to PdfEngine::Render.
class PdfCanvas {
 public:
  PdfCanvas(const PdfCanvas&) = delete;
  PdfCanvas& operator=(const PdfCanvas&) = delete;

  // Starts a new page; drawing goes to the newest page. ResourceExhausted past kMaxPdfPages.
  Status NewPage(PageSize size);
  PageSize page_size() const;
  int page_count() const;

  // Width of `text` (one line) in points.
  double TextWidth(std::string_view text, FontStyle style, double size);
  // Draws one line of text with its baseline at y.
  void Text(double x, double y, std::string_view text, FontStyle style, double size, Rgb color);
  void FillRect(double x, double y, double w, double h, Rgb color);
  void StrokeRect(double x, double y, double w, double h, double line_width, Rgb color);
  void Line(double x1, double y1, double x2, double y2, double line_width, Rgb color);
  // The QR symbol as filled squares (vector: sharp at any zoom and print resolution), `side`
  // points wide including a 4-module quiet zone.
  void Qr(const QrCode& code, double x, double y, double side);
  // A PNG image (e.g. a logo) scaled into w × h. InvalidArgument if it is not a PNG file or
  // has more than kMaxImagePixels.
  Status Png(std::string_view png, double x, double y, double w, double h);
  // A clickable area opening `url`.
  void Link(double x, double y, double w, double h, std::string_view url);

 private:
  friend class PdfEngine;
  struct Context;
  explicit PdfCanvas(Context& context) : c_(context) {}
  Context& c_;
};

inline constexpr int kMaxPdfPages = 500;
inline constexpr uint64_t kMaxImagePixels = 16'000'000;

struct PdfEngineOptions {
  // Where the full DejaVu Sans fonts are (Debian's fonts-dejavu-core), for text beyond
  // Windows-1252.
  std::filesystem::path font_dir = "/usr/share/fonts/truetype/dejavu";
  // Compress page content and images (Flate). Off only to read raw PDFs while debugging. The
  // embedded fonts are never compressed: libharu would deflate the same font again in every
  // document, which made a ticket cost 2.5 ms instead of 1.9 ms for 17 KB instead of 37 KB.
  bool compress = true;
};

class PdfEngine {
 public:
  // Writes the embedded subset fonts to a private temporary folder (libharu reads fonts from
  // files), removed by the destructor.
  static Result<std::unique_ptr<PdfEngine>> Create(const PdfEngineOptions& options = {});
  ~PdfEngine();
  PdfEngine(const PdfEngine&) = delete;
  PdfEngine& operator=(const PdfEngine&) = delete;

  // Runs `draw` on a fresh document and returns the PDF. The document must have at least one
  // page. Errors from `draw` are returned as they are; libharu failures are Internal.
  Result<std::string> Render(const PdfInfo& info, const std::function<Status(PdfCanvas&)>& draw);

  using Context = PdfCanvas::Context;  // one libharu document with its fonts loaded

 private:
  PdfEngine(PdfEngineOptions options, std::filesystem::path subset_dir);

  std::unique_ptr<Context> Acquire();
  void Release(std::unique_ptr<Context> context);

  const PdfEngineOptions options_;
  const std::filesystem::path subset_dir_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Context>> pool_ ABSL_GUARDED_BY(mu_);
};

// Text as Windows-1252 bytes, or false if some character has no Windows-1252 form or the
// UTF-8 is invalid; with a `replacement`, such characters and bytes become it instead (and the
// result is always true). Control characters (below U+0020) are dropped. Exposed for tests.
bool ToCp1252(std::string_view utf8, std::string& out, char replacement = 0);

}  // namespace herald::docs
