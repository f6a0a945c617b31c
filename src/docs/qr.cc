#include "docs/qr.h"

#include <png.h>
#include <qrencode.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <iterator>
#include <new>
#include <vector>

#include "core/strings.h"

namespace herald::docs {
namespace {

Status InvalidArgument(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(message));
}

QRecLevel ToQrencode(QrErrorCorrection ec) {
  switch (ec) {
    case QrErrorCorrection::kLow:
      return QR_ECLEVEL_L;
    case QrErrorCorrection::kMedium:
      return QR_ECLEVEL_M;
    case QrErrorCorrection::kQuartile:
      return QR_ECLEVEL_Q;
    case QrErrorCorrection::kHigh:
      break;
  }
  return QR_ECLEVEL_H;
}

// What version 40 holds at each level (ISO/IEC 18004:2015 table 7), indexed by QRecLevel.
struct Capacity {
  char letter;
  int bytes, alphanumeric, digits;
};
constexpr Capacity kVersion40[] = {
    {'L', 2953, 4296, 7089},
    {'M', 2331, 3391, 5596},
    {'Q', 1663, 2420, 3993},
    {'H', 1273, 1852, 3057},
};

Status TooLong(size_t payload_bytes, QRecLevel level) {
  const Capacity& c = kVersion40[level];
  return InvalidArgument(StrCat("QR payload too long: ", payload_bytes, " bytes do not fit level ",
                                c.letter, ", whose largest symbol (version 40) holds at most ",
                                c.bytes, " bytes (", c.alphanumeric,
                                " if all upper-case alphanumeric, ", c.digits, " if all digits)"));
}

// ---------------------------------------------------------------------------------------------
// PNG
//
// libpng reports errors by longjmp to the setjmp in WritePng. A longjmp that skips a
// destructor is undefined behaviour in C++, so everything that lives across it is plain data
// (PngJob, raw pointers) and every C++ object (the output string, the row buffer, the libpng
// handles' RAII owner) belongs to RenderPng, whose frame the longjmp never leaves.

struct PngJob {
  const QrCode* code;
  int quiet_zone;
  int module_px;
  png_uint_32 side_px;
  unsigned char* row;  // side_px bits, owned by RenderPng
  size_t row_bytes;
  bool out_of_memory;
  char error[160];  // libpng's message, if it failed
};

void OnPngError(png_structp png, png_const_charp message) {
  auto* job = static_cast<PngJob*>(png_get_error_ptr(png));
  std::snprintf(job->error, sizeof job->error, "%s", message);
  png_longjmp(png, 1);  // instead of returning, which would print the message to stderr
}

void OnPngWarning(png_structp, png_const_charp) {}

void WriteToString(png_structp png, png_bytep data, size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  bool failed = false;
  try {
    out->append(reinterpret_cast<const char*>(data), length);
  } catch (const std::bad_alloc&) {
    failed = true;
  }
  // Outside the catch block, so the longjmp leaves no exception half-handled.
  if (failed) {
    static_cast<PngJob*>(png_get_error_ptr(png))->out_of_memory = true;
    png_error(png, "out of memory");
  }
}

// libpng's default flush would fflush() the io pointer as a FILE*.
void FlushNothing(png_structp) {}

// Sets row to `modules` pixels of the symbol's row y (y < 0 or >= size(): a quiet zone row).
// Bits are 1 for white, as in 1-bit grayscale; the padding bits of the last byte stay white.
void FillRow(const PngJob& job, int y) {
  std::fill(job.row, job.row + job.row_bytes, 0xFF);
  const int size = job.code->size();
  if (y < 0 || y >= size) return;
  for (int x = 0; x < size; ++x) {
    if (!job.code->dark(x, y)) continue;
    const size_t first = static_cast<size_t>(x + job.quiet_zone) * job.module_px;
    for (size_t px = first; px < first + job.module_px; ++px) {
      job.row[px >> 3] &= static_cast<unsigned char>(~(0x80u >> (px & 7)));
    }
  }
}

// The part of WritePng that may fail; kept out of line so no local of it lives in the frame
// that calls setjmp (GCC's -Wclobbered would rightly worry about them).
[[gnu::noinline]] void WritePngImage(png_structp png, png_infop info, const PngJob& job) {
  png_set_IHDR(png, info, job.side_px, job.side_px, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  // Each module row repeats module_px times, so deflate finds its matches one row back and the
  // fastest level does nearly as well as the default at a third of the time (a ticket symbol:
  // about 1.6 KB instead of 0.8 KB, 0.2 ms instead of 0.6). A 4 KiB window still reaches a row
  // back for the widest image (1672 bytes per row), and the smaller zlib state stays out of
  // the page-faulting allocations the default 256 KiB would cost on every call. Filters do not
  // help 1-bit images.
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_compression_level(png, 1);
  png_set_compression_window_bits(png, 12);
  png_set_compression_mem_level(png, 5);
  png_write_info(png, info);
  const int size = job.code->size();
  for (int y = -job.quiet_zone; y < size + job.quiet_zone; ++y) {
    FillRow(job, y);
    for (int i = 0; i < job.module_px; ++i) png_write_row(png, job.row);
  }
  png_write_end(png, info);
}

// True if the image was written; false, with job->error set, if libpng failed.
bool WritePng(png_structp png, png_infop info, PngJob* job) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  WritePngImage(png, info, *job);
  return true;
}

struct PngWriter {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriter() {
    if (png != nullptr) png_destroy_write_struct(&png, &info);
  }
};

}  // namespace

Result<QrErrorCorrection> ParseQrErrorCorrection(std::string_view letter) {
  if (letter.size() == 1) {
    switch (letter[0]) {
      case 'L':
      case 'l':
        return QrErrorCorrection::kLow;
      case 'M':
      case 'm':
        return QrErrorCorrection::kMedium;
      case 'Q':
      case 'q':
        return QrErrorCorrection::kQuartile;
      case 'H':
      case 'h':
        return QrErrorCorrection::kHigh;
    }
  }
  return InvalidArgument("QR error correction must be one of L, M, Q, H");
}

void QrCode::SymbolFree::operator()(void* symbol) const {
  QRcode_free(static_cast<QRcode*>(symbol));
}

Result<QrCode> QrCode::Encode(std::string_view payload, QrErrorCorrection ec) {
  const QRecLevel level = ToQrencode(ec);
  if (payload.empty()) return InvalidArgument("QR payload is empty");
  // Nothing longer than the digit capacity can fit; this also keeps the size within int.
  if (payload.size() > static_cast<size_t>(kVersion40[level].digits)) {
    return TooLong(payload.size(), level);
  }
  QRcode* symbol = nullptr;
  errno = 0;
  if (payload.find('\0') != std::string_view::npos) {
    symbol = QRcode_encodeData(static_cast<int>(payload.size()),
                               reinterpret_cast<const unsigned char*>(payload.data()), 0, level);
  } else {
    // QRcode_encodeString wants a NUL-terminated string. QR_MODE_8 as the hint keeps bytes
    // >= 0x80 (UTF-8) in 8-bit mode rather than trying Shift-JIS Kanji mode.
    const std::string terminated(payload);
    symbol = QRcode_encodeString(terminated.c_str(), 0, level, QR_MODE_8, /*casesensitive=*/1);
  }
  if (symbol == nullptr) {
    const int error = errno;
    if (error == ERANGE) return TooLong(payload.size(), level);
    if (error == ENOMEM) return absl::ResourceExhaustedError("out of memory encoding a QR code");
    return absl::InternalError(ToAbsl(StrCat("libqrencode failed with errno ", error)));
  }
  return QrCode(symbol, symbol->version, symbol->width, symbol->data);
}

Status ValidateQrRenderOptions(const QrRenderOptions& options) {
  if (options.module_px < kMinQrModulePx || options.module_px > kMaxQrModulePx) {
    return InvalidArgument(StrCat("QR module size must be ", kMinQrModulePx, " to ", kMaxQrModulePx,
                                  " px, not ", options.module_px));
  }
  if (options.quiet_zone < 0 || options.quiet_zone > kMaxQrQuietZone) {
    return InvalidArgument(StrCat("QR quiet zone must be 0 to ", kMaxQrQuietZone, " modules, not ",
                                  options.quiet_zone));
  }
  return absl::OkStatus();
}

Result<std::string> RenderPng(const QrCode& code, const QrRenderOptions& options) {
  HERALD_RETURN_IF_ERROR(ValidateQrRenderOptions(options));
  const int side_modules = code.size() + 2 * options.quiet_zone;
  const size_t side_px = static_cast<size_t>(side_modules) * options.module_px;
  std::vector<unsigned char> row((side_px + 7) / 8);
  std::string out;
  // Typical symbols compress to well under a byte per module.
  out.reserve(static_cast<size_t>(side_modules) * side_modules / 2 + 256);

  PngJob job{};
  job.code = &code;
  job.quiet_zone = options.quiet_zone;
  job.module_px = options.module_px;
  job.side_px = static_cast<png_uint_32>(side_px);
  job.row = row.data();
  job.row_bytes = row.size();

  PngWriter writer;
  writer.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, OnPngError, OnPngWarning);
  if (writer.png == nullptr) return absl::InternalError("png_create_write_struct failed");
  writer.info = png_create_info_struct(writer.png);
  if (writer.info == nullptr) return absl::InternalError("png_create_info_struct failed");
  png_set_write_fn(writer.png, &out, WriteToString, FlushNothing);

  if (!WritePng(writer.png, writer.info, &job)) {
    if (job.out_of_memory) return absl::ResourceExhaustedError("out of memory writing a QR PNG");
    return absl::InternalError(ToAbsl(StrCat("libpng failed: ", job.error)));
  }
  return out;
}

Result<std::string> RenderSvg(const QrCode& code, const QrRenderOptions& options) {
  HERALD_RETURN_IF_ERROR(ValidateQrRenderOptions(options));
  const int size = code.size();
  const int quiet = options.quiet_zone;
  const int side = size + 2 * quiet;
  const int side_px = side * options.module_px;
  std::string out;
  out.reserve(static_cast<size_t>(size) * size + 400);  // about 4 runs per row of 10 modules
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{0}\" "
                 "viewBox=\"0 0 {1} {1}\" shape-rendering=\"crispEdges\">"
                 "<rect width=\"{1}\" height=\"{1}\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                 side_px, side);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size;) {
      if (!code.dark(x, y)) {
        ++x;
        continue;
      }
      const int start = x;
      while (x < size && code.dark(x, y)) ++x;
      fmt::format_to(it, "M{},{}h{}v1h-{}z", start + quiet, y + quiet, x - start, x - start);
    }
  }
  out += "\"/></svg>\n";
  return out;
}

}  // namespace herald::docs
