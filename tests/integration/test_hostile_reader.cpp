// Hostile servers against the response reader (the transport's parsing of
// what comes back): bytes after a response on a kept-alive connection,
// interim (1xx) responses, a stream whose body never ends after [DONE],
// malformed heads, an answer given while the request is still being sent,
// redirects and compressed bodies.

#include "raw_server.hpp"

#include "harness.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

using namespace gptq::it;
using namespace std::chrono_literals;

namespace {

// The events of a streamed reply of `pieces`, then a finish_reason (when
// `finish`) and [DONE] (when `done`).
std::string sse_events(const std::vector<std::string>& pieces, bool finish, bool done)
{
  std::string events;
  for (const auto& piece : pieces) {
    events += R"(data: {"choices":[{"index":0,"delta":{"content":")" + piece +
              R"("},"finish_reason":null}]})"
              "\n\n";
  }
  if (finish) {
    events += R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
              "\n\n";
  }
  if (done) {
    events += "data: [DONE]\n\n";
  }
  return events;
}

std::string chunk(const std::string& bytes)
{
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
  return size + bytes + "\r\n";
}

// A whole event-stream response of `content`, chunked, ending cleanly.
std::string stream_response(const std::string& content)
{
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
         chunk(sse_events({ content }, true, true)) + "0\r\n\r\n";
}

const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";

// Reads a request's head only, leaving its body unread.
void read_head_only(RawConnection& c)
{
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    const std::string got = c.read_some(10s, 4096);
    if (got.empty()) {
      return;
    }
    head += got;
  }
}

RunResult run_limited(std::vector<std::string> args, const StdinSpec& in, std::chrono::milliseconds limit)
{
  args.insert(args.begin(), GPTQ_BIN);
  return run(args, key_env(), in, limit);
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_reader)

// Point 3: a response followed by more bytes in the same write (an
// unsolicited extra response): they must not become the next line's answer.
BOOST_AUTO_TEST_CASE(batch_bytes_after_a_response_are_never_the_next_lines_answer)
{
  RawServer server([](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      c.send(completion_response(user_content_of(request)) + completion_response("STRAY"));
    }
  });
  const RunResult r =
    run_gptq({ "--base-url", server.url(), "-L", "-j", "1" }, key_env(), StdinSpec::of("one\ntwo\nthree\n"));
  check_success(r, "one\ntwo\nthree\n");
  BOOST_TEST(server.requests() == 3);
}

// Point 3: a stray response that arrives while the connection is idle,
// before the next request is written.
BOOST_AUTO_TEST_CASE(batch_a_stray_response_on_an_idle_connection_is_never_the_next_lines_answer)
{
  std::atomic<bool> stray_sent{ false };
  RawServer server([&](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      c.send(completion_response(user_content_of(request)));
      if (!stray_sent) {
        std::this_thread::sleep_for(100ms);
        c.send(completion_response("STRAY"));
        stray_sent = true;
      }
    }
  });
  // The next lines come only once the first answer is out and the stray
  // response has been sent to the idle connection.
  const auto after_stray = [&](const std::string& out) {
    if (out != "one\n") {
      return false;
    }
    for (int i = 0; i < 500 && !stray_sent; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(50ms);
    return true;
  };
  const RunResult r = run_gptq({ "--base-url", server.url(), "-L", "-j", "1" },
                               key_env(),
                               StdinSpec::in_two_parts("one\n", after_stray, "two\nthree\n", 10s));
  check_success(r, "one\ntwo\nthree\n");
  BOOST_TEST(stray_sent);
  BOOST_TEST(server.requests() == 3);
  BOOST_TEST(server.connections() == 2);
}

// What must stay: a kept-alive connection the server closes as the next
// request arrives, unanswered, carries that request again on a new one.
BOOST_AUTO_TEST_CASE(batch_a_request_the_server_closed_on_unanswered_goes_out_again)
{
  std::atomic<int> connection{ 0 };
  RawServer server([&](RawConnection& c) {
    const bool first = connection++ == 0;
    for (std::string request; !(request = c.read_request()).empty();) {
      if (first && user_content_of(request) == "two") {
        return; // closed with the request unanswered
      }
      c.send(completion_response(user_content_of(request)));
    }
  });
  const RunResult r =
    run_gptq({ "--base-url", server.url(), "-L", "-j", "1" }, key_env(), StdinSpec::of("one\ntwo\nthree\n"));
  check_success(r, "one\ntwo\nthree\n");
  BOOST_TEST(server.requests() == 4);
  BOOST_TEST(server.connections() == 2);
}

// Point 4: 100 Continue and 103 Early Hints come before the final
// response, in the same write or apart; a reply streamed or whole.
BOOST_DATA_TEST_CASE(interim_responses_before_the_final_one_are_skipped,
                     boost::unit_test::data::make({ false, true }) * boost::unit_test::data::make({ false, true }),
                     stream,
                     apart)
{
  RawServer server([&](RawConnection& c) {
    const std::string request = c.read_request();
    const std::string final_response =
      stream ? stream_response(user_content_of(request)) : completion_response(user_content_of(request));
    if (apart) {
      c.send(interim);
      std::this_thread::sleep_for(20ms);
      c.send(final_response);
    } else {
      c.send(interim + final_response);
    }
    c.wait_closed(10s);
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), stream ? "--stream" : "--no-stream", "--no-stdin", "hi" });
  check_success(r, "hi\n");
  BOOST_TEST(server.requests() == 1);
}

BOOST_AUTO_TEST_CASE(batch_interim_responses_do_not_shift_answers)
{
  RawServer server([](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      c.send(interim + completion_response(user_content_of(request)));
    }
  });
  const RunResult r =
    run_gptq({ "--base-url", server.url(), "-L", "-j", "1" }, key_env(), StdinSpec::of("one\ntwo\nthree\n"));
  check_success(r, "one\ntwo\nthree\n");
  BOOST_TEST(server.requests() == 3);
  BOOST_TEST(server.connections() == 1);
}

BOOST_AUTO_TEST_CASE(switching_protocols_is_a_bad_response)
{
  RawServer server([](RawConnection& c) {
    c.read_request();
    c.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello");
    c.wait_closed(10s);
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), "--no-stdin", "hi" });
  check_failure(r, 8, { "gptq: response: ", "101 Switching Protocols" });
  BOOST_TEST(server.requests() == 1);
}

// Point 8: the reply is complete at [DONE] (with or without a
// finish_reason) though the body goes on: chunked without its last chunk,
// or lasting until a close that never comes.
BOOST_DATA_TEST_CASE(a_stream_ends_at_done_though_its_body_does_not,
                     boost::unit_test::data::make({ false, true }) * boost::unit_test::data::make({ false, true }),
                     finish,
                     chunked)
{
  RawServer server([&](RawConnection& c) {
    c.read_request();
    const std::string events = sse_events({ "hello", " world" }, finish, true);
    c.send(chunked ? "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       chunk(events)
                   : "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + events);
    c.wait_closed(60s);
  });
  const RunResult r = run_limited(
    { "--base-url", server.url(), "--idle-timeout", "600", "--no-stdin", "hi" }, StdinSpec::dev_null(), 20s);
  BOOST_TEST(!r.killed, r.describe());
  check_success(r, "hello world\n");
  BOOST_TEST(server.requests() == 1);
}

// Point 13: the server answered, but not with a head gptq can read: exit
// 8, and the request is not sent again (it may have been billed).
struct BadHead {
  std::string name;
  std::string bytes;
  std::string mention;
};

std::ostream& operator<<(std::ostream& out, const BadHead& c)
{
  return out << c.name;
}

const BadHead bad_heads[] = {
  { "head over 64 KiB",
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + std::string(70 * 1024, 'a') + "\r\n\r\n{}",
    "larger than 64 KiB" },
  { "interim responses without end",
    [] {
      std::string heads;
      for (int i = 0; i < 3000; ++i) {
        heads += "HTTP/1.1 103 Early Hints\r\n\r\n";
      }
      return heads;
    }(),
    "larger than 64 KiB (with its interim responses)" },
  { "bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n{}", "invalid Content-Length" },
  { "two Content-Lengths",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "two different Content-Length" },
  { "Transfer-Encoding and Content-Length",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "Transfer-Encoding" },
  { "Content-Length and Transfer-Encoding",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "Content-Length" },
  { "HTTP/2 status line", "HTTP/2 200\r\ncontent-type: application/json\r\n\r\n{}", "\"HTTP/2 200\"" },
  { "ICY status line", "ICY 200 OK\r\nicy-name: radio\r\n\r\n", "\"ICY 200 OK\"" },
  { "head cut by a close", "HTTP/1.1 200 OK\r\nContent-Type: appl", "the connection closed" },
};

BOOST_DATA_TEST_CASE(a_malformed_head_is_a_bad_response_and_not_sent_again, boost::unit_test::data::make(bad_heads), c)
{
  RawServer server([&](RawConnection& conn) {
    conn.read_request();
    conn.send(c.bytes);
    conn.shutdown_write();
    conn.wait_closed(10s);
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), "--no-stdin", "hi" });
  check_failure(r, 8, { "gptq: response: ", c.mention });
  BOOST_TEST(server.requests() == 1);
}

BOOST_AUTO_TEST_CASE(batch_a_malformed_head_fails_its_line_without_a_retry)
{
  RawServer server([](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      if (user_content_of(request) == "two") {
        c.send("ICY 200 OK\r\n\r\n");
        return;
      }
      c.send(completion_response(user_content_of(request)));
    }
  });
  const RunResult r =
    run_gptq({ "--base-url", server.url(), "-L", "-j", "1" }, key_env(), StdinSpec::of("one\ntwo\nthree\n"));
  BOOST_TEST(r.exit_code == 8, r.describe());
  BOOST_TEST(r.out == "one\n\nthree\n");
  BOOST_TEST(contains(r.err, "gptq: line 2: response: "), r.describe());
  BOOST_TEST(contains(r.err, "\"ICY 200 OK\""), r.describe());
  BOOST_TEST(server.requests() == 3);
}

// Point 14: the server answers 413 after the request head and closes
// while the body is still being sent: that answer is what gptq reports.
BOOST_AUTO_TEST_CASE(an_answer_given_during_a_large_upload_is_read)
{
  RawServer server([](RawConnection& c) {
    read_head_only(c);
    c.send(http_response("413 Payload Too Large",
                         { "Content-Type: application/json", "Connection: close" },
                         R"({"error":{"message":"request too large","type":"invalid_request_error"}})"));
    // Closing with the body unread resets the connection.
  });
  const RunResult r =
    run_gptq({ "--base-url", server.url(), "--no-stream" }, key_env(), StdinSpec::of(std::string(32 << 20, 'x')));
  check_failure(r, 5, { "gptq: api: ", "HTTP 413", "request too large" });
  BOOST_TEST(server.connections() == 1);
}

// Point 19: a redirect names where it points; an http:// URL moved to
// https:// says so.
BOOST_AUTO_TEST_CASE(a_redirect_names_its_location)
{
  RawServer server([](RawConnection& c) {
    c.read_request();
    c.send(http_response("301 Moved Permanently",
                         { "Location: https://127.0.0.1/v1/chat/completions", "Content-Type: text/html" },
                         "<html><title>301 Moved Permanently</title></html>"));
    c.wait_closed(10s);
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), "--no-stdin", "hi" });
  check_failure(r, 8, { "HTTP 301", "https://127.0.0.1/v1/chat/completions", "use https://" });
  BOOST_TEST(server.requests() == 1);
}

BOOST_AUTO_TEST_CASE(a_redirect_elsewhere_names_its_location_without_the_https_hint)
{
  RawServer server([](RawConnection& c) {
    c.read_request();
    // Beast refuses control characters in a head; bytes that are not
    // UTF-8 it lets through.
    c.send(http_response("307 Temporary Redirect", { "Location: http://other.example/v2/\xff\xfe" }, ""));
    c.wait_closed(10s);
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), "--no-stdin", "hi" });
  check_failure(r, 8, { "HTTP 307", "http://other.example/v2/", "does not follow redirects" });
  BOOST_TEST(!contains(r.err, "use https://"));
  BOOST_TEST(!contains(r.err, "\xff"));
}

// Point 19: gptq asks for no compression; a body compressed anyway is
// reported as such, not as bad JSON or a bad stream.
BOOST_DATA_TEST_CASE(a_compressed_reply_is_named, boost::unit_test::data::make({ false, true }), stream)
{
  RawServer server([&](RawConnection& c) {
    c.read_request();
    c.send(http_response(
      "200 OK",
      { stream ? "Content-Type: text/event-stream" : "Content-Type: application/json", "Content-Encoding: gzip" },
      std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20)));
    c.wait_closed(10s);
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), stream ? "--stream" : "--no-stream", "--no-stdin", "hi" });
  check_failure(r, 8, { "gptq: response: compressed response (Content-Encoding: gzip) is not supported" });
  BOOST_TEST(server.requests() == 1);
}

BOOST_AUTO_TEST_CASE(batch_a_compressed_reply_is_named)
{
  RawServer server([](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      c.send(http_response("200 OK", { "Content-Type: application/json", "Content-Encoding: br" }, "xyz"));
    }
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), "-L", "-j", "1" }, key_env(), StdinSpec::of("one\n"));
  BOOST_TEST(r.exit_code == 8, r.describe());
  BOOST_TEST(contains(r.err, "gptq: line 1: response: compressed response (Content-Encoding: br) is not supported"),
             r.describe());
  BOOST_TEST(server.requests() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
