#pragma once

#include "error.hpp"
#include "options.hpp"
#include "secrets.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptq {

// The text formats of batch mode (-L, --input-jsonl, --jsonl, --resume,
// --emit-batch, --from-batch): pure transformations between lines and
// requests or results. Reading stdin, sending and ordering belong to the
// engine.
//
// Line numbers count every physical line of the input from 1, blank and
// skipped ones included, so that they match `nl -ba` and editors.

// One request of a batch, from one input line.
struct BatchItem {
  std::size_t line = 0;                                    // the physical line number, from 1
  std::string input;                                       // the line as read, without its line break (and "\r")
  std::string prompt;                                      // the text that takes stdin's place in the user message
  std::optional<std::string> system;                       // --input-jsonl "system"
  std::vector<std::pair<std::string, std::string>> fields; // other members, as -o KEY=VALUE (JSON text)
  std::vector<std::string> files;                          // --input-jsonl "files": this line's -f files
};

// Returns the item for line `line` of -L input: `text` without a trailing
// "\r" as both input and prompt (inner and leading white space kept), or
// nullopt when the line is empty or only white space (skipped). Throws
// gptq::Error (usage, phase "line N") when the line is not valid UTF-8.
std::optional<BatchItem> parse_plain_line(std::size_t line, std::string_view text);

// Returns the item for line `line` of --input-jsonl input: a JSON object
// whose "prompt" (a string, required, not blank) is the prompt, "system" (a
// string, optional) the system message, "files" (a list of paths or image
// URLs, optional) files as -f gives them, and every other member a request
// field kept as compact JSON text, applied like -o KEY=VALUE. A trailing
// "\r" is removed; nullopt when the line is blank (skipped). Throws
// gptq::Error (usage, phase "line N") when the line is not valid UTF-8 or
// not JSON, is not an object, or its prompt or system is missing, blank or
// not a string; the message says what was expected.
std::optional<BatchItem> parse_jsonl_line(std::size_t line, std::string_view text);

// Returns `reply` as one line of plain batch output: each line break
// ("\r\n", "\n" or "\r") becomes one space and trailing white space is
// dropped, so that `paste input output` lines up; then "\n". A failed line is
// written as an empty line (just "\n") by the engine.
std::string plain_result(std::string_view reply);

// Returns the --jsonl record of a line that got a reply:
// {"line":N,"input":"...","output":"..."} and "\n", without "input" when
// `input` is nullopt (--from-batch without the input). Lossless: the output
// keeps its line breaks, escaped. Malformed UTF-8 bytes in `input` or
// `output` become U+FFFD, so that every record is valid JSON.
std::string jsonl_result(std::size_t line, std::optional<std::string_view> input, std::string_view output);

// Returns the --jsonl record of a line that failed:
// {"line":N,"input":"...","error":{"status":S,"message":"..."}} and "\n",
// where S is gptq's exit status for the failure (exit_status.hpp), without
// "input" when `input` is nullopt. Malformed UTF-8 bytes become U+FFFD, as
// in jsonl_result.
std::string jsonl_error(std::size_t line, std::optional<std::string_view> input, int status, std::string_view message);

// One input line's result as batch mode (-L, --from-batch) writes it: `out`
// for stdout, `err` for stderr (empty unless the line failed).
struct LineResult {
  std::string out;
  std::string err;
  ExitStatus status = ExitStatus::ok;
  bool counted = true; // false for a blank line's place holder (batch_schedule)
};

// The result of line `line` (of `input`, nullopt when unknown) answered
// with `output`: plain_result, or jsonl_result when `jsonl`.
LineResult answered_line(std::size_t line, std::optional<std::string_view> input, std::string_view output, bool jsonl);

// The result of line `line` that failed with `failure`: an empty line (plain
// output keeps the line's place) or jsonl_error, and `gptq: line N:
// <message>` on stderr. The message is `<phase>: <what>`, or `what` alone
// when the phase is empty or is the line's own (kind input): the line is
// named once. Redacted of `secrets`.
LineResult failed_line(std::size_t line,
                       std::optional<std::string_view> input,
                       const Error& failure,
                       bool jsonl,
                       const Secrets& secrets = {});

// One record of a --resume file, a previous --jsonl output.
struct ResumedRecord {
  std::size_t record = 0;            // the record's line number in the file, from 1
  std::string input;                 // the input line it was made for, as the record holds it
  std::optional<std::string> output; // the reply; nullopt for an error record, whose line is sent again
};

// Returns, from `text`, a previous --jsonl output, every record by the input
// line it is for: line number -> record. Blank lines are skipped. A last
// record that is not JSON is ignored: the run that wrote it was interrupted
// in the middle of it (with or without the "\n" that Ctrl-C adds). Throws
// gptq::Error (usage, phase "PATH:LINE") for any other line that is not a
// record with a positive "line", a string "input" and a string "output" or
// an "error"; and (usage, phase "--resume") for a second record of the same
// line, naming both: one run writes one record per line, so two are the
// outputs of two runs joined, and neither can be trusted to be the answer.
std::map<std::size_t, ResumedRecord> resumed_records(std::string_view text, const std::string& path);

// Returns whether `recorded`, the "input" of a --jsonl record, is what a
// record of the input line `text` (as read, before parsing) holds: the line
// without its last "\r" (an item's input), or as read (a line that could not
// make an item), malformed UTF-8 bytes as U+FFFD (as jsonl_result and
// jsonl_error write it).
bool is_recorded_input(std::string_view recorded, std::string_view text);

// Returns one line of an OpenAI Batch API input file for input line `line`:
// {"custom_id":"line-N","method":"POST","url":"/v1/chat/completions","body":BODY}
// and "\n" ("/v1/responses" for the Responses API), with `body_json` (a compact request body from
// build_request_body, streaming off) spliced in as JSON, not as a string.
std::string batch_request_line(std::size_t line, std::string_view body_json, Api api = Api::chat);

// The result of one request in a Batch API output (or error) file.
struct BatchResult {
  std::optional<std::string> output;        // the reply text; nullopt when the request failed
  int status = 0;                           // gptq's exit status for the failure; 0 with an output
  std::string message;                      // what went wrong, on one line; empty with an output
  std::optional<std::string> finish_reason; // of a reply, for the engine's warnings ("length")
};

// The result of a 2xx Chat Completions response `body` (a whole completion,
// not a stream), checked as ReplyHandler checks a whole reply: the content,
// or a failure for a body that is not a completion, a refusal, or no text.
// Its message's excerpts of server text are made without `secrets`.
BatchResult completion_result(std::string_view body, const Secrets& secrets = {});

// Returns the results in `text`, a Batch API output or error file (or both
// concatenated), keyed by the N of their custom_id "line-N", whatever the
// order of the lines (the API does not keep the input order). A response
// with a 2xx status_code gives the content of its body's first choice; a
// body that is not a reply gives a bad_response failure, a refusal a
// rejected one, a reply without text a bad_response one. Another status_code
// gives exit_status_for_http(status_code) and "HTTP NNN: <the body's error
// message>". A non-null "error" object (a request the batch did not run,
// e.g. code "batch_expired") gives a rejected failure with its message and
// code. Blank lines are skipped. Throws gptq::Error (usage, phase
// "PATH:LINE") for a line that is not JSON, not an object, has a custom_id
// that gptq did not write or that an earlier line has already (the API
// gives each request one result; two are two batches' files joined, and
// either could be the answer), has neither a response nor an error, or a
// response without an HTTP status_code (a whole number from 100 to 999).
std::map<std::size_t, BatchResult> parse_batch_output(std::string_view text, const std::string& path);

// Who wrote a Batch API output or error file: the user, as a --from-batch
// file (one that is not such a file is a usage error, exit 2), or the
// provider, downloaded by --batch-wait (a bad response, exit 8).
enum class ResultsFrom { user, provider };

// Returns the input line and result of `record_text`, line `number` of a
// Batch API output or error file `path`, read as parse_batch_output reads
// each line; nullopt for a blank line. Throws as parse_batch_output does
// (for the provider's file: bad_response, saying so), but knows nothing of
// the other lines (the caller looks for a second result of the same input
// line: batch_duplicate_error).
std::optional<std::pair<std::size_t, BatchResult>> parse_batch_record(std::string_view record_text,
                                                                      const std::string& path,
                                                                      std::size_t number,
                                                                      ResultsFrom from = ResultsFrom::user);

// As parse_batch_record, checking the line alone (every check, and the
// same errors) without making its result: the input line it is for.
std::optional<std::size_t> batch_record_line(std::string_view record_text,
                                             const std::string& path,
                                             std::size_t number,
                                             ResultsFrom from = ResultsFrom::user);

// The error for a second result of input `line`, on line `again` of `path`,
// the first being on line `first` (of `first_path`): the API gives each
// request one result, so two are two batches' files joined (or, from the
// provider, a bad response).
Error batch_duplicate_error(const std::string& first_path,
                            std::size_t first,
                            const std::string& path,
                            std::size_t again,
                            std::size_t line,
                            ResultsFrom from = ResultsFrom::user);

// Where each line's input sits in the text of the user message gptq sends
// for it (-L, plain lines): after `prefix` bytes (the PROMPT words and the
// blank line after them) and before `suffix` bytes (the text of -f files).
// The same for every line of a batch, so a batch's metadata can carry it
// and another run recover each line's input from the batch's input file.
struct InputFrame {
  std::size_t prefix = 0, suffix = 0;
  bool operator==(const InputFrame&) const = default;
};

// Returns the frame of the user messages that `message_for` makes around
// an input, found by making two around different inputs; nullopt when the
// input is not whole in one place between the same bytes.
std::optional<InputFrame> find_input_frame(const std::function<std::string(const std::string&)>& message_for);

// "PREFIX,SUFFIX", and back; nullopt for any other text.
std::string input_frame_text(InputFrame frame);
std::optional<InputFrame> parse_input_frame(std::string_view text);

// Returns the input line N of `request_line`, a line of a Batch API input
// file, from its custom_id "line-N" as batch_request_line writes it;
// nullopt for a line that is not JSON or has no such custom_id. A line that
// begins as batch_request_line writes it is read there, the rest unparsed.
std::optional<std::size_t> batch_request_line_number(std::string_view request_line);

// Returns the input of `request_line` (a line of an input file gptq wrote,
// for /v1/chat/completions or /v1/responses): the text of its last user
// message (the string, or its first text part) less `frame`; nullopt when
// the line has no such text or it is shorter than the frame.
std::optional<std::string> batch_request_input(std::string_view request_line, InputFrame frame);

} // namespace gptq
