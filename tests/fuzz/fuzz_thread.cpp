// Fuzzes gptq::parse_thread (a -C thread file) on any text, which must
// return or throw gptq::Error (usage) with a one-line message naming the
// file; and the round trip that appending rests on: what thread_addition
// writes after any valid file parses again, as the same messages and then
// the new user message and reply, with the system that was given holding.
//
// Input: the thread file's text; its first valid-UTF-8 line, when there is
// one, is also used as the new user message and reply.
#include "thread.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"
#include "text.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

std::string text_of(const gptq::Message& message)
{
  if (const auto* json = std::get_if<gptq::EscapedText>(&message.content)) {
    return std::string(boost::json::parse("\"" + std::string(json->json) + "\"").as_string());
  }
  const auto* text = std::get_if<std::string_view>(&message.content);
  return text ? std::string(*text) : std::string("<parts>");
}

// A line that written_line takes is one that a JSON parser takes too, with
// the same role and text.
void check_written_line(std::string_view line)
{
  const auto message = gptq::written_line(line);
  if (!message) {
    // And the other way: a line of that shape whose content a JSON parser
    // takes as a string must be taken in place, unless a surrogate escape
    // (left to the full parser) is in it.
    for (const std::string_view head : { R"({"role":"user","content":")", R"({"role":"assistant","content":")" }) {
      if (line.size() >= head.size() + 2 && line.starts_with(head) && line.ends_with("\"}") &&
          line.find("\\ud") == line.npos && line.find("\\uD") == line.npos) {
        const std::string body(line.substr(head.size(), line.size() - head.size() - 2));
        boost::system::error_code ec;
        const auto value = boost::json::parse("\"" + body + "\"", ec);
        check(ec.failed() || !value.is_string(), "written_line refused a line of valid JSON text");
      }
    }
    return;
  }
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec);
  check(!ec && value.is_object(), "written_line took a line that is not JSON");
  const auto& object = value.get_object();
  check(object.size() == 2 && object.at("role").is_string() &&
          object.at("role").get_string() == gptq::role_name(message->role),
        "written_line took another role");
  check(object.at("content").is_string() && object.at("content").get_string() == text_of(*message),
        "written_line read another text than a JSON parser");
}

void check_round_trip(const gptq::Thread& thread, std::string_view text, std::string_view words)
{
  const std::optional<std::string> system = words.size() % 2 ? std::optional<std::string>(words) : std::nullopt;
  const std::string added = gptq::thread_addition(thread, system, words, "reply");
  const gptq::Thread after = gptq::parse_thread(std::string(text) + added, "t.thread");
  const auto& before = thread.messages();
  const auto& now = after.messages();
  check(now.size() >= before.size() + 2, "an appended turn is not read back");
  for (std::size_t i = 0; i < before.size(); ++i) {
    check(now[i].role == before[i].role && text_of(now[i]) == text_of(before[i]), "appending changed a message");
  }
  check(now[now.size() - 2].role == gptq::Role::user && text_of(now[now.size() - 2]) == words,
        "the user message is not read back as written");
  check(now.back().role == gptq::Role::assistant && text_of(now.back()) == "reply", "the reply is not read back");
  if (system) {
    check(gptq::thread_system(after) == std::optional<std::string_view>(*system), "the given system does not hold");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!gptq::find_invalid_utf8(text)) {
    check_written_line(text.substr(0, text.find('\n')));
  }
  try {
    const gptq::Thread thread = gptq::parse_thread(std::string(text), "t.thread");
    for (long long tail : { 1, 2, 1000 }) {
      const auto messages = gptq::thread_messages(thread, tail == 2, tail);
      check(messages.size() <= thread.messages().size(), "the tail holds more than the thread");
    }
    std::string_view words = text.substr(0, text.find('\n'));
    if (gptq::find_invalid_utf8(words)) {
      words = "q";
    }
    check_round_trip(thread, text, words);
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::usage, "parse_thread failed with another status than usage");
    check(gptq::fuzz::is_one_line(e.what()), "a parse_thread error is not one line");
    check(std::string_view(e.what()).starts_with("t.thread:"), "a parse_thread error does not name the file");
  }
  return 0;
}
