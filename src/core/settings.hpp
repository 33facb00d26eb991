#pragma once

#include "config.hpp"
#include "environment.hpp"
#include "options.hpp"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gptq {

// Where the API key comes from: a profile's api_key_env, api_key_file or
// api_key_cmd, else OPENAI_API_KEY (also when OPENAI_BASE_URL displaces the
// base_url of a profile chosen by default_profile: a profile's key goes to
// the profile's server only).
struct KeySource {
  std::string env_name = "OPENAI_API_KEY";
  std::optional<std::string> file;    // the first line of this file
  std::optional<std::string> command; // the first line this command prints
  std::string origin;                 // for messages: "profile NAME"
  std::string defined_at; // "config FILE:LINE [profile.NAME]" of the api_key_* key (with " via default_profile"),
                          // "env OPENAI_BASE_URL" when that set the key aside; "" for the default
};

// Returns the text of the file at `path`; nullopt when `may_be_missing` and
// it cannot be opened. Throws gptq::Error (usage) naming `what` and the path
// when it cannot be read otherwise. The core reads no files itself.
using ReadFile =
  std::function<std::optional<std::string>(const std::string& path, const std::string& what, bool may_be_missing)>;

// The settings of one run: the command line over the chosen role, the
// profile chosen by -P or GPTQ_PROFILE, the environment, the profile chosen
// by the config's default_profile and the config file's top level.
struct Settings {
  Command command;
  KeySource key_source;
  std::vector<std::string> role_names;    // for --list-roles
  std::vector<std::string> profile_names; // for --list-profiles
  // Every layer's arguments with their origins, highest precedence first:
  // the command line, the role, a profile chosen by -P or GPTQ_PROFILE, the
  // environment, a profile chosen by default_profile (origins ending in
  // " via default_profile"), the top level.
  std::vector<SourcedArguments> sources;
  std::optional<std::string> config_path; // none without --config, GPTQ_CONFIG, XDG_CONFIG_HOME or HOME
  std::string config_origin;              // "flag", "env GPTQ_CONFIG" or "default"
  bool config_found = false;              // the file was there and was read
  std::optional<std::string> profile;     // the profile chosen, if any
  std::string profile_origin; // "flag", "env GPTQ_PROFILE", "config FILE:LINE default_profile"; "" without one
  // The system message was chosen for this run, by -s or the role (-r), not
  // taken from a default (a profile's or the top level's): a -C thread's own
  // system message yields only to a chosen one.
  bool system_chosen = false;
};

// "config FILE:LINE [SECTION]", or without " [SECTION]" when `section` is
// empty: the origin of a config key.
std::string config_origin(const std::string& path, int line, const std::string& section);

// Resolves the settings of `args` (argv without argv[0]): parses the command
// line to learn the config file, role and profile, reads and checks the
// config file and a role's system_file through `read_file`, then parses the
// command line again over the layers. Returns the settings (only the command
// for --help and --version). Throws gptq::Error (usage) for a bad option, a
// bad config file (naming file, line and key), an unknown role or profile,
// and what `read_file` throws.
Settings resolve_settings(std::span<const char* const> args, const Environment& env, const ReadFile& read_file);

} // namespace gptq
