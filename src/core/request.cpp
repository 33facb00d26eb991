#include "request.hpp"

#include "chat_completions.hpp"
#include "responses_body.hpp"

#include <strings.h>

namespace gptq {

bool is_openai(const Url& url)
{
  return url.host == "api.openai.com";
}

std::string build_request_body(const Options& options,
                               std::string_view user_message,
                               const Url& endpoint,
                               std::span<const Message> earlier,
                               std::span<const ContentPart> parts)
{
  const ChatRequest request = chat_request(options, user_message, earlier, parts);
  return options.api == Api::responses ? responses_body(request) : chat_completions_body(request, endpoint);
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
