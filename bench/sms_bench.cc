#include "bench/sms_bench.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/scratch_dir.h"
#include "core/clock.h"
#include "core/strings.h"
#include "engine/engine.h"
#include "net/testing/fake_http_server.h"
#include "notify/notifier.h"
#include "notify/sms_providers.h"
#include "notify/template_store.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::bench {

std::string SmsBenchResult::ToJson() const {
  return StrCat(R"({"bench":"sms","notifications":)", notifications, R"(,"seconds":)",
                fmt::format("{:.3f}", seconds), R"(,"per_s":)", static_cast<int64_t>(per_s),
                R"(,"p50_ms":)", fmt::format("{:.3f}", p50_ms), R"(,"p99_ms":)",
                fmt::format("{:.3f}", p99_ms), "}");
}

Result<SmsBenchResult> RunSmsBench(const SmsBenchOptions& o) {
  const ScratchDir scratch("sms", o.dir);
  const std::filesystem::path& dir = scratch.path();

  // Twilio's documented 201 answer (twilio.com/docs/messaging/api/message-resource).
  net::testing::FakeHttpServer twilio;
  net::testing::FakeResponse created;
  created.status = 201;
  created.body = R"({"sid":"SM00000000000000000000000000000000","status":"queued"})";
  twilio.SetDefault(created);

  store::SqliteOptions so;
  so.path = (dir / "bench.db").string();
  HERALD_ASSIGN_OR_RETURN(auto store, store::SqliteStore::Open(so));
  HERALD_RETURN_IF_ERROR(engine::Engine::Migrate(*store));
  HERALD_RETURN_IF_ERROR(notify::Notifier::Migrate(*store));
  core::Config::Engine ec;
  ec.workers = o.workers;
  ec.queues["notify.sms"].concurrency = o.concurrency;
  HERALD_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(*store, core::Clock::Real(), ec));
  HERALD_ASSIGN_OR_RETURN(auto templates,
                          notify::TemplateStore::Create(*store, core::Clock::Real(), "fr"));
  notify::TwilioSmsOptions to;
  to.base_url = twilio.url();
  to.account_sid = "AC00000000000000000000000000000000";
  to.auth_token = "bench-token";
  to.from = "+15005550006";
  HERALD_ASSIGN_OR_RETURN(auto provider, notify::TwilioSmsProvider::Create(to));
  std::map<notify::Channel, std::vector<std::unique_ptr<notify::Provider>>> providers;
  providers[notify::Channel::kSms].push_back(std::move(provider));
  HERALD_ASSIGN_OR_RETURN(auto notifier,
                          notify::Notifier::Create(*store, *engine, *templates, core::Clock::Real(),
                                                   core::Config::Notify{}, std::move(providers)));
  HERALD_RETURN_IF_ERROR(engine->Start());

  // Recipients are distinct numbers, so each provider request maps back to its Submit.
  const int64_t base = 33600000000;
  std::vector<absl::Time> submitted(static_cast<size_t>(o.notifications));
  std::atomic<int64_t> next{0}, failed{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> submitters;
  for (int t = 0; t < o.submitters; ++t) {
    submitters.emplace_back([&] {
      notify::SendRequest r;
      r.channel = notify::Channel::kSms;
      r.template_id = "booking-confirmation-sms";
      r.data = {{"bookingReference", "BK-1042"},
                {"serviceDate", "12/03"},
                {"serviceTime", "14h30"},
                {"customerName", "Zoé"}};
      for (int64_t i = next++; i < o.notifications; i = next++) {
        r.to = StrCat("+", base + i);
        if (o.rate > 0) {  // paced: latency without a backlog
          const absl::Time due = start + absl::Seconds(1) * (static_cast<double>(i) / o.rate);
          const absl::Duration wait = due - absl::Now();
          if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
        }
        submitted[static_cast<size_t>(i)] = absl::Now();
        if (!notifier->Submit(r).ok()) failed++;
      }
    });
  }
  for (auto& t : submitters) t.join();
  if (failed > 0) return absl::InternalError(StrCat(failed.load(), " submissions failed"));
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (static_cast<int64_t>(twilio.request_count()) < o.notifications && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  engine->Stop();
  const std::vector<net::testing::FakeRequest> requests = twilio.requests();
  if (static_cast<int64_t>(requests.size()) < o.notifications) {
    return absl::DeadlineExceededError(
        StrCat("only ", requests.size(), " of ", o.notifications, " reached the provider"));
  }
  std::vector<double> latencies;
  absl::Time last = start;
  for (const auto& req : requests) {
    const size_t at = req.body.find("To=%2B");
    if (at == std::string::npos) continue;
    const int64_t number = std::stoll(req.body.substr(at + 6, 11));
    const int64_t i = number - base;
    if (i < 0 || i >= o.notifications) continue;
    latencies.push_back(
        absl::ToDoubleMilliseconds(req.received_at - submitted[static_cast<size_t>(i)]));
    last = std::max(last, req.received_at);
  }
  std::sort(latencies.begin(), latencies.end());
  SmsBenchResult r;
  r.notifications = o.notifications;
  r.seconds = absl::ToDoubleSeconds(last - start);
  r.per_s = static_cast<double>(o.notifications) / r.seconds;
  if (!latencies.empty()) {
    r.p50_ms = latencies[latencies.size() / 2];
    r.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return r;
}

}  // namespace herald::bench
