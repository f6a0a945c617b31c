#include "cli/runtime.h"

#include <filesystem>
#include <system_error>

#include "core/strings.h"
#include "engine/builtin_handlers.h"

namespace herald::cli {

void RegisterHandlers(engine::Engine& engine) { engine::RegisterBuiltinHandlers(engine); }

Result<std::unique_ptr<Runtime>> OpenRuntime(const core::Config& config, bool server) {
  auto rt = std::make_unique<Runtime>();
  rt->config = config;
  std::filesystem::path dir = std::filesystem::path(config.store.path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          StrCat("store.path: cannot create folder ", dir.string(), ": ", ec.message()));
    }
  }
  store::SqliteOptions options;
  options.path = config.store.path;
  options.synchronous_full = config.store.synchronous == "full";
  options.busy_timeout = config.store.busy_timeout;
  options.max_batch = config.store.max_batch;
  options.exclusive_owner = server;
  HERALD_ASSIGN_OR_RETURN(rt->store, store::SqliteStore::Open(options));
  HERALD_RETURN_IF_ERROR(engine::Engine::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(engine::Scheduler::Migrate(*rt->store));
  HERALD_ASSIGN_OR_RETURN(rt->engine,
                          engine::Engine::Create(*rt->store, core::Clock::Real(), config.engine));
  RegisterHandlers(*rt->engine);
  HERALD_ASSIGN_OR_RETURN(
      rt->scheduler,
      engine::Scheduler::Create(*rt->store, *rt->engine, core::Clock::Real(), config.scheduler));
  return rt;
}

}  // namespace herald::cli
