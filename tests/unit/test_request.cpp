#include "request.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace gptq;

namespace {

const Url openai = endpoint_url(parse_url("https://api.openai.com/v1"), "/chat/completions");
const Url local = endpoint_url(parse_url("http://localhost:11434/v1"), "/chat/completions");

} // namespace

BOOST_AUTO_TEST_SUITE(request)

BOOST_AUTO_TEST_CASE(minimal_body_has_model_user_message_and_stream)
{
  Options o;
  BOOST_TEST(build_request_body(o, "hi", openai) ==
             R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true})");
  o.stream = false;
  BOOST_TEST(build_request_body(o, "hi", openai) ==
             R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})");
}

BOOST_AUTO_TEST_CASE(stream_options_only_when_usage_is_asked_for)
{
  Options o;
  BOOST_TEST(build_request_body(o, "hi", local).find("stream_options") == std::string::npos);
  o.usage = true;
  BOOST_TEST(build_request_body(o, "hi", local).find(R"("stream":true,"stream_options":{"include_usage":true})") !=
             std::string::npos);
  o.stream = false;
  BOOST_TEST(build_request_body(o, "hi", local).find("stream") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(system_message_comes_first)
{
  Options o;
  o.system = "a pirate";
  o.model = "m";
  o.stream = false;
  BOOST_TEST(build_request_body(o, "hello", local) ==
             R"({"model":"m","messages":[{"role":"system","content":"a pirate"},{"role":"user","content":"hello"}]})");
}

BOOST_AUTO_TEST_CASE(text_is_escaped_and_survives_a_round_trip)
{
  Options o;
  const std::string text = "tab\t \"q\" back\\ caf\xC3\xA9 \r\n ctrl\x01 nul" + std::string(1, '\0');
  const auto body = boost::json::parse(build_request_body(o, text, local));
  BOOST_TEST(body.at("messages").at(0).at("content").as_string() == text);
}

// The message is spliced into the body in place of a placeholder; text
// elsewhere that looks like the placeholder must not confuse it.
BOOST_AUTO_TEST_CASE(message_lands_in_its_place_whatever_other_fields_hold)
{
  Options o;
  o.stream = false;
  o.model = "<gptq user message 0>";
  o.system = "<gptq user message 1>";
  o.stop = { "<gptq user message 0>", "<gptq user message 2>" };
  const std::string message = "<gptq user message 0> and \"more\"";
  const auto body = boost::json::parse(build_request_body(o, message, local));
  BOOST_TEST(body.at("model").as_string() == "<gptq user message 0>");
  BOOST_TEST(body.at("messages").at(0).at("content").as_string() == "<gptq user message 1>");
  BOOST_TEST(body.at("messages").at(1).at("content").as_string() == message);
  BOOST_TEST(body.at("stop").at(1).as_string() == "<gptq user message 2>");
}

BOOST_AUTO_TEST_CASE(messages_replaced_by_an_option_leave_the_prompt_out)
{
  Options o;
  o.stream = false;
  o.model = "m";
  o.fields = { { "messages", R"([{"role":"user","content":"from -o"}])" } };
  BOOST_TEST(build_request_body(o, "the prompt", local) ==
             R"({"model":"m","messages":[{"role":"user","content":"from -o"}]})");
}

BOOST_AUTO_TEST_CASE(max_tokens_field_depends_on_the_server)
{
  Options o;
  o.max_tokens = 64;
  o.temperature = 0.7;
  BOOST_TEST(build_request_body(o, "x", openai).find(R"("temperature":0.7,"max_completion_tokens":64)") !=
             std::string::npos);
  const std::string other = build_request_body(o, "x", local);
  BOOST_TEST(other.find(R"("max_tokens":64)") != std::string::npos);
  BOOST_TEST(other.find("max_completion_tokens") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(sampling_options_and_response_formats)
{
  Options o;
  o.stream = false;
  o.top_p = 0.9;
  o.seed = -7;
  o.stop = { "END", "\n\n" };
  o.json = true;
  BOOST_TEST(build_request_body(o, "x", local) ==
             R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"top_p":0.9,"seed":-7,)"
             R"("stop":["END","\n\n"],"response_format":{"type":"json_object"}})");
}

BOOST_AUTO_TEST_CASE(schema_becomes_a_strict_json_schema_format)
{
  Options o;
  o.stream = false;
  o.schema_file = "dir/person.schema.json";
  o.schema_text = R"({"type":"object","properties":{"name":{"type":"string"}}})";
  const auto body = boost::json::parse(build_request_body(o, "x", local));
  const auto& format = body.at("response_format");
  BOOST_TEST(format.at("type").as_string() == "json_schema");
  BOOST_TEST(format.at("json_schema").at("name").as_string() == "person");
  BOOST_TEST(format.at("json_schema").at("strict").as_bool());
  BOOST_TEST(format.at("json_schema").at("schema").at("properties").at("name").at("type").as_string() == "string");
}

BOOST_AUTO_TEST_CASE(bad_schema_names_file_line_and_column)
{
  Options o;
  o.schema_file = "s.json";
  o.schema_text = "{\n  \"type\": ,\n}";
  const auto f = gptq::test::failure_of([&] { build_request_body(o, "x", local); });
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.message.starts_with("s.json:2:11: not valid JSON"), f.message);
  o.schema_text = "[1]";
  BOOST_CHECK_THROW(build_request_body(o, "x", local), Error);
}

BOOST_AUTO_TEST_CASE(option_values_are_json_when_they_parse_else_text_and_come_last)
{
  Options o;
  o.stream = false;
  o.temperature = 0.5;
  o.fields = { { "reasoning_effort", "low" },
               { "n", "2" },
               { "logit_bias", R"({"50256":-100})" },
               { "flag", "true" },
               { "temperature", "0" },
               { "user", "\"quoted\"" },
               { "note", "{not json" } };
  const auto body = boost::json::parse(build_request_body(o, "x", local));
  BOOST_TEST(body.at("reasoning_effort").as_string() == "low");
  BOOST_TEST(body.at("n").as_int64() == 2);
  BOOST_TEST(body.at("logit_bias").at("50256").as_int64() == -100);
  BOOST_TEST(body.at("flag").as_bool());
  BOOST_TEST(body.at("temperature").as_int64() == 0);
  BOOST_TEST(body.at("user").as_string() == "quoted");
  BOOST_TEST(body.at("note").as_string() == "{not json");
}

BOOST_AUTO_TEST_CASE(http_request_headers)
{
  const HttpRequest r = build_http_request(local, "{}", std::string("sk-test"), false);
  BOOST_TEST(r.method == "POST");
  BOOST_TEST(r.url.target() == "/v1/chat/completions");
  BOOST_TEST(r.header("Host").value_or("<absent>") == "localhost:11434");
  BOOST_TEST(r.header("Content-Type").value_or("<absent>") == "application/json");
  BOOST_TEST(r.header("User-Agent").value_or("<absent>") == std::string("gptq/") + GPTQ_VERSION);
  BOOST_TEST(r.header("Authorization").value_or("<absent>") == "Bearer sk-test");
  BOOST_TEST(r.header("Accept").value_or("") == "application/json");
  BOOST_TEST(r.body == "{}");
  BOOST_TEST(build_http_request(local, "{}", std::nullopt, true).header("Accept").value_or("") == "text/event-stream");
}

BOOST_AUTO_TEST_CASE(no_key_means_no_authorization_header)
{
  BOOST_TEST(!build_http_request(local, "{}", std::nullopt, false).header("Authorization").has_value());
}

BOOST_AUTO_TEST_CASE(host_header_for_default_port)
{
  BOOST_TEST(build_http_request(openai, "{}", std::nullopt, false).header("Host").value_or("<absent>") ==
             "api.openai.com");
}

BOOST_AUTO_TEST_SUITE_END()
