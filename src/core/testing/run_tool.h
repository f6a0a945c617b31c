#pragma once
// RunTool: runs an external program (zbarimg, pdftotext, qpdf, python3 ...) with arguments,
// feeds `input` on its stdin and captures stdout and stderr separately. Arguments are passed
// as they are (posix_spawnp, no shell). Tests use it to check Herald's output with
// independent tools; a tool that is missing reports exit code 127. Test-only.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace herald::testing {

struct ToolRun {
  int exit_code = -1;  // -1: did not exit normally; 127: could not be started
  std::string out, err;
};

inline ToolRun RunTool(const std::vector<std::string>& argv_in, std::string_view input = {}) {
  // A tool that exits without reading all its input must not kill the test with SIGPIPE.
  static const bool sigpipe_ignored = (signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  ToolRun run;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return run;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return run;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return run;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<std::string> args = argv_in;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawned != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    run.exit_code = 127;
    run.err = "cannot start " + args[0];
    return run;
  }
  // Write stdin and read both outputs together, so no pipe fills up and blocks the child.
  size_t written = 0;
  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  std::array<char, 65536> buf;
  bool out_open = true, err_open = true;
  while (out_open || err_open || in_fd >= 0) {
    std::array<pollfd, 3> fds = {pollfd{out_open ? out_pipe[0] : -1, POLLIN, 0},
                                 pollfd{err_open ? err_pipe[0] : -1, POLLIN, 0},
                                 pollfd{in_fd, POLLOUT, 0}};
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
      if (n > 0) {
        (i == 0 ? run.out : run.err).append(buf.data(), static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
    if (in_fd >= 0 && fds[2].revents != 0) {
      const ssize_t n = (fds[2].revents & POLLOUT) != 0
                            ? write(in_fd, input.data() + written, input.size() - written)
                            : -1;
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (run.exit_code == 127 && run.err.empty()) run.err = "cannot start " + args[0];
  return run;
}

}  // namespace herald::testing
