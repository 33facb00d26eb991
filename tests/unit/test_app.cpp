#include "app.hpp"

#include "batch_api_client.hpp"
#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

using namespace gptq;

namespace {

// The status of a canned response that stands for a connection reset
// after the request went out (0 stands for no connection at all).
constexpr int reset = -1;

// Replays a canned response, handing the body over in pieces of `piece_size`
// bytes, and remembers the request it was given.
class FakeTransport : public Transport {
public:
  FakeTransport(HttpResponse response, std::size_t piece_size, std::vector<HttpRequest>& sent)
    : response_(std::move(response))
    , piece_size_(piece_size)
    , sent_(sent)
  {
  }

  void send(const HttpRequest& request, ResponseHandler& handler) override
  {
    sent_.push_back(request);
    if (response_.status == 0) {
      throw Error(
        FailureKind::connect, ExitStatus::network, "connect", "cannot connect to fake:443: Connection refused");
    }
    if (response_.status == reset) {
      throw Error(
        FailureKind::network, ExitStatus::network, "network", "fake:443 closed the connection without a response");
    }
    HttpResponse head = response_;
    head.body.clear();
    handler.on_head(head);
    for (std::size_t i = 0; i < response_.body.size(); i += piece_size_) {
      handler.on_body(std::string_view(response_.body).substr(i, piece_size_));
    }
  }

private:
  HttpResponse response_;
  std::size_t piece_size_;
  std::vector<HttpRequest>& sent_;
};

// Runs the app over a fake transport with stdin from `input` (a file
// holding it; /dev/null when it is empty, or `stdin_fd` when that is set) and
// captures stdout and stderr.
struct Harness {
  std::map<std::string, std::string> env{ { "OPENAI_BASE_URL", "https://fake.example/v1" } };
  HttpResponse response;
  std::vector<HttpResponse> first_responses; // answered, in order, before `response`
  std::size_t piece_size = 1 << 20;
  std::vector<HttpRequest> sent;
  std::vector<std::chrono::milliseconds> waits;
  std::string out;
  std::string err;
  int stdin_fd = -1;
  // Batch mode's connections, for a run that must not use them
  // (--batch-submit): making one fails.
  bool unused_connections = false;

  int run(std::vector<const char*> args, const std::string& input = "")
  {
    std::FILE* in = input.empty() ? std::fopen("/dev/null", "rb") : std::tmpfile();
    std::FILE* stdout_file = std::tmpfile();
    std::fwrite(input.data(), 1, input.size(), in);
    std::fflush(in);
    std::rewind(in);
    std::ostringstream err_stream;
    AppContext context;
    context.stdin_fd = stdin_fd != -1 ? stdin_fd : fileno(in);
    context.stdout_fd = fileno(stdout_file);
    context.err = &err_stream;
    context.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    context.sleep = [this](std::chrono::milliseconds ms) { waits.push_back(ms); };
    context.make_transport = [this](const TransportOptions&) {
      HttpResponse next = response;
      if (!first_responses.empty()) {
        next = first_responses.front();
        first_responses.erase(first_responses.begin());
      }
      return std::make_unique<FakeTransport>(next, piece_size, sent);
    };
    if (unused_connections) {
      context.make_connection = [](const auto&, const auto&) -> std::unique_ptr<Connection> {
        throw Error(ExitStatus::internal, "", "the test made a connection");
      };
    }
    const int status = run_app(args, context);
    std::rewind(stdout_file);
    out.clear();
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, stdout_file)) > 0) {
      out.append(buffer, n);
    }
    std::fclose(in);
    std::fclose(stdout_file);
    err = err_stream.str();
    return status;
  }
};

// An OpenAI-style event stream whose content pieces are `pieces`, ending
// with `finish` and [DONE].
HttpResponse event_stream(const std::vector<std::string>& pieces, const std::string& finish = "stop")
{
  HttpResponse r;
  r.status = 200;
  r.reason = "OK";
  r.headers = { { "Content-Type", "text/event-stream; charset=utf-8" } };
  r.body =
    ": keep-alive\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
  for (const auto& piece : pieces) {
    r.body += "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":" + piece + "},\"finish_reason\":null}]}\n\n";
  }
  r.body += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + finish + "\"}]}\n\n";
  r.body += "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n";
  r.body += "data: [DONE]\n\n";
  return r;
}

HttpResponse completion(const std::string& content_json)
{
  HttpResponse r;
  r.status = 200;
  r.reason = "OK";
  r.body = R"({"choices":[{"index":0,"message":{"role":"assistant","content":)" + content_json +
           R"(},"finish_reason":"stop"}]})";
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(app)

BOOST_AUTO_TEST_CASE(reply_goes_to_stdout_with_one_newline)
{
  Harness h;
  h.response = completion(R"("Ahoy!")");
  BOOST_TEST(h.run({ "-s", "a pirate" }, "hello\n") == 0);
  BOOST_TEST(h.out == "Ahoy!\n");
  BOOST_TEST(h.err == "");
  BOOST_TEST_REQUIRE(h.sent.size() == 1u);
  BOOST_TEST(
    h.sent[0].body ==
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"a pirate"},{"role":"user","content":"hello\n"}],)"
    R"("stream":true})");
  BOOST_TEST(h.sent[0].url.target() == "/v1/chat/completions");

  h.response = completion(R"("ends with newline\n")");
  BOOST_TEST(h.run({ "x" }) == 0);
  BOOST_TEST(h.out == "ends with newline\n");
}

BOOST_AUTO_TEST_CASE(body_split_at_every_offset_gives_the_same_reply)
{
  Harness h;
  h.response = completion(R"("caf\u00e9 \ud83d\ude00 caf)"
                          "\xC3\xA9"
                          R"(")");
  for (std::size_t piece = 1; piece <= h.response.body.size(); ++piece) {
    h.piece_size = piece;
    BOOST_TEST(h.run({ "q" }) == 0);
    BOOST_TEST(h.out == "caf\xC3\xA9 \xF0\x9F\x98\x80 caf\xC3\xA9\n", "piece size " << piece);
  }
}

BOOST_AUTO_TEST_CASE(stream_split_at_every_offset_gives_the_same_stdout_as_no_stream)
{
  Harness h;
  h.response = completion(R"("Caf\u00e9 au lait \ud83d\ude00\nline two")");
  BOOST_TEST(h.run({ "--no-stream", "q" }) == 0);
  const std::string expected = h.out;
  BOOST_TEST(expected == "Caf\xC3\xA9 au lait \xF0\x9F\x98\x80\nline two\n");
  h.response = event_stream({ R"("Caf\u00e9")", R"(" au lait ")", R"("\ud83d\ude00\nline")", R"(" two")" });
  for (std::size_t piece = 1; piece <= h.response.body.size(); ++piece) {
    h.piece_size = piece;
    BOOST_TEST(h.run({ "q" }) == 0);
    BOOST_TEST(h.out == expected, "piece size " << piece);
    BOOST_TEST(h.err.empty());
  }
}

BOOST_AUTO_TEST_CASE(stream_usage_and_length_warning_go_to_stderr)
{
  Harness h;
  h.response = event_stream({ R"("cut sh")" }, "length");
  BOOST_TEST(h.run({ "--usage", "--max-tokens", "2", "q" }) == 0);
  BOOST_TEST(h.out == "cut sh\n");
  BOOST_TEST(h.err ==
             "gptq: warning: the reply was cut at the token limit (finish_reason: length); raise --max-tokens\n"
             "gptq: usage: 5 prompt + 2 completion = 7 tokens\n");
  BOOST_TEST(h.sent.back().body.find(R"("stream_options":{"include_usage":true})") != std::string::npos);
  // The limit set as the request's own field counts as given too; none
  // given, the limit was the model's context or the server's.
  BOOST_TEST(h.run({ "-o", "max_completion_tokens=2", "q" }) == 0);
  BOOST_TEST(h.err ==
             "gptq: warning: the reply was cut at the token limit (finish_reason: length); raise --max-tokens\n");
  BOOST_TEST(h.run({ "q" }) == 0);
  BOOST_TEST(h.err == "gptq: warning: the reply was cut at the token limit (finish_reason: length); the model's "
                      "context is full (prompt and reply), or the server has a default limit\n");
}

BOOST_AUTO_TEST_CASE(stream_cut_before_the_end_keeps_the_text_and_fails)
{
  Harness h;
  h.response = event_stream({ R"("partial")", R"(" text")" });
  h.response.body = h.response.body.substr(0, h.response.body.find("finish_reason\":\"stop"));
  BOOST_TEST(h.run({ "q" }) == 8);
  BOOST_TEST(h.out == "partial text\n");
  BOOST_TEST(h.err.starts_with("gptq: "));
  BOOST_TEST(h.err.find("the reply is incomplete") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(key_is_sent_as_bearer_only_when_set)
{
  Harness h;
  h.response = completion(R"("ok")");
  BOOST_TEST(h.run({ "q" }) == 0);
  BOOST_TEST(!h.sent.back().header("Authorization").has_value());
  h.env["OPENAI_API_KEY"] = "  sk-test-key\n";
  BOOST_TEST(h.run({ "q" }) == 0);
  BOOST_TEST(h.sent.back().header("Authorization").value_or("<absent>") == "Bearer sk-test-key");
}

BOOST_AUTO_TEST_CASE(missing_key_for_openai_fails_before_any_request)
{
  Harness h;
  h.env.clear();
  BOOST_TEST(h.run({ "q" }) == 3);
  BOOST_TEST(h.sent.empty());
  BOOST_TEST(h.out.empty());
  BOOST_TEST(h.err.starts_with("gptq: OPENAI_API_KEY is not set"));
}

BOOST_AUTO_TEST_CASE(key_that_cannot_be_a_header_is_refused_without_echo)
{
  Harness h;
  h.env["OPENAI_API_KEY"] = "sk-abc\r\nX-Evil: 1";
  BOOST_TEST(h.run({ "q" }) == 3);
  BOOST_TEST(h.sent.empty());
  BOOST_TEST(h.err.find("sk-abc") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(dry_run_prints_the_body_and_sends_nothing)
{
  Harness h;
  h.env = { { "OPENAI_API_KEY", "sk-secret-dry" } };
  BOOST_TEST(h.run({ "--dry-run", "-t", "0.2", "hi" }) == 0);
  BOOST_TEST(h.sent.empty());
  BOOST_TEST(h.out ==
             R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"stream":true})"
             "\n");
  BOOST_TEST(h.out.find("sk-secret-dry") == std::string::npos);
  h.env.clear();
  BOOST_TEST(h.run({ "--dry-run", "hi" }) == 0);
}

BOOST_AUTO_TEST_CASE(api_errors_map_to_exit_codes_with_one_line)
{
  const std::pair<int, int> cases[] = { { 400, 5 }, { 401, 3 }, { 403, 3 }, { 404, 5 },
                                        { 402, 6 }, { 429, 6 }, { 500, 7 }, { 503, 7 } };
  for (const auto& [status, code] : cases) {
    Harness h;
    h.response.status = status;
    h.response.reason = "Reason";
    h.response.body = R"({"error":{"message":"went\nwrong","code":"c"}})";
    BOOST_TEST(h.run({ "q" }) == code, status);
    BOOST_TEST(h.out.empty());
    BOOST_TEST(h.err == "gptq: api: HTTP " + std::to_string(status) + " Reason: went wrong (code: c)\n");
  }
}

BOOST_AUTO_TEST_CASE(key_quoted_by_the_server_is_redacted)
{
  Harness h;
  h.env["OPENAI_API_KEY"] = "sk-leaky-0123456789";
  h.response.status = 401;
  h.response.body = R"({"error":{"message":"Incorrect API key provided: sk-leaky-0123456789."}})";
  BOOST_TEST(h.run({ "q" }) == 3);
  BOOST_TEST(h.err.find("sk-leaky") == std::string::npos);
  BOOST_TEST(h.err.find("[REDACTED]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(key_shorter_than_a_secret_is_not_redacted_but_a_proxy_password_of_4_bytes_is)
{
  Harness h;
  h.env["OPENAI_API_KEY"] = "ollama1";
  h.env["HTTPS_PROXY"] = "http://me:pw42@proxy.example:3128";
  h.response.status = 400;
  h.response.body = R"({"error":{"message":"ollama1: model not found; pw42"}})";
  BOOST_TEST(h.run({ "q" }) == 5);
  BOOST_TEST(h.err == "gptq: api: HTTP 400: ollama1: model not found; [REDACTED]\n");
}

BOOST_AUTO_TEST_CASE(transport_failure_is_reported_with_its_phase)
{
  Harness h;
  h.response.status = 0;
  BOOST_TEST(h.run({ "q" }) == 4);
  BOOST_TEST(h.err == "gptq: connect: cannot connect to fake:443: Connection refused\n");
}

BOOST_AUTO_TEST_CASE(bad_reply_is_exit_8_with_empty_stdout)
{
  Harness h;
  h.response.status = 200;
  h.response.body = R"({"choices":[{"message":{"content":"cut)";
  BOOST_TEST(h.run({ "q" }) == 8);
  BOOST_TEST(h.out.empty());
}

BOOST_AUTO_TEST_CASE(usage_errors_come_before_reading_or_sending)
{
  Harness h;
  BOOST_TEST(h.run({ "--base-url", "ftp://x" }) == 2);
  BOOST_TEST(h.run({}, "") == 2);
  BOOST_TEST(h.err == "gptq: the prompt is empty: give PROMPT words or pipe text to stdin (see 'gptq --help')\n");
  BOOST_TEST(h.run({ "-s", "bad \xFF" }, "x") == 2);
  BOOST_TEST(h.sent.empty());
}

// A terminal is not read (the user types the PROMPT words instead), so it
// is not an empty stdin to warn of.
BOOST_AUTO_TEST_CASE(a_terminal_stdin_is_not_read_or_warned_of)
{
  const int terminal = posix_openpt(O_RDWR | O_NOCTTY);
  BOOST_TEST_REQUIRE(terminal != -1);
  BOOST_TEST_REQUIRE(grantpt(terminal) == 0);
  BOOST_TEST_REQUIRE(unlockpt(terminal) == 0);
  const int side = open(ptsname(terminal), O_RDWR | O_NOCTTY);
  BOOST_TEST_REQUIRE(side != -1);
  Harness h;
  h.response = completion(R"("ok")");
  h.stdin_fd = side;
  BOOST_TEST(h.run({ "just", "words" }) == 0);
  BOOST_TEST(h.err == "");
  BOOST_TEST(h.sent.back().body.find(R"("content":"just words")") != std::string::npos);
  close(side);
  close(terminal);
}

BOOST_AUTO_TEST_CASE(no_stdin_ignores_piped_input)
{
  Harness h;
  h.response = completion(R"("ok")");
  BOOST_TEST(h.run({ "--no-stdin", "only", "words" }, "ignored") == 0);
  BOOST_TEST(h.sent.back().body.find("ignored") == std::string::npos);
  BOOST_TEST(h.sent.back().body.find(R"("only words")") != std::string::npos);
}

HttpResponse failure(int status, Headers headers = {}, std::string body = R"({"error":{"message":"busy"}})")
{
  HttpResponse r;
  r.status = status;
  r.reason = "Reason";
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

BOOST_AUTO_TEST_CASE(retries_after_server_errors_then_succeeds)
{
  Harness h;
  h.first_responses = { failure(503), failure(429, { { "Retry-After", "2" } }) };
  h.response = completion(R"("third time")");
  BOOST_TEST(h.run({ "q" }) == 0);
  BOOST_TEST(h.out == "third time\n");
  BOOST_TEST(h.err.empty());
  BOOST_TEST(h.sent.size() == 3u);
  BOOST_TEST_REQUIRE(h.waits.size() == 2u);
  BOOST_TEST(h.waits[0].count() >= 375);
  BOOST_TEST(h.waits[0].count() <= 500);
  BOOST_TEST(h.waits[1].count() == 2000);
}

BOOST_AUTO_TEST_CASE(gives_up_after_the_retries_with_the_last_failure)
{
  Harness h;
  h.first_responses = { failure(503), failure(500) };
  h.response = failure(502);
  BOOST_TEST(h.run({ "--retries", "2", "q" }) == 7);
  BOOST_TEST(h.sent.size() == 3u);
  BOOST_TEST(h.err.starts_with("gptq: api: HTTP 502"));
  BOOST_TEST(h.err.find('\n') == h.err.size() - 1);
}

BOOST_AUTO_TEST_CASE(retries_zero_sends_once)
{
  Harness h;
  h.response = failure(503);
  BOOST_TEST(h.run({ "--retries", "0", "q" }) == 7);
  BOOST_TEST(h.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(not_retried_when_it_cannot_help)
{
  const HttpResponse cases[] = {
    failure(400),
    failure(401),
    failure(403),
    failure(404),
    failure(429, {}, R"({"error":{"message":"quota","code":"insufficient_quota"}})"),
    failure(503, { { "x-should-retry", "false" } }),
  };
  for (const auto& response : cases) {
    Harness h;
    h.response = response;
    h.run({ "q" });
    BOOST_TEST(h.sent.size() == 1u, response.status);
    BOOST_TEST(h.waits.empty());
  }
}

BOOST_AUTO_TEST_CASE(x_should_retry_true_retries_any_status)
{
  Harness h;
  h.first_responses = { failure(400, { { "x-should-retry", "true" } }) };
  h.response = completion(R"("ok")");
  BOOST_TEST(h.run({ "q" }) == 0);
  BOOST_TEST(h.sent.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_wait_longer_than_the_cap_fails_at_once_and_says_when)
{
  Harness h;
  h.response = failure(429, { { "Retry-After", "3600" } });
  BOOST_TEST(h.run({ "q" }) == 6);
  BOOST_TEST(h.sent.size() == 1u);
  BOOST_TEST(h.waits.empty());
  BOOST_TEST(h.err.find("wait 3600 s before trying again") != std::string::npos, h.err);
}

BOOST_AUTO_TEST_CASE(connection_failures_are_retried)
{
  Harness h;
  h.response.status = 0; // the fake's connection failure
  BOOST_TEST(h.run({ "q" }) == 4);
  BOOST_TEST(h.sent.size() == 3u);
  BOOST_TEST(h.err == "gptq: connect: cannot connect to fake:443: Connection refused\n");
}

BOOST_AUTO_TEST_CASE(verbose_tells_each_retry_and_never_the_key)
{
  Harness h;
  h.env["OPENAI_API_KEY"] = "sk-verbose-secret";
  h.first_responses = { failure(503, {}, R"({"error":{"message":"busy sk-verbose-secret"}})") };
  h.response = completion(R"("ok")");
  BOOST_TEST(h.run({ "-v", "q" }) == 0);
  BOOST_TEST(h.err.find("gptq: POST https://fake.example/v1/chat/completions\n") != std::string::npos, h.err);
  BOOST_TEST(h.err.find("retry 1 of 2") != std::string::npos, h.err);
  BOOST_TEST(h.err.find("sk-verbose") == std::string::npos, h.err);
}

BOOST_AUTO_TEST_CASE(nothing_is_retried_once_output_started)
{
  Harness h;
  h.response = event_stream({ R"("partial")" });
  h.response.body = h.response.body.substr(0, h.response.body.find("finish_reason\":\"stop"));
  BOOST_TEST(h.run({ "q" }) == 8);
  BOOST_TEST(h.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(headers_and_key_header)
{
  Harness h;
  h.env["OPENAI_API_KEY"] = "sk-h";
  h.response = completion(R"("ok")");
  BOOST_TEST(
    h.run({ "-H", "HTTP-Referer: https://example.org", "-H", "X-Title:gptq", "--key-header", "api-key", "q" }) == 0);
  const HttpRequest& r = h.sent.back();
  BOOST_TEST(r.header("HTTP-Referer").value_or("") == "https://example.org");
  BOOST_TEST(r.header("X-Title").value_or("") == "gptq");
  BOOST_TEST(r.header("api-key").value_or("") == "sk-h");
  BOOST_TEST(!r.header("Authorization").has_value());
  BOOST_TEST(h.run({ "-H", "no colon", "q" }) == 2);
  BOOST_TEST(h.run({ "-H", "Bad Name: x", "q" }) == 2);
}

BOOST_AUTO_TEST_CASE(azure_hosts_get_the_api_key_header)
{
  Harness h;
  h.env = { { "OPENAI_API_KEY", "azure-key" },
            { "OPENAI_BASE_URL", "https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21" } };
  h.response = completion(R"("ok")");
  BOOST_TEST(h.run({ "q" }) == 0);
  BOOST_TEST(h.sent.back().header("api-key").value_or("") == "azure-key");
  BOOST_TEST(!h.sent.back().header("Authorization").has_value());
  BOOST_TEST(h.sent.back().url.target() == "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21");
}

// A File object the fake's POST /files answers with.
HttpResponse file_object()
{
  HttpResponse r;
  r.status = 200;
  r.reason = "OK";
  r.body = R"({"id":"file-1","object":"file","purpose":"batch"})";
  return r;
}

BOOST_AUTO_TEST_CASE(a_batch_that_may_have_been_created_is_not_created_again)
{
  for (const int status : { 500, 503, reset }) {
    Harness h;
    h.unused_connections = true;
    h.first_responses = { file_object() };
    h.response = status == reset ? HttpResponse{} : failure(status);
    h.response.status = status;
    const int exit = h.run({ "-L", "--batch-submit", "--retries", "3" }, "one\ntwo\n");
    BOOST_TEST(exit == (status == reset ? 4 : 7), status);
    BOOST_TEST_REQUIRE(h.sent.size() == 2u, status);
    BOOST_TEST(h.sent[1].method == "POST");
    BOOST_TEST(h.sent[1].url.target() == "/v1/batches");
    BOOST_TEST(h.waits.empty());
    BOOST_TEST(h.out.empty());
    BOOST_TEST(h.err.ends_with("; not retried: the batch may have been created, and another try could create a "
                               "second one (see --batch-list)\n"),
               h.err);
    BOOST_TEST(h.err.starts_with(status == reset ? "gptq: network: fake:443 closed" : "gptq: api: HTTP "), h.err);
    BOOST_TEST(h.err.find("retry") == std::string::npos, h.err); // nor of a retry, nor of tries
    BOOST_TEST(h.err.find("tries") == std::string::npos, h.err);
    BOOST_TEST(h.err.find('\n') == h.err.size() - 1);
  }
}

BOOST_AUTO_TEST_CASE(creating_a_batch_is_retried_when_it_surely_did_not_reach_the_server)
{
  for (const int status : { 0, 429 }) {
    Harness h;
    h.unused_connections = true;
    h.first_responses = { file_object() };
    h.response = failure(status);
    BOOST_TEST(h.run({ "-L", "--batch-submit", "--retries", "2" }, "one\n") == (status == 0 ? 4 : 6), status);
    BOOST_TEST(h.sent.size() == 4u, status); // the upload, then three tries
    BOOST_TEST(h.waits.size() == 2u, status);
    BOOST_TEST(h.err.find("not retried") == std::string::npos, h.err);
  }
}

BOOST_AUTO_TEST_CASE(a_request_the_server_refused_is_not_said_to_be_maybe_created)
{
  Harness h;
  h.unused_connections = true;
  h.first_responses = { file_object() };
  h.response = failure(400, {}, R"({"error":{"message":"bad endpoint"}})");
  BOOST_TEST(h.run({ "-L", "--batch-submit" }, "one\n") == 5);
  BOOST_TEST(h.sent.size() == 2u);
  BOOST_TEST(h.err.find("bad endpoint") != std::string::npos, h.err);
  BOOST_TEST(h.err.find("retr") == std::string::npos, h.err);
}

BOOST_AUTO_TEST_CASE(help_and_version_go_to_stdout)
{
  Harness h;
  BOOST_TEST(h.run({ "--help" }) == 0);
  BOOST_TEST(h.out.starts_with("Usage: gptq"));
  BOOST_TEST(h.run({ "--version" }) == 0);
  BOOST_TEST(h.out.starts_with(std::string("gptq ") + GPTQ_VERSION + "\n"));
  BOOST_TEST(h.sent.empty());
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A BatchApiClient whose every exchange gets `response` from the fake
// transport, in pieces of 4 bytes, and records what it sent.
struct ClientHarness {
  HttpResponse response;
  std::vector<HttpRequest> sent;
  std::vector<std::chrono::milliseconds> waits;
  AppContext context;
  std::optional<BatchApiClient> client;

  explicit ClientHarness(std::string body)
  {
    response.status = 200;
    response.reason = "OK";
    response.body = std::move(body);
    context.sleep = [this](std::chrono::milliseconds ms) { waits.push_back(ms); };
    context.make_transport = [this](const TransportOptions&) {
      return std::make_unique<FakeTransport>(response, 4, sent);
    };
    client.emplace(context,
                   BatchApiClient::Setup{ parse_url("https://fake.example/v1"), {}, "Authorization", {}, {}, 2 });
  }
};

// The bytes of the file open at `fd`, from its start.
std::string contents(int fd)
{
  std::string text;
  char buffer[4096];
  for (off_t at = 0;;) {
    const ssize_t got = pread(fd, buffer, sizeof buffer, at);
    if (got <= 0) {
      return text;
    }
    text.append(buffer, static_cast<std::size_t>(got));
    at += got;
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(batch_api_client)

BOOST_AUTO_TEST_CASE(a_download_up_to_its_limit_is_written_whole)
{
  ClientHarness h("0123456789");
  std::FILE* file = std::tmpfile();
  h.client->download("file-1", fileno(file), InputLimit{ 10, "10 bytes" });
  BOOST_TEST(contents(fileno(file)) == "0123456789");
  BOOST_TEST(h.sent.size() == 1u);
  BOOST_TEST(h.sent[0].method == "GET");
  BOOST_TEST(h.sent[0].url.target() == "/v1/files/file-1/content");
  std::fclose(file);
}

BOOST_AUTO_TEST_CASE(a_download_over_its_limit_stops_there_and_is_not_retried)
{
  ClientHarness h("0123456789A");
  std::FILE* file = std::tmpfile();
  const auto line = gptq::test::error_line(
    [&] {
      h.client->download("file-1", fileno(file), InputLimit{ 10, "10 bytes" });
    },
    8);
  BOOST_TEST(line == "response: file file-1 is larger than 10 bytes, the most gptq takes of a batch's results");
  BOOST_TEST(contents(fileno(file)).size() <= 10u);
  BOOST_TEST(h.sent.size() == 1u);
  BOOST_TEST(h.waits.empty());
  std::fclose(file);
}

BOOST_AUTO_TEST_CASE(a_full_disk_names_tmpdir_and_is_not_retried)
{
  ClientHarness h("0123456789");
  const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(full >= 0);
  const char* before = std::getenv("TMPDIR");
  const std::optional<std::string> saved = before ? std::optional<std::string>(before) : std::nullopt;
  setenv("TMPDIR", "/var/tmp/gptq test", 1);
  const auto line = gptq::test::error_line([&] { h.client->download("file-1", full); }, 1);
  BOOST_TEST(line == "batch: cannot write file file-1 to a temporary file in $TMPDIR ('/var/tmp/gptq test'): No space "
                     "left on device; free some space there or set TMPDIR to a roomier place");
  unsetenv("TMPDIR");
  const auto unset = gptq::test::error_line([&] { h.client->download("file-1", full); }, 1);
  BOOST_TEST(unset.starts_with("batch: cannot write file file-1 to a temporary file in /tmp ($TMPDIR is not set): "),
             unset);
  if (saved) {
    setenv("TMPDIR", saved->c_str(), 1);
  }
  BOOST_TEST(h.sent.size() == 2u);
  BOOST_TEST(h.waits.empty());
  close(full);
}

BOOST_AUTO_TEST_SUITE_END()
