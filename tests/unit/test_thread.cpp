#include "thread.hpp"

#include "chat_completions.hpp"
#include "options.hpp"
#include "request.hpp"
#include "responses_body.hpp"
#include "testkit.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;
using namespace gptq::test;

namespace {

const std::string two_turns = R"({"role":"system","content":"be brief"})"
                              "\n"
                              R"({"role":"user","content":"hi","ts":1})"
                              "\n"
                              R"({"role":"assistant","content":"hello"})"
                              "\n"
                              R"({"role":"user","content":"and?"})"
                              "\n"
                              R"({"role":"assistant","content":"that's all"})"
                              "\n";

std::string text_of(const Message& message)
{
  if (const auto* json = std::get_if<EscapedText>(&message.content)) {
    return std::string(boost::json::parse("\"" + std::string(json->json) + "\"").as_string());
  }
  const auto* text = std::get_if<std::string_view>(&message.content);
  return text ? std::string(*text) : std::string("<parts>");
}

std::vector<std::string> summary(const std::vector<Message>& messages)
{
  std::vector<std::string> out;
  for (const auto& message : messages) {
    out.push_back(std::string(role_name(message.role)) + ":" + text_of(message));
  }
  return out;
}

std::string thread_error(const std::string& text)
{
  return error_line([&] { parse_thread(text, "t.thread"); }, 2, text);
}

Options plain()
{
  Options o;
  o.model = "m";
  o.stream = false;
  return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(thread)

BOOST_AUTO_TEST_CASE(lines_become_messages_in_order)
{
  const Thread thread = parse_thread(two_turns, "t.thread");
  const std::vector<std::string> want{
    "system:be brief", "user:hi", "assistant:hello", "user:and?", "assistant:that's all"
  };
  BOOST_TEST(summary(thread.messages()) == want);
  BOOST_TEST(thread.ends_in_newline());
}

BOOST_AUTO_TEST_CASE(an_empty_file_and_blank_lines_hold_no_messages)
{
  BOOST_TEST(parse_thread("", "t").messages().empty());
  BOOST_TEST(parse_thread("\n  \n", "t").messages().size() == 0u);
  BOOST_TEST(parse_thread("", "t").ends_in_newline());
}

BOOST_AUTO_TEST_CASE(a_last_line_without_newline_is_complete_when_valid)
{
  const Thread thread = parse_thread(R"({"role":"user","content":"hi"})", "t");
  BOOST_TEST(thread.messages().size() == 1u);
  BOOST_TEST(!thread.ends_in_newline());
  const std::string added = thread_addition(thread, std::nullopt, "q", "a");
  BOOST_TEST(added.front() == '\n');
  BOOST_TEST(parse_thread(R"({"role":"user","content":"hi"})" + added, "t").messages().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_refused_at_every_position)
{
  const std::string last = R"({"role":"assistant","content":"a reply \u00e9 \"quoted\""})";
  const std::string head = R"({"role":"user","content":"q"})"
                           "\n";
  for (std::size_t cut = 1; cut < last.size(); ++cut) {
    const std::string line = thread_error(head + last.substr(0, cut));
    BOOST_TEST(line.starts_with("--thread: t.thread:2: not a whole JSON line"), cut << ": " << line);
  }
  BOOST_TEST(parse_thread(head + last, "t").messages().size() == 2u);
  BOOST_TEST(parse_thread(head + last + "\n", "t").messages().size() == 2u);
}

BOOST_AUTO_TEST_CASE(lines_as_gptq_writes_them_are_kept_escaped)
{
  const auto message = written_line(R"({"role":"assistant","content":"a \"b\"\n\u00e9 \/"})");
  BOOST_TEST_REQUIRE(message.has_value());
  BOOST_TEST(std::get<EscapedText>(message->content).json == R"(a \"b\"\n\u00e9 \/)");
  BOOST_TEST(text_of(*message) == "a \"b\"\n\u00e9 /");
  // Anything else is left to the full parser: other fields or order, a
  // system line, a surrogate escape, a bad escape, a torn end.
  for (const std::string line : { R"({"role":"user","content":"q","ts":1})",
                                  R"({"content":"q","role":"user"})",
                                  R"({"role":"system","content":"s"})",
                                  R"({"role":"user","content":"\ud83d\ude00"})",
                                  R"({"role":"user","content":"\x"})",
                                  R"({"role":"user","content":"a"b"})",
                                  R"({"role":"user","content":"q\"})",
                                  "{\"role\":\"user\",\"content\":\"tab\there\"}" }) {
    BOOST_TEST(!written_line(line).has_value(), line);
  }
  // Both ways read the same: the escaped line, and one the parser reads.
  const Thread thread = parse_thread(std::string(R"({"role":"user","content":"\ud83d\ude00 \u00e9"})") + "\n" +
                                       R"({"role":"assistant","content":"\u00e9"})",
                                     "t");
  BOOST_TEST(text_of(thread.messages().at(0)) == "\xf0\x9f\x98\x80 \xc3\xa9");
  BOOST_TEST(text_of(thread.messages().at(1)) == "\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(the_in_place_check_agrees_with_a_json_parser_at_every_offset)
{
  // The check looks at blocks of 8 or 16 bytes: each escape, and each byte
  // it must refuse, at every offset across two blocks and the tail.
  for (const std::string special : { R"(\")",
                                     R"(\\)",
                                     R"(\/)",
                                     R"(\n)",
                                     R"(\t)",
                                     R"(\u00e9)",
                                     R"(\u00E9\u0041)",
                                     R"(\\\")",
                                     "\"",
                                     "\t",
                                     "\x01",
                                     R"(\x)",
                                     R"(\u12)",
                                     R"(\u12g4)",
                                     R"(\ud83d\ude00)",
                                     "\\" }) {
    for (std::size_t at = 0; at <= 40; ++at) {
      const std::string content = std::string(at, 'a') + special + std::string(at % 7, 'b');
      const std::string line = R"({"role":"user","content":")" + content + "\"}";
      const auto message = written_line(line);
      boost::system::error_code ec;
      const auto parsed = boost::json::parse(line, ec);
      if (message) {
        BOOST_TEST_REQUIRE(!ec, line);
        BOOST_TEST(text_of(*message) == std::string_view(parsed.at("content").as_string()), line);
      } else if (special.find("\\ud") == std::string::npos) {
        BOOST_TEST(ec.failed(), line << ": valid, but not taken in place");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_lines_are_named_by_file_and_line)
{
  const std::string ok = R"({"role":"user","content":"q"})"
                         "\n";
  BOOST_TEST(thread_error(ok + "not json\n").starts_with("--thread: t.thread:2: not a whole JSON line"));
  BOOST_TEST(thread_error(ok + ok + "[1,2]\n") == "--thread: t.thread:3: not a JSON object");
  BOOST_TEST(thread_error(R"({"content":"q"})") == "--thread: t.thread:1: no \"role\"");
  BOOST_TEST(thread_error(ok + R"({"role":"tool","content":"q"})") ==
             "--thread: t.thread:2: unknown role 'tool' (system, user or assistant)");
  BOOST_TEST(thread_error(R"({"role":"user"})") ==
             "--thread: t.thread:1: \"content\" must be a string or a list of parts");
  BOOST_TEST(thread_error(R"({"role":"user","content":[{"type":"video"}]})") ==
             "--thread: t.thread:1: a content part of unknown type or shape");
  BOOST_TEST(thread_error(ok + "\n" + "{\"role\":\"user\",\"content\":\"\xff\"}") == "--thread: t.thread:3: not UTF-8");
}

BOOST_AUTO_TEST_CASE(content_parts_become_request_parts)
{
  const Thread thread = parse_thread(
    R"({"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"https://x/i.png","detail":"low"}}]})",
    "t");
  const auto& parts = std::get<std::vector<ContentPart>>(thread.messages().at(0).content);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(std::get<TextPart>(parts[0]).text == "see");
  BOOST_TEST(std::get<std::string>(std::get<ImagePart>(parts[1]).url) == "https://x/i.png");
  BOOST_TEST(*std::get<ImagePart>(parts[1]).detail == "low");
}

BOOST_AUTO_TEST_CASE(the_last_system_line_holds_unless_one_is_given)
{
  const Thread thread = parse_thread(two_turns + R"({"role":"system","content":"be long"})" + "\n", "t");
  BOOST_TEST(*thread_system(thread) == "be long");
  const std::vector<std::string> sent{
    "system:be long", "user:hi", "assistant:hello", "user:and?", "assistant:that's all"
  };
  BOOST_TEST(summary(thread_messages(thread, false, std::nullopt)) == sent);
  BOOST_TEST(summary(thread_messages(thread, true, std::nullopt)).front() == "user:hi");
}

BOOST_AUTO_TEST_CASE(the_tail_keeps_the_system_and_the_last_turns)
{
  const Thread thread = parse_thread(two_turns, "t");
  const std::vector<std::string> one{ "system:be brief", "user:and?", "assistant:that's all" };
  BOOST_TEST(summary(thread_messages(thread, false, 1)) == one);
  BOOST_TEST(summary(thread_messages(thread, false, 2)).size() == 5u);
  BOOST_TEST(summary(thread_messages(thread, false, 9)).size() == 5u);
}

BOOST_AUTO_TEST_CASE(the_addition_is_a_user_and_an_assistant_line)
{
  const Thread thread = parse_thread(two_turns, "t");
  BOOST_TEST(thread_addition(thread, std::nullopt, "q \"1\"\n", "a") ==
             "{\"role\":\"user\",\"content\":\"q \\\"1\\\"\\n\"}\n{\"role\":\"assistant\",\"content\":\"a\"}\n");
  // The system that holds already is not written again; another takes over.
  BOOST_TEST(thread_addition(thread, std::string("be brief"), "q", "a").starts_with("{\"role\":\"user\""));
  const std::string added = thread_addition(thread, std::string("be kind"), "q", "a");
  BOOST_TEST(added.starts_with("{\"role\":\"system\",\"content\":\"be kind\"}\n"));
  const Thread after = parse_thread(two_turns + added, "t");
  BOOST_TEST(*thread_system(after) == "be kind");
  BOOST_TEST(after.messages().size() == 8u);
}

BOOST_AUTO_TEST_CASE(the_turns_go_before_the_user_message_in_either_api)
{
  const Thread thread = parse_thread(two_turns, "t");
  const Url local = endpoint_url(parse_url("http://localhost/v1"), "/chat/completions");
  const auto earlier = thread_messages(thread, false, 1);
  const auto chat = boost::json::parse(build_request_body(plain(), "new", local, earlier));
  BOOST_TEST(boost::json::serialize(chat.at("messages")) ==
             R"([{"role":"system","content":"be brief"},{"role":"user","content":"and?"},)"
             R"({"role":"assistant","content":"that's all"},{"role":"user","content":"new"}])");
  Options responses = plain();
  responses.api = Api::responses;
  const auto body = boost::json::parse(build_request_body(responses, "new", local, earlier));
  BOOST_TEST(body.at("instructions") == "be brief");
  BOOST_TEST(boost::json::serialize(body.at("input")) ==
             R"([{"type":"message","role":"user","content":"and?"},)"
             R"({"type":"message","role":"assistant","content":"that's all"},)"
             R"({"type":"message","role":"user","content":"new"}])");
}

BOOST_AUTO_TEST_CASE(a_full_context_is_recognised_in_the_servers_words)
{
  BOOST_TEST(
    says_context_is_full("This model's maximum context length is 128000 tokens. However, you requested 130000"));
  BOOST_TEST(says_context_is_full("HTTP 400 (context_length_exceeded)"));
  BOOST_TEST(says_context_is_full("Input exceeds the Context Window of this model"));
  BOOST_TEST(says_context_is_full("prompt is too long: 210000 tokens > 200000 maximum"));
  BOOST_TEST(!says_context_is_full("test error 400"));
  BOOST_TEST(!says_context_is_full("Incorrect API key provided"));
}

BOOST_AUTO_TEST_CASE(the_options_go_with_a_thread_only)
{
  auto parse = [](std::vector<const char*> args) {
    return parse_command_line(args, [](const std::string&) { return std::optional<std::string>(); });
  };
  const Command command = parse({ "-C", "t.thread", "--thread-tail", "3", "hi" });
  BOOST_TEST(*command.options.thread == "t.thread");
  BOOST_TEST(*command.options.thread_tail == 3);
  BOOST_TEST(error_line(
               [&] {
                 parse({ "--thread-tail", "3", "hi" });
               },
               2) == "--thread-tail: only works with -C (--thread)");
  BOOST_TEST(error_line([&] { parse({ "-C", "t", "--thread-tail", "0", "hi" }); }, 2).starts_with("--thread-tail"));
  BOOST_TEST(error_line([&] { parse({ "-C", "t", "-L" }); }, 2).starts_with("--thread: does not work with -L"));
  BOOST_TEST(error_line([&] { parse({ "-C", "", "hi" }); }, 2) == "--thread: the file name is empty");
}

BOOST_AUTO_TEST_SUITE_END()
