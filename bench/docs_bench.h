#pragma once
// `herald bench documents`: ticket PDFs with a QR code each, made by the job engine in batches
// (POST /api/documents/generate's path without HTTP: Documents::EnqueueBatch, the engine's
// workers, PDF rendering, durable files, rows), reported as tickets per second from the
// enqueue to the last row committed. Also the parts alone on one thread: a ticket PDF in
// memory, a QR code to PNG, and a 20,000-row workbook written and read back.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace herald::bench {

struct DocsBenchOptions {
  int64_t tickets = 10000;
  int workers = 2;
  int concurrency = 2;  // jobs of the documents queue at once
  std::string dir;      // scratch folder; empty: a temporary one
};

struct DocsBenchResult {
  int64_t tickets = 0;
  double seconds = 0;
  double tickets_per_s = 0;
  int64_t avg_pdf_bytes = 0;
  double render_ms = 0;      // one ticket PDF in memory, one thread
  double qr_png_us = 0;      // one QR code (150 bytes) to PNG, one thread
  double xlsx_write_ms = 0;  // 20,000 rows × 10 columns
  double xlsx_read_ms = 0;
  std::string ToJson() const;
};

Result<DocsBenchResult> RunDocsBench(const DocsBenchOptions& options);

}  // namespace herald::bench
