#include "chat_request.hpp"

#include "chat_completions.hpp"
#include "error.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;

namespace {

const Url openai = endpoint_url(parse_url("https://api.openai.com/v1"), "/chat/completions");
const Url local = endpoint_url(parse_url("http://localhost:8080/v1"), "/chat/completions");

Options plain()
{
  Options o;
  o.model = "m";
  o.stream = false;
  return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(chat_request_model)

BOOST_AUTO_TEST_CASE(chat_request_takes_what_options_set)
{
  Options o = plain();
  o.system = "terse";
  o.temperature = 0.2;
  o.max_tokens = 5;
  o.stop = { "x" };
  o.json = true;
  o.stream = true;
  o.usage = true;
  o.fields = { { "n", "2" }, { "user", "bob" } };
  const std::string message = "question";
  const ChatRequest r = chat_request(o, message);
  BOOST_TEST(r.model == "m");
  BOOST_TEST_REQUIRE(r.messages.size() == 2u);
  BOOST_TEST((r.messages[0].role == Role::system));
  BOOST_TEST(std::get<std::string_view>(r.messages[0].content) == "terse");
  BOOST_TEST((r.messages[1].role == Role::user));
  BOOST_TEST(std::get<std::string_view>(r.messages[1].content).data() == message.data(), "a view, not a copy");
  BOOST_TEST(r.temperature.value_or(0) == 0.2);
  BOOST_TEST(r.max_tokens.value_or(0) == 5);
  BOOST_TEST(r.stop == std::vector<std::string>{ "x" });
  BOOST_TEST((r.response_format.kind == ResponseFormat::Kind::json_object));
  BOOST_TEST(r.stream);
  BOOST_TEST(r.stream_usage);
  BOOST_TEST_REQUIRE(r.extra_fields.size() == 2u);
  BOOST_TEST(r.extra_fields[0].second.as_int64() == 2);
  BOOST_TEST(r.extra_fields[1].second.as_string() == "bob");
}

BOOST_AUTO_TEST_CASE(schema_wins_over_json_and_is_named_after_its_file)
{
  Options o = plain();
  o.json = true;
  o.schema_file = "/a/b/my person!.v2.json";
  o.schema_text = R"({"type":"object"})";
  const ChatRequest r = chat_request(o, "x");
  BOOST_TEST((r.response_format.kind == ResponseFormat::Kind::json_schema));
  BOOST_TEST(r.response_format.schema_name == "myperson");
  BOOST_TEST(r.response_format.schema.at("type").as_string() == "object");
  o.schema_text = "[]";
  BOOST_CHECK_THROW(chat_request(o, "x"), Error);
}

// Settings and the exact body they make.
BOOST_AUTO_TEST_CASE(body_bytes_for_a_table_of_settings)
{
  struct Case {
    const char* name;
    void (*set)(Options&);
    const Url& endpoint;
    const char* body;
  };
  const Case cases[] = {
    { "plain", [](Options&) {}, local, R"({"model":"m","messages":[{"role":"user","content":"hi"}]})" },
    { "stream",
      [](Options& o) { o.stream = true; },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})" },
    { "stream and usage",
      [](Options& o) { o.stream = o.usage = true; },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})" },
    { "usage without a stream",
      [](Options& o) { o.usage = true; },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}]})" },
    { "system",
      [](Options& o) { o.system = "be \"brief\""; },
      local,
      R"({"model":"m","messages":[{"role":"system","content":"be \"brief\""},{"role":"user","content":"hi"}]})" },
    { "max tokens, OpenAI",
      [](Options& o) { o.max_tokens = 9; },
      openai,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":9})" },
    { "max tokens, another server",
      [](Options& o) { o.max_tokens = 9; },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9})" },
    { "sampling",
      [](Options& o) {
        o.temperature = 0.7;
        o.top_p = 0.5;
        o.seed = 3;
        o.stop = { "a", "b" };
      },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.7,"top_p":0.5,"seed":3,"stop":["a","b"]})" },
    { "json",
      [](Options& o) { o.json = true; },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}})" },
    { "schema",
      [](Options& o) {
        o.schema_file = "p.json";
        o.schema_text = R"({"type":"object"})";
      },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema",)"
      R"("json_schema":{"name":"p","strict":true,"schema":{"type":"object"}}}})" },
    { "extra fields replace in place and add at the end",
      [](Options& o) {
        o.temperature = 1;
        o.fields = { { "temperature", "0" }, { "x", "[1]" } };
      },
      local,
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"x":[1]})" },
    { "extra field replaces the messages",
      [](Options& o) {
        o.fields = { { "messages", "[]" } };
      },
      local,
      R"({"model":"m","messages":[]})" },
  };
  for (const auto& c : cases) {
    Options o = plain();
    c.set(o);
    BOOST_TEST(chat_completions_body(chat_request(o, "hi"), c.endpoint) == c.body, c.name);
  }
}

BOOST_AUTO_TEST_CASE(several_messages_and_parts_in_order)
{
  ChatRequest r;
  r.model = "m";
  r.messages.push_back({ Role::system, std::string_view("s") });
  r.messages.push_back({ Role::user, std::string_view("q1") });
  r.messages.push_back({ Role::assistant, std::string_view("a1") });
  std::vector<ContentPart> parts{ TextPart{ "look:" },
                                  ImagePart{ "https://example.com/a.png", std::nullopt },
                                  ImagePart{ "data:image/png;base64,AAAA", std::string("low") },
                                  FilePart{ "p.pdf", "data:application/pdf;base64,JVBE" },
                                  AudioPart{ "UklG", "wav" },
                                  TextPart{ "and \"this\"" } };
  r.messages.push_back({ Role::user, std::move(parts) });
  BOOST_TEST(chat_completions_body(r, local) ==
             R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"q1"},)"
             R"({"role":"assistant","content":"a1"},{"role":"user","content":[{"type":"text","text":"look:"},)"
             R"({"type":"image_url","image_url":{"url":"https://example.com/a.png"}},)"
             R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},)"
             R"({"type":"file","file":{"filename":"p.pdf","file_data":"data:application/pdf;base64,JVBE"}},)"
             R"({"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},)"
             R"({"type":"text","text":"and \"this\""}]}]})");
}

// Each text is spliced into the body in place of a placeholder: texts and
// other fields that look like placeholders must not confuse it.
BOOST_AUTO_TEST_CASE(texts_land_in_their_places_whatever_the_fields_hold)
{
  ChatRequest r;
  r.model = "<gptq text 0:0>";
  r.stop = { "<gptq text 1:1>", "<gptq text 0:" };
  r.messages.push_back({ Role::system, std::string_view("<gptq text 0:1>") });
  r.messages.push_back({ Role::user, std::vector<ContentPart>{ TextPart{ "<gptq text 1:0>" }, TextPart{ "" } } });
  r.extra_fields.emplace_back("note", "<gptq text 2:0>");
  const auto body = boost::json::parse(chat_completions_body(r, local));
  BOOST_TEST(body.at("model").as_string() == "<gptq text 0:0>");
  BOOST_TEST(body.at("messages").at(0).at("content").as_string() == "<gptq text 0:1>");
  BOOST_TEST(body.at("messages").at(1).at("content").at(0).at("text").as_string() == "<gptq text 1:0>");
  BOOST_TEST(body.at("messages").at(1).at("content").at(1).at("text").as_string() == "");
  BOOST_TEST(body.at("stop").at(0).as_string() == "<gptq text 1:1>");
  BOOST_TEST(body.at("note").as_string() == "<gptq text 2:0>");
}

BOOST_AUTO_TEST_CASE(replaced_messages_keep_placeholder_lookalikes_elsewhere)
{
  ChatRequest r;
  r.model = "<gptq text 0:0>";
  r.messages.push_back({ Role::user, std::string_view("the prompt") });
  r.extra_fields.emplace_back("messages", boost::json::array{});
  BOOST_TEST(chat_completions_body(r, local) == R"({"model":"<gptq text 0:0>","messages":[]})");
}

BOOST_AUTO_TEST_SUITE_END()
