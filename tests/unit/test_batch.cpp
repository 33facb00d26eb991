// The batch engine (batch.hpp) with fake connections: order, concurrency,
// failures, rate limits, resume and --fail-fast, without a network.

#include "batch.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

using namespace gptq;
using gptq::test::TempFile;
namespace net = boost::asio;
namespace json = boost::json;

namespace {

// What the fake server saw and how it answers.
struct Server {
  int in_flight = 0;
  int most_in_flight = 0;
  int connections = 0;
  std::vector<std::string> prompts;      // in the order they were sent
  std::vector<int> in_flight_at_send;    // in_flight, that request included, as each of `prompts` was sent
  std::set<std::string> limited;         // prompts already answered with a 429 once
  std::set<std::string> shaken;          // prompts already answered with a 503 once
  std::optional<std::size_t> limited_at; // how many requests had been sent when the first such 429 went back
  std::vector<std::optional<std::chrono::milliseconds>> time_limits; // each send's, in order
  // Awaited when a request arrives, before it is answered (tests act on the
  // batch's input from here).
  std::function<net::awaitable<void>(const std::string& prompt)> on_send;
};

// Answers by the user message: "fail..." 500, "bad..." 400, "quota..." 429
// insufficient_quota, "limit..." one 429 with Retry-After: 0 then success,
// "slowN..." waits N ms first, "shaky..." one 503 with Retry-After: 0 and
// then a reset connection; else 200 with the content "echo: PROMPT".
class FakeConnection : public Connection {
public:
  explicit FakeConnection(Server& server)
    : server_(server)
  {
    ++server_.connections;
  }

  net::awaitable<void> send(const HttpRequest& request,
                            ResponseHandler& handler,
                            std::optional<std::chrono::milliseconds> time_limit) override
  {
    server_.time_limits.push_back(time_limit);
    const auto body = json::parse(request.body);
    const auto& messages = body.at("messages").as_array();
    const std::string prompt(messages.back().at("content").as_string());
    server_.prompts.push_back(prompt);
    server_.most_in_flight = std::max(server_.most_in_flight, ++server_.in_flight);
    server_.in_flight_at_send.push_back(server_.in_flight);
    if (server_.on_send) {
      co_await server_.on_send(prompt);
    }
    int delay = 1;
    if (prompt.starts_with("slow")) {
      delay = std::stoi(prompt.substr(4));
    }
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(delay));
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    --server_.in_flight;

    HttpResponse response;
    response.status = 200;
    if (prompt.starts_with("fail")) {
      response.status = 500;
      response.body = R"({"error":{"message":"it broke","type":"server_error"}})";
    } else if (prompt.starts_with("bad")) {
      response.status = 400;
      response.body = R"({"error":{"message":"bad request","type":"invalid_request_error"}})";
    } else if (prompt.starts_with("shaky") && server_.shaken.insert(prompt).second) {
      response.status = 503;
      response.headers.push_back({ "Retry-After", "0" });
      response.body = R"({"error":{"message":"overloaded","type":"server_error"}})";
    } else if (prompt.starts_with("shaky")) {
      throw Error(FailureKind::network, ExitStatus::network, "network", "connection reset by peer");
    } else if (prompt.starts_with("denied")) {
      response.status = 401;
      response.body = R"({"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}})";
    } else if (prompt.starts_with("quota")) {
      response.status = 429;
      response.body = R"({"error":{"message":"You exceeded your quota","code":"insufficient_quota"}})";
    } else if (prompt.starts_with("limit") && server_.limited.insert(prompt).second) {
      if (!server_.limited_at) {
        server_.limited_at = server_.prompts.size();
      }
      response.status = 429;
      response.headers.push_back({ "Retry-After", "0" });
      response.body = R"({"error":{"message":"slow down","code":"rate_limit_exceeded"}})";
    } else {
      json::object reply{ { "choices",
                            json::array{ json::object{
                              { "index", 0 },
                              { "message", json::object{ { "role", "assistant" }, { "content", "echo: " + prompt } } },
                              { "finish_reason", "stop" } } } } };
      response.body = json::serialize(reply);
    }
    HttpResponse head = response;
    head.body.clear();
    handler.on_head(head);
    handler.on_body(response.body);
  }

private:
  Server& server_;
};

struct Run {
  ExitStatus status = ExitStatus::ok;
  std::optional<Error> thrown; // what run_batch threw, if it did
  std::string out;
  std::string err;
  Server server;
};

// Runs the batch with stdin `in_fd`; `on_send` becomes the server's.
Run run_on(int in_fd,
           const BatchSettings& settings,
           std::function<net::awaitable<void>(const std::string& prompt)> on_send = {})
{
  Run r;
  r.server.on_send = std::move(on_send);
  TempFile out;
  std::ostringstream err;
  BatchContext context;
  context.in_fd = in_fd;
  context.out_fd = out.fd();
  context.err = &err;
  context.connect = [&](const net::any_io_executor&) { return std::make_unique<FakeConnection>(r.server); };
  context.request_for = [](const BatchItem& item) {
    HttpRequest request;
    json::object body{ { "model", "m" },
                       { "messages", json::array{ json::object{ { "role", "user" }, { "content", item.prompt } } } } };
    for (const auto& [key, value] : item.fields) {
      body[key] = json::parse(value);
    }
    request.body = json::serialize(body);
    return request;
  };
  try {
    r.status = run_batch(settings, context);
  } catch (const Error& e) {
    r.thrown = e;
  }
  r.out = out.contents();
  r.err = err.str();
  return r;
}

Run run(const std::string& input, BatchSettings settings = {})
{
  TempFile in(input);
  return run_on(in.fd(), settings);
}

} // namespace

BOOST_AUTO_TEST_SUITE(batch)

BOOST_AUTO_TEST_CASE(results_come_in_input_order_whatever_order_they_finish_in)
{
  // Early lines are the slowest, so they finish last.
  std::string input;
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    const std::string prompt = "slow" + std::to_string((40 - i) % 7 * 3) + " #" + std::to_string(i);
    input += prompt + "\n";
    expected += "echo: " + prompt + "\n";
  }
  BatchSettings settings;
  settings.jobs = 8;
  const Run r = run(input, settings);
  BOOST_TEST(static_cast<int>(r.status) == 0);
  BOOST_TEST(r.out == expected);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(r.server.most_in_flight <= 8);
  BOOST_TEST(r.server.most_in_flight > 1);
  BOOST_TEST(r.server.connections == 8);
}

// Plain output has a line for every input line, so that paste(1) lines
// them up; JSONL records carry their line numbers instead.
BOOST_AUTO_TEST_CASE(blank_lines_are_not_sent_but_keep_their_place_and_the_last_line_needs_no_newline)
{
  const Run r = run("a\n\n   \nb");
  BOOST_TEST(r.out == "echo: a\n\n\necho: b\n");
  BOOST_TEST(r.server.prompts.size() == 2u);
  BatchSettings jsonl;
  jsonl.jsonl_out = true;
  const Run j = run("a\n\n   \nb", jsonl);
  BOOST_TEST(j.out == jsonl_result(1, "a", "echo: a") + jsonl_result(4, "b", "echo: b"));
}

BOOST_AUTO_TEST_CASE(a_failed_line_is_an_empty_line_and_a_message_and_the_rest_go_on)
{
  BatchSettings settings;
  settings.retries = 0;
  const Run r = run("one\nbad request\nthree\n", settings);
  BOOST_TEST(r.out == "echo: one\n\necho: three\n");
  BOOST_TEST(r.err.find("gptq: line 2: ") == 0, r.err);
  BOOST_TEST(r.err.find("bad request") != std::string::npos, r.err);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::rejected));
}

BOOST_AUTO_TEST_CASE(the_exit_status_is_the_most_severe_one_seen)
{
  BatchSettings settings;
  settings.retries = 0;
  const Run r = run("bad 1\nfail 2\nbad 3\n", settings);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::server));
  BOOST_TEST(batch_severity(ExitStatus::auth) > batch_severity(ExitStatus::server));
  BOOST_TEST(batch_severity(ExitStatus::server) > batch_severity(ExitStatus::rejected));
}

BOOST_AUTO_TEST_CASE(server_errors_are_retried)
{
  BatchSettings settings;
  settings.retries = 2;
  const Run r = run("fail always\n", settings);
  BOOST_TEST(r.server.prompts.size() == 3u);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::server));
}

BOOST_AUTO_TEST_CASE(a_rate_limit_is_waited_out_and_the_line_succeeds)
{
  const Run r = run("limit me\nother\n");
  BOOST_TEST(r.out == "echo: limit me\necho: other\n");
  BOOST_TEST(static_cast<int>(r.status) == 0);
  BOOST_TEST(r.server.prompts.size() == 3u);
}

// --timeout bounds a line's tries together: each try gets what is left of
// it, not the whole again; without it, no try has a limit.
BOOST_AUTO_TEST_CASE(timeout_bounds_the_tries_of_a_line_together)
{
  BatchSettings settings;
  settings.jobs = 1;
  settings.timeout = std::chrono::milliseconds(60'000);
  const Run limited = run("limit me\n", settings);
  BOOST_TEST(limited.out == "echo: limit me\n");
  BOOST_TEST_REQUIRE(limited.server.time_limits.size() == 2u);
  BOOST_TEST_REQUIRE(limited.server.time_limits[0].has_value());
  BOOST_TEST_REQUIRE(limited.server.time_limits[1].has_value());
  BOOST_TEST(limited.server.time_limits[0]->count() <= 60'000);
  BOOST_TEST(limited.server.time_limits[1]->count() <= limited.server.time_limits[0]->count());
  const Run unlimited = run("limit me\n");
  BOOST_TEST_REQUIRE(unlimited.server.time_limits.size() == 2u);
  BOOST_TEST(!unlimited.server.time_limits[0].has_value());
  BOOST_TEST(!unlimited.server.time_limits[1].has_value());
}

BOOST_AUTO_TEST_CASE(a_rate_limit_halves_the_requests_in_flight_and_successes_grow_them_back)
{
  // Line 1 is answered with a 429 (Retry-After: 0) at once, while the 7
  // lines sent beside it take 20 ms: all 8 workers have a request out.
  std::string input = "limit me\n";
  for (int i = 2; i <= 100; ++i) {
    input += "slow20 #" + std::to_string(i) + "\n";
  }
  BatchSettings settings;
  settings.jobs = 8;
  const Run r = run(input, settings);
  BOOST_TEST(static_cast<int>(r.status) == 0);
  BOOST_TEST(r.err.empty(), r.err);
  const auto& sent = r.server.in_flight_at_send;
  BOOST_TEST_REQUIRE(sent.size() == 101u); // every line, and line 1 twice
  BOOST_TEST_REQUIRE(r.server.limited_at.value_or(0) == 8u);
  BOOST_TEST(*std::max_element(sent.begin(), sent.begin() + 8) == 8);
  // The first new line after the 429 waits until at most half as many
  // requests are out. (Line 1's own retry is not a new line; and the
  // successes of the requests already out may have earned one more.)
  std::size_t first_new = 8;
  while (first_new < sent.size() && r.server.prompts[first_new] == "limit me") {
    ++first_new;
  }
  BOOST_TEST_REQUIRE(first_new < sent.size());
  BOOST_TEST(sent[first_new] - 1 <= settings.jobs / 2, "others in flight: " << sent[first_new] - 1);
  // Successes bring it back to --jobs.
  BOOST_TEST(*std::max_element(sent.begin() + static_cast<std::ptrdiff_t>(first_new), sent.end()) == 8);
}

BOOST_AUTO_TEST_CASE(jsonl_records_carry_line_input_and_output_or_error)
{
  BatchSettings settings;
  settings.jsonl_out = true;
  settings.retries = 0;
  const Run r = run("hi\n\nbad one\n", settings);
  std::istringstream lines(r.out);
  std::string first;
  std::string second;
  std::getline(lines, first);
  std::getline(lines, second);
  const auto a = json::parse(first).as_object();
  BOOST_TEST(a.at("line").to_number<int>() == 1);
  BOOST_TEST(a.at("input").as_string() == "hi");
  BOOST_TEST(a.at("output").as_string() == "echo: hi");
  const auto b = json::parse(second).as_object();
  BOOST_TEST(b.at("line").to_number<int>() == 3);
  BOOST_TEST(b.at("error").at("status").to_number<int>() == static_cast<int>(ExitStatus::rejected));
  std::string third;
  BOOST_TEST(!std::getline(lines, third));
}

BOOST_AUTO_TEST_CASE(jsonl_input_lines_set_fields_and_bad_ones_fail_alone)
{
  BatchSettings settings;
  settings.jsonl_in = true;
  const Run r = run(R"({"prompt":"x","temperature":0.5})"
                    "\n"
                    "not json\n"
                    R"({"prompt":"y"})"
                    "\n",
                    settings);
  BOOST_TEST(r.out == "echo: x\n\necho: y\n");
  BOOST_TEST(r.err.find("line 2") != std::string::npos, r.err);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::usage));
}

BOOST_AUTO_TEST_CASE(lines_that_need_no_request_are_not_read_far_ahead_of_a_slow_line)
{
  // stdin is a pipe. While the first line's request is out, the server
  // writes into it as many bad lines (invalid UTF-8: each fails alone and
  // is never sent) as the batch reads, until they are all written or the
  // pipe stays full; only then does it answer. A batch that read on
  // without bound would hold every one of their results, waiting for line 1.
  int fds[2];
  BOOST_TEST_REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  BOOST_TEST_REQUIRE(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
  const std::string first = "slow1 first\n";
  BOOST_TEST_REQUIRE(::write(fds[1], first.data(), first.size()) == static_cast<ssize_t>(first.size()));
  const std::string bad_line = "bad \xFF" + std::string(58, '.') + "\n"; // 64 bytes
  std::string rest;
  for (int i = 0; i < 32 * 1024; ++i) {
    rest += bad_line; // 2 MiB, many times a pipe's buffer and a read's chunk
  }
  std::size_t written = 0;
  std::optional<std::size_t> written_while_held;
  auto fill = [&](const std::string& prompt) -> net::awaitable<void> {
    if (prompt != "slow1 first") {
      co_return;
    }
    net::steady_timer timer(co_await net::this_coro::executor);
    for (int idle = 0; written < rest.size() && idle < 200;) {
      const ssize_t n = ::write(fds[1], rest.data() + written, rest.size() - written);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
        idle = 0;
      } else {
        ++idle;
      }
      // The batch reads while this waits.
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
    written_while_held = written;
    ::close(fds[1]); // stdin ends here
  };
  BatchSettings settings;
  settings.retries = 0;
  const Run r = run_on(fds[0], settings, fill);
  ::close(fds[0]);
  BOOST_TEST_REQUIRE(written_while_held.has_value());
  BOOST_TEST(*written_while_held < rest.size(), "the batch read all " << rest.size() << " bytes while line 1 was out");
  // What was written is all there, in order, once line 1 was answered.
  const std::size_t bad_lines = (written + bad_line.size() - 1) / bad_line.size();
  BOOST_TEST(r.out == "echo: slow1 first\n" + std::string(bad_lines, '\n'));
  BOOST_TEST(static_cast<std::size_t>(std::count(r.err.begin(), r.err.end(), '\n')) == bad_lines);
  BOOST_TEST(r.err.starts_with("gptq: line 2: "), r.err.substr(0, 200));
  BOOST_TEST(r.server.prompts.size() == 1u);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::usage));
}

BOOST_AUTO_TEST_CASE(resumed_lines_are_written_back_and_not_sent)
{
  BatchSettings settings;
  settings.jsonl_out = true;
  settings.resumed = { { 1, { 1, "first", "done before" } } };
  const Run r = run("first\nsecond\n", settings);
  BOOST_TEST(r.server.prompts == std::vector<std::string>{ "second" });
  std::istringstream lines(r.out);
  std::string first;
  std::getline(lines, first);
  BOOST_TEST(json::parse(first).at("output").as_string() == "done before");
}

// The resume file is another input's: its answers would go to the wrong
// prompts. Found in the first piece of stdin, nothing is sent at all.
BOOST_AUTO_TEST_CASE(a_resumed_record_for_another_input_stops_the_batch_before_anything_is_sent)
{
  BatchSettings settings;
  settings.jsonl_out = true;
  settings.resume_path = "old.jsonl";
  settings.resumed = { { 2, { 3, "another second", "answer to another second" } } };
  const Run r = run("first\nsecond\nthird\n", settings);
  BOOST_TEST(r.server.prompts.empty());
  BOOST_TEST(r.out.empty());
  BOOST_TEST_REQUIRE(r.thrown.has_value());
  BOOST_TEST(static_cast<int>(r.thrown->status()) == static_cast<int>(ExitStatus::usage));
  BOOST_TEST(r.thrown->phase() == "--resume");
  BOOST_TEST(std::string(r.thrown->what()) ==
             "record old.jsonl:3 (line 2) is for another input: it has \"another second\", line 2 is \"second\"; "
             "stopped before sending anything");

  // A blank line is an input too: a record for it is another input's.
  settings.resumed = { { 2, { 1, "b", "answer to b" } } };
  const Run blank = run("a\n\nb\n", settings);
  BOOST_TEST(blank.server.prompts.empty());
  BOOST_TEST_REQUIRE(blank.thrown.has_value());
  BOOST_TEST(std::string(blank.thrown->what())
               .starts_with("record old.jsonl:1 (line 2) is for another input: it has \"b\", line 2 is \"\";"),
             blank.thrown->what());
}

// Found later, as stdin arrives: nothing more is sent, what was in flight
// is written, and the message says how far the output goes.
BOOST_AUTO_TEST_CASE(a_resumed_record_for_another_input_later_stops_at_once_after_the_lines_in_flight)
{
  int fds[2];
  BOOST_TEST_REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  const std::string first = "slow30 one\ntwo\n";
  BOOST_TEST_REQUIRE(::write(fds[1], first.data(), first.size()) == static_cast<ssize_t>(first.size()));
  auto more = [&](const std::string& prompt) -> net::awaitable<void> {
    if (prompt == "slow30 one") {
      const std::string rest = "three\nfour\n";
      BOOST_TEST_REQUIRE(::write(fds[1], rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
      ::close(fds[1]);
      net::steady_timer timer(co_await net::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(20)); // the batch reads it meanwhile
      co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
  };
  BatchSettings settings;
  settings.jobs = 1;
  settings.resume_path = "old.jsonl";
  settings.resumed = { { 3, { 7, "THREE", "answer to THREE" } } };
  const Run r = run_on(fds[0], settings, more);
  ::close(fds[0]);
  BOOST_TEST(r.server.prompts == std::vector<std::string>{ "slow30 one" });
  BOOST_TEST(r.out == "echo: slow30 one\n");
  BOOST_TEST_REQUIRE(r.thrown.has_value());
  BOOST_TEST(std::string(r.thrown->what()) ==
             "record old.jsonl:7 (line 3) is for another input: it has \"THREE\", line 3 is \"three\"; "
             "stopped: the results before line 2 were written, nothing from it on was sent");
}

// The same input cut short (head -n) is answered line for line: the unused
// records are said, and change no result.
BOOST_AUTO_TEST_CASE(resumed_records_past_the_end_of_the_input_are_reported_not_failed)
{
  BatchSettings settings;
  settings.resume_path = "old.jsonl";
  settings.resumed = { { 1, { 1, "a", "answer to a" } },
                       { 5, { 5, "e", "answer to e" } },
                       { 7, { 7, "g", "answer to g" } } };
  const Run r = run("a\nb\n", settings);
  BOOST_TEST(!r.thrown.has_value());
  BOOST_TEST(static_cast<int>(r.status) == 0);
  BOOST_TEST(r.out == "answer to a\necho: b\n");
  BOOST_TEST(r.err == "gptq: --resume: old.jsonl has 2 records for lines 5 to 7, past the end of the input (2 lines); "
                      "not used\n");
  settings.resumed.erase(7);
  BOOST_TEST(run("a\nb\n", settings).err ==
             "gptq: --resume: old.jsonl has 1 record for line 5, past the end of the input (2 lines); not used\n");
}

// A 503 and then a reset connection: the last failure alone would hide
// that the server was overloaded first.
BOOST_AUTO_TEST_CASE(a_line_that_failed_otherwise_at_first_says_both_failures)
{
  BatchSettings settings;
  settings.retries = 1;
  const Run r = run("shaky one\n", settings);
  BOOST_TEST(r.server.prompts.size() == 2u);
  BOOST_TEST(r.err == "gptq: line 1: network: connection reset by peer; the first of 2 tries failed with HTTP 503: "
                      "overloaded (type: server_error) (retry after 0 s)\n");
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::network));
}

BOOST_AUTO_TEST_CASE(fail_fast_writes_nothing_after_the_first_failure)
{
  BatchSettings settings;
  settings.jobs = 1;
  settings.retries = 0;
  settings.fail_fast = true;
  const Run r = run("one\nbad two\nthree\nfour\n", settings);
  BOOST_TEST(r.out == "echo: one\n\n");
  BOOST_TEST(r.server.prompts.size() == 2u);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::rejected));
}

BOOST_AUTO_TEST_CASE(insufficient_quota_stops_the_batch_and_says_how_far_it_got)
{
  BatchSettings settings;
  settings.jobs = 1;
  const Run r = run("one\nquota\nthree\n", settings);
  BOOST_TEST(r.server.prompts.size() == 2u);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::rate_limit));
  BOOST_TEST(r.err.find("insufficient_quota") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("1 line done") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_refused_key_stops_the_batch)
{
  BatchSettings settings;
  settings.jobs = 1;
  const Run r = run("one\ndenied\nthree\nfour\n", settings);
  BOOST_TEST(r.server.prompts.size() == 2u);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(ExitStatus::auth));
  BOOST_TEST(r.err.find("refused the key (HTTP 401); stopped with 1 line done") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batch_files)

namespace {

// The body a run would send for `item`, simplified.
std::string body_of(const BatchItem& item)
{
  return json::serialize(json::object{
    { "model", "m" }, { "messages", json::array{ json::object{ { "role", "user" }, { "content", item.prompt } } } } });
}

} // namespace

BOOST_AUTO_TEST_CASE(emit_batch_writes_one_request_per_line_and_reports_bad_lines)
{
  TempFile in("first\n\n{not json\nsecond");
  std::ostringstream file;
  std::ostringstream err;
  BatchSettings settings;
  BOOST_TEST(static_cast<int>(emit_batch(settings, in.fd(), file, err, body_of)) == 0);
  std::istringstream lines(file.str());
  std::string line;
  std::vector<json::value> records;
  while (std::getline(lines, line)) {
    records.push_back(json::parse(line));
  }
  BOOST_TEST_REQUIRE(records.size() == 3u);
  BOOST_TEST(records[0].at("custom_id").as_string() == "line-1");
  BOOST_TEST(records[1].at("custom_id").as_string() == "line-3");
  BOOST_TEST(records[2].at("custom_id").as_string() == "line-4");
  BOOST_TEST(records[2].at("body").at("messages").at(0).at("content").as_string() == "second");
  BOOST_TEST(err.str().empty());

  settings.jsonl_in = true;
  TempFile jsonl_in("{\"prompt\":\"a\"}\nnot json\n");
  std::ostringstream file2;
  BOOST_TEST(static_cast<int>(emit_batch(settings, jsonl_in.fd(), file2, err, body_of)) ==
             static_cast<int>(ExitStatus::usage));
  BOOST_TEST(err.str().find("line 2") != std::string::npos, err.str());
}

BOOST_AUTO_TEST_CASE(from_batch_writes_results_in_input_order_and_fails_missing_lines)
{
  std::map<std::size_t, BatchResult> results;
  results[3].output = "three\nlines";
  results[1].output = "one";
  results[4].status = static_cast<int>(ExitStatus::server);
  results[4].message = "HTTP 500: broke";
  TempFile in("a\nb\nc\nd\n");
  TempFile out;
  std::ostringstream err;
  BatchSettings settings;
  const ExitStatus status = from_batch(settings, BatchResultMap(results), "out.jsonl", in.fd(), out.fd(), err);
  BOOST_TEST(out.contents() == "one\n\nthree lines\n\n");
  BOOST_TEST(err.str() == "gptq: line 2: no result for this line in out.jsonl\ngptq: line 4: HTTP 500: broke\n");
  BOOST_TEST(static_cast<int>(status) == static_cast<int>(ExitStatus::server));
}

// Results the input has no line for were not used: said, not failed, as
// --resume does.
BOOST_AUTO_TEST_CASE(from_batch_reports_results_past_the_end_of_the_input)
{
  std::map<std::size_t, BatchResult> results;
  results[1].output = "one";
  results[2].output = "two";
  results[6].output = "six";
  results[9].output = "nine";
  TempFile in("a\nb\n");
  TempFile out;
  std::ostringstream err;
  BatchSettings settings;
  const ExitStatus status = from_batch(settings, BatchResultMap(results), "out.jsonl", in.fd(), out.fd(), err);
  BOOST_TEST(out.contents() == "one\ntwo\n");
  BOOST_TEST(
    err.str() ==
    "gptq: --from-batch: out.jsonl has 2 results for lines 6 to 9, past the end of the input (2 lines); not used\n");
  BOOST_TEST(static_cast<int>(status) == 0);
}

// --from-batch without -L: no input, the results alone in line order.
BOOST_AUTO_TEST_CASE(from_batch_without_input_writes_the_results_in_line_order)
{
  std::map<std::size_t, BatchResult> results;
  results[10].output = "ten";
  results[3].output = "three\nlines";
  results[1].output = "one";
  results[4].status = static_cast<int>(ExitStatus::server);
  results[4].message = "HTTP 500: broke";
  TempFile out;
  std::ostringstream err;
  BatchSettings settings;
  BOOST_TEST(
    static_cast<int>(from_batch(settings, BatchResultMap(results), "out.jsonl", std::nullopt, out.fd(), err)) ==
    static_cast<int>(ExitStatus::server));
  BOOST_TEST(out.contents() == "one\nthree lines\n\nten\n");
  BOOST_TEST(err.str() == "gptq: line 4: HTTP 500: broke\n");

  TempFile jsonl;
  std::ostringstream jsonl_err;
  settings.jsonl_out = true;
  from_batch(settings, BatchResultMap(results), "out.jsonl", std::nullopt, jsonl.fd(), jsonl_err);
  BOOST_TEST(jsonl.contents() == "{\"line\":1,\"output\":\"one\"}\n"
                                 "{\"line\":3,\"output\":\"three\\nlines\"}\n"
                                 "{\"line\":4,\"error\":{\"status\":7,\"message\":\"HTTP 500: broke\"}}\n"
                                 "{\"line\":10,\"output\":\"ten\"}\n");
}

BOOST_AUTO_TEST_SUITE_END()
