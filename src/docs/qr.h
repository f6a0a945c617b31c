#pragma once
// QR codes (ISO/IEC 18004 Model 2) for event tickets and documents: QrCode encodes a payload
// into a module matrix with libqrencode; RenderPng and RenderSvg draw it. All functions are
// thread-safe (Debian's libqrencode is built with pthreads); a QrCode is immutable once made.
//
// Payloads are bytes. A payload without NUL is split by libqrencode into numeric, alphanumeric
// (0-9, A-Z, space and $%*+-./:) and 8-bit segments, case-sensitively, so an upper-case
// base32 or base45 ticket code takes the denser alphanumeric mode and a smaller symbol than
// the same text in lower case. A payload with a NUL is encoded entirely in 8-bit mode. No ECI
// header is written: 8-bit data is the payload's bytes as they are, and readers (phones,
// zbar) take UTF-8 text for what it is.

#include <cassert>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace herald::docs {

// How much of the symbol may be damaged and still decode: about 7%, 15%, 25% and 30% of it.
enum class QrErrorCorrection { kLow, kMedium, kQuartile, kHigh };

// "L", "M", "Q" or "H", either case. InvalidArgument otherwise.
Result<QrErrorCorrection> ParseQrErrorCorrection(std::string_view letter);

// The module matrix of one QR symbol, without its quiet zone. Move-only; a moved-from QrCode
// may only be assigned to or destroyed.
class QrCode {
 public:
  // Encodes `payload` in the smallest version (1 to 40) that holds it at level `ec`, with the
  // mask libqrencode's penalty rules pick. InvalidArgument if `payload` is empty or does not
  // fit version 40 at that level (the message gives the maximum: 2953, 2331, 1663 or 1273
  // bytes of arbitrary data at L, M, Q, H; more for upper-case alphanumeric text or digits).
  // ResourceExhausted if libqrencode runs out of memory.
  static Result<QrCode> Encode(std::string_view payload,
                               QrErrorCorrection ec = QrErrorCorrection::kMedium);

  // Modules per side: 17 + 4 * version().
  int size() const { return size_; }
  // 1 to 40.
  int version() const { return version_; }
  // Whether the module in column `x`, row `y` is dark; (0, 0) is the top left corner, which
  // lies in a finder pattern. Requires 0 <= x, y < size().
  bool dark(int x, int y) const {
    assert(x >= 0 && x < size_ && y >= 0 && y < size_);
    return (modules_[y * size_ + x] & 1) != 0;
  }

 private:
  struct SymbolFree {
    void operator()(void* symbol) const;  // QRcode_free
  };

  QrCode(void* symbol, int version, int size, const unsigned char* modules)
      : symbol_(symbol), version_(version), size_(size), modules_(modules) {}

  std::unique_ptr<void, SymbolFree> symbol_;  // the libqrencode QRcode, which owns modules_
  int version_ = 0;
  int size_ = 0;
  const unsigned char* modules_ = nullptr;  // size_ * size_ bytes, row by row; bit 0 = dark
};

// How to draw a symbol. The defaults suit tickets printed or shown on a phone. A signed ticket
// code (about 150 base64url characters) takes version 8 or 9 at level M, 49 or 53 modules; at
// 8 px per module that is about 460 px square with the quiet zone, 3.9 cm at 300 dpi, sharp
// on paper and easily read off a screen. The 4-module quiet zone is what ISO/IEC 18004
// requires around the symbol (with less, some readers miss it). The error correction level is
// chosen at Encode, where M (15% recovery) is the default: it survives a scratched phone
// screen or a creased paper print without making the symbol denser than needed.
struct QrRenderOptions {
  int module_px = 8;   // pixels per module side, 1 to 64
  int quiet_zone = 4;  // light modules around the symbol on each side, 0 to 16
};

inline constexpr int kMinQrModulePx = 1;
inline constexpr int kMaxQrModulePx = 64;
inline constexpr int kMaxQrQuietZone = 16;

// Ok if `options` is within the ranges above, InvalidArgument otherwise.
Status ValidateQrRenderOptions(const QrRenderOptions& options);

// A PNG of `code`: 1-bit grayscale, (size() + 2 * quiet_zone) * module_px pixels square, dark
// modules black on white. InvalidArgument for bad options (ValidateQrRenderOptions), Internal
// if libpng fails, ResourceExhausted if memory runs out.
Result<std::string> RenderPng(const QrCode& code, const QrRenderOptions& options = {});

// An SVG document of `code`: a white background rect and one black <path> in which each
// horizontal run of dark modules is a rectangle "M<x>,<y>h<n>v1h-<n>z", in module units
// (viewBox "0 0 <n> <n>" with n = size() + 2 * quiet_zone; the symbol starts at quiet_zone),
// width and height n * module_px pixels, shape-rendering="crispEdges" so renderers do not
// blur module edges. InvalidArgument for bad options (ValidateQrRenderOptions).
Result<std::string> RenderSvg(const QrCode& code, const QrRenderOptions& options = {});

}  // namespace herald::docs
