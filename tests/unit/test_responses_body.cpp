#include "responses_body.hpp"

#include "error.hpp"
#include "request.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace gptq;

namespace {

boost::json::value body_of(const ChatRequest& request)
{
  return boost::json::parse(responses_body(request));
}

ChatRequest asking(std::string_view text)
{
  ChatRequest r;
  r.model = "o3-pro";
  r.messages.push_back({ Role::user, text });
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(responses_body_writer)

BOOST_AUTO_TEST_CASE(system_is_instructions_and_a_lone_prompt_is_the_input_string)
{
  ChatRequest r;
  r.model = "o3-pro";
  r.messages.push_back({ Role::system, std::string_view("be \"terse\"") });
  r.messages.push_back({ Role::user, std::string_view("what?\n") });
  r.max_tokens = 50;
  r.temperature = 0.5;
  r.top_p = 0.9;
  r.stream = true;
  r.stream_usage = true; // the Responses API always reports it
  BOOST_TEST(responses_body(r) ==
             R"({"model":"o3-pro","instructions":"be \"terse\"","input":"what?\n",)"
             R"("temperature":0.5,"max_output_tokens":50,"top_p":0.9,"stream":true,"store":false})");
}

BOOST_AUTO_TEST_CASE(turns_and_parts_become_message_items)
{
  ChatRequest r = asking("first");
  r.messages.push_back({ Role::assistant, std::string_view("reply") });
  r.messages.push_back({ Role::user,
                         std::vector<ContentPart>{ TextPart{ "look" },
                                                   ImagePart{ "https://x.example/a.png", std::nullopt },
                                                   FilePart{ "a.pdf", "data:application/pdf;base64,QQ==" } } });
  r.messages.push_back({ Role::assistant, std::vector<ContentPart>{ TextPart{ "seen" } } });
  const auto input = body_of(r).at("input");
  BOOST_TEST(boost::json::serialize(input) ==
             R"([{"type":"message","role":"user","content":"first"},)"
             R"({"type":"message","role":"assistant","content":"reply"},)"
             R"({"type":"message","role":"user","content":[{"type":"input_text","text":"look"},)"
             R"({"type":"input_image","image_url":"https://x.example/a.png","detail":"auto"},)"
             R"({"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,QQ=="}]},)"
             R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"seen"}]}])");
}

BOOST_AUTO_TEST_CASE(json_and_schema_go_to_text_format)
{
  ChatRequest r = asking("q");
  r.response_format.kind = ResponseFormat::Kind::json_object;
  BOOST_TEST(boost::json::serialize(body_of(r).at("text")) == R"({"format":{"type":"json_object"}})");
  r.response_format.kind = ResponseFormat::Kind::json_schema;
  r.response_format.schema_name = "person";
  r.response_format.schema = boost::json::object{ { "type", "object" } };
  BOOST_TEST(boost::json::serialize(body_of(r).at("text")) ==
             R"({"format":{"type":"json_schema","name":"person","strict":true,"schema":{"type":"object"}}})");
}

BOOST_AUTO_TEST_CASE(reasoning_asks_for_a_summary)
{
  ChatRequest r = asking("q");
  r.reasoning = true;
  BOOST_TEST(boost::json::serialize(body_of(r).at("reasoning")) == R"({"summary":"auto"})");
}

BOOST_AUTO_TEST_CASE(extra_fields_go_last_over_fields_of_the_same_name_even_input_and_store)
{
  ChatRequest r = asking("q");
  r.messages.insert(r.messages.begin(), { Role::system, std::string_view("sys") });
  r.extra_fields = { { "store", true }, { "input", "other" }, { "instructions", nullptr }, { "user", "bob" } };
  BOOST_TEST(responses_body(r) ==
             R"({"model":"o3-pro","instructions":null,"input":"other","store":true,"user":"bob"})");
}

BOOST_AUTO_TEST_CASE(seed_stop_and_audio_have_no_responses_field)
{
  ChatRequest seeded = asking("q");
  seeded.seed = 7;
  BOOST_CHECK_EXCEPTION(responses_body(seeded), Error, [](const Error& e) {
    return e.status() == ExitStatus::usage && e.phase() == "--seed";
  });
  ChatRequest stopped = asking("q");
  stopped.stop = { "x" };
  BOOST_CHECK_EXCEPTION(responses_body(stopped), Error, [](const Error& e) { return e.phase() == "--stop"; });
  ChatRequest audio = asking("q");
  audio.messages.push_back({ Role::user, std::vector<ContentPart>{ AudioPart{ "AAAA", "wav" } } });
  BOOST_CHECK_EXCEPTION(responses_body(audio), Error, [](const Error& e) { return e.status() == ExitStatus::usage; });
}

BOOST_AUTO_TEST_CASE(a_text_that_holds_the_placeholder_prefix_is_sent_as_it_is)
{
  const std::string text = "<gptq text 0:0> and <gptq text 0:1>";
  ChatRequest r = asking(text);
  r.messages.insert(r.messages.begin(), { Role::system, std::string_view("<gptq text 0:") });
  const auto body = body_of(r);
  BOOST_TEST(body.at("input").as_string() == text);
  BOOST_TEST(body.at("instructions").as_string() == "<gptq text 0:");
}

BOOST_AUTO_TEST_CASE(the_api_setting_picks_the_writer_and_the_endpoint)
{
  Options o;
  o.model = "m";
  o.stream = false;
  const Url url = parse_url("http://localhost:8080/v1");
  BOOST_TEST(endpoint_path(Api::chat) == "/chat/completions");
  BOOST_TEST(endpoint_path(Api::responses) == "/responses");
  BOOST_TEST(build_request_body(o, "hi", url).find("\"messages\"") != std::string::npos);
  o.api = Api::responses;
  BOOST_TEST(build_request_body(o, "hi", url) == R"({"model":"m","input":"hi","store":false})");
}

BOOST_AUTO_TEST_SUITE_END()
