#include "reply_handler.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

using namespace gptq;

namespace {

using List = std::vector<std::string>;

// What reached stdout and stderr, in order: each write(2) to stdout is one
// entry "out:TEXT" (stdout is a SOCK_SEQPACKET socket, one message per
// write), each piece of stderr text "err:TEXT". Stdout's writes are
// collected whenever stderr is written, so the order is the order a
// terminal showing both would have seen.
class Transcript : public std::streambuf {
public:
  Transcript()
  {
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0);
    stdout_fd = fds[0];
    reader_ = fds[1];
  }
  ~Transcript() override
  {
    ::close(stdout_fd);
    ::close(reader_);
  }

  // The entries since the last call.
  List take()
  {
    collect_stdout();
    return std::exchange(entries_, {});
  }

  int stdout_fd = -1;

protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override
  {
    collect_stdout();
    entries_.push_back("err:" + std::string(s, static_cast<std::size_t>(n)));
    return n;
  }
  int_type overflow(int_type c) override
  {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      const char ch = traits_type::to_char_type(c);
      xsputn(&ch, 1);
    }
    return traits_type::not_eof(c);
  }

private:
  void collect_stdout()
  {
    std::string buffer(1 << 20, '\0');
    for (;;) {
      const ssize_t n = ::recv(reader_, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        return;
      }
      entries_.push_back("out:" + std::string(buffer.data(), static_cast<std::size_t>(n)));
    }
  }

  int reader_ = -1;
  List entries_;
};

std::string event(const std::string& delta)
{
  return "data: {\"choices\":[{\"index\":0,\"delta\":" + delta + "}]}\n\n";
}

std::string content(const std::string& text)
{
  return event("{\"content\":\"" + text + "\"}");
}

const std::string stop =
  "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

// A handler of an event stream writing to a Transcript.
struct Stream {
  Transcript transcript;
  std::ostream err{ &transcript };
  ReplyWriter out{ transcript.stdout_fd };
  ReplyHandler handler;

  explicit Stream(ReplySettings settings = {})
    : handler(
        out,
        err,
        [] {},
        std::move(settings))
  {
    HttpResponse head;
    head.status = 200;
    head.headers = { { "Content-Type", "text/event-stream" } };
    handler.on_head(head);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(reply_handler)

BOOST_AUTO_TEST_CASE(the_text_of_one_body_piece_goes_out_in_one_write_before_the_next)
{
  Stream s;
  // Three whole events and the start of a fourth in one piece.
  const std::string fourth = content("four");
  s.handler.on_body(content("one ") + content("two ") + content("three ") + fourth.substr(0, 20));
  BOOST_TEST(s.transcript.take() == (List{ "out:one two three " }));
  s.handler.on_body(fourth.substr(20) + stop);
  BOOST_TEST(s.transcript.take() == (List{ "out:four" }));
  s.handler.finish();
  BOOST_TEST(s.transcript.take() == (List{ "out:\n" }));
}

BOOST_AUTO_TEST_CASE(text_before_a_failing_event_is_written_before_the_error)
{
  Stream s;
  s.handler.on_body(content("kept"));
  BOOST_TEST(s.transcript.take() == (List{ "out:kept" }));
  const std::string error = "data: {\"error\":{\"message\":\"upstream failed\"}}\n\n";
  BOOST_CHECK_THROW(s.handler.on_body(content(" also kept") + error + content(" never")), Error);
  BOOST_TEST(s.transcript.take() == (List{ "out: also kept" }));
  BOOST_TEST(s.out.started());
  s.out.write("after");
  BOOST_TEST(s.transcript.take() == (List{ "out:after" }), "the writer holds no more");

  Stream bad;
  BOOST_CHECK_THROW(bad.handler.on_body(content("kept") + "data: {not json\n\n"), Error);
  BOOST_TEST(bad.transcript.take() == (List{ "out:kept" }));
}

BOOST_AUTO_TEST_CASE(reasoning_between_texts_of_one_piece_keeps_its_place)
{
  ReplySettings settings;
  settings.show_reasoning = true;
  Stream s(settings);
  s.handler.on_body(content("A") + event("{\"reasoning_content\":\"thinking\"}") + content("B") + content("C") + stop);
  BOOST_TEST(s.transcript.take() == (List{ "out:A", "err:thinking", "err:\n", "out:BC" }));
}

BOOST_AUTO_TEST_CASE(raw_and_code_output_are_gathered_too)
{
  ReplySettings raw_settings;
  raw_settings.raw = true;
  Stream raw(raw_settings);
  const std::string chunk = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}";
  raw.handler.on_body("data: " + chunk + "\n\ndata: " + chunk + "\n\n");
  BOOST_TEST(raw.transcript.take() == (List{ "out:" + chunk + "\n" + chunk + "\n" }));

  ReplySettings code_settings;
  code_settings.code_only = true;
  Stream code(code_settings);
  code.handler.on_body(content("text\\n```\\n") + content("a\\n") + content("b\\n") + content("```\\n") + stop);
  code.handler.finish();
  BOOST_TEST(code.transcript.take() == (List{ "out:a\nb\n" }));
}

BOOST_AUTO_TEST_CASE(the_kept_reply_is_all_its_text_and_never_its_reasoning)
{
  // -C keeps the reply's text, whatever --code or --raw print.
  for (const bool code : { false, true }) {
    std::string kept;
    ReplySettings settings;
    settings.show_reasoning = true;
    settings.code_only = code;
    settings.raw = !code;
    settings.transcript = &kept;
    Stream s(settings);
    s.handler.on_body(content("text\\n```\\n") + event("{\"reasoning_content\":\"thinking\"}") + content("a\\n") +
                      content("```\\n") + stop);
    s.handler.finish();
    BOOST_TEST(kept == "text\n```\na\n```\n", "code " << code);
  }
}

BOOST_AUTO_TEST_CASE(raw_json_comes_before_the_reasoning_of_its_event_and_before_an_error)
{
  ReplySettings settings;
  settings.raw = true;
  settings.show_reasoning = true;
  Stream s(settings);
  const std::string thinking = "{\"choices\":[{\"delta\":{\"reasoning\":\"hm\"}}]}";
  const std::string text = "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}";
  s.handler.on_body("data: " + thinking + "\n\ndata: " + text + "\n\n");
  BOOST_TEST(s.transcript.take() == (List{ "out:" + thinking + "\n", "err:hm", "err:\n", "out:" + text + "\n" }));
  const std::string error = "{\"error\":{\"message\":\"upstream failed\"}}";
  BOOST_CHECK_THROW(s.handler.on_body("data: " + error + "\n\n"), Error);
  BOOST_TEST(s.transcript.take() == (List{ "out:" + error + "\n" }));
}

BOOST_AUTO_TEST_CASE(raw_whole_reply_comes_after_its_reasoning)
{
  Transcript transcript;
  std::ostream err{ &transcript };
  ReplyWriter out{ transcript.stdout_fd };
  ReplySettings settings;
  settings.raw = true;
  settings.show_reasoning = true;
  ReplyHandler handler(
    out, err, [] {}, settings);
  HttpResponse head;
  head.status = 200;
  head.headers = { { "Content-Type", "application/json" } };
  handler.on_head(head);
  const std::string body =
    "{\"choices\":[{\"message\":{\"reasoning_content\":\"hm\",\"content\":\"x\"},\"finish_reason\":\"stop\"}]}";
  handler.on_body(body);
  handler.finish();
  BOOST_TEST(transcript.take() == (List{ "err:hm", "out:" + body, "err:\n", "out:\n" }));
}

const std::string cut_at_length =
  "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";

BOOST_AUTO_TEST_CASE(raise_max_tokens_is_said_only_when_it_was_given)
{
  ReplySettings given;
  given.max_tokens_given = true;
  Stream with(given);
  with.handler.on_body(content("cut") + cut_at_length);
  with.handler.finish();
  BOOST_TEST(
    with.transcript.take() ==
    (List{ "out:cut",
           "out:\n",
           "err:gptq: warning: the reply was cut at the token limit (finish_reason: length); raise --max-tokens\n" }));

  Stream without;
  without.handler.on_body(content("cut") + cut_at_length);
  without.handler.finish();
  BOOST_TEST(
    without.transcript.take() ==
    (List{ "out:cut",
           "out:\n",
           "err:gptq: warning: the reply was cut at the token limit (finish_reason: length); the model's context "
           "is full (prompt and reply), or the server has a default limit\n" }));

  for (const bool was_given : { true, false }) {
    ReplySettings settings;
    settings.max_tokens_given = was_given;
    Stream empty(settings);
    empty.handler.on_body(cut_at_length);
    const std::string message = gptq::test::failure_of([&] { empty.handler.finish(); }).message;
    BOOST_TEST(message.ends_with("raise --max-tokens") == was_given, message);
    BOOST_TEST((message.find("context") != std::string::npos) == !was_given, message);
  }
}

BOOST_AUTO_TEST_CASE(usage_too_large_for_integers_is_shown_as_given)
{
  ReplySettings settings;
  settings.show_usage = true;
  Stream s(settings);
  s.handler.on_body(content("x") +
                    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":18446744073709551615,"
                    "\"completion_tokens\":1}}\n\n" +
                    stop);
  s.handler.finish();
  std::string err;
  for (const auto& entry : s.transcript.take()) {
    err += entry.starts_with("err:") ? entry.substr(4) : "";
  }
  BOOST_TEST(err == "gptq: usage: 18446744073709551615 prompt + 1 completion = 18446744073709551616 tokens\n");
}

BOOST_AUTO_TEST_CASE(blank_space_before_the_first_byte_in_many_pieces_is_looked_at_once)
{
  for (const std::string& reply :
       { std::string(R"({"choices":[{"message":{"content":"whole"}}]})"), content("whole") + stop }) {
    Transcript transcript;
    std::ostream err(&transcript);
    ReplyWriter out(transcript.stdout_fd);
    ReplyHandler handler(out, err, [] {}, {});
    HttpResponse head;
    head.status = 200; // and no Content-Type
    handler.on_head(head);
    const std::string blanks = " \t\r\n"; // a line's leading blanks would be part of its field name
    for (int i = 0; i < 20000; ++i) {
      handler.on_body(blanks);
    }
    handler.on_body(reply);
    handler.finish();
    BOOST_TEST(transcript.take() == (List{ "out:whole", "out:\n" }));
  }
}

BOOST_AUTO_TEST_CASE(a_stream_wants_no_more_once_done_arrived)
{
  Stream s;
  s.handler.on_body(content("hi"));
  BOOST_TEST(s.handler.wants_more());
  s.handler.on_body("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
  BOOST_TEST(s.handler.wants_more()); // a usage chunk may follow
  s.handler.on_body("data: [DONE]\n\n");
  BOOST_TEST(!s.handler.wants_more());
  s.handler.finish();
  BOOST_TEST(s.transcript.take() == (List{ "out:hi", "out:\n" }));
}

BOOST_AUTO_TEST_CASE(a_compressed_success_body_is_refused_at_its_head)
{
  Transcript transcript;
  std::ostream err{ &transcript };
  ReplyWriter out{ transcript.stdout_fd };
  ReplyHandler handler(out, err, [] {}, {});
  HttpResponse head;
  head.status = 200;
  head.headers = { { "Content-Type", "application/json" }, { "content-encoding", "gzip" } };
  BOOST_CHECK_EXCEPTION(handler.on_head(head), Error, [](const Error& e) {
    return e.status() == ExitStatus::bad_response && e.phase() == "response" &&
           std::string(e.what()) == "compressed response (Content-Encoding: gzip) is not supported";
  });
}

BOOST_AUTO_TEST_CASE(the_api_setting_picks_the_responses_decoder)
{
  ReplySettings settings;
  settings.api = Api::responses;
  settings.show_reasoning = true;
  settings.show_usage = true;
  Stream s(settings);
  s.handler.on_body(
    "event: response.reasoning_summary_text.delta\n"
    "data: {\"type\":\"response.reasoning_summary_text.delta\",\"delta\":\"hmm\"}\n\n"
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n");
  BOOST_TEST(s.handler.wants_more());
  s.handler.on_body("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":"
                    "\"completed\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2,\"total_tokens\":3}}}\n\n");
  BOOST_TEST(!s.handler.wants_more(), "nothing is read after the reply's end");
  s.handler.finish();
  const List got = s.transcript.take();
  std::string all;
  for (const auto& entry : got) {
    all += "[" + entry + "]";
  }
  // The reasoning line ends before the text that follows it starts.
  BOOST_TEST(all == "[err:hmm][err:\n][out:Hi][out:\n][err:gptq: usage: ][err:1][err: prompt + ][err:2]"
                    "[err: completion = ][err:3][err: tokens][err:\n]");
}

BOOST_AUTO_TEST_CASE(a_responses_stream_without_its_end_is_a_broken_reply)
{
  ReplySettings settings;
  settings.api = Api::responses;
  Stream s(settings);
  s.handler.on_body("data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n");
  const auto f = gptq::test::failure_of([&] { s.handler.finish(); });
  BOOST_TEST(f.status == 8);
  BOOST_TEST(f.line() == "stream: the server ended the stream before the reply was complete (no response.completed)");
}

BOOST_AUTO_TEST_SUITE_END()
