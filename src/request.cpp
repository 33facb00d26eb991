#include "request.hpp"

#include "json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <strings.h>

namespace gptq {

bool is_openai(const Url& url)
{
  return url.host == "api.openai.com";
}

std::string build_request_body(const Options& options, const std::string& user_message, const Url& endpoint)
{
  boost::json::object body;
  body["model"] = options.model;
  boost::json::array messages;
  if (options.system) {
    messages.push_back(boost::json::object{{"role", "system"}, {"content", *options.system}});
  }
  messages.push_back(boost::json::object{{"role", "user"}, {"content", user_message}});
  body["messages"] = std::move(messages);
  if (options.temperature) {
    body["temperature"] = *options.temperature;
  }
  if (options.max_tokens) {
    body[is_openai(endpoint) ? "max_completion_tokens" : "max_tokens"] = *options.max_tokens;
  }
  if (options.stream) {
    body["stream"] = true;
    // Only on request: some compatible servers reject the field.
    if (options.usage) {
      body["stream_options"] = boost::json::object{{"include_usage", true}};
    }
  }
  return to_json_text(body);
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
  const bool azure = endpoint.host.ends_with(".openai.azure.com") || endpoint.host.ends_with(".cognitiveservices.azure.com");
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
    {"Host", endpoint.authority()},
    {"User-Agent", user_agent()},
    {"Content-Type", "application/json"},
    {"Accept", stream ? "text/event-stream" : "application/json"},
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
