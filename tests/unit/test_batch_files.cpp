// RecordIndex and BatchFiles: a batch's files read by line, never whole,
// and printed as --from-batch prints them from memory.

#include "batch.hpp"
#include "batch_files.hpp"
#include "error.hpp"
#include "record_index.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace gptq;
using namespace gptq::test;

namespace {

// A result line of an output file: a completion whose reply is `reply`.
std::string answer(std::size_t line, const std::string& reply)
{
  return R"({"id":"batch_req_)" + std::to_string(line) + R"(","custom_id":"line-)" + std::to_string(line) +
         R"(","response":{"status_code":200,"request_id":"r","body":{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":")" +
         reply + R"("},"finish_reason":"stop"}]}},"error":null})";
}

// A request line of an input file, as --batch-submit writes it, whose user
// message is `text`.
std::string request(std::size_t line, const std::string& text)
{
  return R"({"custom_id":"line-)" + std::to_string(line) +
         R"(","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":")" +
         text + R"("}]}})";
}

struct Printed {
  std::string out, err;
  ExitStatus status;
};

Printed print(const BatchResults& results, bool jsonl, std::optional<int> in_fd = std::nullopt)
{
  TempFile out;
  std::ostringstream err;
  BatchSettings settings;
  settings.jsonl_out = jsonl;
  const ExitStatus status = from_batch(settings, results, "batch b", in_fd, out.fd(), err);
  return { out.contents(), err.str(), status };
}

} // namespace

BOOST_AUTO_TEST_SUITE(record_index)

// Records cut by the reading pieces (1 MiB), longer than a piece, ending in
// "\r\n", and a last one without "\n" are all found, at their offsets.
BOOST_AUTO_TEST_CASE(every_line_is_found_whole_wherever_the_pieces_cut_it)
{
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < 40'000; ++i) {
    // (appended, not "k" + ...: GCC 12 warns of a false overlap there)
    std::string line = "k";
    line += std::to_string(i);
    line += ' ';
    line.append(i % 97, 'x');
    lines.push_back(std::move(line));
  }
  lines[7] = "k7 " + std::string(3 << 20, 'y'); // three pieces long
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += lines[i] + (i % 5 == 0 ? "\r\n" : "\n");
  }
  text += "k40000 last";
  lines.push_back("k40000 last");
  TempFile file(text);
  RecordIndex index;
  std::size_t seen = 0;
  index.add(file.fd(), "f", [&](std::string_view record, std::size_t number) -> std::optional<std::size_t> {
    ++seen;
    BOOST_TEST_REQUIRE(number == seen);
    if (number % 3 == 0) {
      return std::nullopt; // left out
    }
    return std::stoul(std::string(record.substr(1, record.find(' ') - 1)));
  });
  BOOST_TEST(seen == lines.size());
  BOOST_TEST(index.entries().size() == lines.size() - lines.size() / 3);
  for (const auto& [key, where] : index.entries()) {
    BOOST_TEST_REQUIRE(where.number == key + 1);
    BOOST_TEST_REQUIRE(index.read(where) == lines[key]);
  }
  BOOST_TEST(!index.entries().contains(2)); // line 3, left out
}

BOOST_AUTO_TEST_CASE(a_second_record_of_a_key_is_handed_to_the_duplicate_handler)
{
  TempFile file("a\nb\na\n");
  RecordIndex index;
  std::vector<std::pair<std::size_t, std::size_t>> twice;
  index.add(
    file.fd(),
    "f",
    [](std::string_view record, std::size_t) { return std::optional<std::size_t>(record == "a" ? 1 : 2); },
    [&](std::size_t, const RecordIndex::Where& first, const RecordIndex::Where& again) {
      twice.emplace_back(first.number, again.number);
    });
  BOOST_TEST_REQUIRE(twice.size() == 1u);
  BOOST_TEST(twice[0].first == 1u);
  BOOST_TEST(twice[0].second == 3u);
  BOOST_TEST(index.read(index.entries().at(1)) == "a");
}

BOOST_AUTO_TEST_CASE(an_empty_file_has_no_records)
{
  TempFile file;
  RecordIndex index;
  index.add(file.fd(), "f", [](std::string_view, std::size_t) { return std::optional<std::size_t>(1); });
  BOOST_TEST(index.entries().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batch_files)

// Read from files, the results print as parse_batch_output's map does.
BOOST_AUTO_TEST_CASE(results_from_files_print_as_from_memory)
{
  const std::string output = answer(3, "three") + "\n" + answer(1, "one") + "\n\n";
  const std::string errors =
    R"({"id":"x","custom_id":"line-4","response":null,"error":{"code":"batch_expired","message":"too late"}})";
  BatchFiles files;
  TempFile out_file(output), err_file(errors);
  files.add_results(::dup(out_file.fd()), "out", ResultsFrom::user);
  files.add_results(::dup(err_file.fd()), "err", ResultsFrom::user);
  const BatchResultMap map(parse_batch_output(output + errors, "out"));
  for (const bool jsonl : { false, true }) {
    TempFile in("a\nb\nc\nd\n\n");
    const Printed from_files = print(files, jsonl, in.fd());
    TempFile again("a\nb\nc\nd\n\n");
    const Printed from_map = print(map, jsonl, again.fd());
    BOOST_TEST(from_files.out == from_map.out);
    BOOST_TEST(from_files.err == from_map.err);
    BOOST_TEST(static_cast<int>(from_files.status) == static_cast<int>(from_map.status));
    const Printed alone = print(files, jsonl);
    const Printed alone_map = print(map, jsonl);
    BOOST_TEST(alone.out == alone_map.out);
  }
  BOOST_TEST(print(files, false).out == "one\nthree\n\n");
}

BOOST_AUTO_TEST_CASE(a_line_answered_in_two_files_is_refused_naming_both)
{
  TempFile out_file(answer(1, "one") + "\n" + answer(2, "two") + "\n");
  TempFile err_file("\n" + answer(2, "again") + "\n");
  BatchFiles files;
  files.add_results(::dup(out_file.fd()), "out", ResultsFrom::user);
  const auto failure = failure_of([&] { files.add_results(::dup(err_file.fd()), "err", ResultsFrom::user); });
  BOOST_TEST(failure.status == static_cast<int>(ExitStatus::usage));
  BOOST_TEST(failure.line() == "err:2: custom_id \"line-2\" is in out:2 too; a batch gives each request one result, "
                               "so this file joins two batches' results",
             failure.message);
}

// A file the provider wrote that is not a Batch API output file, or
// answers a line twice, is the server's fault: a bad response, not a
// usage error, and no word of --from-batch.
BOOST_AUTO_TEST_CASE(the_providers_bad_file_is_a_bad_response)
{
  TempFile garbled(answer(1, "one") + "\n<html>oops</html>\n");
  BatchFiles files;
  const auto bad = failure_of([&] { files.add_results(::dup(garbled.fd()), "batch b file f", ResultsFrom::provider); });
  BOOST_TEST(bad.status == static_cast<int>(ExitStatus::bad_response));
  BOOST_TEST(bad.phase == "batch b file f:2");
  BOOST_TEST(bad.message.ends_with("; not a line of a Batch API output file for gptq's requests"), bad.message);
  BOOST_TEST(bad.message.find("--from-batch") == std::string::npos, bad.message);

  TempFile twice(answer(1, "one") + "\n" + answer(1, "again") + "\n");
  BatchFiles other;
  const auto dup = failure_of([&] { other.add_results(::dup(twice.fd()), "out", ResultsFrom::provider); });
  BOOST_TEST(dup.status == static_cast<int>(ExitStatus::bad_response));
  BOOST_TEST(dup.line() == "out:2: custom_id \"line-1\" is on line 1 too; the Batch API gives each request one result");
}

BOOST_AUTO_TEST_CASE(a_bad_result_line_refuses_the_file_as_parse_batch_output_does)
{
  const std::string text = answer(1, "one") + "\n{\"custom_id\":\"line-2\"}\n";
  TempFile file(text);
  BatchFiles files;
  const auto from_file = failure_of([&] { files.add_results(::dup(file.fd()), "out", ResultsFrom::user); });
  const auto from_text = failure_of([&] { parse_batch_output(text, "out"); });
  BOOST_TEST(from_file.line() == from_text.line());
  BOOST_TEST(from_file.status == from_text.status);
}

// --batch-wait without the input: the batch's input file says which lines
// were sent (a gap was a blank line) and, with the frame, what each was.
BOOST_AUTO_TEST_CASE(the_input_file_gives_places_and_inputs)
{
  const InputFrame frame{ 11, 0 }; // "Translate: " before each line
  TempFile input(request(1, "Translate: hello") + "\n" + request(2, "Translate: a \\\"b\\\"\\nc") + "\n" +
                 request(5, "Translate: five") + "\n" + request(6, "Translate: six") + "\n");
  TempFile output(answer(5, "cinq") + "\n" + answer(1, "bonjour") + "\n" + answer(2, "deux") + "\n");
  BatchFiles files;
  files.add_results(::dup(output.fd()), "out", ResultsFrom::user);
  files.add_input(::dup(input.fd()), "input", frame);
  BOOST_TEST(files.input(2).value_or("?") == "a \"b\"\nc");
  const Printed plain = print(files, false);
  BOOST_TEST(plain.out == "bonjour\ndeux\n\n\ncinq\n\n");
  BOOST_TEST(plain.err == "gptq: line 6: no result for this line in batch b\n");
  BOOST_TEST(static_cast<int>(plain.status) == static_cast<int>(ExitStatus::bad_response));
  const Printed jsonl = print(files, true);
  BOOST_TEST(jsonl.out == "{\"line\":1,\"input\":\"hello\",\"output\":\"bonjour\"}\n"
                          "{\"line\":2,\"input\":\"a \\\"b\\\"\\nc\",\"output\":\"deux\"}\n"
                          "{\"line\":5,\"input\":\"five\",\"output\":\"cinq\"}\n"
                          "{\"line\":6,\"input\":\"six\",\"error\":{\"status\":8,\"message\":\"no result for this "
                          "line in batch b\"}}\n");
  // A result for a line that was not sent (line 3 was blank) is never
  // printed in its place.
  BatchFiles extra;
  TempFile output3(answer(3, "HIJACK") + "\n" + answer(1, "bonjour") + "\n");
  extra.add_results(::dup(output3.fd()), "out", ResultsFrom::provider);
  extra.add_input(::dup(input.fd()), "input", frame);
  const Printed guarded = print(extra, false);
  BOOST_TEST(guarded.out.find("HIJACK") == std::string::npos, guarded.out);
  BOOST_TEST(guarded.out == "bonjour\n\n\n\n\n\n");
  BOOST_TEST(guarded.err.find("gptq: batch b has 1 result for lines it did not send (line 3); not used\n") !=
               std::string::npos,
             guarded.err);
  // Without a frame (a batch of --input-jsonl lines): places, no inputs.
  BatchFiles unframed;
  TempFile output2(answer(1, "bonjour") + "\n");
  unframed.add_results(::dup(output2.fd()), "out", ResultsFrom::user);
  unframed.add_input(::dup(input.fd()), "input", std::nullopt);
  BOOST_TEST(print(unframed, true).out.starts_with("{\"line\":1,\"output\":\"bonjour\"}\n{\"line\":2,\"error\""));
}

BOOST_AUTO_TEST_SUITE_END()
