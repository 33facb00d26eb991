#include "batch_api_client.hpp"

#include "error.hpp"
#include "response.hpp"
#include "retry.hpp"
#include "text.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <unistd.h>

namespace gptq {

namespace {

// Collects a reply: its head, and its body, or passes a 2xx body on.
class Collector : public ResponseHandler {
public:
  explicit Collector(const std::function<void(std::string_view)>& sink)
    : sink_(sink)
  {
  }
  void on_head(const HttpResponse& head) override { response_ = head; }
  void on_body(std::string_view piece) override
  {
    if (sink_ && response_.status >= 200 && response_.status < 300) {
      sink_(piece);
    } else if (response_.body.size() < (std::size_t{ 64 } << 20)) {
      response_.body.append(piece);
    }
  }
  const HttpResponse& response() const { return response_; }

private:
  const std::function<void(std::string_view)>& sink_;
  HttpResponse response_;
};

// Why creating a batch is not tried again after a failure that may have
// come after the server took the request.
constexpr const char* not_retried_reason =
  "not retried: the batch may have been created, and another try could create a second one (see --batch-list)";

} // namespace

BatchApiClient::BatchApiClient(const AppContext& context, Setup setup)
  : context_(context)
  , setup_(std::move(setup))
{
}

HttpRequest BatchApiClient::request(std::string method, std::string_view path, std::string body)
{
  HttpRequest r = build_http_request(
    endpoint_url(setup_.base, path), std::move(body), setup_.key, false, setup_.key_header, setup_.headers);
  r.method = std::move(method);
  if (r.method == "GET") {
    std::erase_if(r.headers, [](const auto& header) { return header.first == "Content-Type"; });
  }
  return r;
}

std::string BatchApiClient::exchange(const HttpRequest& request,
                                     const std::function<void(std::string_view)>& sink,
                                     bool not_twice)
{
  std::minstd_rand random(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::optional<Error> first;
  for (int attempt = 0;; ++attempt) {
    bool got_body = false;
    // The sink's own failure (a full disk, a file too large) is not the
    // exchange's: it must not read as a network failure, nor be retried.
    std::optional<Error> sink_failed;
    const std::function<void(std::string_view)> counting = [&](std::string_view piece) {
      got_body = true;
      try {
        sink(piece);
      } catch (const Error& e) {
        sink_failed = e;
        throw;
      }
    };
    Collector collector(sink ? counting : sink);
    std::optional<Error> failed;
    try {
      context_.make_transport(setup_.transport)->send(request, collector);
    } catch (const Error& e) {
      if (sink_failed) {
        throw *sink_failed;
      }
      failed = e;
    }
    const HttpResponse& response = collector.response();
    if (!failed && response.status >= 200 && response.status < 300) {
      last_headers_ = response.headers;
      return response.body;
    }
    if (!failed) {
      failed = Error(FailureKind::http_status,
                     exit_status_for_http(response.status),
                     "api",
                     describe_error_response(response, setup_.transport.secrets, request.url.text()));
    }
    if (!first) {
      first = failed;
    }
    // A download that wrote part of a file cannot be taken back.
    const TryState state{ attempt, setup_.retries, got_body, std::nullopt };
    const RetryDecision decision = decide_retry(*failed,
                                                failed->kind() == FailureKind::http_status ? &response : nullptr,
                                                state,
                                                std::chrono::system_clock::now(),
                                                unit(random));
    const bool surely_unsent = failed->kind() == FailureKind::resolve || failed->kind() == FailureKind::connect ||
                               (failed->kind() == FailureKind::http_status && response.status == 429);
    if (decision.action == RetryDecision::Action::give_up) {
      throw with_first_failure(with_reason(*failed, decision), *first, attempt + 1, setup_.transport.secrets);
    }
    if (not_twice && !surely_unsent) {
      // The retry decision's reason would tell of a retry that is not made.
      throw with_first_failure(failed->with_message(std::string(failed->what()) + "; " + not_retried_reason),
                               *first,
                               attempt + 1,
                               setup_.transport.secrets);
    }
    if (setup_.transport.log) {
      setup_.transport.log("attempt " + std::to_string(attempt + 1) + " failed: " + failed->what() + "; " +
                           decision.reason);
    }
    context_.sleep(decision.wait);
  }
}

std::string BatchApiClient::upload(int fd, std::uint64_t size, std::string_view filename)
{
  std::random_device seed;
  const Multipart form = batch_upload_form(filename, (std::uint64_t{ seed() } << 32) | seed());
  HttpRequest r = request("POST", "/files", "");
  for (auto& [name, value] : r.headers) {
    if (name == "Content-Type") {
      value = form.content_type;
    }
  }
  // head, the file, tail: read at any offset, so that a retry starts over.
  const std::uint64_t head = form.head.size();
  r.body_source =
    BodySource{ head + size + form.tail.size(),
                [&](std::uint64_t offset, char* buffer, std::size_t room) -> std::size_t {
                  if (offset < head) {
                    const std::size_t n = std::min<std::uint64_t>(room, head - offset);
                    std::memcpy(buffer, form.head.data() + offset, n);
                    return n;
                  }
                  if (offset < head + size) {
                    const std::size_t n = std::min<std::uint64_t>(room, head + size - offset);
                    ssize_t got;
                    while ((got = ::pread(fd, buffer, n, static_cast<off_t>(offset - head))) < 0 && errno == EINTR) {
                    }
                    if (got <= 0) {
                      throw Error(ExitStatus::internal,
                                  "batch",
                                  got < 0 ? std::string("cannot read the requests to upload: ") + std::strerror(errno)
                                          : std::string("the requests to upload ended early"));
                    }
                    return static_cast<std::size_t>(got);
                  }
                  const std::uint64_t at = offset - head - size;
                  const std::size_t n = std::min<std::uint64_t>(room, form.tail.size() - at);
                  std::memcpy(buffer, form.tail.data() + at, n);
                  return n;
                } };
  return parse_file_id(exchange(r), setup_.transport.secrets);
}

BatchStatus BatchApiClient::create(std::string_view file_id,
                                   Api api,
                                   std::size_t lines,
                                   std::optional<InputFrame> frame)
{
  return parse_batch(exchange(request("POST", "/batches", batch_create_body(file_id, api, lines, frame)), {}, true),
                     setup_.transport.secrets);
}

BatchStatus BatchApiClient::get(const std::string& id)
{
  return parse_batch(exchange(request("GET", "/batches/" + id, "")), setup_.transport.secrets);
}

BatchStatus BatchApiClient::cancel(const std::string& id)
{
  return parse_batch(exchange(request("POST", "/batches/" + id + "/cancel", "")), setup_.transport.secrets);
}

std::vector<BatchStatus> BatchApiClient::list()
{
  return parse_batch_list(exchange(request("GET", "/batches", "")), setup_.transport.secrets);
}

void BatchApiClient::download(const std::string& file_id, int fd, const InputLimit& limit)
{
  HttpRequest r = request("GET", "/files/" + file_id + "/content", "");
  std::uint64_t got = 0;
  exchange(r, [&](std::string_view piece) {
    got += piece.size();
    if (got > limit.bytes) {
      throw Error(FailureKind::bad_response,
                  ExitStatus::bad_response,
                  "response",
                  "file " + file_id + " is larger than " + limit.text + ", the most gptq takes of a batch's results");
    }
    while (!piece.empty()) {
      const ssize_t put = ::write(fd, piece.data(), piece.size());
      if (put < 0 && errno == EINTR) {
        continue;
      }
      if (put < 0) {
        const int error = errno;
        const char* tmpdir = std::getenv("TMPDIR");
        const std::string where = tmpdir && *tmpdir ? "$TMPDIR (" + quoted(tmpdir) + ")" : "/tmp ($TMPDIR is not set)";
        throw Error(
          ExitStatus::internal,
          "batch",
          "cannot write file " + file_id + " to a temporary file in " + where + ": " + std::strerror(error) +
            (error == ENOSPC || error == EDQUOT ? "; free some space there or set TMPDIR to a roomier place" : ""));
      }
      piece.remove_prefix(static_cast<std::size_t>(put));
    }
  });
}

} // namespace gptq
