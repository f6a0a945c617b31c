#include "bench/tickets_bench.h"

#include <filesystem>
#include <map>
#include <vector>

#include "absl/time/clock.h"
#include "apps/tickets/generation.h"
#include "apps/tickets/ticketing.h"
#include "bench/scratch_dir.h"
#include "core/clock.h"
#include "core/strings.h"
#include "docs/documents.h"
#include "engine/engine.h"
#include "notify/log_provider.h"
#include "notify/notifier.h"
#include "notify/template_store.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/dispatcher.h"

namespace herald::bench {
namespace {

namespace tk = apps::tickets;

Result<int64_t> Count(store::Store& store, std::string_view sql) {
  int64_t n = 0;
  HERALD_RETURN_IF_ERROR(store.Read([&](store::Txn& txn) {
    return txn.Query(sql, {}, [&](const store::Row& row) {
      n = row.Int(0);
      return false;
    });
  }));
  return n;
}

// Polls `sql` (a count) until it reaches `want` or ten minutes pass; returns the seconds since
// `start`.
Result<double> WaitFor(store::Store& store, std::string_view sql, int64_t want, absl::Time start) {
  const absl::Time deadline = absl::Now() + absl::Minutes(10);
  int64_t have = 0;
  while (absl::Now() < deadline) {
    HERALD_ASSIGN_OR_RETURN(have, Count(store, sql));
    if (have >= want) return absl::ToDoubleSeconds(absl::Now() - start);
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::DeadlineExceededError(StrCat(sql, ": ", have, " of ", want));
}

}  // namespace

std::string TicketsBenchResult::ToJson() const {
  return StrCat(R"({"bench":"tickets","tickets":)", tickets, R"(,"issue_s":)",
                fmt::format("{:.3f}", issue_seconds), R"(,"generate_s":)",
                fmt::format("{:.3f}", generate_seconds), R"(,"tickets_per_s":)",
                static_cast<int64_t>(tickets_per_s), R"(,"notify_s":)",
                fmt::format("{:.3f}", notify_seconds), R"(,"emails":)", emails,
                R"(,"avg_pdf_bytes":)", tickets == 0 ? 0 : pdf_bytes / tickets, "}");
}

Result<TicketsBenchResult> RunTicketsBench(const TicketsBenchOptions& o) {
  const ScratchDir scratch("tickets", o.dir);
  const std::filesystem::path& dir = scratch.path();
  const core::Clock& clock = core::Clock::Real();

  store::SqliteOptions so;
  so.path = (dir / "bench.db").string();
  HERALD_ASSIGN_OR_RETURN(auto store, store::SqliteStore::Open(so));
  HERALD_RETURN_IF_ERROR(engine::Engine::Migrate(*store));
  HERALD_RETURN_IF_ERROR(notify::Notifier::Migrate(*store));
  HERALD_RETURN_IF_ERROR(webhooks::Dispatcher::Migrate(*store));
  HERALD_RETURN_IF_ERROR(docs::Documents::Migrate(*store));
  HERALD_RETURN_IF_ERROR(tk::Ticketing::Migrate(*store));
  HERALD_RETURN_IF_ERROR(tk::TicketGenerator::Migrate(*store));
  core::Config::Engine ec;
  ec.workers = o.workers;
  ec.queues[std::string(docs::kDocumentsQueue)].concurrency = o.concurrency;
  HERALD_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(*store, clock, ec));
  HERALD_ASSIGN_OR_RETURN(auto templates, notify::TemplateStore::Create(*store, clock, "fr"));
  std::map<notify::Channel, std::vector<std::unique_ptr<notify::Provider>>> providers;
  providers[notify::Channel::kEmail].push_back(
      std::make_unique<notify::LogProvider>(notify::Channel::kEmail, *store, clock));
  HERALD_ASSIGN_OR_RETURN(auto notifier,
                          notify::Notifier::Create(*store, *engine, *templates, clock,
                                                   core::Config::Notify{}, std::move(providers)));
  HERALD_ASSIGN_OR_RETURN(auto dispatcher, webhooks::Dispatcher::Create(*store, *engine, clock));
  docs::DocumentsOptions dopt;
  dopt.root = dir / "documents";
  HERALD_ASSIGN_OR_RETURN(auto documents, docs::Documents::Create(*store, *engine, clock, dopt));
  tk::TicketingOptions topt;
  topt.master_key.fill(0x42);
  HERALD_ASSIGN_OR_RETURN(auto ticketing, tk::Ticketing::Create(*store, clock, topt));
  HERALD_ASSIGN_OR_RETURN(auto generator,
                          tk::TicketGenerator::Create(*store, *engine, *ticketing, *documents,
                                                      *dispatcher, *notifier, clock));

  // The event, a guest per ticket, and the signed tickets.
  tk::Event e;
  e.title = "Festival d'été « Les Nuits » — Édition 2026";
  e.location = "Théâtre du Châtelet, 1 place du Châtelet, 75001 Paris";
  e.event_date = clock.Now() + absl::Hours(24 * 30);
  HERALD_ASSIGN_OR_RETURN(e, ticketing->CreateEvent(e));
  tk::TicketType vip;
  vip.event_id = e.id;
  vip.name = "VIP";
  vip.price = 8900;
  HERALD_ASSIGN_OR_RETURN(vip, ticketing->CreateTicketType(vip));
  TicketsBenchResult r;
  const absl::Time issue_start = absl::Now();
  std::vector<int64_t> ids;
  constexpr int64_t kBatch = 1000;
  for (int64_t at = 0; at < o.tickets; at += kBatch) {
    std::vector<tk::Guest> guests;
    for (int64_t i = at; i < std::min(o.tickets, at + kBatch); ++i) {
      tk::Guest g;
      g.event_id = e.id;
      g.first_name = "Élodie";
      g.last_name = StrCat("Martin-Lefèvre ", i);
      g.email = StrCat("guest", i, "@example.com");
      guests.push_back(std::move(g));
    }
    HERALD_ASSIGN_OR_RETURN(guests, ticketing->CreateGuests(std::move(guests)));
    std::vector<tk::IssueRequest> reqs;
    for (const tk::Guest& g : guests) {
      tk::IssueRequest t;
      t.guest_id = g.id;
      t.ticket_type_id = vip.id;
      t.seat = StrCat("Rang C — Siège ", g.id % 40);
      reqs.push_back(std::move(t));
    }
    HERALD_ASSIGN_OR_RETURN(std::vector<tk::Ticket> issued, ticketing->IssueTickets(e.id, reqs));
    for (const tk::Ticket& t : issued) ids.push_back(t.id);
  }
  r.issue_seconds = absl::ToDoubleSeconds(absl::Now() - issue_start);

  HERALD_RETURN_IF_ERROR(engine->Start());
  tk::GenerationRequest request;
  request.ticket_ids = std::move(ids);
  request.options.notify = o.notify;
  request.created_by = "bench";
  const absl::Time start = absl::Now();
  HERALD_ASSIGN_OR_RETURN(tk::Generation g, generator->Start(request));
  Result<double> generated =
      WaitFor(*store,
              StrCat("SELECT COUNT(*) FROM ticket_generations WHERE id = ", g.id,
                     " AND status IN ('completed', 'failed')"),
              1, start);
  Result<double> notified = 0.0;
  if (generated.ok() && o.notify) {
    notified =
        WaitFor(*store, "SELECT COUNT(*) FROM notifications WHERE status IN ('sent', 'delivered')",
                o.tickets, start);
  }
  engine->Stop();
  HERALD_RETURN_IF_ERROR(generated.status());
  HERALD_RETURN_IF_ERROR(notified.status());
  HERALD_ASSIGN_OR_RETURN(tk::Generation done, generator->Get(g.id));
  if (done.successful != o.tickets) {
    return absl::InternalError(StrCat(done.failed, " tickets failed"));
  }
  r.tickets = o.tickets;
  r.generate_seconds = *generated;
  r.tickets_per_s = static_cast<double>(o.tickets) / r.generate_seconds;
  r.notify_seconds = *notified;
  HERALD_ASSIGN_OR_RETURN(r.emails, Count(*store, "SELECT COUNT(*) FROM notifications"));
  HERALD_ASSIGN_OR_RETURN(r.pdf_bytes, Count(*store, "SELECT SUM(size) FROM documents"));
  return r;
}

}  // namespace herald::bench
