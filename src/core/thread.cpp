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

// True when `body` is the inside of a JSON string as any parser takes it:
// no quote or control character unescaped, only JSON's escapes. A \u escape
// of a surrogate is left to the full parser, which pairs them.
// True when `run` holds no quote and no control character. Without an early
// exit the compiler checks 16 or 32 bytes at a time.
bool is_plain_run(std::string_view run)
{
  unsigned bad = 0;
  for (const char c : run) {
    const auto byte = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned>(byte == '"') | static_cast<unsigned>(byte < 0x20);
  }
  return bad == 0;
}

bool is_escaped_string(std::string_view body)
{
  constexpr std::string_view hex = "0123456789abcdefABCDEF";
  for (std::size_t i = 0; i < body.size();) {
    const std::size_t escape = std::min(body.find('\\', i), body.size());
    if (!is_plain_run(body.substr(i, escape - i))) {
      return false;
    }
    i = escape;
    if (i == body.size()) {
      break;
    }
    if (i + 1 >= body.size()) {
      return false;
    }
    const char e = body[i + 1];
    if (e != 'u') {
      if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
      i += 2;
      continue;
    }
    if (i + 6 > body.size() || body.substr(i + 2, 4).find_first_not_of(hex) != std::string_view::npos) {
      return false;
    }
    const char first = static_cast<char>(std::tolower(static_cast<unsigned char>(body[i + 2])));
    const char second = static_cast<char>(std::tolower(static_cast<unsigned char>(body[i + 3])));
    if (first == 'd' && second >= '8') {
      return false; // D800-DFFF
    }
    i += 6;
  }
  return true;
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

std::optional<Message> written_line(std::string_view line)
{
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  constexpr std::string_view user = R"({"role":"user","content":")";
  constexpr std::string_view assistant = R"({"role":"assistant","content":")";
  const bool is_user = line.starts_with(user);
  if ((!is_user && !line.starts_with(assistant)) || !line.ends_with("\"}")) {
    return std::nullopt;
  }
  const std::size_t start = is_user ? user.size() : assistant.size();
  if (line.size() < start + 2) {
    return std::nullopt;
  }
  const std::string_view body = line.substr(start, line.size() - start - 2);
  if (!is_escaped_string(body)) {
    return std::nullopt;
  }
  return Message{ is_user ? Role::user : Role::assistant, EscapedText{ body } };
}

Thread parse_thread(std::string file_text, std::string_view path)
{
  Thread thread;
  thread.text_ = std::make_unique<const std::string>(std::move(file_text));
  const std::string_view text = *thread.text_;
  if (const auto bad = find_invalid_utf8(text)) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(*bad), '\n');
    bad_line(path, static_cast<std::size_t>(line), "not UTF-8");
  }
  // The lines the full parser reads: their place among the messages, and
  // their line number.
  std::vector<std::pair<std::size_t, std::size_t>> parsed;
  std::size_t number = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    ++number;
    at = end + 1;
    if (trim(line).empty()) {
      continue;
    }
    // Most lines are as gptq wrote them: their text is checked in place
    // and will be spliced into the body as it is.
    if (auto message = written_line(line)) {
      thread.messages_.push_back(std::move(*message));
      continue;
    }
    boost::system::error_code ec;
    json::value value = json::parse(line, ec);
    if (ec) {
      bad_line(path, number, "not a whole JSON line (" + ec.message() + "); a torn or edited line?");
    }
    thread.lines_.push_back(std::move(value));
    parsed.emplace_back(thread.messages_.size(), number);
    thread.messages_.emplace_back(); // made below
  }
  thread.ends_in_newline_ = text.empty() || text.back() == '\n';
  // The lines stay where they are from here: the messages view their strings.
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    thread.messages_[parsed[i].first] = message_of(thread.lines_[i], path, parsed[i].second);
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
