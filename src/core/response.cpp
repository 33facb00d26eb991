#include "response.hpp"

#include "error.hpp"
#include "json_access.hpp"
#include "json_surrogates.hpp"
#include "json_text.hpp"
#include "text.hpp"
#include "url.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

namespace gptq {

namespace json = boost::json;

namespace {

// Parses `body`, a lone surrogate escape taken as U+FFFD. Returns the value,
// or nullopt with `where` set to the byte offset at which the text stopped
// being JSON and `ec` to why.
std::optional<json::value> parse_json(std::string_view body, std::size_t& where, boost::system::error_code& ec)
{
  // The escape "\ufffd" is as long as the one it replaces: offsets stay true.
  const auto repaired = repair_lone_surrogates(body);
  if (repaired) {
    body = repaired->text;
  }
  json::parse_options options;
  options.max_depth = max_json_depth;
  json::stream_parser parser({}, options);
  where = parser.write(body.data(), body.size(), ec);
  if (!ec) {
    parser.finish(ec);
    where = body.size();
  }
  if (ec) {
    return std::nullopt;
  }
  return parser.release();
}

std::string too_deep()
{
  return "nested deeper than " + std::to_string(max_json_depth) + " levels";
}

// A count as the server wrote it, when it is a number.
std::optional<std::string> count_member(const json::value& usage, std::string_view key)
{
  const auto* m = json_member(usage, key);
  if (m && m->is_number()) {
    return to_json_text(*m);
  }
  return std::nullopt;
}

// Returns the sum of two counts written in decimal, exact at any size;
// nullopt unless both are whole numbers (no sign, no fraction).
std::optional<std::string> add_counts(std::string_view a, std::string_view b)
{
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits(a) || !digits(b)) {
    return std::nullopt;
  }
  std::string sum;
  int carry = 0;
  for (std::size_t k = 0; k < std::max(a.size(), b.size()) || carry; ++k) {
    const int da = k < a.size() ? a[a.size() - 1 - k] - '0' : 0;
    const int db = k < b.size() ? b[b.size() - 1 - k] - '0' : 0;
    sum += static_cast<char>('0' + (da + db + carry) % 10);
    carry = (da + db + carry) / 10;
  }
  while (sum.size() > 1 && sum.back() == '0') {
    sum.pop_back();
  }
  return std::string(sum.rbegin(), sum.rend());
}

// A code or type may be a string (OpenAI) or a number (llama.cpp, OpenRouter).
std::optional<std::string> scalar_member(const json::value& v, std::string_view key)
{
  const auto* m = json_member(v, key);
  if (!m || m->is_null()) {
    return std::nullopt;
  }
  if (m->is_string()) {
    return m->get_string().empty() ? std::nullopt : std::optional<std::string>(std::string(m->get_string()));
  }
  if (m->is_number() || m->is_bool()) {
    return to_json_text(*m);
  }
  return std::nullopt;
}

// FastAPI (vLLM) reports validation errors as a list of {loc, msg}.
std::string describe_detail(const json::value& detail)
{
  if (detail.is_string()) {
    return std::string(detail.get_string());
  }
  if (const auto* list = detail.if_array()) {
    std::string out;
    for (const auto& item : *list) {
      auto msg = json_string(item, "msg");
      if (!msg) {
        continue;
      }
      std::string where;
      if (const auto* loc = json_member(item, "loc"); loc && loc->is_array()) {
        for (const auto& part : loc->get_array()) {
          if (!where.empty()) {
            where += '.';
          }
          where += part.is_string() ? std::string(part.get_string()) : to_json_text(part);
        }
      }
      out += (out.empty() ? "" : "; ") + (where.empty() ? *msg : where + ": " + *msg);
    }
    if (!out.empty()) {
      return out;
    }
  }
  return to_json_text(detail);
}

// An error page from a proxy or load balancer: its <title> says it best;
// otherwise the text with the tags taken out.
std::string describe_non_json(std::string_view body)
{
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  const std::string lowered = lower(body.substr(0, 64 * 1024));
  const auto open = lowered.find("<title>");
  if (open != std::string::npos) {
    const auto close = lowered.find("</title>", open);
    if (close != std::string::npos) {
      const auto title = trim(body.substr(open + 7, close - open - 7));
      if (!title.empty()) {
        return std::string(title);
      }
    }
  }
  std::string text;
  bool in_tag = false;
  for (const char c : body.substr(0, 4096)) {
    if (c == '<') {
      in_tag = true;
      text += ' ';
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      text += c;
    }
  }
  return text;
}

std::string content_text(const json::value& content)
{
  if (content.is_string()) {
    return std::string(content.get_string());
  }
  // Some servers return content as a list of parts: [{"type":"text","text":...}].
  std::string out;
  for (const auto& part : content.get_array()) {
    if (auto text = json_string(part, "text")) {
      out += *text;
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// True when `location` is an https:// URL on the host of `request_url`, an
// http:// URL: the server moved to TLS.
bool is_https_form(std::string_view location, std::string_view request_url)
{
  if (request_url.substr(0, 7) != "http://" || !iequals(location.substr(0, 8), "https://")) {
    return false;
  }
  try {
    return iequals(parse_url(location).host, parse_url(request_url).host);
  } catch (const Error&) {
    return false;
  }
}

} // namespace

ExitStatus exit_status_for_http(int status)
{
  if (status == 401 || status == 403) {
    return ExitStatus::auth;
  }
  if (status == 402 || status == 429) {
    return ExitStatus::rate_limit;
  }
  if (status >= 400 && status < 500) {
    return ExitStatus::rejected;
  }
  if (status >= 500 && status < 600) {
    return ExitStatus::server;
  }
  return ExitStatus::bad_response;
}

Reply decode_reply(std::string_view body, const Secrets& secrets)
{
  std::size_t where = 0;
  boost::system::error_code ec;
  const auto parsed = parse_json(body, where, ec);
  if (!parsed) {
    if (trim(body).empty()) {
      throw Error(FailureKind::bad_response,
                  ExitStatus::bad_response,
                  "response",
                  "the server sent an empty body instead of a reply");
    }
    throw Error(
      FailureKind::bad_response,
      ExitStatus::bad_response,
      "response",
      (ec == json::error::too_deep ? "the reply is JSON " + too_deep() : std::string("the reply is not valid JSON")) +
        " (at byte " + std::to_string(where) + " of " + std::to_string(body.size()) +
        "): " + secrets.excerpt(body, 80));
  }
  return decode_reply_object(*parsed, secrets);
}

Reply decode_reply_object(const json::value& v, const Secrets& secrets)
{
  const auto* choices = json_member(v, "choices");
  if (const auto* output = json_member(v, "output"); !choices && output && output->is_array()) {
    return decode_responses_object(v, secrets);
  }
  if (!choices || !choices->is_array() || choices->get_array().empty()) {
    if (auto message = describe_json_error(v); message && json_member(v, "error")) {
      throw Error(FailureKind::bad_response, ExitStatus::bad_response, "api", secrets.excerpt(*message, 500));
    }
    throw Error(FailureKind::bad_response,
                ExitStatus::bad_response,
                "response",
                "the reply has no choices, so there is no answer to print");
  }
  const json::value& choice = choices->get_array().front();
  const auto* message = json_member(choice, "message");
  if (!message || !message->is_object()) {
    throw Error(
      FailureKind::bad_response, ExitStatus::bad_response, "response", "the reply's first choice has no message");
  }
  Reply reply;
  if (const auto* content = json_member(*message, "content");
      content && (content->is_string() || content->is_array())) {
    reply.content = content_text(*content);
  }
  reply.refusal = json_string(*message, "refusal").value_or("");
  // DeepSeek, vLLM and llama.cpp say reasoning_content; OpenRouter and
  // Ollama say reasoning.
  reply.reasoning =
    json_string(*message, "reasoning_content").value_or(json_string(*message, "reasoning").value_or(""));
  reply.finish_reason = json_string(choice, "finish_reason");
  reply.usage = usage_of(v);
  return reply;
}

namespace {

// The text of the parts of `list` whose type is `type`, in order.
void append_parts(std::string& out, const json::value* list, std::string_view type, std::string_view field)
{
  if (!list || !list->is_array()) {
    return;
  }
  for (const auto& part : list->get_array()) {
    if (json_string(part, "type") == type) {
      out += json_string(part, field).value_or("");
    }
  }
}

} // namespace

Reply decode_responses_object(const json::value& response, const Secrets& secrets)
{
  const auto status = json_string(response, "status");
  const auto* error = json_member(response, "error");
  if (status == "failed" || (error && error->is_object())) {
    const std::string message =
      error ? describe_json_error(json::object{ { "error", *error } }).value_or("") : std::string();
    throw Error(FailureKind::bad_response,
                ExitStatus::bad_response,
                "api",
                "the response failed" + (message.empty() ? std::string() : ": " + secrets.excerpt(message, 500)));
  }
  Reply reply;
  for (const auto& item : json_member(response, "output")->get_array()) {
    const auto type = json_string(item, "type");
    if (type == "message") {
      append_parts(reply.content, json_member(item, "content"), "output_text", "text");
      append_parts(reply.refusal, json_member(item, "content"), "refusal", "refusal");
    } else if (type == "reasoning") {
      append_parts(reply.reasoning, json_member(item, "summary"), "summary_text", "text");
      append_parts(reply.reasoning, json_member(item, "content"), "reasoning_text", "text");
    }
  }
  if (status == "incomplete") {
    const auto* details = json_member(response, "incomplete_details");
    reply.finish_reason = details ? json_string(*details, "reason") : std::nullopt;
    if (!reply.finish_reason) {
      reply.finish_reason = "incomplete";
    }
  } else if (status == "completed") {
    reply.finish_reason = "stop";
  } else {
    reply.finish_reason = status;
  }
  reply.usage = usage_of(response);
  return reply;
}

bool cut_at_token_limit(const std::optional<std::string>& finish_reason)
{
  return finish_reason == "length" || finish_reason == "max_output_tokens";
}

std::string finish_label(std::string_view finish_reason)
{
  return (finish_reason == "max_output_tokens" ? "incomplete: " : "finish_reason: ") + std::string(finish_reason);
}

std::optional<Error> unusable_reply(std::string_view refusal,
                                    bool has_text,
                                    const std::optional<std::string>& finish_reason,
                                    const Secrets& secrets,
                                    std::string_view token_limit_hint)
{
  if (!refusal.empty()) {
    return Error(FailureKind::refusal, ExitStatus::rejected, "refusal", secrets.excerpt(refusal, 2000));
  }
  if (has_text) {
    return std::nullopt;
  }
  if (cut_at_token_limit(finish_reason) && !token_limit_hint.empty()) {
    return Error(FailureKind::bad_response,
                 ExitStatus::bad_response,
                 "response",
                 "the token limit was reached before any reply text (" + finish_label(*finish_reason) + "); " +
                   std::string(token_limit_hint));
  }
  return Error(FailureKind::bad_response,
               ExitStatus::bad_response,
               "response",
               "the reply has no text content" +
                 (finish_reason ? " (finish_reason: " + secrets.excerpt(*finish_reason, 40) + ")" : std::string()));
}

std::optional<Usage> usage_of(const json::value& completion)
{
  const auto* usage = json_member(completion, "usage");
  if (!usage || !usage->is_object()) {
    return std::nullopt;
  }
  Usage u;
  // The Responses API's names, and the details only it is asked for.
  const bool responses = !json_member(*usage, "prompt_tokens") && json_member(*usage, "input_tokens");
  u.prompt_tokens = count_member(*usage, responses ? "input_tokens" : "prompt_tokens").value_or("0");
  u.completion_tokens = count_member(*usage, responses ? "output_tokens" : "completion_tokens").value_or("0");
  if (responses) {
    if (const auto* details = json_member(*usage, "output_tokens_details")) {
      u.reasoning_tokens = count_member(*details, "reasoning_tokens");
    }
    if (const auto* details = json_member(*usage, "input_tokens_details")) {
      u.cached_tokens = count_member(*details, "cached_tokens");
    }
  }
  if (auto total = count_member(*usage, "total_tokens")) {
    u.total_tokens = *total;
  } else {
    // Nonsense counts (negative, fractions) are not worth failing for.
    u.total_tokens = add_counts(u.prompt_tokens, u.completion_tokens).value_or("?");
  }
  return u;
}

std::optional<std::string> describe_json_error(const json::value& v)
{
  if (const auto* error = json_member(v, "error")) {
    if (error->is_string()) {
      // Node servers: {"error":"SyntaxError","message":"Unexpected token..."}.
      auto message = json_string(v, "message");
      if (message && !message->empty() && *message != error->get_string()) {
        return std::string(error->get_string()) + ": " + *message;
      }
      return std::string(error->get_string());
    }
    if (error->is_object()) {
      std::string text = json_string(*error, "message").value_or("");
      std::string extra;
      if (auto code = scalar_member(*error, "code")) {
        extra = "code: " + *code;
      }
      if (auto type = scalar_member(*error, "type")) {
        extra += (extra.empty() ? "" : ", ") + std::string("type: ") + *type;
      }
      if (text.empty() && extra.empty()) {
        return to_json_text(*error);
      }
      if (!extra.empty()) {
        text += (text.empty() ? "(" : " (") + extra + ")";
      }
      return text;
    }
  }
  if (auto message = json_string(v, "message")) {
    return message;
  }
  if (const auto* detail = json_member(v, "detail")) {
    return describe_detail(*detail);
  }
  return std::nullopt;
}

std::optional<std::string> unsupported_encoding(const HttpResponse& head)
{
  const auto coding = head.header("Content-Encoding");
  if (!coding || trim(*coding).empty() || iequals(trim(*coding), "identity")) {
    return std::nullopt;
  }
  return "compressed response (Content-Encoding: " + one_line(trim(*coding), 40) + ") is not supported";
}

std::string describe_error_response(const HttpResponse& response, const Secrets& secrets, std::string_view request_url)
{
  std::string out = "HTTP ";
  out += std::to_string(response.status);
  if (!response.reason.empty()) {
    out += ' ';
    out += secrets.excerpt(response.reason, 60);
  }
  const auto location = response.header("Location");
  if (response.status / 100 == 3 && location && !trim(*location).empty()) {
    // The body of a redirect is a page saying where to, if anything.
    out += ": redirected to " + secrets.excerpt(trim(*location), 200) + "; gptq does not follow redirects";
    if (is_https_form(trim(*location), request_url)) {
      out += ": the server wants https://, use https:// in --base-url";
    }
    return out;
  }
  std::size_t where = 0;
  boost::system::error_code ec;
  std::string message;
  if (auto coding = unsupported_encoding(response)) {
    message = "(the body is compressed: Content-Encoding: " + one_line(*response.header("Content-Encoding"), 40) + ")";
  } else if (auto parsed = parse_json(response.body, where, ec)) {
    message = secrets.excerpt(describe_json_error(*parsed).value_or(to_json_text(*parsed)), 500);
  } else if (ec == json::error::too_deep) {
    message = "a JSON body " + too_deep();
  } else {
    // describe_non_json cuts the body too (its first 4 KiB of text).
    message = one_line(describe_non_json(secrets.redact(response.body)), 200);
  }
  if (!message.empty()) {
    out += ": " + message;
  }
  if (message.find("only supported in v1/responses") != std::string::npos) {
    // Never retried on the other API behind the user's back: the
    // request, its fields and its price differ.
    out += "; use --api responses (or add the line `api = responses` to the profile)";
  }
  if (auto retry = response.header("Retry-After")) {
    out += " (retry after " + secrets.excerpt(*retry, 40) +
           (retry->find_first_not_of("0123456789") == std::string::npos ? " s)" : ")");
  }
  return out;
}

} // namespace gptq
