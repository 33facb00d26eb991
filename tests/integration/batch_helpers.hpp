#pragma once

// What the batch-mode integration tests share (test_batch.cpp,
// test_hostile_batch.cpp): running gptq -L against the test server's
// batch/KEY mode, the server's count of what it saw, and reading results.

#include "harness.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gptq::it {

// What the test server saw for KEY (its stats/KEY mode).
struct Stats {
  std::int64_t requests = 0;    // requests counted under KEY
  std::int64_t connections = 0; // connections whose first request was under KEY
  std::int64_t early = 0;       // requests within the wait of KEY's limit=S reply
};

std::ostream& operator<<(std::ostream& os, const Stats& s);

Stats stats(const std::string& key);

// `lines`, each ended by "\n".
std::string joined(const std::vector<std::string>& lines);

// Each line of `text` parsed as a JSON object; fails the test when one is not.
std::vector<boost::json::object> jsonl_records(const std::string& text);

// The string member `name` of `o`, or a marker naming it when there is none.
std::string string_at(const boost::json::object& o, std::string_view name);

// Runs gptq in batch mode against batch/KEY with `input` on stdin and
// `extra` options.
RunResult run_batch(const std::string& key, const std::vector<std::string>& extra, const std::string& input);

// The stderr lines of a run, each checked to start with "gptq: ".
std::vector<std::string> error_lines(const RunResult& r);

// Checks a run that ended normally with `code`, without the key anywhere.
void check_ran(const RunResult& r, int code);

} // namespace gptq::it
