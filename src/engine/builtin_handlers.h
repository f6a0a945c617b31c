#pragma once
// Diagnostic job types, always registered, for demos, tests and benchmarks:
//   noop  {}               succeeds at once;
//   sleep {"ms": N}        takes N milliseconds (0..3600000), returning early if cancelled;
//   fail  {"times": N}     fails its first N attempts (retryably), then succeeds.

#include "engine/engine.h"

namespace herald::engine {

void RegisterBuiltinHandlers(Engine& engine);

}  // namespace herald::engine
