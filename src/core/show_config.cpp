#include "show_config.hpp"

#include "proxy.hpp"
#include "request.hpp"
#include "text.hpp"
#include "url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>

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

std::vector<ShownSetting> shown_settings(const Settings& settings, const Environment& env)
{
  const Options& o = settings.command.options;
  // The first layer that sets any of `names` (one setting may have several
  // options: --stream, --no-stream and the config's --set-stream).
  auto origin = [&](std::initializer_list<std::string> names) -> std::string {
    for (const auto& source : settings.sources) {
      const auto set = options_in(source.args);
      for (const auto& name : names) {
        if (set.count(name)) {
          return source.origin;
        }
      }
    }
    return "default";
  };
  std::vector<ShownSetting> out;
  auto add = [&](const std::string& name, const std::string& value, const std::string& from) {
    out.push_back({ name, value, from });
  };

  add("config",
      settings.config_path ? *settings.config_path + (settings.config_found ? " (found)" : " (not found)") : "none",
      settings.config_origin.empty() ? "default" : settings.config_origin);
  add("profile",
      settings.profile.value_or("none"),
      settings.profile_origin.empty() ? "default" : settings.profile_origin);
  add("role", o.role.value_or("none"), o.role ? "flag" : "default");
  add("model", o.model, origin({ "model" }));
  add("base_url", o.base_url, origin({ "base-url" }));
  const Url endpoint = endpoint_url(parse_url(o.base_url), "/chat/completions");
  add("endpoint", "POST " + endpoint.scheme + "://" + endpoint.authority() + endpoint.target(), origin({ "base-url" }));
  add("system", o.system ? one_line(*o.system, 60) : "none", origin({ "system" }));
  if (o.temperature) {
    add("temperature", number_text(*o.temperature), origin({ "temperature" }));
  }
  if (o.max_tokens) {
    add("max_tokens", std::to_string(*o.max_tokens), origin({ "max-tokens" }));
  }
  if (o.top_p) {
    add("top_p", number_text(*o.top_p), origin({ "top-p" }));
  }
  if (o.seed) {
    add("seed", std::to_string(*o.seed), origin({ "seed" }));
  }
  for (const auto& stop : o.stop) {
    add("stop", one_line(stop, 60), origin({ "stop" }));
  }
  for (const auto& [key, value] : o.fields) {
    add("option", one_line(key + "=" + value, 60), origin({ "option" }));
  }
  if (o.schema_file) {
    add("schema", *o.schema_file, origin({ "schema" }));
  }
  add("stream", o.stream ? "true" : "false", origin({ "stream", "no-stream", "set-stream" }));
  for (const auto& [name, on] : { std::pair<const char*, bool>{ "json", o.json },
                                  { "usage", o.usage },
                                  { "reasoning", o.reasoning },
                                  { "verbose", o.verbose } }) {
    const std::string from = origin({ name, "set-" + std::string(name) });
    if (on || from != "default") {
      add(name, on ? "true" : "false", from);
    }
  }
  add("connect_timeout", seconds_text(o.connect_timeout), origin({ "connect-timeout" }));
  add("idle_timeout", seconds_text(o.idle_timeout), origin({ "idle-timeout" }));
  add("timeout", o.timeout ? seconds_text(*o.timeout) : "none", origin({ "timeout" }));
  add("retries", std::to_string(o.retries), origin({ "retries" }));

  const ProxyChoice proxy = explain_proxy(endpoint, o.proxy, o.no_proxy, env);
  const std::string proxy_origin = proxy.source.empty()        ? "default"
                                   : proxy.source == "--proxy" ? origin({ "proxy" })
                                                               : "env " + proxy.source;
  const std::string no_proxy_origin = proxy.no_proxy_source.empty()           ? "default"
                                      : proxy.no_proxy_source == "--no-proxy" ? origin({ "no-proxy" })
                                                                              : "env " + proxy.no_proxy_source;
  if (proxy.proxy) {
    add("proxy", proxy_text(*proxy.proxy), proxy_origin);
  } else if (proxy.bypassed) {
    add("proxy", "none (no_proxy exempts " + endpoint.host + ")", no_proxy_origin);
  } else {
    add("proxy", "none", proxy_origin);
  }
  add(
    "no_proxy", proxy.no_proxy && !proxy.no_proxy->empty() ? one_line(*proxy.no_proxy, 100) : "none", no_proxy_origin);
  add("cacert", o.cacert.value_or("none"), origin({ "cacert" }));

  const KeySource& key = settings.key_source;
  const std::string key_origin = key.defined_at.empty() ? "default" : key.defined_at;
  if (key.command) {
    add("key", "command " + one_line(*key.command, 100), key_origin);
  } else if (key.file) {
    add("key", "file " + *key.file, key_origin);
  } else if (env(key.env_name).value_or("").empty()) {
    add("key", "none (" + key.env_name + " is not set)", key_origin);
  } else {
    add("key", "env " + key.env_name, key_origin);
  }
  const std::string key_header = key_header_for(endpoint, o.key_header);
  add("key_header", key_header == "Authorization" ? "Authorization: Bearer" : key_header, origin({ "key-header" }));
  for (const auto& [name, value] : o.headers) {
    add("header",
        name + ": " + (header_looks_secret(name, value) ? redacted : one_line(value, 60)),
        origin({ "header" }));
  }
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
