#include "secrets.hpp"

#include "chat_stream.hpp"
#include "error.hpp"
#include "response.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>

using namespace gptq;
using gptq::test::failure_of;

namespace {

const std::string key = "sk-proj-SECRET-0123456789abcdefghijklmnopqrstuvwxyz";

// True when `text` holds no piece of `secret` of 8 bytes or more: a prefix,
// a suffix or anything between.
bool no_fragment_of(const std::string& secret, const std::string& text)
{
  for (std::size_t i = 0; i + 8 <= secret.size(); ++i) {
    if (text.find(secret.substr(i, 8)) != std::string::npos) {
      return false;
    }
  }
  return true;
}

Secrets key_secrets()
{
  Secrets secrets;
  secrets.add(key);
  return secrets;
}

} // namespace

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(excerpt_redacts_before_it_cuts)
{
  // The key starts before the 80-byte cut and ends after it.
  const std::string text = std::string(60, 'x') + " " + key + " tail";
  const std::string excerpt = key_secrets().excerpt(text, 80);
  BOOST_TEST(no_fragment_of(key, excerpt), excerpt);
  BOOST_TEST(excerpt == std::string(60, 'x') + " [REDACTED] tail");
}

BOOST_AUTO_TEST_CASE(short_secrets_are_not_redacted)
{
  Secrets secrets;
  secrets.add("1");
  secrets.add("ollama");
  secrets.add("1234567");
  BOOST_TEST(secrets.empty());
  BOOST_TEST(secrets.redact("cannot connect to 127.0.0.1:11434 (ollama)") ==
             "cannot connect to 127.0.0.1:11434 (ollama)");
  secrets.add("12345678");
  BOOST_TEST(secrets.redact("a 12345678 b") == "a [REDACTED] b");
}

BOOST_AUTO_TEST_CASE(a_shorter_minimum_can_be_asked_for)
{
  Secrets secrets;
  secrets.add("pw1", 4);
  secrets.add("pass", 4);
  BOOST_TEST(secrets.redact("pw1 pass") == "pw1 [REDACTED]");
}

BOOST_AUTO_TEST_CASE(longest_secret_is_redacted_first)
{
  Secrets secrets;
  secrets.add("abcdefgh");
  secrets.add("abcdefgh-and-more");
  BOOST_TEST(secrets.redact("x abcdefgh-and-more y abcdefgh") == "x [REDACTED] y [REDACTED]");
}

BOOST_AUTO_TEST_CASE(credentials_of_a_header_are_redacted_with_and_without_their_scheme)
{
  Secrets secrets;
  secrets.add_credentials("Bearer " + key);
  BOOST_TEST(secrets.redact("got Bearer " + key) == "got [REDACTED]");
  BOOST_TEST(secrets.redact("token " + key + " is bad") == "token [REDACTED] is bad");
  Secrets plain;
  plain.add_credentials("  " + key + " ");
  BOOST_TEST(plain.redact(key) == "[REDACTED]");
  // A cookie's second pair is not a credential of its own.
  Secrets cookie;
  cookie.add_credentials("session=0123456789abcdef; theme=darkblue");
  BOOST_TEST(cookie.redact("theme=darkblue") == "theme=darkblue");
  BOOST_TEST(cookie.redact("got session=0123456789abcdef; theme=darkblue") == "got [REDACTED]");
}

BOOST_AUTO_TEST_CASE(bad_stream_chunk_quoting_the_key_across_the_cut_shows_none_of_it)
{
  ChatStreamDecoder decoder(key_secrets());
  SseEvent event;
  event.data = "not json, Bearer " + key;
  const auto f = failure_of([&] {
    if (const ReplyDelta delta = decoder.decode(event); delta.error) {
      throw *delta.error;
    }
  });
  BOOST_TEST(no_fragment_of(key, f.message), f.message);
  BOOST_TEST(f.message.find("[REDACTED]") != std::string::npos, f.message);
}

BOOST_AUTO_TEST_CASE(error_event_quoting_the_key_past_the_cut_shows_none_of_it)
{
  ChatStreamDecoder decoder(key_secrets());
  SseEvent event;
  event.data = R"({"error":{"message":")" + std::string(480, 'm') + " " + key + R"("}})";
  const auto f = failure_of([&] {
    if (const ReplyDelta delta = decoder.decode(event); delta.error) {
      throw *delta.error;
    }
  });
  BOOST_TEST(no_fragment_of(key, f.message), f.message);
}

BOOST_AUTO_TEST_CASE(reason_phrase_quoting_the_key_shows_none_of_it)
{
  HttpResponse response;
  response.status = 401;
  response.reason = "Bad key Bearer " + key;
  response.body = "<html><body>" + std::string(4080, 'b') + key + "</body></html>";
  const std::string message = describe_error_response(response, key_secrets());
  BOOST_TEST(no_fragment_of(key, message), message);
  BOOST_TEST(message.find("HTTP 401 Bad key Bearer [REDACTED]") == 0, message);
}

BOOST_AUTO_TEST_CASE(json_escaped_key_in_an_error_body_is_redacted_once_decoded)
{
  // The server escapes the key in its JSON: only the decoded text has it.
  std::string escaped;
  for (const char c : key) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
    escaped += buf;
  }
  HttpResponse response;
  response.status = 401;
  response.body = R"({"error":{"message":"Incorrect API key provided: )" + escaped + R"("}})";
  const std::string message = describe_error_response(response, key_secrets());
  BOOST_TEST(no_fragment_of(key, message), message);
}

BOOST_AUTO_TEST_CASE(unparsable_reply_quoting_the_key_across_the_cut_shows_none_of_it)
{
  const auto f = failure_of([&] { decode_reply(std::string(70, 'x') + key, key_secrets()); });
  BOOST_TEST(no_fragment_of(key, f.message), f.message);
}

BOOST_AUTO_TEST_SUITE_END()
