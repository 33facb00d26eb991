#pragma once

#include "options.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gptq {

// What gptq asks a model, apart from any wire format: a wire-format writer
// (chat_completions.hpp, responses_body.hpp) turns it into a request body. The text of messages
// is held as views, not copies: the user message may be most of a piped file
// (hundreds of MB), and it is escaped straight from the input into the body.
// The strings viewed must outlive the request.

enum class Role { system, user, assistant };

// The role's name on the wire ("system", "user", "assistant").
std::string_view role_name(Role role);

struct TextPart {
  std::string_view text;
};

// Bytes of a file that go into the body as base64: `head` (a data: URL's
// "data:image/png;base64,", or nothing) and then their encoding, written
// straight into the body (an attachment may be tens of MiB: neither it nor
// its encoding is copied on the way). The bytes are viewed, not held.
struct Base64Bytes {
  std::string head;
  std::string_view bytes;
};

// What a part carries: a string as it is (an http(s) URL; a data: URL or
// base64 that a thread file holds) or bytes to encode.
using Payload = std::variant<std::string, Base64Bytes>;

// An image, by an http(s) URL the server fetches or a data: URL.
struct ImagePart {
  Payload url;
  std::optional<std::string> detail; // "low", "high", "auto"; the server's default when absent
};

// A document (a PDF) sent whole, as a data: URL.
struct FilePart {
  std::string filename;
  Payload data_url;
};

// Sound, as plain base64 of a file in `format` ("wav", "mp3").
struct AudioPart {
  Payload data;
  std::string format;
};

using ContentPart = std::variant<TextPart, ImagePart, FilePart, AudioPart>;

// A text as the inside of a JSON string, escaped and checked, without its
// quotes: a thread's line (thread.hpp) spliced into the body as it is, not
// unescaped and escaped again.
struct EscapedText {
  std::string_view json;
};

struct Message {
  Role role = Role::user;
  // Plain text, or a list of parts (a text and the attachments that go with
  // it), or text that is JSON already.
  std::variant<std::string_view, std::vector<ContentPart>, EscapedText> content;
};

// The form the reply must take (--json, --schema).
struct ResponseFormat {
  enum class Kind { text, json_object, json_schema };
  Kind kind = Kind::text;
  std::string schema_name;    // json_schema: a name of the characters the API allows
  boost::json::object schema; // json_schema: the JSON Schema, applied strictly
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages; // in the order the model reads them
  std::optional<double> temperature;
  std::optional<long long> max_tokens; // of the reply; the writer names the field for the server
  std::optional<double> top_p;
  std::optional<long long> seed;
  std::vector<std::string> stop;
  ResponseFormat response_format;
  bool stream = false;
  bool stream_usage = false; // ask for the token usage at the end of a stream
  bool reasoning = false;    // --reasoning: ask for the model's reasoning (a summary) where the API can
  // --dry-run: each base64 payload written as its first bytes and its size,
  // so that a terminal is not flooded (a body that cannot be sent).
  bool short_payloads = false;
  // -o KEY=VALUE: set last, over any field of the same name, in order.
  std::vector<std::pair<std::string, boost::json::value>> extra_fields;
};

// Returns the request `options` ask for with `user_message` as the one user
// message, after the system message (-s) when there is one. -o values become
// JSON when they parse as JSON, else strings. Throws gptq::Error (usage,
// phase "--schema") when the schema text is not JSON (naming file, line and
// column) or not an object. The request views `user_message` and the system
// message in `options`. `earlier` (a thread's messages, thread.hpp) go
// between the system message and the user message, in order; the request
// copies them, views and all.
// With `parts` (the attachments of -f that are not text: attachment.hpp),
// the user message is a list of parts, its text first (when there is any),
// then `parts` in order; the request views them. With --dry-run (not =full)
// payloads are shortened.
ChatRequest chat_request(const Options& options,
                         std::string_view user_message,
                         std::span<const Message> earlier = {},
                         std::span<const ContentPart> parts = {});

// Returns the user message: `text` alone, or with `parts` a list of them
// after the text (left out when empty).
Message user_message(std::string_view text, std::span<const ContentPart> parts);

} // namespace gptq
