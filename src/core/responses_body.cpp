#include "responses_body.hpp"

#include "error.hpp"
#include "json_text.hpp"
#include "text_slots.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace gptq {

namespace json = boost::json;

namespace {

json::value part_json(const ContentPart& part, Role role, TextSlots& slots)
{
  struct Visitor {
    TextSlots& slots;
    Role role;
    json::value operator()(const TextPart& p) const
    {
      // What the model said before is output, what it is told is input.
      return json::object{ { "type", role == Role::assistant ? "output_text" : "input_text" },
                           { "text", slots.hold(p.text) } };
    }
    json::value operator()(const ImagePart& p) const
    {
      json::object image{ { "type", "input_image" }, { "image_url", slots.hold(p.url) } };
      image["detail"] = p.detail.value_or("auto"); // required by the API
      return image;
    }
    json::value operator()(const FilePart& p) const
    {
      return json::object{ { "type", "input_file" },
                           { "filename", p.filename },
                           { "file_data", slots.hold(p.data_url) } };
    }
    json::value operator()(const AudioPart&) const
    {
      throw Error(ExitStatus::usage, "--api", "the Responses API takes no audio input; use --api chat");
    }
  };
  return std::visit(Visitor{ slots, role }, part);
}

json::value message_item(const Message& message, TextSlots& slots)
{
  json::object item{ { "type", "message" }, { "role", role_name(message.role) } };
  if (const auto* text = std::get_if<std::string_view>(&message.content)) {
    item["content"] = slots.hold(*text);
    return item;
  }
  if (const auto* json = std::get_if<EscapedText>(&message.content)) {
    item["content"] = slots.hold_escaped(json->json);
    return item;
  }
  json::array parts;
  for (const auto& part : std::get<std::vector<ContentPart>>(message.content)) {
    parts.push_back(part_json(part, message.role, slots));
  }
  item["content"] = std::move(parts);
  return item;
}

bool overridden(const ChatRequest& request, std::string_view key)
{
  return std::any_of(
    request.extra_fields.begin(), request.extra_fields.end(), [&](const auto& field) { return field.first == key; });
}

// The instructions and the input. A field that an extra field replaces holds
// null, not a placeholder, so that every placeholder made stays in the body.
void put_messages(json::object& body, const ChatRequest& request, TextSlots& slots)
{
  std::vector<const Message*> system;
  std::vector<const Message*> turns;
  for (const auto& message : request.messages) {
    (message.role == Role::system && turns.empty() ? system : turns).push_back(&message);
  }
  if (!system.empty()) {
    const auto* text = std::get_if<std::string_view>(&system.front()->content);
    if (system.size() > 1 || !text) {
      // More than one, or one with parts: as messages of their own.
      turns.insert(turns.begin(), system.begin(), system.end());
    } else {
      body["instructions"] = overridden(request, "instructions") ? json::value() : json::value(slots.hold(*text));
    }
  }
  if (overridden(request, "input")) {
    body["input"] = nullptr;
    return;
  }
  const auto* only_text = turns.size() == 1 && turns.front()->role == Role::user
                            ? std::get_if<std::string_view>(&turns.front()->content)
                            : nullptr;
  if (only_text) {
    body["input"] = slots.hold(*only_text);
    return;
  }
  json::array input;
  for (const auto* message : turns) {
    input.push_back(message_item(*message, slots));
  }
  body["input"] = std::move(input);
}

json::value text_format_json(const ResponseFormat& format)
{
  if (format.kind == ResponseFormat::Kind::json_object) {
    return json::object{ { "type", "json_object" } };
  }
  return json::object{
    { "type", "json_schema" }, { "name", format.schema_name }, { "strict", true }, { "schema", format.schema }
  };
}

json::object body_object(const ChatRequest& request, TextSlots& slots)
{
  if (request.seed) {
    throw Error(ExitStatus::usage, "--seed", "the Responses API has no seed; use --api chat");
  }
  if (!request.stop.empty()) {
    throw Error(ExitStatus::usage, "--stop", "the Responses API has no stop sequences; use --api chat");
  }
  json::object body;
  body["model"] = request.model;
  put_messages(body, request, slots);
  if (request.temperature) {
    body["temperature"] = *request.temperature;
  }
  if (request.max_tokens) {
    body["max_output_tokens"] = *request.max_tokens;
  }
  if (request.top_p) {
    body["top_p"] = *request.top_p;
  }
  if (request.response_format.kind != ResponseFormat::Kind::text) {
    body["text"] = json::object{ { "format", text_format_json(request.response_format) } };
  }
  if (request.reasoning) {
    body["reasoning"] = json::object{ { "summary", "auto" } };
  }
  if (request.stream) {
    body["stream"] = true;
  }
  body["store"] = false;
  for (const auto& [key, value] : request.extra_fields) {
    body[key] = value;
  }
  return body;
}

} // namespace

std::string responses_body(const ChatRequest& request)
{
  for (int attempt = 0;; ++attempt) {
    TextSlots slots(attempt, request.short_payloads);
    if (auto body = slots.splice(to_json_text(body_object(request, slots)), true)) {
      return std::move(*body);
    }
  }
}

} // namespace gptq
