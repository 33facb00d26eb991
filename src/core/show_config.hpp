#pragma once

#include "environment.hpp"
#include "settings.hpp"

#include <string>
#include <vector>

namespace gptq {

// One line of --show-config: a setting, its effective value (secrets
// redacted) and where the value came from: "flag", "env NAME",
// "config FILE:LINE [SECTION]" or "default".
struct ShownSetting {
  std::string name;
  std::string value;
  std::string origin;
};

// Returns the effective settings of a run with `settings`, in a fixed order:
// config, profile, role, model, base_url, endpoint, system, the request
// fields that are set, stream, the switches that some layer sets,
// connect_timeout, idle_timeout, timeout, retries, proxy, no_proxy, cacert,
// key, key_header, then one header line per -H. The origin of an option is
// the first of settings.sources that sets it. Never holds the API key (only
// where it comes from), a proxy password or the value of a header that
// looks secret. Throws gptq::Error (usage) for a base URL or proxy that a
// run would reject.
std::vector<ShownSetting> shown_settings(const Settings& settings, const Environment& env);

// Returns where `setting` ("attachments", "max_tokens") of a run with
// `settings` comes from, as --show-config names it: "flag", "env NAME",
// "config FILE:LINE [SECTION]" or "default".
std::string setting_origin(const Settings& settings, const std::string& setting);

// Returns `shown` as text, one setting per line: the name, the value and
// "(ORIGIN)", in aligned columns separated by at least two spaces.
std::string format_settings(const std::vector<ShownSetting>& shown);

// True when a header named `name` with `value` probably carries a
// credential: Authorization, api-key, anything naming a key, token, secret,
// password, cookie or signature, and any value that starts "Bearer " or
// "Basic ".
bool header_looks_secret(const std::string& name, const std::string& value);

} // namespace gptq
