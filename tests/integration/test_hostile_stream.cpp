// Hostile servers against the reply's decoding: event streams and bodies
// that are too large, too deep, cut between the halves of a character, or
// that report errors in shapes of their own.

#include "raw_server.hpp"

#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace gptq::it;

namespace {

const std::string sse_head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

// One "data:" event of a chunk whose first choice has `delta` (JSON) and
// `finish` (JSON) as finish_reason.
std::string chunk(const std::string& delta, const std::string& finish = "null")
{
  return "data: {\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish + "}]}\n\n";
}

std::string content(const std::string& escaped)
{
  return chunk("{\"content\":\"" + escaped + "\"}");
}

const std::string stop = chunk("{}", "\"stop\"") + "data: [DONE]\n\n";

// A server that answers every request with `response`, whole, then closes.
RawServer answering(const std::string& response)
{
  return RawServer([response](RawConnection& c) {
    if (!c.read_request().empty()) {
      c.send(response);
    }
  });
}

RunResult ask(const RawServer& server,
              std::vector<std::string> extra = {},
              std::chrono::milliseconds limit = default_run_limit)
{
  std::vector<std::string> argv{ GPTQ_BIN, "--base-url", server.url(), "--no-stdin", "--retries", "0" };
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("hi");
  return run(argv, key_env(), StdinSpec::dev_null(), limit);
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_stream)

BOOST_AUTO_TEST_CASE(a_stream_line_that_never_ends_stops_at_128_mib)
{
  // Without a limit gptq held the line until the machine's memory was gone.
  RawServer server([](RawConnection& c) {
    if (c.read_request().empty()) {
      return;
    }
    c.send(sse_head + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
    const std::string mib(1024 * 1024, 'x');
    for (int i = 0; i < 1024 && c.send(mib); ++i) {
    }
  });
  const RunResult r = ask(server, {}, std::chrono::seconds(20));
  check_failure(r, 8, { "gptq: stream: ", "longer than 128 MiB" });
}

BOOST_AUTO_TEST_CASE(blank_space_without_a_content_type_is_looked_at_once)
{
  // 16 MiB of spaces in chunks of 4 KiB before the reply: each piece once
  // made gptq look at all that came before it again (minutes).
  std::string body;
  const std::string blanks(4096, ' ');
  for (int i = 0; i < 4096; ++i) {
    body += "1000\r\n" + blanks + "\r\n";
  }
  const std::string reply = R"({"choices":[{"message":{"content":"after the blanks"}}]})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", reply.size());
  body += size + reply + "\r\n0\r\n\r\n";
  RawServer server = answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body);
  const RunResult r = ask(server, {}, std::chrono::seconds(20));
  BOOST_TEST(!r.killed, r.describe());
  check_success(r, "after the blanks\n");
}

BOOST_AUTO_TEST_CASE(a_reply_of_many_large_events_streams_whole)
{
  // 4 MiB in events of 64 KiB: the decoder's memory grew with each until
  // "out of memory" (exit 1) after about 1 MiB.
  std::string events;
  std::string expected;
  for (int i = 0; i < 64; ++i) {
    std::string piece = "#" + std::to_string(i) + ":";
    piece.resize(64 * 1024, static_cast<char>('a' + i % 26));
    events += content(piece);
    expected += piece;
  }
  RawServer server = answering(sse_head + events + stop);
  const RunResult r = ask(server);
  BOOST_TEST(r.out.size() == expected.size() + 1);
  check_success(r, expected + "\n");
}

BOOST_AUTO_TEST_CASE(an_emoji_split_across_chunks_as_surrogate_escapes_is_joined)
{
  // A server that slices by UTF-16 units: "\ud83d" ends one chunk and
  // "\ude00" begins the next; gptq lost the whole reply.
  RawServer server =
    answering(sse_head + content("Hi \\ud83d") + content("\\ude00 and \\ud83d") + content("\\ude80!") + stop);
  check_success(ask(server), "Hi \xF0\x9F\x98\x80 and \xF0\x9F\x9A\x80!\n");
}

BOOST_AUTO_TEST_CASE(a_lone_surrogate_becomes_the_replacement_character)
{
  RawServer stream = answering(sse_head + content("a\\ud83d") + content("b\\udc00c") + stop);
  check_success(ask(stream),
                "a\xEF\xBF\xBD"
                "b\xEF\xBF\xBD"
                "c\n");

  RawServer whole = answering(http_response(
    "200 OK", { "Content-Type: application/json" }, R"({"choices":[{"message":{"content":"x\udc00y\ud83d"}}]})"));
  check_success(ask(whole, { "--no-stream" }), "x\xEF\xBF\xBDy\xEF\xBF\xBD\n");
}

BOOST_AUTO_TEST_CASE(llama_cpp_error_field_in_a_200_stream_shows_the_server_message)
{
  // llama.cpp, when the prompt is longer than the context: an `error:`
  // field, not `data:`; it was ignored ("the reply has no text content").
  RawServer server =
    answering(sse_head + "error: {\"code\":400,\"message\":\"the request exceeds the available context size, "
                         "try increasing it\",\"type\":\"exceed_context_size_error\"}\n\n");
  check_failure(ask(server),
                8,
                { "gptq: api: error in the stream: the request exceeds the available context size, try increasing it "
                  "(code: 400, type: exceed_context_size_error)" });
}

BOOST_AUTO_TEST_CASE(an_error_name_with_a_message_shows_both)
{
  RawServer server =
    answering(http_response("400 Bad Request",
                            { "Content-Type: application/json" },
                            R"({"error":"SyntaxError","message":"Unexpected token } in JSON at position 9"})"));
  check_failure(ask(server), 5, { "HTTP 400 Bad Request: SyntaxError: Unexpected token } in JSON at position 9" });
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_the_parser_allows_says_so)
{
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  RawServer whole = answering(http_response("200 OK", { "Content-Type: application/json" }, deep));
  check_failure(ask(whole, { "--no-stream" }), 8, { "gptq: response: the reply is JSON nested deeper than 32 levels" });

  RawServer stream = answering(sse_head + "data: " + deep + "\n\n");
  check_failure(ask(stream), 8, { "gptq: stream: a chunk is nested deeper than 32 levels" });

  RawServer error = answering(http_response("500 Internal Server Error", { "Content-Type: application/json" }, deep));
  check_failure(ask(error), 7, { "HTTP 500 Internal Server Error: a JSON body nested deeper than 32 levels" });
}

BOOST_AUTO_TEST_CASE(usage_counts_too_large_for_integers_are_shown_as_given)
{
  RawServer server =
    answering(sse_head + content("x") + chunk("{}", "\"stop\"") +
              "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":18446744073709551615,\"completion_tokens\":"
              "99999999999999999999999,\"total_tokens\":123456789012345678901234567890}}\n\ndata: [DONE]\n\n");
  const RunResult r = ask(server, { "--usage" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "x\n");
  BOOST_TEST(r.err == "gptq: usage: 18446744073709551615 prompt + 1e+23 completion = 1.2345678901234568e+29 tokens\n");
}

BOOST_AUTO_TEST_CASE(raise_max_tokens_is_said_only_when_it_was_given)
{
  RawServer server = answering(sse_head + content("cut") + chunk("{}", "\"length\"") + "data: [DONE]\n\n");
  const RunResult given = ask(server, { "--max-tokens", "3" });
  BOOST_TEST(given.exit_code == 0, given.describe());
  BOOST_TEST(given.out == "cut\n");
  BOOST_TEST(given.err ==
             "gptq: warning: the reply was cut at the token limit (finish_reason: length); raise --max-tokens\n");

  const RunResult not_given = ask(server);
  BOOST_TEST(not_given.exit_code == 0, not_given.describe());
  BOOST_TEST(not_given.out == "cut\n");
  BOOST_TEST(not_given.err == "gptq: warning: the reply was cut at the token limit (finish_reason: length); the "
                              "model's context is full (prompt and reply), or the server has a default limit\n");
}

BOOST_AUTO_TEST_SUITE_END()
