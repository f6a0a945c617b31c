#pragma once
// Sortable 128-bit identifiers in the UUIDv7 layout (RFC 9562): 48 bits of Unix milliseconds,
// then a 12-bit counter that keeps ids from one generator strictly increasing within a
// millisecond, then 62 random bits. Text form is the canonical lowercase 8-4-4-4-12.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "core/clock.h"
#include "core/status.h"

namespace herald::core {

struct Id {
  std::array<uint8_t, 16> bytes{};

  std::string ToString() const;
  static Result<Id> Parse(std::string_view text);
  bool IsZero() const;
  // Milliseconds since the Unix epoch encoded in the id.
  int64_t UnixMillis() const;

  friend bool operator==(const Id&, const Id&) = default;
  friend auto operator<=>(const Id&, const Id&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Id& id) {
    return H::combine_contiguous(std::move(h), id.bytes.data(), id.bytes.size());
  }
};

// Generates UUIDv7 ids from a Clock. Thread-safe; ids from one generator are strictly
// increasing even if the clock stands still or steps back.
class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock);
  Id Next();

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  int64_t last_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t counter_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rng_state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::core
