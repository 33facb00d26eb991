#include "chat_request.hpp"

#include "error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <cctype>

namespace gptq {

namespace {

// The schema's name in the request: the file's name without directory and
// extension, in the characters the API allows.
std::string schema_name(const std::string& file)
{
  std::string stem = file.substr(file.find_last_of('/') + 1);
  stem = stem.substr(0, stem.find('.'));
  std::string name;
  for (const char c : stem) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      name += c;
    }
  }
  return name.empty() ? "reply" : name.substr(0, 64);
}

boost::json::object parse_schema(const std::string& text, const std::string& file)
{
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  const std::size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
  }
  if (ec) {
    // Line and column of the byte where the text stopped being JSON.
    const std::size_t at = ec ? std::min(used, text.size()) : text.size();
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    const auto line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
    const auto column = at - (line_start == std::string::npos || at == 0 ? 0 : line_start + 1) + 1;
    throw Error(ExitStatus::usage,
                "--schema",
                file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": not valid JSON (" + ec.message() +
                  ")");
  }
  boost::json::value schema = parser.release();
  if (!schema.is_object()) {
    throw Error(ExitStatus::usage, "--schema", file + ": a JSON Schema must be an object");
  }
  return std::move(schema.get_object());
}

ResponseFormat response_format(const Options& options)
{
  ResponseFormat format;
  // --schema over --json: a schema says more.
  if (options.schema_text) {
    const std::string file = options.schema_file.value_or("schema");
    format.kind = ResponseFormat::Kind::json_schema;
    format.schema_name = schema_name(file);
    format.schema = parse_schema(*options.schema_text, file);
  } else if (options.json) {
    format.kind = ResponseFormat::Kind::json_object;
  }
  return format;
}

} // namespace

std::string_view role_name(Role role)
{
  switch (role) {
    case Role::system:
      return "system";
    case Role::assistant:
      return "assistant";
    case Role::user:
      break;
  }
  return "user";
}

Message user_message(std::string_view text, std::span<const ContentPart> parts)
{
  if (parts.empty()) {
    return { Role::user, text };
  }
  std::vector<ContentPart> all;
  all.reserve(parts.size() + 1);
  if (!text.empty()) {
    all.push_back(TextPart{ text });
  }
  all.insert(all.end(), parts.begin(), parts.end());
  return { Role::user, std::move(all) };
}

ChatRequest chat_request(const Options& options,
                         std::string_view text,
                         std::span<const Message> earlier,
                         std::span<const ContentPart> parts)
{
  ChatRequest request;
  request.model = options.model;
  if (options.system) {
    request.messages.push_back({ Role::system, std::string_view(*options.system) });
  }
  request.messages.insert(request.messages.end(), earlier.begin(), earlier.end());
  request.messages.push_back(user_message(text, parts));
  request.short_payloads = options.dry_run && !options.dry_run_full;
  request.temperature = options.temperature;
  request.max_tokens = options.max_tokens;
  request.top_p = options.top_p;
  request.seed = options.seed;
  request.stop = options.stop;
  request.response_format = response_format(options);
  request.stream = options.stream;
  // Only on request: some compatible servers reject the field.
  request.stream_usage = options.usage;
  request.reasoning = options.reasoning;
  for (const auto& [key, value] : options.fields) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(value, ec);
    request.extra_fields.emplace_back(key, ec ? boost::json::value(value) : std::move(parsed));
  }
  return request;
}

} // namespace gptq
