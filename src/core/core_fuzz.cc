// Fuzz target for core's parsers: durations, ids, and configuration files (TOML) with
// environment overrides. Checks round trips and that errors are InvalidArgument values.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using herald::core::Id;

  auto d = herald::core::ParseDuration(text);
  if (!d.ok() && d.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  if (d.ok() && *d < absl::ZeroDuration()) std::abort();

  auto id = Id::Parse(text);
  if (id.ok()) {
    auto again = Id::Parse(id->ToString());
    if (!again.ok() || *again != *id) std::abort();
  }

  auto env = herald::core::LoadConfig(
      "", {{"HERALD_ENGINE_LEASE", std::string(text)}, {"HERALD_LOG_FORMAT", std::string(text)}});
  if (!env.ok() && env.status().code() != absl::StatusCode::kInvalidArgument) std::abort();

  static const std::string path = "/tmp/herald_core_fuzz_" + std::to_string(getpid()) + ".toml";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto file = herald::core::LoadConfig(path, {});
  if (!file.ok() && file.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  return 0;
}
