#include "bench/docs_bench.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/scratch_dir.h"
#include "boost/json.hpp"
#include "core/clock.h"
#include "core/strings.h"
#include "docs/documents.h"
#include "docs/qr.h"
#include "docs/xlsx_reader.h"
#include "docs/xlsx_writer.h"
#include "engine/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::bench {
namespace {

namespace json = boost::json;

// A ticket as seed 002 describes it; the QR payload is a signed-ticket-sized string.
json::object TicketData(int64_t i) {
  const std::string code = absl::StrFormat("TKT-2026-%06d", i);
  std::string qr = StrCat("HT1.", code, ".");
  for (int k = 0; k < 110; ++k) qr += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(i * 7 + k * 13) % 32];
  return json::object{
      {"event",
       {{"title", "Festival d'été « Les Nuits » — Édition 2026"},
        {"date", "2026-07-18T20:30:00+02:00"},
        {"location", "Théâtre du Châtelet, 1 place du Châtelet, 75001 Paris"}}},
      {"guest", {{"firstName", "Élodie"}, {"lastName", StrCat("Martin-Lefèvre ", i)}}},
      {"ticket",
       {{"code", code},
        {"type", "VIP"},
        {"seat", "Rang C — Siège 12"},
        {"price", 89},
        {"qrCodeData", qr}}}};
}

template <typename F>
double MicrosPerCall(int n, F&& f) {
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) f(i);
  return absl::ToDoubleMicroseconds(absl::Now() - start) / n;
}

}  // namespace

std::string DocsBenchResult::ToJson() const {
  return StrCat(R"({"bench":"documents","tickets":)", tickets, R"(,"seconds":)",
                fmt::format("{:.3f}", seconds), R"(,"tickets_per_s":)",
                static_cast<int64_t>(tickets_per_s), R"(,"avg_pdf_bytes":)", avg_pdf_bytes,
                R"(,"render_ms":)", fmt::format("{:.3f}", render_ms), R"(,"qr_png_us":)",
                fmt::format("{:.1f}", qr_png_us), R"(,"xlsx_20k_write_ms":)",
                fmt::format("{:.1f}", xlsx_write_ms), R"(,"xlsx_20k_read_ms":)",
                fmt::format("{:.1f}", xlsx_read_ms), "}");
}

Result<DocsBenchResult> RunDocsBench(const DocsBenchOptions& o) {
  const ScratchDir scratch("docs", o.dir);
  const std::filesystem::path& dir = scratch.path();

  store::SqliteOptions so;
  so.path = (dir / "bench.db").string();
  HERALD_ASSIGN_OR_RETURN(auto store, store::SqliteStore::Open(so));
  HERALD_RETURN_IF_ERROR(engine::Engine::Migrate(*store));
  HERALD_RETURN_IF_ERROR(docs::Documents::Migrate(*store));
  core::Config::Engine ec;
  ec.workers = o.workers;
  ec.queues[std::string(docs::kDocumentsQueue)].concurrency = o.concurrency;
  HERALD_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(*store, core::Clock::Real(), ec));
  docs::DocumentsOptions dopt;
  dopt.root = dir / "documents";
  HERALD_ASSIGN_OR_RETURN(auto documents,
                          docs::Documents::Create(*store, *engine, core::Clock::Real(), dopt));
  DocsBenchResult r;

  // The parts alone, one thread.
  docs::DocumentRequest one;
  one.type = docs::DocumentType::kTicket;
  one.audience = docs::Audience::kCustomer;
  one.data = TicketData(1);
  int64_t bytes = 0;
  for (int i = 0; i < 20; ++i) HERALD_RETURN_IF_ERROR(documents->Render(one).status());  // warm
  r.render_ms = MicrosPerCall(300,
                              [&](int i) {
                                one.data = TicketData(i);
                                auto pdf = documents->Render(one);
                                if (pdf.ok()) bytes += static_cast<int64_t>(pdf->size());
                              }) /
                1000;
  r.avg_pdf_bytes = bytes / 300;
  const std::string payload = TicketData(7).at("ticket").at("qrCodeData").as_string().c_str();
  r.qr_png_us = MicrosPerCall(500, [&](int) {
    auto code = docs::QrCode::Encode(payload);
    if (code.ok()) (void)docs::RenderPng(*code, {});
  });

  std::vector<docs::XlsxColumn> columns;
  for (int c = 0; c < 10; ++c) {
    docs::XlsxColumn col;
    col.header = StrCat("Colonne ", c);
    col.kind = c % 3 == 0 ? docs::XlsxKind::kString
                          : (c % 3 == 1 ? docs::XlsxKind::kNumber : docs::XlsxKind::kInteger);
    columns.push_back(col);
  }
  docs::XlsxReportSheet sheet;
  sheet.name = "Rapport";
  sheet.columns = columns;
  for (int row = 0; row < 20000; ++row) {
    std::vector<docs::XlsxValue> values;
    for (int c = 0; c < 10; ++c) {
      if (c % 3 == 0) {
        values.emplace_back(StrCat("Article n°", row, "-", c));
      } else if (c % 3 == 1) {
        values.emplace_back(row * 1.25 + c);
      } else {
        values.emplace_back(static_cast<int64_t>(row * c));
      }
    }
    sheet.rows.push_back(std::move(values));
  }
  const absl::Time w0 = absl::Now();
  HERALD_ASSIGN_OR_RETURN(std::string xlsx, docs::WriteXlsx({&sheet, 1}, {}, core::Clock::Real()));
  r.xlsx_write_ms = absl::ToDoubleMicroseconds(absl::Now() - w0) / 1000;
  const absl::Time r0 = absl::Now();
  HERALD_ASSIGN_OR_RETURN(docs::XlsxWorkbook book, docs::ReadXlsx(xlsx));
  r.xlsx_read_ms = absl::ToDoubleMicroseconds(absl::Now() - r0) / 1000;
  (void)book;

  // Tickets through the engine in batches.
  HERALD_RETURN_IF_ERROR(engine->Start());
  std::vector<docs::DocumentRequest> requests;
  for (int64_t i = 0; i < o.tickets; ++i) {
    docs::DocumentRequest t = one;
    t.data = TicketData(i);
    requests.push_back(std::move(t));
  }
  const absl::Time start = absl::Now();
  for (size_t at = 0; at < requests.size(); at += docs::kMaxBatchDocuments) {
    std::vector<docs::DocumentRequest> part(
        requests.begin() + static_cast<std::ptrdiff_t>(at),
        requests.begin() +
            static_cast<std::ptrdiff_t>(std::min(requests.size(), at + docs::kMaxBatchDocuments)));
    HERALD_RETURN_IF_ERROR(documents->EnqueueBatch(part, "bench").status());
  }
  const absl::Time deadline = absl::Now() + absl::Minutes(10);
  int64_t stored = 0;
  while (absl::Now() < deadline) {
    HERALD_RETURN_IF_ERROR(store->Read([&](store::Txn& txn) {
      return txn.Query("SELECT COUNT(*) FROM documents", {}, [&](const store::Row& row) {
        stored = row.Int(0);
        return false;
      });
    }));
    if (stored >= o.tickets) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  engine->Stop();
  if (stored < o.tickets) {
    return absl::DeadlineExceededError(StrCat("only ", stored, " of ", o.tickets, " tickets made"));
  }
  r.tickets = o.tickets;
  r.tickets_per_s = static_cast<double>(o.tickets) / r.seconds;
  return r;
}

}  // namespace herald::bench
