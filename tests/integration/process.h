#pragma once
// Helpers for tests that run the real `herald` binary: a child process owned by RAII (killed
// and reaped on destruction) and a one-shot command runner that captures output.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

extern char** environ;

namespace herald::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr, interleaved
};

// Runs `herald args...` with extra environment entries ("KEY=value"), waits for it.
inline CommandResult RunHerald(const std::vector<std::string>& args,
                               const std::vector<std::string>& env = {}) {
  std::string cmd;
  for (const auto& e : env) cmd += e + " ";
  cmd += HERALD_BINARY;
  for (const auto& a : args) {
    std::string quoted = "'";
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += " " + quoted + "'";
  }
  cmd += " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A running child process (by default the `herald` binary), output sent to `log_path`.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::vector<std::string>& env,
        const std::string& log_path)
      : Child(HERALD_BINARY, args, env, log_path) {}

  // Runs `program` (a path, or a name looked up in PATH) with `args`.
  Child(const std::string& program, const std::vector<std::string>& args,
        const std::vector<std::string>& env, const std::string& log_path) {
    std::vector<std::string> argv_s = {program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawnp(&pid_, program.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) Kill(SIGKILL);
  }

  bool started() const { return pid_ > 0; }

  // Sends `sig` and reaps the child; returns its wait status.
  int Kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  // Sends `sig` and reaps the child if it exits within `seconds`; otherwise kills it with
  // SIGKILL and returns -1, so a stop that hangs fails its test instead of stalling the suite.
  int KillWithin(int sig, int seconds) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    for (int waited_ms = 0; waited_ms < seconds * 1000; waited_ms += 10) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      usleep(10'000);
    }
    Kill(SIGKILL);
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace herald::testing
