// Fuzzes batch mode's file formats: gptq::resumed_records (a --resume file)
// and gptq::parse_batch_output (a Batch API output file) on any text, which
// must return or throw gptq::Error with a one-line message, and the readers
// of a batch's input file and metadata (batch_request_input,
// parse_input_frame), which must not fail; and two round trips: whatever a
// line holds, the record gptq writes for it (an output, or an error for a
// line that failed) is read back as a record of that very line, and of no
// other line (--resume's input check), and its input is found again in the
// request line gptq writes for it (--batch-wait without the input).
//
// Input: byte 0 picks what is fuzzed (even: the two parsers on the rest;
// odd: the rest is one input line, before its first '\n', and byte 0's
// second bit says --input-jsonl).
#include "batch_format.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"
#include "prompt.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
  try {
    (void)gptq::parse_batch_record(text.substr(0, text.find('\n')), "batch b file f", 1, gptq::ResultsFrom::provider);
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::bad_response, "a provider's bad result line is not a bad response");
    check(gptq::fuzz::is_one_line(e.what()), "a parse_batch_record error is not one line");
  }
  // Indexing a line (batch_record_line) checks it as reading it does.
  const std::string_view first = text.substr(0, text.find('\n'));
  std::optional<std::string> indexed, read;
  std::optional<std::size_t> indexed_line, read_line;
  try {
    indexed_line = gptq::batch_record_line(first, "f", 1);
  } catch (const gptq::Error& e) {
    indexed = e.what();
  }
  try {
    const auto record = gptq::parse_batch_record(first, "f", 1);
    read_line = record ? std::optional(record->first) : std::nullopt;
  } catch (const gptq::Error& e) {
    read = e.what();
  }
  check(indexed == read && indexed_line == read_line, "batch_record_line and parse_batch_record disagree");
  const auto frame = gptq::parse_input_frame(text.substr(0, text.find('\n')));
  if (frame) {
    check(gptq::parse_input_frame(gptq::input_frame_text(*frame)) == frame, "an input frame does not read back");
  }
  (void)gptq::batch_request_line_number(text);
  const auto input = gptq::batch_request_input(text, gptq::InputFrame{ text.size() % 7, text.size() % 3 });
  check(!input || input->size() <= text.size(), "an input longer than its request line");
}

// The input of `item` is found again in the request line gptq writes for it,
// whatever words come before it.
void check_input_found(const gptq::BatchItem& item)
{
  const std::vector<std::string> words{ "Say", "\"x\"\n:" };
  const std::string message = gptq::assemble_user_message(words, item.prompt);
  const auto frame =
    gptq::find_input_frame([&](const std::string& input) { return gptq::assemble_user_message(words, input); });
  check(frame.has_value(), "no input frame for the PROMPT words");
  const boost::json::object body{
    { "messages", boost::json::array{ boost::json::object{ { "role", "user" }, { "content", message } } } }
  };
  const std::string line = gptq::batch_request_line(7, boost::json::serialize(body));
  check(gptq::batch_request_line_number(line) == std::optional<std::size_t>(7), "a request line's number is lost");
  check(gptq::batch_request_input(line, *frame) == std::optional<std::string>(item.prompt),
        "a line's input is not found again in its request");
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
    check_input_found(*item);
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
