#include "request.hpp"

#include "json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

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

HttpRequest build_http_request(const Url& endpoint,
                               std::string body,
                               const std::optional<std::string>& api_key,
                               bool stream)
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
    request.headers.emplace_back("Authorization", "Bearer " + *api_key);
  }
  request.body = std::move(body);
  return request;
}

} // namespace gptq
