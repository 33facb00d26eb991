#include "request.hpp"

#include "error.hpp"
#include "json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <cctype>

#include <strings.h>

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

boost::json::value parse_schema(const std::string& text, const std::string& file)
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
  return schema;
}

} // namespace

bool is_openai(const Url& url)
{
  return url.host == "api.openai.com";
}

namespace {

boost::json::object request_object(const Options& options, const std::string& user_message, const Url& endpoint)
{
  boost::json::object body;
  body["model"] = options.model;
  boost::json::array messages;
  if (options.system) {
    messages.push_back(boost::json::object{ { "role", "system" }, { "content", *options.system } });
  }
  messages.push_back(boost::json::object{ { "role", "user" }, { "content", user_message } });
  body["messages"] = std::move(messages);
  if (options.temperature) {
    body["temperature"] = *options.temperature;
  }
  if (options.max_tokens) {
    body[is_openai(endpoint) ? "max_completion_tokens" : "max_tokens"] = *options.max_tokens;
  }
  if (options.top_p) {
    body["top_p"] = *options.top_p;
  }
  if (options.seed) {
    body["seed"] = *options.seed;
  }
  if (!options.stop.empty()) {
    boost::json::array stop;
    for (const auto& s : options.stop) {
      stop.emplace_back(s);
    }
    body["stop"] = std::move(stop);
  }
  if (options.json) {
    body["response_format"] = boost::json::object{ { "type", "json_object" } };
  }
  if (options.schema_text) {
    const std::string file = options.schema_file.value_or("schema");
    body["response_format"] =
      boost::json::object{ { "type", "json_schema" },
                           { "json_schema",
                             boost::json::object{ { "name", schema_name(file) },
                                                  { "strict", true },
                                                  { "schema", parse_schema(*options.schema_text, file) } } } };
  }
  if (options.stream) {
    body["stream"] = true;
    // Only on request: some compatible servers reject the field.
    if (options.usage) {
      body["stream_options"] = boost::json::object{ { "include_usage", true } };
    }
  }
  // -o comes last, so it can set or replace any field.
  for (const auto& [key, value] : options.fields) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(value, ec);
    body[key] = ec ? boost::json::value(value) : std::move(parsed);
  }
  return body;
}

} // namespace

std::string build_request_body(const Options& options, std::string_view user_message, const Url& endpoint)
{
  // The user message (a piped file, perhaps hundreds of MB) is escaped
  // straight into the body: the JSON tree holds a placeholder in its place,
  // so the message is never copied into the tree. The placeholder is one
  // that occurs exactly once in the text; -o messages=... may remove it.
  for (int attempt = 0;; ++attempt) {
    const std::string placeholder = "<gptq user message " + std::to_string(attempt) + ">";
    const std::string skeleton = to_json_text(request_object(options, placeholder, endpoint));
    const std::string quoted = "\"" + placeholder + "\"";
    const auto at = skeleton.find(quoted);
    if (at == std::string::npos) {
      return skeleton;
    }
    if (skeleton.find(quoted, at + 1) != std::string::npos) {
      continue; // another field holds the same text
    }
    std::string body;
    body.reserve(skeleton.size() + user_message.size() + user_message.size() / 8);
    body.append(skeleton, 0, at);
    append_json_string(body, user_message);
    body.append(skeleton, at + quoted.size());
    return body;
  }
}

std::string user_agent()
{
  return std::string("gptq/") + GPTQ_VERSION;
}

std::string key_header_for(const Url& endpoint, const std::optional<std::string>& flag)
{
  if (flag) {
    return *flag;
  }
  const bool azure =
    endpoint.host.ends_with(".openai.azure.com") || endpoint.host.ends_with(".cognitiveservices.azure.com");
  return azure ? "api-key" : "Authorization";
}

HttpRequest build_http_request(const Url& endpoint,
                               std::string body,
                               const std::optional<std::string>& api_key,
                               bool stream,
                               const std::string& key_header,
                               const Headers& extra)
{
  HttpRequest request;
  request.url = endpoint;
  request.headers = {
    { "Host", endpoint.authority() },
    { "User-Agent", user_agent() },
    { "Content-Type", "application/json" },
    { "Accept", stream ? "text/event-stream" : "application/json" },
  };
  if (api_key) {
    const bool bearer = strcasecmp(key_header.c_str(), "Authorization") == 0;
    request.headers.emplace_back(key_header, bearer ? "Bearer " + *api_key : *api_key);
  }
  request.headers.insert(request.headers.end(), extra.begin(), extra.end());
  request.body = std::move(body);
  return request;
}

} // namespace gptq
