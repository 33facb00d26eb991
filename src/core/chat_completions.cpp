#include "chat_completions.hpp"

#include "json_text.hpp"
#include "request.hpp"
#include "text_slots.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace gptq {

namespace json = boost::json;

namespace {

json::value part_json(const ContentPart& part, TextSlots& slots)
{
  struct Visitor {
    TextSlots& slots;
    json::value operator()(const TextPart& p) const
    {
      return json::object{ { "type", "text" }, { "text", slots.hold(p.text) } };
    }
    json::value operator()(const ImagePart& p) const
    {
      json::object image{ { "url", slots.hold(p.url) } };
      if (p.detail) {
        image["detail"] = *p.detail;
      }
      return json::object{ { "type", "image_url" }, { "image_url", std::move(image) } };
    }
    json::value operator()(const FilePart& p) const
    {
      return json::object{ { "type", "file" },
                           { "file",
                             json::object{ { "filename", p.filename }, { "file_data", slots.hold(p.data_url) } } } };
    }
    json::value operator()(const AudioPart& p) const
    {
      return json::object{ { "type", "input_audio" },
                           { "input_audio",
                             json::object{ { "data", slots.hold(p.data, true) }, { "format", p.format } } } };
    }
  };
  return std::visit(Visitor{ slots }, part);
}

json::value content_json(const Message& message, TextSlots& slots)
{
  if (const auto* text = std::get_if<std::string_view>(&message.content)) {
    return slots.hold(*text);
  }
  if (const auto* json = std::get_if<EscapedText>(&message.content)) {
    return slots.hold_escaped(json->json);
  }
  json::array parts;
  for (const auto& part : std::get<std::vector<ContentPart>>(message.content)) {
    parts.push_back(part_json(part, slots));
  }
  return parts;
}

json::value response_format_json(const ResponseFormat& format)
{
  if (format.kind == ResponseFormat::Kind::json_object) {
    return json::object{ { "type", "json_object" } };
  }
  return json::object{
    { "type", "json_schema" },
    { "json_schema", json::object{ { "name", format.schema_name }, { "strict", true }, { "schema", format.schema } } }
  };
}

json::object body_object(const ChatRequest& request, const Url& endpoint, TextSlots& slots)
{
  json::object body;
  body["model"] = request.model;
  json::array messages;
  for (const auto& message : request.messages) {
    messages.push_back(
      json::object{ { "role", role_name(message.role) }, { "content", content_json(message, slots) } });
  }
  body["messages"] = std::move(messages);
  if (request.temperature) {
    body["temperature"] = *request.temperature;
  }
  if (request.max_tokens) {
    body[is_openai(endpoint) ? "max_completion_tokens" : "max_tokens"] = *request.max_tokens;
  }
  if (request.top_p) {
    body["top_p"] = *request.top_p;
  }
  if (request.seed) {
    body["seed"] = *request.seed;
  }
  if (!request.stop.empty()) {
    json::array stop;
    for (const auto& s : request.stop) {
      stop.emplace_back(s);
    }
    body["stop"] = std::move(stop);
  }
  if (request.response_format.kind != ResponseFormat::Kind::text) {
    body["response_format"] = response_format_json(request.response_format);
  }
  if (request.stream) {
    body["stream"] = true;
    if (request.stream_usage) {
      body["stream_options"] = json::object{ { "include_usage", true } };
    }
  }
  for (const auto& [key, value] : request.extra_fields) {
    body[key] = value;
  }
  return body;
}

} // namespace

std::string chat_message_json(const Message& message)
{
  for (int attempt = 0;; ++attempt) {
    TextSlots slots(attempt);
    const json::object object{ { "role", role_name(message.role) }, { "content", content_json(message, slots) } };
    if (auto line = slots.splice(to_json_text(object), true)) {
      return std::move(*line);
    }
  }
}

std::string chat_completions_body(const ChatRequest& request, const Url& endpoint)
{
  const bool placed = std::none_of(request.extra_fields.begin(), request.extra_fields.end(), [](const auto& field) {
    return field.first == "messages";
  });
  for (int attempt = 0;; ++attempt) {
    TextSlots slots(attempt, request.short_payloads);
    if (auto body = slots.splice(to_json_text(body_object(request, endpoint, slots)), placed)) {
      return std::move(*body);
    }
  }
}

} // namespace gptq
