#include "auth/login_throttle.h"

#include <algorithm>
#include <vector>

#include "core/strings.h"

namespace herald::auth {
namespace {

std::string AccountKey(std::string_view account) { return StrCat("a:", account); }
std::string IpKey(std::string_view ip) { return StrCat("i:", ip); }

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options) : options_(options) {}

absl::Duration LoginThrottle::Wait(const std::string& key, int limit, absl::Time now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return absl::ZeroDuration();
  Failures& f = it->second;
  while (!f.empty() && f.front() <= now - options_.window) f.pop_front();
  if (f.empty()) {
    failures_.erase(it);
    return absl::ZeroDuration();
  }
  if (static_cast<int>(f.size()) < limit) return absl::ZeroDuration();
  return f.front() + options_.window - now;
}

absl::Duration LoginThrottle::RetryAfter(std::string_view account, std::string_view ip,
                                         absl::Time now) {
  absl::MutexLock l(&mu_);
  absl::Duration wait = Wait(AccountKey(account), options_.max_failures_per_account, now);
  if (!ip.empty()) wait = std::max(wait, Wait(IpKey(ip), options_.max_failures_per_ip, now));
  return wait;
}

void LoginThrottle::Record(std::string key, int limit, absl::Time now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) {
    MakeRoom(now);
    it = failures_.emplace(std::move(key), Failures()).first;
  }
  Failures& f = it->second;
  f.push_back(now);
  while (static_cast<int>(f.size()) > std::max(limit, 1)) f.pop_front();
}

void LoginThrottle::RecordFailure(std::string_view account, std::string_view ip, absl::Time now) {
  absl::MutexLock l(&mu_);
  Record(AccountKey(account), options_.max_failures_per_account, now);
  if (!ip.empty()) Record(IpKey(ip), options_.max_failures_per_ip, now);
}

void LoginThrottle::RecordSuccess(std::string_view account) {
  absl::MutexLock l(&mu_);
  failures_.erase(AccountKey(account));
}

size_t LoginThrottle::tracked_keys() const {
  absl::MutexLock l(&mu_);
  return failures_.size();
}

void LoginThrottle::MakeRoom(absl::Time now) {
  if (failures_.size() < std::max<size_t>(options_.max_keys, 1)) return;
  absl::erase_if(failures_, [&](const auto& kv) {
    return kv.second.empty() || kv.second.back() <= now - options_.window;
  });
  if (failures_.size() < options_.max_keys) return;
  // Still full of live keys: drop the tenth that failed least recently.
  std::vector<absl::Time> last;
  last.reserve(failures_.size());
  for (const auto& [key, f] : failures_) last.push_back(f.back());
  auto nth = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 10);
  std::nth_element(last.begin(), nth, last.end());
  const absl::Time cutoff = *nth;
  absl::erase_if(failures_, [&](const auto& kv) { return kv.second.back() <= cutoff; });
}

}  // namespace herald::auth
