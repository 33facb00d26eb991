#pragma once

#include "app.hpp"
#include "batch_api.hpp"
#include "input.hpp"
#include "request.hpp"
#include "transport.hpp"
#include "url.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The provider's Batch API for one run (issue 19): upload a request file,
// create a batch, poll it, fetch its files, cancel, list. Files go up and
// come down in pieces, never whole in memory. Each call is one HTTP
// exchange, retried as a single request is (retry.hpp): an upload only
// while nothing of its reply came, which a retry could not repeat.
class BatchApiClient {
public:
  struct Setup {
    Url base;                       // --base-url: the Batch API's paths go under it
    std::optional<std::string> key; // none for a server that needs none
    std::string key_header;         // key_header_for()
    Headers headers;                // -H
    TransportOptions transport;
    int retries = 0;
  };
  BatchApiClient(const AppContext& context, Setup setup);

  // Uploads the `size` bytes of file `fd` (read at any offset from 0, so
  // that a retry starts over) for purpose=batch, as `filename`; returns the
  // file's id.
  std::string upload(int fd, std::uint64_t size, std::string_view filename);
  // With `frame`, the batch's metadata says where each line's input is.
  BatchStatus create(std::string_view file_id, Api api, std::size_t lines, std::optional<InputFrame> frame);
  BatchStatus get(const std::string& id);
  BatchStatus cancel(const std::string& id);
  std::vector<BatchStatus> list();
  // Writes the content of file `file_id` to `fd`, a temporary file in
  // $TMPDIR (else /tmp), as it arrives. Throws gptq::Error, not retried:
  // bad_response (exit 8, phase "response") naming the file and `limit`
  // when the content is larger (a server could fill the disk); internal
  // (exit 1, phase "batch") naming $TMPDIR when writing fails (a full disk).
  void download(const std::string& file_id, int fd, const InputLimit& limit = results_limit);
  // The headers of the last reply that succeeded (a poll's Retry-After).
  const Headers& last_headers() const { return last_headers_; }

private:
  HttpRequest request(std::string method, std::string_view path, std::string body);
  // Sends `request`, retrying as retry.hpp decides; returns the body of its
  // 2xx reply, or hands the body to `sink` as it arrives (then returns "").
  // With `not_twice` (creating a batch: a second one would cost twice)
  // only a failure that surely kept the request from the server (no
  // connection, or 429) is retried. A gptq::Error `sink` throws ends the
  // exchange as it is, never retried.
  std::string exchange(const HttpRequest& request,
                       const std::function<void(std::string_view)>& sink = {},
                       bool not_twice = false);

  const AppContext& context_;
  Setup setup_;
  Headers last_headers_;
};

} // namespace gptq
