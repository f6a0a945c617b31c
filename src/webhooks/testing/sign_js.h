#pragma once
// The official Stripe and Standard Webhooks npm packages, reached through
// tests/peers/webhooks/sign.js (its header says what each mode reads and writes), for the
// webhook tests to compare Herald's signatures against. Tests that use them fail, not skip,
// when Node or the packages are missing: scripts/install-deps runs `npm ci` there. Test-only.

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "boost/json.hpp"
#include "core/strings.h"
#include "gtest/gtest.h"

namespace herald::webhooks::testing {

inline const std::filesystem::path& PeerDir() {
  static const std::filesystem::path dir = std::filesystem::weakly_canonical(
      std::filesystem::path(__FILE__).parent_path() / "../../../tests/peers/webhooks");
  return dir;
}

struct NodeRun {
  int exit_code = -1;
  std::string out, err;
};

namespace internal {

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Single-quoted for /bin/sh.
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace internal

// Runs `node sign.js <mode>` with `cases` (JSON lines) on stdin.
inline NodeRun RunSignJs(std::string_view mode, const std::vector<boost::json::object>& cases) {
  std::string dir_template = (std::filesystem::path(::testing::TempDir()) / "peer-XXXXXX").string();
  NodeRun run;
  if (mkdtemp(dir_template.data()) == nullptr) {
    run.err = "mkdtemp failed";
    return run;
  }
  const std::filesystem::path dir(dir_template);
  {
    std::ofstream in(dir / "in.jsonl", std::ios::binary);
    for (const boost::json::object& c : cases) in << boost::json::serialize(c) << "\n";
  }
  using internal::Quote;
  const std::string command =
      StrCat("node ", Quote((PeerDir() / "sign.js").string()), " ", mode, " < ",
             Quote((dir / "in.jsonl").string()), " > ", Quote((dir / "out.jsonl").string()), " 2> ",
             Quote((dir / "err.txt").string()));
  const int status = std::system(command.c_str());
  run.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = internal::ReadFile(dir / "out.jsonl");
  run.err = internal::ReadFile(dir / "err.txt");
  std::filesystem::remove_all(dir);
  return run;
}

// The JSON objects of `text`, one per non-empty line (a line that is not one fails the test).
inline std::vector<boost::json::object> JsonLines(const std::string& text) {
  std::vector<boost::json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

// Whether node and `packages` are there; otherwise a failure that says what to do.
inline ::testing::AssertionResult PeersInstalled(std::initializer_list<const char*> packages = {
                                                     "stripe", "standardwebhooks"}) {
  if (std::system("node --version > /dev/null 2>&1") != 0) {
    return ::testing::AssertionFailure()
           << "`node` is not on PATH: install Node.js >= 20, then run `npm ci` in "
           << PeerDir().string();
  }
  for (const char* package : packages) {
    if (!std::filesystem::exists(PeerDir() / "node_modules" / package / "package.json")) {
      return ::testing::AssertionFailure()
             << "the npm package '" << package << "' is not installed: run `npm ci` in "
             << PeerDir().string();
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace herald::webhooks::testing
