#include "bench/smtp_bench.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/clock.h"
#include "core/strings.h"
#include "notify/smtp_provider.h"

namespace herald::bench {

std::string SmtpBenchResult::ToJson() const {
  return StrCat(R"({"bench":"smtp","messages":)", messages, R"(,"pool":)", pool, R"(,"seconds":)",
                fmt::format("{:.3f}", seconds), R"(,"per_s":)", static_cast<int64_t>(per_s),
                R"(,"p50_ms":)", fmt::format("{:.3f}", p50_ms), R"(,"p99_ms":)",
                fmt::format("{:.3f}", p99_ms), R"(,"connections":)", connections, R"(,"failed":)",
                failed, "}");
}

Result<SmtpBenchResult> RunSmtpBench(const SmtpBenchOptions& o) {
  notify::SmtpOptions so;
  so.url = o.url;
  so.tls = notify::SmtpOptions::Tls::kOff;  // a loopback benchmark server
  so.pool = o.pool;
  so.rate = 0;
  so.timeout = absl::Seconds(30);
  HERALD_ASSIGN_OR_RETURN(auto smtp, notify::SmtpProvider::Create(so, core::Clock::Real()));

  // The message bench/peers/nodemailer/send.js sends too.
  notify::OutboundMessage m;
  m.mail.from = {"billetterie@example.fr", "Billetterie"};
  m.mail.subject = "Vos billets pour « Fête de la Musique » — 15 €";
  m.mail.text = "Bonjour,\nVos billets sont prêts.\n";
  m.mail.html = "<p>Bonjour,</p><p>Vos billets sont <strong>prêts</strong>.</p>";
  std::string pdf(3000, '\0');
  for (size_t i = 0; i < pdf.size(); ++i) pdf[i] = static_cast<char>((i * 37) & 0xff);
  m.mail.attachments.push_back({"billet.pdf", "application/pdf", pdf, ""});

  std::atomic<int64_t> next{0}, failed{0};
  absl::Mutex mu;
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(o.messages));
  const absl::Time start = absl::Now();
  std::vector<std::thread> senders;
  for (int t = 0; t < o.pool; ++t) {
    senders.emplace_back([&] {
      notify::OutboundMessage mine = m;
      std::vector<double> local;
      for (int64_t i = next++; i < o.messages; i = next++) {
        mine.mail.to = {{StrCat("user", i, "@example.com"), ""}};
        const absl::Time t0 = absl::Now();
        if (!smtp->Send(mine).sent()) failed++;
        local.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
      absl::MutexLock l(&mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (auto& s : senders) s.join();
  SmtpBenchResult r;
  r.messages = o.messages;
  r.pool = o.pool;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.per_s = static_cast<double>(o.messages) / r.seconds;
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    r.p50_ms = latencies[latencies.size() / 2];
    r.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  r.connections = smtp->connections_opened();
  r.failed = failed.load();
  return r;
}

}  // namespace herald::bench
