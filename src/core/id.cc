#include "core/id.h"

#include <random>

#include "core/strings.h"

namespace herald::core {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// splitmix64: fast, statistically good, and seeded from the OS; ids need uniqueness, not secrecy.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string Id::ToString() const {
  std::string out(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // past a dash
    out[o++] = kHex[bytes[i] >> 4];
    out[o++] = kHex[bytes[i] & 0xf];
  }
  return out;
}

Result<Id> Id::Parse(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return absl::InvalidArgumentError(
        "id must be a UUID like 01890a5d-ac96-774b-bcce-b302099a8057");
  }
  Id id;
  size_t j = 0;
  for (size_t i = 0; i < text.size(); i += 2) {
    if (text[i] == '-') {
      --i;
      continue;
    }
    int hi = HexDigitValue(text[i]), lo = HexDigitValue(text[i + 1]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("id has a character that is not hex");
    id.bytes[j++] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

bool Id::IsZero() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

int64_t Id::UnixMillis() const {
  int64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | bytes[i];
  return ms;
}

IdGenerator::IdGenerator(const Clock& clock) : clock_(clock) {
  std::random_device rd;
  rng_state_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

Id IdGenerator::Next() {
  absl::MutexLock lock(&mu_);
  int64_t ms = absl::ToUnixMillis(clock_.Now());
  if (ms > last_ms_) {
    last_ms_ = ms;
    counter_ = 0;
  } else if (++counter_ > 0xfff) {
    // Counter exhausted (or the clock went back): borrow the next millisecond.
    ++last_ms_;
    counter_ = 0;
  }
  Id id;
  for (int i = 0; i < 6; ++i) id.bytes[i] = static_cast<uint8_t>(last_ms_ >> (40 - 8 * i));
  id.bytes[6] = static_cast<uint8_t>(0x70 | (counter_ >> 8));
  id.bytes[7] = static_cast<uint8_t>(counter_);
  uint64_t r = SplitMix(rng_state_);
  id.bytes[8] = static_cast<uint8_t>(0x80 | ((r >> 56) & 0x3f));
  for (int i = 9; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(r >> (8 * (15 - i)));
  return id;
}

}  // namespace herald::core
