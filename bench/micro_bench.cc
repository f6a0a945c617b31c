// Micro-benchmarks of the engine's hot small pieces (Google Benchmark):
//   build/release/micro_bench
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "bench/scratch_dir.h"
#include "benchmark/benchmark.h"
#include "core/clock.h"
#include "core/id.h"
#include "engine/cron.h"
#include "engine/token_bucket.h"
#include "store/sqlite/sqlite_store.h"

namespace herald {
namespace {

void BM_CronNext(benchmark::State& state, const char* expr, const char* zone) {
  auto cron = engine::CronExpr::Parse(expr);
  auto tz = engine::LoadZone(zone);
  absl::Time t = absl::FromUnixSeconds(1'767'225'600);
  for (auto _ : state) {
    t = *cron->Next(t, *tz);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK_CAPTURE(BM_CronNext, every_minute_utc, "* * * * *", "UTC");
BENCHMARK_CAPTURE(BM_CronNext, weekdays_8am_paris, "0 8 * * MON-FRI", "Europe/Paris");
BENCHMARK_CAPTURE(BM_CronNext, last_friday_new_york, "30 2 * * 5L", "America/New_York");

void BM_CronParse(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(engine::CronExpr::Parse("*/15 8-18 * JAN-JUN MON-FRI"));
}
BENCHMARK(BM_CronParse);

void BM_IdNext(benchmark::State& state) {
  core::IdGenerator ids(core::Clock::Real());
  for (auto _ : state) benchmark::DoNotOptimize(ids.Next());
}
BENCHMARK(BM_IdNext);

void BM_IdToString(benchmark::State& state) {
  core::IdGenerator ids(core::Clock::Real());
  core::Id id = ids.Next();
  for (auto _ : state) benchmark::DoNotOptimize(id.ToString());
}
BENCHMARK(BM_IdToString);

void BM_TokenBucket(benchmark::State& state) {
  absl::Time now = absl::FromUnixSeconds(0);
  engine::TokenBucket bucket(1000, absl::Seconds(1), now);
  for (auto _ : state) {
    now += absl::Microseconds(500);
    if (bucket.Ready(now)) bucket.Take();
  }
}
BENCHMARK(BM_TokenBucket);

// A bearer token check as the HTTP layer makes it on every request: signature, expiry and
// the (cached) user behind the token.
void BM_AuthenticateBearer(benchmark::State& state) {
  const herald::bench::ScratchDir scratch("micro");
  const std::filesystem::path& dir = scratch.path();
  store::SqliteOptions so;
  so.path = dir / "auth.db";
  auto store = store::SqliteStore::Open(so);
  if (!store.ok() || !auth::Authenticator::Migrate(**store).ok())
    return state.SkipWithError("store");
  auth::AuthOptions o;
  o.jwt_secret = "a-benchmark-jwt-secret-of-32-bytes-or-more";
  o.password = auth::PasswordOptions::ForTesting();
  auto a = auth::Authenticator::Create(**store, core::Clock::Real(), o);
  if (!a.ok()) return state.SkipWithError("authenticator");
  const std::string password = "a benchmark passphrase";
  if (!(*a)->users()
           .CreateUser({"bench@example.com", "Bench", "operations_manager", password})
           .ok())
    return state.SkipWithError("user");
  auto login = (*a)->Login("bench@example.com", password, false, "");
  if (!login.ok()) return state.SkipWithError("login");
  for (auto _ : state) benchmark::DoNotOptimize((*a)->AuthenticateBearer(login->token));
}
BENCHMARK(BM_AuthenticateBearer);

// SHA-256 of a door-scan code (116 characters), as every scan hashes it.
void BM_Sha256Hex(benchmark::State& state) {
  const std::string code(116, 'A');
  for (auto _ : state) benchmark::DoNotOptimize(auth::Sha256Hex(code));
}
BENCHMARK(BM_Sha256Hex);

// Two costs of the machine itself that bound the HTTP figures (docs/PERFORMANCE.md, "Machine"):
// a system call that does nothing, and a round trip between two threads on different CPUs
// that wake each other through pipes (two sleeps in the kernel, two cross-CPU wake-ups), as
// between wrk, the connection threads and the store's writer.
void BM_MachineSystemCall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
}
BENCHMARK(BM_MachineSystemCall);

void PinTo(pthread_t thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(thread, sizeof set, &set);
}

void BM_MachineWakeupRoundTrip(benchmark::State& state) {
  int there[2], back[2];
  if (pipe(there) != 0 || pipe(back) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  cpu_set_t saved;
  pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
  const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  std::thread peer([&] {
    char c = 1;
    while (read(there[0], &c, 1) == 1 && c != 0 && write(back[1], &c, 1) == 1) {
    }
  });
  if (two_cpus) {
    PinTo(pthread_self(), 0);
    PinTo(peer.native_handle(), 1);
  }
  char c = 1;
  for (auto _ : state) {
    if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) {
      state.SkipWithError("pipe I/O failed");
      break;
    }
  }
  c = 0;
  (void)!write(there[1], &c, 1);  // stops the peer
  peer.join();
  pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  for (int fd : {there[0], there[1], back[0], back[1]}) close(fd);
}
BENCHMARK(BM_MachineWakeupRoundTrip)->UseRealTime();

}  // namespace
}  // namespace herald
