#include "thread.hpp"

#include "error.hpp"
#include "json_text.hpp"
#include "text.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// What a byte may follow a backslash with in a JSON string: 1 for a
// two-byte escape, 6 for \u and its four hex digits, 0 for nothing valid.
constexpr std::array<unsigned char, 256> escape_lengths = [] {
  std::array<unsigned char, 256> lengths{};
  for (const char c : std::string_view("\"\\/bfnrt")) {
    lengths[static_cast<unsigned char>(c)] = 2;
  }
  lengths['u'] = 6;
  return lengths;
}();

#if defined(__SSE2__)
constexpr std::size_t block = 16;

// Bit k set when byte k of the block at `p` is a quote, a backslash or a
// control character: the bytes that end a run of plain string text.
unsigned stop_mask(const char* p)
{
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))));
}
#else
constexpr std::size_t block = 8;

unsigned stop_mask(const char* p)
{
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Fu;
  // 0x80 in each zero byte of `x`, exactly: no carry crosses a byte.
  const auto zeros = [](std::uint64_t x) { return ~(((x & low7) + low7) | x | low7); };
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  const std::uint64_t stops =
    zeros(word ^ (ones * '"')) | zeros(word ^ (ones * '\\')) | zeros(word & (ones * 0xE0)); // < 0x20
  // The high bit of byte k to bit k.
  return static_cast<unsigned>(((stops >> 7) * 0x0102040810204080u) >> 56);
}
#endif

bool is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Checks the escape at body[at] (a backslash); returns its length, or 0 when
// it is not one of JSON's. A \u escape of a surrogate is refused here and
// left to the full parser, which pairs them.
std::size_t escape_at(std::string_view body, std::size_t at)
{
  if (at + 1 >= body.size()) {
    return 0;
  }
  const std::size_t length = escape_lengths[static_cast<unsigned char>(body[at + 1])];
  if (length != 6) {
    return length;
  }
  if (at + 6 > body.size() || !std::all_of(body.begin() + static_cast<std::ptrdiff_t>(at + 2),
                                           body.begin() + static_cast<std::ptrdiff_t>(at + 6),
                                           is_hex)) {
    return 0;
  }
  const auto first = static_cast<char>(std::tolower(static_cast<unsigned char>(body[at + 2])));
  const auto second = static_cast<char>(std::tolower(static_cast<unsigned char>(body[at + 3])));
  return first == 'd' && second >= '8' ? 0 : 6; // D800-DFFF
}

// True when `body` is the inside of a JSON string as any parser takes it:
// no quote or control character unescaped, only JSON's escapes. Long
// threads are mostly such text with an escape every few dozen bytes, so the
// bytes that stop a plain run are found a block at a time and visited by
// their bits, without a search or a branch per byte.
bool is_escaped_string(std::string_view body)
{
  const std::size_t size = body.size();
  std::size_t i = 0;
  while (i + block <= size) {
    unsigned stops = stop_mask(body.data() + i);
    std::size_t next = i + block;
    while (stops != 0) {
      const auto at = i + static_cast<std::size_t>(std::countr_zero(stops));
      if (body[at] != '\\') {
        return false; // a bare quote or control character
      }
      const std::size_t length = escape_at(body, at);
      if (length == 0) {
        return false;
      }
      if (at + length > i + block || length == 6) {
        next = at + length; // an escape that reaches past the block (or \u): on from its end
        break;
      }
      stops &= ~((1u << (at + length - i)) - 1); // the escape's bytes are done
    }
    i = next;
  }
  while (i < size) {
    const char c = body[i];
    if (c == '"' || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
    if (c != '\\') {
      ++i;
      continue;
    }
    const std::size_t length = escape_at(body, i);
    if (length == 0) {
      return false;
    }
    i += length;
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
  auto text = std::make_unique<const std::string>(std::move(file_text));
  Thread thread = parse_thread_in_place(*text, path);
  thread.text_ = std::move(text);
  return thread;
}

Thread parse_thread_in_place(std::string_view text, std::string_view path)
{
  Thread thread;
  // The lines the full parser reads: their place among the messages, and
  // their line number.
  std::vector<std::pair<std::size_t, std::size_t>> parsed;
  std::size_t number = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    ++number;
    at = end + 1;
    // Each check runs on a line while the search for its end has it in the
    // cache: one pass over a long thread's memory, not one a check.
    if (find_invalid_utf8(line)) {
      bad_line(path, number, "not UTF-8");
    }
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

bool thread_system_holds(const Thread& thread, bool system_chosen)
{
  return !system_chosen && std::any_of(thread.messages().begin(), thread.messages().end(), [](const Message& message) {
    return message.role == Role::system;
  });
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
                            std::string_view reply,
                            bool user_is_line)
{
  std::string out;
  out.reserve(user_message.size() + reply.size() + 64);
  if (!thread.ends_in_newline()) {
    out += '\n';
  }
  if (system && thread_system(thread) != std::optional<std::string_view>(*system)) {
    append_line(out, "system", *system);
  }
  if (user_is_line) {
    out += user_message;
    out += '\n';
  } else {
    append_line(out, "user", user_message);
  }
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
