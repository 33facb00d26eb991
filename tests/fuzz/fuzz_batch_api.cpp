// Fuzzes the Batch API's objects: gptq::parse_batch, gptq::parse_batch_list
// and gptq::parse_file_id on any bytes must return or throw gptq::Error
// (bad response, exit 8) with a one-line message that never shows the run's
// secret; what they return is one line where a terminal shows it, and its
// ids are ids (is_batch_api_id) without the secret. And the
// bodies gptq sends, from the same bytes: the upload form's filename cannot
// add a line to its head, and the create body is JSON that gives back the
// file id it was made with.
//
// Input: the whole of it is the server's body, and also the filename and
// file id; its first bytes make the boundary's seed.
#include "batch_api.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"
#include "secrets.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

constexpr std::string_view secret = "sk-fuzz-secret-0123";

bool shows_secret(std::string_view text)
{
  return text.find(secret) != std::string_view::npos;
}

// What every parser promises about its failure.
void check_error(const gptq::Error& e, const char* what)
{
  check(e.status() == gptq::ExitStatus::bad_response, what);
  check(gptq::fuzz::is_one_line(e.what()), what);
  check(!shows_secret(e.what()), what);
}

// An id goes into URL paths and is printed as it is.
bool is_safe_id(std::string_view id)
{
  return gptq::is_batch_api_id(id) && !shows_secret(id);
}

void check_batch(const gptq::BatchStatus& batch)
{
  check(!batch.id.empty() && !batch.status.empty(), "a batch without an id or a status");
  check(is_safe_id(batch.id) && (batch.input_file_id.empty() || is_safe_id(batch.input_file_id)) &&
          is_safe_id(batch.output_file_id.value_or("f")) && is_safe_id(batch.error_file_id.value_or("f")),
        "a batch's id or file id that is not an id, or shows the secret");
  check(batch.counts.total >= 0 && batch.counts.completed >= 0 && batch.counts.failed >= 0, "a negative count");
  for (const auto& error : batch.errors) {
    check(gptq::fuzz::is_one_line(error) && !shows_secret(error), "a batch error is not one redacted line");
  }
  check(gptq::fuzz::is_one_line(gptq::batch_progress_text(batch)), "the progress text is not one line");
}

void parse_all(std::string_view body, const gptq::Secrets& secrets)
{
  try {
    check_batch(gptq::parse_batch(body, secrets));
  } catch (const gptq::Error& e) {
    check_error(e, "a parse_batch error is not one redacted bad-response line");
  }
  try {
    for (const auto& batch : gptq::parse_batch_list(body, secrets)) {
      check_batch(batch);
    }
  } catch (const gptq::Error& e) {
    check_error(e, "a parse_batch_list error is not one redacted bad-response line");
  }
  try {
    check(is_safe_id(gptq::parse_file_id(body, secrets)), "a file id that is not an id, or shows the secret");
  } catch (const gptq::Error& e) {
    check_error(e, "a parse_file_id error is not one redacted bad-response line");
  }
}

void build_bodies(std::string_view text, std::uint64_t seed)
{
  const gptq::Multipart form = gptq::batch_upload_form(text, seed);
  check(std::count(form.head.begin(), form.head.end(), '\r') == 8, "the filename adds a CR to the form's head");
  check(std::count(form.head.begin(), form.head.end(), '\n') == 8, "the filename adds a LF to the form's head");
  const std::string body = gptq::batch_create_body(text, gptq::Api::responses, text.size());
  if (!gptq::find_invalid_utf8(text)) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    check(!ec && value.at("input_file_id").as_string() == text, "the create body does not give its file id back");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  gptq::Secrets secrets;
  secrets.add(secret);
  parse_all(text, secrets);
  std::uint64_t seed = 0;
  std::memcpy(&seed, data, std::min(size, sizeof seed));
  build_bodies(text, seed);
  return 0;
}
