// A stand-in for libFuzzer's main, so every fuzz target also runs in the ordinary test build
// (under AddressSanitizer and UBSan in `make test`): it feeds the files named on the command
// line, then a fixed number of pseudo-random inputs from a fixed seed, biased towards the
// characters parsers care about. `make fuzz` runs the real, coverage-guided fuzzer.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++runs;
  }
  static const std::string kAlphabet =
      "0123456789 */-,?#LW@JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDECSUNMONTUEWEDTHUFRISAT"
      "{}[]\":,.\\aeiouxyz\t\n";
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<int> len(0, 64), pick(0, static_cast<int>(kAlphabet.size()) - 1),
      byte(0, 255), coin(0, 15);
  const char* env_runs = std::getenv("FUZZ_SMOKE_RUNS");
  int random_runs = env_runs != nullptr ? std::atoi(env_runs) : 20000;
  for (int i = 0; i < random_runs; ++i) {
    std::string s(static_cast<size_t>(len(rng)), ' ');
    for (char& c : s) c = coin(rng) == 0 ? static_cast<char>(byte(rng)) : kAlphabet[pick(rng)];
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    ++runs;
  }
  std::printf("%d inputs, no crash\n", runs);
  return 0;
}
