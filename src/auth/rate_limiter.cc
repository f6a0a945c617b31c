#include "auth/rate_limiter.h"

#include <algorithm>
#include <vector>

#include "core/strings.h"

namespace herald::auth {

RateLimiter::RateLimiter(RateLimiterOptions options) : options_(std::move(options)) {}

RateLimiter::Policy RateLimiter::PolicyFor(std::string_view route_class) const {
  auto it = options_.route_classes.find(ToAbsl(route_class));
  const RateLimit& r = it == options_.route_classes.end() ? options_.default_limit : it->second;
  Policy p;
  if (r.limit <= 0 || r.interval <= absl::ZeroDuration()) {
    p.unlimited = true;
    return p;
  }
  p.rate_per_second = static_cast<double>(r.limit) / absl::ToDoubleSeconds(r.interval);
  p.capacity = static_cast<double>(r.burst > 0 ? r.burst : r.limit);
  return p;
}

double RateLimiter::Refilled(const Bucket& b, const Policy& p, absl::Time now) {
  if (now <= b.last) return b.tokens;
  return std::min(p.capacity, b.tokens + absl::ToDoubleSeconds(now - b.last) * p.rate_per_second);
}

RateDecision RateLimiter::Allow(std::string_view client_key, std::string_view route_class,
                                absl::Time now) {
  const Policy policy = PolicyFor(route_class);
  if (policy.unlimited) return {};
  std::string key = StrCat(route_class, std::string_view("\0", 1), client_key);
  absl::MutexLock l(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    MakeRoom(now);
    it = buckets_.emplace(std::move(key), std::pair{Bucket{policy.capacity, now}, policy}).first;
  }
  Bucket& b = it->second.first;
  it->second.second = policy;
  b.tokens = Refilled(b, policy, now);
  b.last = std::max(b.last, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  absl::Duration wait = absl::Seconds((1.0 - b.tokens) / policy.rate_per_second);
  return {false, std::max(wait, absl::Milliseconds(1))};
}

size_t RateLimiter::bucket_count() const {
  absl::MutexLock l(&mu_);
  return buckets_.size();
}

void RateLimiter::MakeRoom(absl::Time now) {
  const size_t max = std::max<size_t>(options_.max_buckets, 1);
  if (buckets_.size() < max) return;
  absl::erase_if(buckets_, [&](const auto& kv) {
    const auto& [bucket, policy] = kv.second;
    return Refilled(bucket, policy, now) >= policy.capacity;
  });
  if (buckets_.size() < max) return;
  std::vector<absl::Time> last;
  last.reserve(buckets_.size());
  for (const auto& [key, v] : buckets_) last.push_back(v.first.last);
  auto nth = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 10);
  std::nth_element(last.begin(), nth, last.end());
  const absl::Time cutoff = *nth;
  absl::erase_if(buckets_, [&](const auto& kv) { return kv.second.first.last <= cutoff; });
}

}  // namespace herald::auth
