#include "cli/runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "auth/crypto.h"

#include "core/strings.h"
#include "engine/builtin_handlers.h"

namespace herald::cli {

void RegisterHandlers(engine::Engine& engine) { engine::RegisterBuiltinHandlers(engine); }

namespace {

// The configured JWT key, or the one kept beside the store (created, mode 0600, on first use).
Result<std::string> JwtSecret(const core::Config& config) {
  if (!config.auth.jwt_secret.empty()) return config.auth.jwt_secret;
  std::filesystem::path path =
      std::filesystem::path(config.store.path).parent_path() / "jwt.secret";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  HERALD_ASSIGN_OR_RETURN(std::string bytes, auth::RandomBytes(48));
  secret = auth::Base64UrlEncode(bytes);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(StrCat("cannot write ", path.string()));
  }
  std::string line = secret + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!ok) return absl::InternalError(StrCat("cannot write ", path.string()));
  return secret;
}

}  // namespace

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
  HERALD_RETURN_IF_ERROR(auth::Authenticator::Migrate(*rt->store));
  auth::AuthOptions auth_options;
  HERALD_ASSIGN_OR_RETURN(auth_options.jwt_secret, JwtSecret(config));
  auth_options.token_ttl = config.auth.token_ttl;
  auth_options.remember_me_ttl = config.auth.remember_me_ttl;
  HERALD_ASSIGN_OR_RETURN(auto services, core::ParseServiceSecrets(config.auth.service_secrets));
  for (auto& [name, secret] : services) auth_options.service_secrets[name] = secret;
  HERALD_ASSIGN_OR_RETURN(rt->auth, auth::Authenticator::Create(*rt->store, core::Clock::Real(),
                                                                std::move(auth_options)));
  HERALD_ASSIGN_OR_RETURN(rt->engine,
                          engine::Engine::Create(*rt->store, core::Clock::Real(), config.engine));
  RegisterHandlers(*rt->engine);
  HERALD_ASSIGN_OR_RETURN(
      rt->scheduler,
      engine::Scheduler::Create(*rt->store, *rt->engine, core::Clock::Real(), config.scheduler));
  return rt;
}

}  // namespace herald::cli
