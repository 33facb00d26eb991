#pragma once

#include "batch_format.hpp"
#include "error.hpp"
#include "options.hpp"
#include "secrets.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The pure side of the provider's Batch API (OpenAI's shape, which Azure
// OpenAI, Groq and Gemini's OpenAI-compatible endpoint share): the bodies
// gptq sends and the objects it reads back. Sending, streaming files and
// polling belong to the app.

// A batch's request_counts.
struct BatchCounts {
  long long total = 0, completed = 0, failed = 0;
};

// A Batch object as the server describes it.
struct BatchStatus {
  std::string id;
  std::string status;   // "validating", "in_progress", "finalizing", "completed", "failed",
                        // "expired", "cancelling", "cancelled" (or one the API adds later)
  std::string endpoint; // "/v1/chat/completions", "/v1/responses"
  std::string input_file_id;
  std::optional<std::string> output_file_id, error_file_id; // absent or null until there is one
  BatchCounts counts;                                       // zeros when the server gave none (or not numbers)
  long long created_at = 0;                                 // Unix seconds, 0 when not given (or not a number)
  std::vector<std::string> errors;                          // errors.data of a failed batch: "line 2: message (code)"
  std::optional<std::string> gptq_lines;                    // metadata.gptq_lines, when gptq created the batch
  std::optional<InputFrame> input_frame;                    // metadata.gptq_input: where each line's input is

  // True when the batch will not change any more: completed, failed,
  // expired or cancelled.
  bool ended() const;
};

// How messages describe a batch or file id.
inline constexpr std::string_view batch_api_id_shape = "1 to 256 letters, digits, '.', '_', ':', '-' and '/'";

// True when `id` may be a batch or file id: 1 to 256 bytes of A-Z, a-z,
// 0-9, '.', '_', ':', '-' and '/', where no '/'-separated segment is empty
// (no leading, trailing or double '/'), "." or "..". Ids go into URL paths
// (batches/ID, files/ID/content) as they are and are printed, so one that
// passes can neither leave its path nor break a line or a terminal.
bool is_batch_api_id(std::string_view id);

// Returns the Batch object in `body` (the reply of POST /batches, GET
// /batches/ID and POST /batches/ID/cancel). "id" and "status" are required
// strings; "endpoint" and "input_file_id" strings when present; the rest
// may be missing or null, and unknown members are ignored. "id",
// "input_file_id", "output_file_id" and "error_file_id" must pass
// is_batch_api_id() and hold none of `secrets` (they are printed); the
// optional ones read as absent when empty. Throws gptq::Error
// (bad_response, exit 8, phase "response") when the body is not JSON or not
// an object, or a required member is missing or of another type, or an id
// is not one, naming it; with the server's message (phase "api") when the
// body is an error object. Every piece of the server's text in a message or
// in `errors` is redacted of `secrets` and made one line.
BatchStatus parse_batch(std::string_view body, const Secrets& secrets = {});

// Returns the batches of a list object (GET /batches): its "data" array,
// in the order given (newest first). Throws as parse_batch() does, naming
// the index of a batch that cannot be read.
std::vector<BatchStatus> parse_batch_list(std::string_view body, const Secrets& secrets = {});

// Returns the "id" of a File object (the reply of POST /files). Throws as
// parse_batch() does when there is none or it is not an id.
std::string parse_file_id(std::string_view body, const Secrets& secrets = {});

// Returns the JSON body of POST /batches: input_file_id, the endpoint of
// `api` as the Batch API names it ("/v1/chat/completions" or
// "/v1/responses", whatever the base URL), completion_window "24h" and
// metadata {"created_by":"gptq","gptq_lines":"N"} (metadata values must be
// strings), and with `frame` (plain -L lines) "gptq_input":"PREFIX,SUFFIX",
// which lets another run recover each line's input from the input file.
std::string batch_create_body(std::string_view input_file_id,
                              Api api,
                              std::size_t lines,
                              std::optional<InputFrame> frame = std::nullopt);

// A multipart/form-data body for POST /files, around the file's bytes: the
// app sends head, the file, then tail, with Content-Length their sum.
struct Multipart {
  std::string content_type; // "multipart/form-data; boundary=..."
  std::string head;         // the purpose=batch part and the file part's header
  std::string tail;         // the closing delimiter
};

// Returns the form that uploads a file named `filename` (as the server is
// told it; '"', CR and LF are percent-encoded as browsers do) for
// purpose=batch, with Content-Type application/jsonl. The boundary is
// "gptq-" and 35 letters and digits drawn from `seed` (so it differs per
// seed; the caller picks a random one): a streamed file cannot be searched
// for it beforehand, so, as curl does, it relies on being too long and
// random to occur in the file.
Multipart batch_upload_form(std::string_view filename, std::uint64_t seed);

// The Batch API's limits on one input file.
inline constexpr std::size_t batch_max_lines = 50'000;
inline constexpr std::uint64_t batch_max_bytes = 200'000'000;

// Checks a request file against the Batch API's limits before it is
// uploaded: at most batch_max_lines lines and batch_max_bytes bytes.
// Throws gptq::Error (usage, exit 2, phase "batch") saying which limit is
// passed (the lines first) and suggesting `split -l 50000`, or for the
// size a number of lines per part that fits.
void check_batch_limits(std::size_t lines, std::uint64_t bytes);

// Returns how long to wait before poll number `poll` (from 0) of a batch:
// 5 s, growing by half each time, at most 60 s.
std::chrono::milliseconds batch_poll_delay(int poll);

// Returns the text of a progress line for `batch`: its status (made one
// line), then when it has a total "120/500 done" (done: completed and
// failed lines), then ", 3 failed" when lines failed ("in_progress 120/500
// done, 3 failed"; "validating").
std::string batch_progress_text(const BatchStatus& batch);

} // namespace gptq
