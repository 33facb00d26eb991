#include "show_config.hpp"

#include "option_table.hpp"
#include "proxy.hpp"
#include "request.hpp"
#include "text.hpp"
#include "url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <utility>

namespace gptq {

namespace {

const std::string redacted(redacted_mask);

std::string number_text(double value)
{
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

std::string seconds_text(double value)
{
  return number_text(value) + " s";
}

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// "scheme://user:[REDACTED]@host:port": the proxy without its password,
// saying that there is one.
std::string proxy_text(const Proxy& proxy)
{
  std::string text = proxy.display();
  if (!proxy.password.empty()) {
    const auto start = text.find("://") + 3;
    const auto at = text.rfind('@');
    if (at != std::string::npos && at > start) {
      text.insert(at, ":" + redacted);
    } else {
      text.insert(start, ":" + redacted + "@");
    }
  }
  return text;
}

} // namespace

bool header_looks_secret(const std::string& name, const std::string& value)
{
  const std::string n = lower(name);
  for (const char* word :
       { "auth", "key", "token", "secret", "pass", "cookie", "signature", "credential", "session" }) {
    if (n.find(word) != std::string::npos) {
      return true;
    }
  }
  const std::string v = lower(value);
  return v.starts_with("bearer ") || v.starts_with("basic ");
}

namespace {

// Where each setting comes from: the first source that sets one of its
// options, read through the option table.
class Origins {
public:
  explicit Origins(const std::vector<SourcedArguments>& sources)
  {
    for (const auto& source : sources) {
      std::set<std::string> settings;
      for (const auto& name : options_in(source.args)) {
        if (name.starts_with(config_toggle_prefix)) {
          settings.insert(setting_name(*find_option(name.substr(config_toggle_prefix.size()))));
        } else if (const OptionSpec* option = find_option(name)) {
          settings.insert(setting_name(*option));
        }
      }
      sources_.push_back({ std::move(settings), source.origin });
    }
  }

  // The origin of `setting` ("max_tokens", "stream": --stream, --no-stream
  // and the config's --set-stream), or "default" when no source sets it.
  std::string of(const std::string& setting) const
  {
    for (const auto& [settings, origin] : sources_) {
      if (settings.count(setting)) {
        return origin;
      }
    }
    return "default";
  }

private:
  std::vector<std::pair<std::set<std::string>, std::string>> sources_;
};

void add(std::vector<ShownSetting>& out, const std::string& name, const std::string& value, const std::string& origin)
{
  out.push_back({ name, value, origin });
}

// The config file, profile and role chosen.
void add_choices(std::vector<ShownSetting>& out, const Settings& settings)
{
  const Options& o = settings.command.options;
  add(out,
      "config",
      settings.config_path ? *settings.config_path + (settings.config_found ? " (found)" : " (not found)") : "none",
      settings.config_origin.empty() ? "default" : settings.config_origin);
  add(out,
      "profile",
      settings.profile.value_or("none"),
      settings.profile_origin.empty() ? "default" : settings.profile_origin);
  add(out, "role", o.role.value_or("none"), o.role ? "flag" : "default");
}

// What -f may send: the kinds the server takes, the largest, the detail.
void add_attachments(std::vector<ShownSetting>& out, const Options& o, const Origins& origin)
{
  // Shown when some layer sets them, as the switches are: most runs send
  // text only.
  const auto set = [&](const char* name) { return origin.of(name) != "default"; };
  std::string kinds = "image,pdf,audio";
  if (o.attachment_kinds) {
    kinds.clear();
    for (const auto& kind : *o.attachment_kinds) {
      kinds += (kinds.empty() ? "" : ",") + kind;
    }
  }
  if (set("attachments")) {
    add(out, "attachments", kinds.empty() ? "none" : kinds, origin.of("attachments"));
  }
  if (set("max_attachment")) {
    add(out, "max_attachment", std::to_string(o.max_attachment) + " bytes", origin.of("max_attachment"));
  }
  if (set("detail")) {
    add(out, "detail", o.detail.value_or(""), origin.of("detail"));
  }
}

// The model, where the request goes, and what it asks for.
void add_request(std::vector<ShownSetting>& out, const Options& o, const Url& endpoint, const Origins& origin)
{
  add(out, "model", o.model, origin.of("model"));
  add(out, "base_url", o.base_url, origin.of("base_url"));
  add(out, "api", o.api == Api::responses ? "responses" : "chat", origin.of("api"));
  add(out,
      "endpoint",
      "POST " + endpoint.scheme + "://" + endpoint.authority() + endpoint.target(),
      origin.of("base_url"));
  add(out, "system", o.system ? one_line(*o.system, 60) : "none", origin.of("system"));
  if (o.temperature) {
    add(out, "temperature", number_text(*o.temperature), origin.of("temperature"));
  }
  if (o.max_tokens) {
    add(out, "max_tokens", std::to_string(*o.max_tokens), origin.of("max_tokens"));
  }
  if (o.top_p) {
    add(out, "top_p", number_text(*o.top_p), origin.of("top_p"));
  }
  if (o.seed) {
    add(out, "seed", std::to_string(*o.seed), origin.of("seed"));
  }
  for (const auto& stop : o.stop) {
    add(out, "stop", one_line(stop, 60), origin.of("stop"));
  }
  for (const auto& [key, value] : o.fields) {
    add(out, "option", one_line(key + "=" + value, 60), origin.of("option"));
  }
  if (o.schema_file) {
    add(out, "schema", *o.schema_file, origin.of("schema"));
  }
  add(out, "stream", o.stream ? "true" : "false", origin.of("stream"));
  add_attachments(out, o, origin);
  for (const auto& [name, on] : { std::pair<const char*, bool>{ "json", o.json },
                                  { "usage", o.usage },
                                  { "reasoning", o.reasoning },
                                  { "verbose", o.verbose } }) {
    const std::string from = origin.of(name);
    if (on || from != "default") {
      add(out, name, on ? "true" : "false", from);
    }
  }
}

// The limits, the proxy and the trusted certificates.
void add_connection(std::vector<ShownSetting>& out,
                    const Options& o,
                    const Url& endpoint,
                    const Origins& origin,
                    const Environment& env)
{
  add(out, "connect_timeout", seconds_text(o.connect_timeout), origin.of("connect_timeout"));
  add(out, "idle_timeout", seconds_text(o.idle_timeout), origin.of("idle_timeout"));
  add(out, "timeout", o.timeout ? seconds_text(*o.timeout) : "none", origin.of("timeout"));
  add(out, "retries", std::to_string(o.retries), origin.of("retries"));

  const ProxyChoice proxy = explain_proxy(endpoint, o.proxy, o.no_proxy, env);
  const std::string proxy_origin = proxy.source.empty()        ? "default"
                                   : proxy.source == "--proxy" ? origin.of("proxy")
                                                               : "env " + proxy.source;
  const std::string no_proxy_origin = proxy.no_proxy_source.empty()           ? "default"
                                      : proxy.no_proxy_source == "--no-proxy" ? origin.of("no_proxy")
                                                                              : "env " + proxy.no_proxy_source;
  if (proxy.proxy) {
    add(out, "proxy", proxy_text(*proxy.proxy), proxy_origin);
  } else if (proxy.bypassed) {
    add(out, "proxy", "none (no_proxy exempts " + endpoint.host + ")", no_proxy_origin);
  } else {
    add(out, "proxy", "none", proxy_origin);
  }
  add(out,
      "no_proxy",
      proxy.no_proxy && !proxy.no_proxy->empty() ? one_line(*proxy.no_proxy, 100) : "none",
      no_proxy_origin);
  add(out, "cacert", o.cacert.value_or("none"), origin.of("cacert"));
}

// Where the key comes from (never the key), how it is sent, and the
// headers added, secret-looking values redacted.
void add_key_and_headers(std::vector<ShownSetting>& out,
                         const Settings& settings,
                         const Url& endpoint,
                         const Origins& origin,
                         const Environment& env)
{
  const Options& o = settings.command.options;
  const KeySource& key = settings.key_source;
  const std::string key_origin = key.defined_at.empty() ? "default" : key.defined_at;
  if (key.command) {
    add(out, "key", "command " + one_line(*key.command, 100), key_origin);
  } else if (key.file) {
    add(out, "key", "file " + *key.file, key_origin);
  } else if (env(key.env_name).value_or("").empty()) {
    add(out, "key", "none (" + key.env_name + " is not set)", key_origin);
  } else {
    add(out, "key", "env " + key.env_name, key_origin);
  }
  const std::string key_header = key_header_for(endpoint, o.key_header);
  add(out, "key_header", key_header == "Authorization" ? "Authorization: Bearer" : key_header, origin.of("key_header"));
  for (const auto& [name, value] : o.headers) {
    add(out,
        "header",
        name + ": " + (header_looks_secret(name, value) ? redacted : one_line(value, 60)),
        origin.of("header"));
  }
}

} // namespace

std::string setting_origin(const Settings& settings, const std::string& setting)
{
  return Origins(settings.sources).of(setting);
}

std::vector<ShownSetting> shown_settings(const Settings& settings, const Environment& env)
{
  const Options& o = settings.command.options;
  const Origins origin(settings.sources);
  std::vector<ShownSetting> out;
  add_choices(out, settings);
  const Url endpoint = endpoint_url(parse_url(o.base_url), endpoint_path(o.api));
  add_request(out, o, endpoint, origin);
  add_connection(out, o, endpoint, origin, env);
  add_key_and_headers(out, settings, endpoint, origin, env);
  return out;
}

std::string format_settings(const std::vector<ShownSetting>& shown)
{
  // Long values do not push every other origin to the right.
  constexpr std::size_t widest_value = 50;
  std::size_t name_width = 0;
  std::size_t value_width = 0;
  for (const auto& s : shown) {
    name_width = std::max(name_width, s.name.size());
    if (s.value.size() <= widest_value) {
      value_width = std::max(value_width, s.value.size());
    }
  }
  std::string text;
  for (const auto& s : shown) {
    text += s.name + std::string(name_width + 2 - s.name.size(), ' ') + s.value;
    text += std::string(s.value.size() < value_width ? value_width - s.value.size() : 0, ' ');
    text += "  (" + s.origin + ")\n";
  }
  return text;
}

} // namespace gptq
