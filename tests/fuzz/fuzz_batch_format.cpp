// Fuzzes batch mode's file formats: gptq::resumed_records (a --resume file)
// and gptq::parse_batch_output (a Batch API output file) on any text, which
// must return or throw gptq::Error with a one-line message; and the round
// trip that --resume's input check rests on: whatever a line holds, the
// record gptq writes for it (an output, or an error for a line that failed)
// is read back as a record of that very line, and of no other line.
//
// Input: byte 0 picks what is fuzzed (even: the two parsers on the rest;
// odd: the rest is one input line, before its first '\n', and byte 0's
// second bit says --input-jsonl).
#include "batch_format.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

void parse_files(std::string_view text)
{
  try {
    const auto records = gptq::resumed_records(text, "old.jsonl");
    for (const auto& [line, record] : records) {
      check(line > 0 && record.record > 0, "a resumed record without a line or a place");
    }
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::usage, "resumed_records failed with another status than usage");
    check(gptq::fuzz::is_one_line(e.what()), "a resumed_records error is not one line");
  }
  try {
    (void)gptq::parse_batch_output(text, "out.jsonl");
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::usage, "parse_batch_output failed with another status than usage");
    check(gptq::fuzz::is_one_line(e.what()), "a parse_batch_output error is not one line");
  }
}

// The record `written` is read back whole, for line 7, as a record of `text`.
void check_round_trip(const std::string& written, std::string_view text)
{
  const auto records = gptq::resumed_records(written, "old.jsonl");
  check(records.size() == 1 && records.begin()->first == 7, "a written record is not read back for its line");
  const std::string& recorded = records.begin()->second.input;
  check(gptq::is_recorded_input(recorded, text), "a line's own record is not taken as its input");
  check(!gptq::is_recorded_input(recorded, std::string(text) + "x"), "a record is taken for another line");
}

void round_trip(std::string_view line, bool jsonl)
{
  line = line.substr(0, line.find('\n'));
  std::optional<gptq::BatchItem> item;
  try {
    item = jsonl ? gptq::parse_jsonl_line(7, line) : gptq::parse_plain_line(7, line);
  } catch (const gptq::Error&) {
    // As the engine records a line that cannot make a request: as read.
    check_round_trip(gptq::jsonl_error(7, line, 2, "bad"), line);
    return;
  }
  if (item) {
    check_round_trip(gptq::jsonl_result(7, item->input, "out"), line);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return 0;
  }
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    parse_files(rest);
  } else {
    round_trip(rest, (data[0] & 2) != 0);
  }
  return 0;
}
