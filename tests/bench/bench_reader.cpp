// gptq_bench_reader: the receiving end of tests/bench/stream_latency.sh.
//
// Usage: gptq_bench_reader [--expect N] [--wait SECONDS] TIMESTAMPS_FILE
//   Reads stdin to its end, taking CLOCK_MONOTONIC right after each read.
//   The stream carries the pieces of the test server's sse-bench mode, each
//   starting with the marker "#SSSSSS:" (SSSSSS its 0-based sequence number);
//   a piece has arrived when the read that completes its marker returns. Any
//   bytes around the markers are ignored, so the input may be gptq's stdout
//   or a raw SSE stream (curl). Then TIMESTAMPS_FILE, the server's
//   --timestamps file of "SEQ NS" lines (the clock just before the piece was
//   written), is read; the server writes it when its response ends, which
//   may be just after our input ends, so it is read again for up to
//   --wait seconds (default 5) until it covers every piece received.
//   Prints, for the pieces found in both:
//     pieces: MATCHED matched (RECEIVED received, SENT sent, EXPECTED expected)
//     stdout reads: READS
//     latency ms: median X p90 Y max Z
//   Percentiles are nearest-rank. The two clocks are the same because both
//   processes run on the same machine.
// Exit status: 0 with at least one match (and, with --expect, exactly N of
// them), 1 otherwise, 2 for a usage error.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

constexpr std::size_t marker_size = 8; // "#SSSSSS:"

std::int64_t monotonic_ns()
{
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

// The sequence number of the marker at `at` in `s`, if one starts there.
std::optional<long> marker_at(std::string_view s, std::size_t at)
{
  if (at + marker_size > s.size() || s[at] != '#' || s[at + marker_size - 1] != ':') {
    return std::nullopt;
  }
  long seq = 0;
  for (std::size_t i = at + 1; i < at + marker_size - 1; ++i) {
    if (!is_digit(s[i])) {
      return std::nullopt;
    }
    seq = seq * 10 + (s[i] - '0');
  }
  return seq;
}

// Arrival times of the pieces, found in stdin, and how many reads it took.
struct Arrivals {
  std::map<long, std::int64_t> ns; // first arrival of each sequence number
  long reads = 0;
};

// Reads stdin to its end. A marker may be split across reads: the last
// marker_size - 1 bytes of each read are kept and scanned again with the
// next, counting only markers that end in the new bytes.
Arrivals read_arrivals()
{
  Arrivals out;
  std::string window;
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    const ssize_t got = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    const std::int64_t now = monotonic_ns();
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      std::cerr << "gptq_bench_reader: read: " << std::strerror(errno) << "\n";
      break;
    }
    if (got == 0) {
      break;
    }
    ++out.reads;
    const std::size_t old = window.size();
    window.append(buffer.data(), static_cast<std::size_t>(got));
    for (std::size_t i = 0; i + marker_size <= window.size(); ++i) {
      if (i + marker_size <= old) {
        continue; // counted with the previous read
      }
      if (auto seq = marker_at(window, i)) {
        out.ns.emplace(*seq, now);
      }
    }
    if (window.size() > marker_size - 1) {
      window.erase(0, window.size() - (marker_size - 1));
    }
  }
  return out;
}

// The "SEQ NS" lines of `path`; a later line for the same SEQ wins.
std::map<long, std::int64_t> read_send_times(const std::string& path)
{
  std::map<long, std::int64_t> out;
  std::ifstream in(path);
  long seq = 0;
  std::int64_t ns = 0;
  while (in >> seq >> ns) {
    out[seq] = ns;
  }
  return out;
}

// Nearest-rank percentile `p` (0-100] of the sorted, non-empty `v`.
double percentile(const std::vector<double>& v, double p)
{
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

const char* const usage = "usage: gptq_bench_reader [--expect N] [--wait SECONDS] TIMESTAMPS_FILE\n";

} // namespace

int main(int argc, char** argv)
{
  std::string path;
  long expect = -1;
  double wait_seconds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--expect" && i + 1 < argc) {
      expect = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--wait" && i + 1 < argc) {
      wait_seconds = std::strtod(argv[++i], nullptr);
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (path.empty() && !arg.starts_with("-")) {
      path = arg;
    } else {
      std::cerr << "gptq_bench_reader: unknown argument: " << arg << "\n" << usage;
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << usage;
    return 2;
  }

  const Arrivals arrivals = read_arrivals();

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(wait_seconds, 0.0));
  std::map<long, std::int64_t> sent = read_send_times(path);
  auto covered = [&] {
    return std::all_of(arrivals.ns.begin(), arrivals.ns.end(), [&](const auto& a) { return sent.contains(a.first); });
  };
  while (!covered() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sent = read_send_times(path);
  }

  std::vector<double> latencies_ms;
  for (const auto& [seq, ns] : arrivals.ns) {
    if (auto it = sent.find(seq); it != sent.end()) {
      latencies_ms.push_back(static_cast<double>(ns - it->second) / 1e6);
    }
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());

  std::printf("pieces: %zu matched (%zu received, %zu sent", latencies_ms.size(), arrivals.ns.size(), sent.size());
  if (expect >= 0) {
    std::printf(", %ld expected", expect);
  }
  std::printf(")\nstdout reads: %ld\n", arrivals.reads);
  if (latencies_ms.empty()) {
    std::printf("latency ms: no pieces matched\n");
    return 1;
  }
  std::printf("latency ms: median %.3f p90 %.3f max %.3f\n",
              percentile(latencies_ms, 50),
              percentile(latencies_ms, 90),
              latencies_ms.back());
  std::fflush(stdout);
  const bool complete = expect < 0 || static_cast<long>(latencies_ms.size()) == expect;
  return complete ? 0 : 1;
}
