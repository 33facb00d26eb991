#include "thread.hpp"

#include "error.hpp"
#include "json_text.hpp"
#include "text.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>

namespace gptq {

namespace json = boost::json;

namespace {

[[noreturn]] void bad_line(std::string_view path, std::size_t line, const std::string& what)
{
  throw Error(ExitStatus::usage, "--thread", std::string(path) + ":" + std::to_string(line) + ": " + what);
}

std::optional<Role> role_of(std::string_view name)
{
  if (name == "system") {
    return Role::system;
  }
  if (name == "user") {
    return Role::user;
  }
  if (name == "assistant") {
    return Role::assistant;
  }
  return std::nullopt;
}

const json::string* string_at(const json::object& object, std::string_view key)
{
  const auto* value = object.if_contains(key);
  return value ? value->if_string() : nullptr;
}

// One part of a content list, as the request model holds it; nullopt when
// the part is not one gptq knows how to send.
std::optional<ContentPart> content_part(const json::value& value)
{
  const auto* part = value.if_object();
  const auto* type = part ? string_at(*part, "type") : nullptr;
  if (!type) {
    return std::nullopt;
  }
  const auto* inner = [&]() -> const json::object* {
    const auto* v = part->if_contains(*type);
    return v ? v->if_object() : nullptr;
  }();
  if (*type == "text") {
    const auto* text = string_at(*part, "text");
    return text ? std::optional<ContentPart>(TextPart{ std::string_view(*text) }) : std::nullopt;
  }
  if (*type == "image_url" && inner && string_at(*inner, "url")) {
    ImagePart image{ std::string(*string_at(*inner, "url")), std::nullopt };
    if (const auto* detail = string_at(*inner, "detail")) {
      image.detail = std::string(*detail);
    }
    return image;
  }
  if (*type == "file" && inner && string_at(*inner, "file_data")) {
    const auto* name = string_at(*inner, "filename");
    return FilePart{ name ? std::string(*name) : std::string(), std::string(*string_at(*inner, "file_data")) };
  }
  if (*type == "input_audio" && inner && string_at(*inner, "data") && string_at(*inner, "format")) {
    return AudioPart{ std::string(*string_at(*inner, "data")), std::string(*string_at(*inner, "format")) };
  }
  return std::nullopt;
}

Message message_of(const json::value& line, std::string_view path, std::size_t number)
{
  const auto* object = line.if_object();
  if (!object) {
    bad_line(path, number, "not a JSON object");
  }
  const auto* role_name = string_at(*object, "role");
  if (!role_name) {
    bad_line(path, number, "no \"role\"");
  }
  const auto role = role_of(*role_name);
  if (!role) {
    bad_line(path, number, "unknown role " + quoted(std::string_view(*role_name), 40) + " (system, user or assistant)");
  }
  const auto* content = object->if_contains("content");
  if (content && content->is_string()) {
    return { *role, std::string_view(content->get_string()) };
  }
  if (!content || !content->is_array()) {
    bad_line(path, number, "\"content\" must be a string or a list of parts");
  }
  std::vector<ContentPart> parts;
  for (const auto& value : content->get_array()) {
    auto part = content_part(value);
    if (!part) {
      bad_line(path, number, "a content part of unknown type or shape");
    }
    parts.push_back(std::move(*part));
  }
  return { *role, std::move(parts) };
}

void append_line(std::string& out, std::string_view role, std::string_view content)
{
  out += R"({"role":")";
  out += role;
  out += R"(","content":)";
  append_json_string(out, content);
  out += "}\n";
}

} // namespace

Thread parse_thread(std::string_view text, std::string_view path)
{
  if (const auto bad = find_invalid_utf8(text)) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(*bad), '\n');
    bad_line(path, static_cast<std::size_t>(line), "not UTF-8");
  }
  Thread thread;
  std::vector<std::size_t> numbers;
  std::size_t number = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    ++number;
    at = end + 1;
    if (trim(line).empty()) {
      continue;
    }
    boost::system::error_code ec;
    json::value value = json::parse(line, ec);
    if (ec) {
      bad_line(path, number, "not a whole JSON line (" + ec.message() + "); a torn or edited line?");
    }
    thread.lines_.push_back(std::move(value));
    numbers.push_back(number);
  }
  thread.ends_in_newline_ = text.empty() || text.back() == '\n';
  // The lines stay where they are from here: the messages view their strings.
  thread.messages_.reserve(thread.lines_.size());
  for (std::size_t i = 0; i < thread.lines_.size(); ++i) {
    thread.messages_.push_back(message_of(thread.lines_[i], path, numbers[i]));
  }
  return thread;
}

std::optional<std::string_view> thread_system(const Thread& thread)
{
  const auto& messages = thread.messages();
  const auto last = std::find_if(
    messages.rbegin(), messages.rend(), [](const Message& message) { return message.role == Role::system; });
  if (last == messages.rend()) {
    return std::nullopt;
  }
  const auto* text = std::get_if<std::string_view>(&last->content);
  return text ? std::optional(*text) : std::nullopt;
}

std::vector<Message> thread_messages(const Thread& thread, bool system_given, std::optional<long long> tail)
{
  std::vector<Message> out;
  const auto& messages = thread.messages();
  const auto system = std::find_if(
    messages.rbegin(), messages.rend(), [](const Message& message) { return message.role == Role::system; });
  if (!system_given && system != messages.rend()) {
    out.push_back(*system);
  }
  std::vector<const Message*> turns;
  for (const auto& message : messages) {
    if (message.role != Role::system) {
      turns.push_back(&message);
    }
  }
  auto first = turns.begin();
  if (tail) {
    // Back from the end, to the start of the tail-th last turn.
    long long seen = 0;
    for (auto it = turns.end(); it != turns.begin();) {
      --it;
      if ((*it)->role == Role::user && ++seen == *tail) {
        first = it;
        break;
      }
    }
  }
  for (auto it = first; it != turns.end(); ++it) {
    out.push_back(**it);
  }
  return out;
}

std::string thread_addition(const Thread& thread,
                            const std::optional<std::string>& system,
                            std::string_view user_message,
                            std::string_view reply)
{
  std::string out;
  out.reserve(user_message.size() + reply.size() + 64);
  if (!thread.ends_in_newline()) {
    out += '\n';
  }
  if (system && thread_system(thread) != std::optional<std::string_view>(*system)) {
    append_line(out, "system", *system);
  }
  append_line(out, "user", user_message);
  append_line(out, "assistant", reply);
  return out;
}

bool says_context_is_full(std::string_view error_text)
{
  std::string lower(error_text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const std::string_view sign : { "context_length_exceeded",
                                       "context length",
                                       "context window",
                                       "context_length",
                                       "prompt is too long",
                                       "too many tokens" }) {
    if (lower.find(sign) != std::string::npos) {
      return true;
    }
  }
  return false;
}

} // namespace gptq
