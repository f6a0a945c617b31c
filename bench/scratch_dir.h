#pragma once
// ScratchDir: the folder a benchmark works in. The one given (kept afterwards, to inspect), or
// else a fresh temporary folder named after the benchmark and the process, removed at the end.

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace herald::bench {

class ScratchDir {
 public:
  ScratchDir(std::string_view name, const std::string& given = "")
      : path_(given.empty() ? std::filesystem::temp_directory_path() /
                                  (std::string("herald-") + std::string(name) + "-bench-" +
                                   std::to_string(::getpid()))
                            : std::filesystem::path(given)),
        remove_(given.empty()) {
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (remove_) std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  const std::filesystem::path path_;
  const bool remove_;
};

}  // namespace herald::bench
