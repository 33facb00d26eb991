#include "response.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;

namespace {

gptq::test::Failure reply_error(std::string_view body)
{
  return gptq::test::failure_of([&] { decode_reply(body); }, body);
}

std::string describe(int status,
                     std::string reason,
                     std::string body,
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     std::string_view request_url = {})
{
  HttpResponse r;
  r.status = status;
  r.reason = std::move(reason);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return describe_error_response(r, {}, request_url);
}

} // namespace

BOOST_AUTO_TEST_SUITE(response)

BOOST_AUTO_TEST_CASE(decode_reply_returns_first_choice)
{
  const Reply r = decode_reply(R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Ahoy!"},)"
                               R"("finish_reason":"stop"},{"message":{"content":"second"}}],)"
                               R"("usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})");
  BOOST_TEST(r.content == "Ahoy!");
  BOOST_TEST(r.refusal.empty());
  BOOST_TEST(r.finish_reason.value_or("") == "stop");
  BOOST_TEST_REQUIRE(r.usage.has_value());
  BOOST_TEST(r.usage->prompt_tokens == "3");
  BOOST_TEST(r.usage->completion_tokens == "4");
  BOOST_TEST(r.usage->total_tokens == "7");
  BOOST_TEST(decode_reply(R"({"choices":[{"message":{"content":"line\nbreak\u00e9"}}]})").content ==
             "line\nbreak\xC3\xA9");
  BOOST_TEST(decode_reply(R"({"choices":[{"message":{"content":""}}]})").content == "");
  BOOST_TEST(!decode_reply(R"({"choices":[{"message":{"content":"x"}}]})").usage.has_value());
}

BOOST_AUTO_TEST_CASE(usage_counts_are_shown_as_given_and_summed_exactly_only_when_the_total_is_missing)
{
  auto usage = [](const char* json) {
    return *decode_reply(std::string(R"({"choices":[{"message":{"content":"x"}}],"usage":)") + json + "}").usage;
  };
  BOOST_TEST(usage(R"({"prompt_tokens":2,"completion_tokens":3})").total_tokens == "5");
  BOOST_TEST(usage(R"({"prompt_tokens":2})").total_tokens == "2");
  BOOST_TEST(usage(R"({"prompt_tokens":9223372036854775807,"completion_tokens":1,"total_tokens":5})").total_tokens ==
             "5");
  BOOST_TEST(usage(R"({"prompt_tokens":9223372036854775807,"completion_tokens":1})").total_tokens ==
             "9223372036854775808");
  const Usage huge = usage(R"({"prompt_tokens":18446744073709551615,"completion_tokens":99999999999999999999,)"
                           R"("total_tokens":18446744073709551616})");
  BOOST_TEST(huge.prompt_tokens == "18446744073709551615");
  BOOST_TEST(huge.completion_tokens == "1e+20", "too large even for uint64: read as a double");
  BOOST_TEST(huge.total_tokens == "18446744073709551616");
  BOOST_TEST(usage(R"({"prompt_tokens":-1,"completion_tokens":1.5})").total_tokens == "?");
  BOOST_TEST(usage(R"({"prompt_tokens":"12"})").prompt_tokens == "0", "not a number");
}

BOOST_AUTO_TEST_CASE(decode_reply_joins_text_parts)
{
  BOOST_TEST(decode_reply(R"({"choices":[{"message":{"content":[{"type":"text","text":"a"},)"
                          R"({"type":"image_url"},{"type":"text","text":"b"}]}}]})")
               .content == "ab");
}

BOOST_AUTO_TEST_CASE(decode_reply_keeps_reasoning_apart)
{
  const Reply r = decode_reply(R"({"choices":[{"message":{"content":"4","reasoning_content":"2+2"}}]})");
  BOOST_TEST(r.content == "4");
  BOOST_TEST(r.reasoning == "2+2");
  BOOST_TEST(decode_reply(R"({"choices":[{"message":{"content":"4","reasoning":"r"}}]})").reasoning == "r");
}

BOOST_AUTO_TEST_CASE(malformed_json_is_a_bad_response_with_offset)
{
  const auto f = reply_error(R"({"choices":[{"message":{"content":"hi")");
  BOOST_TEST(f.status == 8);
  BOOST_TEST(f.phase == "response");
  BOOST_TEST(f.message.find("not valid JSON") != std::string::npos);
  BOOST_TEST(f.message.find("of 38") != std::string::npos);
  BOOST_TEST(reply_error("hello, not json").status == 8);
  BOOST_TEST(reply_error("").message.find("empty body") != std::string::npos);
  BOOST_TEST(reply_error("{} trailing").status == 8);
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_the_limit_says_so)
{
  const std::string deep = std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']');
  const auto f = reply_error(deep);
  BOOST_TEST(f.status == 8);
  BOOST_TEST(f.message.starts_with("the reply is JSON nested deeper than 32 levels (at byte 32 of 66): [[["),
             f.message);
  BOOST_TEST(describe(400, "Bad Request", deep) == "HTTP 400 Bad Request: a JSON body nested deeper than 32 levels");
  BOOST_TEST(reply_error(std::string(max_json_depth, '[') + std::string(max_json_depth, ']')).message ==
             "the reply has no choices, so there is no answer to print");
}

BOOST_AUTO_TEST_CASE(lone_surrogates_become_the_replacement_character)
{
  BOOST_TEST(decode_reply(R"({"choices":[{"message":{"content":"a\ud83d b\ude00 \ud83d\ude00"}}]})").content ==
             "a\xEF\xBF\xBD b\xEF\xBF\xBD \xF0\x9F\x98\x80");
  BOOST_TEST(describe(400, "", R"({"error":{"message":"half \udc00"}})") == "HTTP 400: half \xEF\xBF\xBD");
  const auto f = reply_error(R"({"choices":[{"message":{"content":"\ud83d"}}] x)");
  BOOST_TEST(f.message.find("(at byte 46 of 47)") != std::string::npos, f.message);
}

BOOST_AUTO_TEST_CASE(missing_choices_or_message_is_a_bad_response)
{
  for (const char* body : { R"({"choices":[]})",
                            R"({})",
                            R"([1,2])",
                            R"({"choices":[{}]})",
                            R"({"choices":[{"message":"text"}]})",
                            R"({"choices":"x"})" }) {
    BOOST_TEST(reply_error(body).status == 8, body);
  }
}

BOOST_AUTO_TEST_CASE(null_content_and_refusal_are_returned_for_the_caller_to_judge)
{
  const Reply r = decode_reply(R"({"choices":[{"message":{"content":null,"refusal":"I can't help with that."},)"
                               R"("finish_reason":"stop"}]})");
  BOOST_TEST(r.content.empty());
  BOOST_TEST(r.refusal == "I can't help with that.");
}

BOOST_AUTO_TEST_CASE(error_object_in_a_success_status_shows_its_message)
{
  const auto f = reply_error(R"({"error":{"message":"Provider returned error","code":502}})");
  BOOST_TEST(f.status == 8);
  BOOST_TEST(f.message == "Provider returned error (code: 502)");
}

BOOST_AUTO_TEST_CASE(exit_status_for_http_follows_the_table)
{
  const std::pair<int, int> cases[] = { { 400, 5 }, { 401, 3 }, { 402, 6 }, { 403, 3 }, { 404, 5 },
                                        { 408, 5 }, { 422, 5 }, { 429, 6 }, { 500, 7 }, { 502, 7 },
                                        { 503, 7 }, { 599, 7 }, { 301, 8 }, { 100, 8 } };
  for (const auto& [http, code] : cases) {
    BOOST_TEST(static_cast<int>(exit_status_for_http(http)) == code, http);
  }
}

BOOST_AUTO_TEST_CASE(describe_openai_error)
{
  BOOST_TEST(describe(404,
                      "Not Found",
                      R"({"error":{"message":"The model `x` does not exist","type":"invalid_request_error",)"
                      R"("param":null,"code":"model_not_found"}})") ==
             "HTTP 404 Not Found: The model `x` does not exist (code: model_not_found, type: invalid_request_error)");
}

BOOST_AUTO_TEST_CASE(describe_compatible_error_shapes)
{
  BOOST_TEST(describe(400, "Bad Request", R"({"error":{"message":"bad","code":400}})") ==
             "HTTP 400 Bad Request: bad (code: 400)");
  BOOST_TEST(describe(500, "", R"({"error":"model crashed"})") == "HTTP 500: model crashed");
  BOOST_TEST(
    describe(400, "Bad Request", R"({"error":"SyntaxError","message":"Unexpected token } in JSON at position 5"})") ==
    "HTTP 400 Bad Request: SyntaxError: Unexpected token } in JSON at position 5");
  BOOST_TEST(describe(400, "", R"({"error":"same","message":"same"})") == "HTTP 400: same");
  BOOST_TEST(describe(400, "Bad Request", R"({"message":"from message"})") == "HTTP 400 Bad Request: from message");
  BOOST_TEST(describe(404, "Not Found", R"({"detail":"Not Found"})") == "HTTP 404 Not Found: Not Found");
  BOOST_TEST(describe(422,
                      "Unprocessable Entity",
                      R"({"detail":[{"loc":["body","model"],"msg":"field required","type":"missing"},)"
                      R"({"loc":["body",0],"msg":"bad item"}]})") ==
             "HTTP 422 Unprocessable Entity: body.model: field required; body.0: bad item");
  BOOST_TEST(describe(400, "Bad Request", R"({"error":{"code":"only_code"}})") ==
             "HTTP 400 Bad Request: (code: only_code)");
  BOOST_TEST(describe(400, "Bad Request", R"({"unexpected":true})") == R"(HTTP 400 Bad Request: {"unexpected":true})");
}

BOOST_AUTO_TEST_CASE(describe_html_error_page_uses_its_title)
{
  BOOST_TEST(
    describe(502,
             "Bad Gateway",
             "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n") ==
    "HTTP 502 Bad Gateway: 502 Bad Gateway");
  BOOST_TEST(describe(502, "Bad Gateway", "<html><title>upstream down</title></html>") ==
             "HTTP 502 Bad Gateway: upstream down");
  BOOST_TEST(describe(503, "Service Unavailable", "<p>down\nfor <b>maintenance</b></p>") ==
             "HTTP 503 Service Unavailable: down for maintenance");
}

BOOST_AUTO_TEST_CASE(describe_is_one_short_line)
{
  const std::string text = describe(500, "Internal Server Error", std::string(5000, 'x') + "\n" + std::string(10, 'y'));
  BOOST_TEST(text.find('\n') == std::string::npos);
  BOOST_TEST(text.size() < 300);
  BOOST_TEST(describe(500, "", "") == "HTTP 500");
  BOOST_TEST(describe(500, "", "\x1B]0;title\x07 evil").find('\x1B') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(describe_mentions_retry_after)
{
  BOOST_TEST(describe(429, "Too Many Requests", R"({"error":{"message":"slow down"}})", { { "retry-after", "7" } }) ==
             "HTTP 429 Too Many Requests: slow down (retry after 7 s)");
}

BOOST_AUTO_TEST_CASE(describe_redirect_names_its_location)
{
  const std::string page = "<html><title>301 Moved Permanently</title></html>";
  BOOST_TEST(describe(307,
                      "Temporary Redirect",
                      page,
                      { { "Location", "https://other.example/v1/chat/completions" } },
                      "https://api.example/v1/chat/completions") ==
             "HTTP 307 Temporary Redirect: redirected to https://other.example/v1/chat/completions; gptq does not "
             "follow redirects");
  // The https:// form of the requested http:// URL: the server moved to TLS.
  BOOST_TEST(describe(301,
                      "Moved Permanently",
                      page,
                      { { "location", "https://API.example/v1/chat/completions" } },
                      "http://api.example/v1/chat/completions") ==
             "HTTP 301 Moved Permanently: redirected to https://API.example/v1/chat/completions; gptq does not "
             "follow redirects: the server wants https://, use https:// in --base-url");
  // Another host over https is no such hint; nor is a relative Location.
  BOOST_TEST(describe(301, "", "", { { "Location", "https://evil.example/" } }, "http://api.example/v1") ==
             "HTTP 301: redirected to https://evil.example/; gptq does not follow redirects");
  BOOST_TEST(describe(302, "Found", "", { { "Location", "/login" } }, "http://api.example/v1") ==
             "HTTP 302 Found: redirected to /login; gptq does not follow redirects");
  // Control characters in the Location are escaped, and a long one cut.
  const std::string shown = describe(302, "Found", "", { { "Location", "/a\r\n\x1b[2Jb" + std::string(500, 'x') } });
  BOOST_TEST(shown.find_first_of("\r\n\x1b") == std::string::npos);
  BOOST_TEST(shown.size() < 320);
  // No Location: the body is described as for any error.
  BOOST_TEST(describe(304, "Not Modified", R"({"error":"odd"})") == "HTTP 304 Not Modified: odd");
}

BOOST_AUTO_TEST_CASE(unsupported_encoding_is_any_content_coding_but_identity)
{
  auto with = [](std::vector<std::pair<std::string, std::string>> headers) {
    HttpResponse r;
    r.status = 200;
    r.headers = std::move(headers);
    return unsupported_encoding(r);
  };
  BOOST_TEST(!with({}).has_value());
  BOOST_TEST(!with({ { "Content-Encoding", "identity" } }).has_value());
  BOOST_TEST(!with({ { "Content-Encoding", " IDENTITY " } }).has_value());
  BOOST_TEST(!with({ { "Content-Encoding", "" } }).has_value());
  BOOST_TEST(with({ { "content-encoding", "gzip" } }).value_or("") ==
             "compressed response (Content-Encoding: gzip) is not supported");
  BOOST_TEST(with({ { "Content-Encoding", "br" } }).value_or("") ==
             "compressed response (Content-Encoding: br) is not supported");
  BOOST_TEST(with({ { "Content-Encoding", "gzip\x1b[0m" } }).value_or("").find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(describe_does_not_read_a_compressed_error_body)
{
  BOOST_TEST(describe(500, "Internal Server Error", "\x1f\x8b\x08garbage", { { "Content-Encoding", "gzip" } }) ==
             "HTTP 500 Internal Server Error: (the body is compressed: Content-Encoding: gzip)");
}

// The one verdict on a reply, for one-shot and batch mode alike.
BOOST_AUTO_TEST_CASE(unusable_reply_table)
{
  struct Case {
    const char* name;
    std::string refusal;
    bool has_text;
    std::optional<std::string> finish_reason;
    std::string hint;
    int status; // 0: usable
    std::string phase;
    std::string message;
  };
  const Case cases[] = {
    { "text", "", true, "stop", "", 0, "", "" },
    { "text cut at the limit", "", true, "length", "raise --max-tokens", 0, "", "" },
    { "refusal", "I can't help with that.", false, "stop", "", 5, "refusal", "I can't help with that." },
    { "refusal beside text", "no", true, std::nullopt, "", 5, "refusal", "no" },
    { "no text", "", false, std::nullopt, "", 8, "response", "the reply has no text content" },
    { "no text, stop", "", false, "stop", "", 8, "response", "the reply has no text content (finish_reason: stop)" },
    { "no text, length, no hint",
      "",
      false,
      "length",
      "",
      8,
      "response",
      "the reply has no text content (finish_reason: length)" },
    { "no text, length, a hint",
      "",
      false,
      "length",
      "raise --max-tokens",
      8,
      "response",
      "the token limit was reached before any reply text (finish_reason: length); raise --max-tokens" },
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name)
    {
      const auto problem = unusable_reply(c.refusal, c.has_text, c.finish_reason, {}, c.hint);
      BOOST_TEST(problem.has_value() == (c.status != 0));
      if (problem) {
        BOOST_TEST(static_cast<int>(problem->status()) == c.status);
        BOOST_TEST(problem->phase() == c.phase);
        BOOST_TEST(problem->what() == c.message);
        const bool refused = problem->kind() == FailureKind::refusal;
        BOOST_TEST(refused == !c.refusal.empty());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unusable_reply_redacts_the_refusal)
{
  Secrets secrets;
  secrets.add("sk-secret-key-123456");
  const auto problem = unusable_reply("your key is sk-secret-key-123456", false, std::nullopt, secrets);
  BOOST_TEST_REQUIRE(problem.has_value());
  BOOST_TEST(std::string(problem->what()).find("sk-secret") == std::string::npos, problem->what());
}

BOOST_AUTO_TEST_CASE(a_responses_object_gives_the_text_of_all_message_items_after_its_reasoning)
{
  const Reply reply =
    decode_reply(R"({"object":"response","status":"completed","output":[)"
                 R"({"type":"reasoning","summary":[{"type":"summary_text","text":"think"}]},)"
                 R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello, "},)"
                 R"({"type":"output_text","text":"world"}]},{"type":"web_search_call","id":"ws"},)"
                 R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"!"}]}],)"
                 R"("usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7,)"
                 R"("output_tokens_details":{"reasoning_tokens":2},"input_tokens_details":{"cached_tokens":0}}})");
  BOOST_TEST(reply.content == "Hello, world!");
  BOOST_TEST(reply.reasoning == "think");
  BOOST_TEST(reply.finish_reason.value_or("") == "stop");
  BOOST_TEST_REQUIRE(reply.usage.has_value());
  BOOST_TEST(reply.usage->prompt_tokens == "3");
  BOOST_TEST(reply.usage->completion_tokens == "4");
  BOOST_TEST(reply.usage->total_tokens == "7");
  BOOST_TEST(reply.usage->reasoning_tokens.value_or("") == "2");
  BOOST_TEST(reply.usage->cached_tokens.value_or("") == "0");
}

BOOST_AUTO_TEST_CASE(an_incomplete_responses_object_names_its_reason_and_a_refusal_is_kept)
{
  const Reply cut = decode_reply(R"({"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},)"
                                 R"("output":[{"type":"message","content":[{"type":"output_text","text":"par"}]}]})");
  BOOST_TEST(cut.content == "par");
  BOOST_TEST(cut.finish_reason.value_or("") == "max_output_tokens");
  BOOST_TEST(cut_at_token_limit(cut.finish_reason));
  BOOST_TEST(finish_label("max_output_tokens") == "incomplete: max_output_tokens");
  BOOST_TEST(finish_label("length") == "finish_reason: length");
  const Reply refused = decode_reply(
    R"({"status":"completed","output":[{"type":"message","content":[{"type":"refusal","refusal":"no"}]}]})");
  BOOST_TEST(refused.content.empty());
  BOOST_TEST(refused.refusal == "no");
}

BOOST_AUTO_TEST_CASE(a_failed_responses_object_is_an_api_error)
{
  const auto f = reply_error(R"({"status":"failed","error":{"code":"server_error","message":"it broke"},"output":[]})");
  BOOST_TEST(f.status == 8);
  BOOST_TEST(f.phase == "api");
  BOOST_TEST(f.message == "the response failed: it broke (code: server_error)");
}

BOOST_AUTO_TEST_CASE(only_on_the_responses_api_says_to_use_api_responses)
{
  const std::string text =
    describe(404,
             "Not Found",
             R"({"error":{"message":"This model is only supported in v1/responses and not in v1/chat/completions.",)"
             R"("type":"invalid_request_error","param":"model","code":null}})");
  BOOST_TEST(text.find("only supported in v1/responses") != std::string::npos, text);
  BOOST_TEST(text.ends_with("; use --api responses (or add the line `api = responses` to the profile)"), text);
  BOOST_TEST(describe(404, "Not Found", R"({"error":{"message":"no such model"}})").find("--api") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
