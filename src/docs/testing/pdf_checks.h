#pragma once
// PdfChecks: the independent tools that check Herald's documents in tests, each on a file in
// the test's own TempDir: pdftotext (the text a reader extracts), qpdf --check (the file is
// sound), qpdf --qdf (every stream uncompressed, to search the raw bytes) and pdftoppm +
// zbarimg (the QR code on the first page). A tool that fails, or is missing, fails the test
// (never a skip). Use it as a member or as a base of a fixture. Test-only.

#include <fstream>
#include <string>
#include <string_view>

#include "core/testing/run_tool.h"
#include "core/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::docs::testing {

using ::herald::testing::RunTool;
using ::herald::testing::ToolRun;

inline void WriteBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// zbarimg (Debian zbar-tools 0.23.92) on a PNG; stdout is exactly the symbol's bytes:
//   --raw        the data without the "QR-Code:" prefix;
//   -Sbinary     the bytes as they are. Without it zbar guesses a charset for 8-bit segments
//                and converts to UTF-8 (0xFF comes back as C3 BF). zbarimg also stops printing
//                its newline after each symbol, but only when the setting is spelled exactly
//                "binary": with -Sqrcode.binary the bytes are raw and a '\n' follows;
//   -Sdisable -Sqrcode.enable   only the QR decoder, so no 1-D decoder adds a stray symbol;
//   -q           no "scanned 1 barcode symbols" summary on stderr;
//   --nodbus     no attempt to reach D-Bus (it complains on stderr in containers).
// The settings apply to the images after them, so they come first.
// Exit codes: 0 found, 4 nothing found, 127 zbarimg missing.
inline ToolRun Zbar(const std::string& png_path) {
  return RunTool(
      {"zbarimg", "--nodbus", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary", png_path});
}

// Occurrences of `needle` in `haystack` (extracted text), not overlapping.
inline size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

class PdfChecks {
 public:
  // Writes `pdf` into the test's folder; returns its path.
  std::string Save(std::string_view pdf, std::string_view name = "doc.pdf") {
    const std::string path = dir_.File(name);
    WriteBytes(path, pdf);
    return path;
  }

  // pdftotext -layout.
  std::string Text(std::string_view pdf) {
    ToolRun run = RunTool({"pdftotext", "-layout", Save(pdf), "-"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run.out;
  }

  // The PDF with every stream uncompressed and outside object streams.
  std::string Qdf(std::string_view pdf) {
    ToolRun run = RunTool({"qpdf", "--qdf", "--object-streams=disable", Save(pdf), "-"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run.out;
  }

  // Qdf without the bytes that say nothing about the document's content, in which any short
  // string may occur by chance: the embedded font programs (a stream whose dictionary has
  // /Length1) and the trailer's file identifier (/ID).
  std::string QdfContent(std::string_view pdf) {
    std::string qdf = Qdf(pdf);
    for (size_t at = qdf.find("\nstream\n"); at != std::string::npos;
         at = qdf.find("\nstream\n", at + 1)) {
      const size_t object = qdf.rfind(" obj\n", at);
      const size_t end = qdf.find("\nendstream", at);
      if (object == std::string::npos || end == std::string::npos) break;
      if (qdf.find("/Length1", object) < at) qdf.erase(at + 8, end - (at + 8));
    }
    if (const size_t id = qdf.find("/ID ["); id != std::string::npos) {
      qdf.erase(id, qdf.find(']', id) + 1 - id);
    }
    return qdf;
  }

  void ExpectQpdfClean(std::string_view pdf) {
    ToolRun run = RunTool({"qpdf", "--check", Save(pdf, "check.pdf")});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_THAT(run.out, ::testing::HasSubstr("No syntax or stream encoding errors"));
  }

  // What zbarimg reads on the first page rendered at 150 dpi.
  std::string DecodeQr(std::string_view pdf) {
    const std::string path = Save(pdf, "qr.pdf");
    ToolRun raster =
        RunTool({"pdftoppm", "-r", "150", "-png", "-singlefile", path, dir_.File("qr")});
    EXPECT_EQ(raster.exit_code, 0) << raster.err;
    ToolRun zbar = Zbar(dir_.File("qr.png"));
    EXPECT_EQ(zbar.exit_code, 0) << zbar.err;
    return zbar.out;
  }

 private:
  herald::testing::TempDir dir_;
};

}  // namespace herald::docs::testing
