// How one run's settings are resolved. The command line is parsed once to
// learn the config file, role and profile; the config is loaded and checked
// (each value by the same parser as the option it sets, so errors name file,
// line and key); then the command line is parsed again with the role's and
// profile's settings as argument layers above the environment, and the top
// level below it: Boost.ProgramOptions keeps the first value stored, which is
// the precedence. A profile the config's default_profile chose is a layer
// below the environment (just above the top level); when OPENAI_BASE_URL then
// displaces its base_url, its key source is set aside too, so that its key
// goes to its own server only. On the command line, the names that layers and
// PROMPT words use inside (`--set-NAME`, `prompt`) are refused. When no layer
// applies, the first parse stands. Switches in the config become
// `--set-NAME true|false` so that a higher layer can switch off what a lower
// one switched on. Every layer's arguments keep their origin (`flag`,
// `env NAME`, `config FILE:LINE [SECTION]`) for --show-config.

#include "settings.hpp"

#include "error.hpp"
#include "prompt.hpp"
#include "text.hpp"

#include <algorithm>
#include <string_view>

namespace gptq {

namespace {

// Paths in the config file may start with ~/ for the home directory.
std::string expand_home(const std::string& path, const Environment& env)
{
  if (path.starts_with("~/")) {
    if (auto home = env("HOME")) {
      return *home + path.substr(1);
    }
  }
  return path;
}

// A section's arguments, each with the file, line and section of its key.
std::vector<SourcedArguments> sourced(const ConfigSection& section, const std::string& path, const std::string& name)
{
  std::vector<SourcedArguments> out;
  for (auto& argument : section_arguments(section, path)) {
    out.push_back({ std::move(argument.args), config_origin(path, argument.line, name) });
  }
  return out;
}

std::vector<std::string> flatten(const std::vector<SourcedArguments>& layer)
{
  std::vector<std::string> args;
  for (const auto& piece : layer) {
    args.insert(args.end(), piece.args.begin(), piece.args.end());
  }
  return args;
}

// Checks every value of `section` against the option it sets, and a
// system text for UTF-8, so that a bad one is reported with the file, the
// line and the key.
void check_section(const ConfigSection& section, const std::string& path)
{
  for (const auto& argument : section_arguments(section, path)) {
    try {
      // As a layer, as a run parses it: --set-NAME is no command-line option.
      parse_command_line(std::span<const char* const>(),
                         [](const std::string&) { return std::optional<std::string>(); },
                         { argument.args });
      if (argument.key == "system") {
        require_utf8(argument.args.back(), "");
      }
    } catch (const Error& e) {
      throw Error(ExitStatus::usage,
                  escape_controls(path) + ":" + std::to_string(argument.line),
                  argument.key + ": " + e.what() + inline_comment_hint(argument.args.back()));
    }
  }
}

// kind and option by value: GCC 14's -Wdangling-reference warns when a
// function that returns a reference gets a temporary (a literal made a
// std::string) bound to a reference parameter.
template<class Sections>
const ConfigSection& find_section(const Sections& sections,
                                  const std::string& name,
                                  std::string_view kind,
                                  std::string_view option,
                                  const std::string& path)
{
  const auto found = sections.find(name);
  if (found != sections.end()) {
    return found->second;
  }
  std::string known;
  for (const auto& [section_name, section] : sections) {
    known += (known.empty() ? "" : ", ") + section_name;
  }
  throw Error(ExitStatus::usage,
              std::string(option),
              "no " + std::string(kind) + " " + quoted(name, 60) + " in " +
                (path.empty() ? "the config file" : quoted(path)) +
                (known.empty() ? "; it defines none" : "; known: " + known));
}

// Finds and reads the config file: the one named by --config or
// GPTQ_CONFIG (then it must be readable), else the default place (which
// may be missing). Checks every section and records in `settings` where
// the file is, whether it was found, and the names of its roles and
// profiles.
Config load_config(const Options& first, const Environment& env, const ReadFile& read_file, Settings& settings)
{
  std::optional<std::string> path = first.config_file;
  std::string named_by = "--config";
  settings.config_origin = "flag";
  if (!path && env("GPTQ_CONFIG").value_or("") != "") {
    path = env("GPTQ_CONFIG");
    named_by = "GPTQ_CONFIG";
    settings.config_origin = "env GPTQ_CONFIG";
  }
  const bool named = path.has_value();
  if (!path) {
    settings.config_origin = "default";
    const auto xdg = env("XDG_CONFIG_HOME").value_or("");
    const auto home = env("HOME").value_or("");
    if (!xdg.empty()) {
      path = xdg + "/gptq/config";
    } else if (!home.empty()) {
      path = home + "/.config/gptq/config";
    }
  }
  settings.config_path = path;
  Config config;
  if (path) {
    if (const auto text = read_file(*path, named ? named_by : "config", !named)) {
      config = parse_config(*text, *path);
      settings.config_found = true;
    }
  }
  check_section(config.top, config.path);
  for (const auto* sections : { &config.roles, &config.profiles }) {
    for (const auto& [name, section] : *sections) {
      check_section(section, config.path);
    }
  }
  for (const auto& [name, section] : config.roles) {
    settings.role_names.push_back(name);
  }
  for (const auto& [name, section] : config.profiles) {
    settings.profile_names.push_back(name);
  }
  return config;
}

// The arguments of the role `name`, with its system_file read as --system
// when the role sets no system text itself.
std::vector<SourcedArguments> role_arguments(const ConfigSection& role,
                                             const std::string& name,
                                             const std::string& path,
                                             const Environment& env,
                                             const ReadFile& read_file)
{
  std::vector<SourcedArguments> role_args = sourced(role, path, "role." + name);
  if (const auto file = role.values.find("system_file"); file != role.values.end() && !role.values.count("system")) {
    const std::string where = escape_controls(path) + ":" + std::to_string(file->second.line);
    const std::string system_path = expand_home(file->second.value, env);
    const std::string text = read_file(system_path, where, false).value_or("");
    try {
      require_utf8(text, where);
    } catch (const Error& e) {
      throw Error(e.status(), where, "system_file " + quoted(system_path) + ": " + e.what());
    }
    role_args.push_back(
      { { "--system", std::string(trim(text)) }, config_origin(path, file->second.line, "role." + name) });
  }
  return role_args;
}

// The profile a run uses, and who chose it.
struct ProfileChoice {
  std::optional<std::string> name;
  std::string option;      // what to name in a message about it: "--profile", "GPTQ_PROFILE" or "FILE:LINE"
  bool by_default = false; // chosen by the config's default_profile
};

// Chooses the profile: -P, else GPTQ_PROFILE, else the config's
// default_profile. Records the choice and its origin in `settings`.
ProfileChoice choose_profile(const Options& first, const Environment& env, const Config& config, Settings& settings)
{
  ProfileChoice choice{ first.profile, "--profile" };
  settings.profile_origin = choice.name ? "flag" : "";
  if (!choice.name && env("GPTQ_PROFILE").value_or("") != "") {
    choice.name = env("GPTQ_PROFILE");
    choice.option = "GPTQ_PROFILE";
    settings.profile_origin = "env GPTQ_PROFILE";
  }
  // A profile the config file picks for itself is a default, like the top
  // level: the environment beats it, as variables beat config files for the
  // AWS CLI and git. One picked by -P or GPTQ_PROFILE for this run beats
  // the environment.
  choice.by_default = !choice.name && config.top.values.count("default_profile");
  if (choice.by_default) {
    const ConfigValue value = config.top.values.at("default_profile"); // a copy: see find_section
    choice.name = value.value;
    choice.option = config.path + ":" + std::to_string(value.line);
    settings.profile_origin = config_origin(config.path, value.line, "") + " default_profile";
  }
  settings.profile = choice.name;
  return choice;
}

// Where the key of the profile `name` comes from. `via` is appended to the
// origin of its api_key_* key.
void set_key_source(KeySource& key_source,
                    const ConfigSection& profile,
                    const std::string& name,
                    const Config& config,
                    const std::string& via,
                    const Environment& env)
{
  key_source.origin = "profile " + name;
  // read_api_key tries a command, then a file, then the variable: the
  // last of these keys that is set is the one that decides.
  for (const char* key : { "api_key_env", "api_key_file", "api_key_cmd" }) {
    const auto found = profile.values.find(key);
    if (found == profile.values.end()) {
      continue;
    }
    key_source.defined_at = config_origin(config.path, found->second.line, "profile." + name) + via;
    if (std::string(key) == "api_key_env") {
      key_source.env_name = found->second.value;
    } else if (std::string(key) == "api_key_file") {
      key_source.file = expand_home(found->second.value, env);
    } else {
      key_source.command = found->second.value;
    }
  }
}

} // namespace

std::string config_origin(const std::string& path, int line, const std::string& section)
{
  return "config " + path + ":" + std::to_string(line) + (section.empty() ? "" : " [" + section + "]");
}

Settings resolve_settings(std::span<const char* const> args, const Environment& env, const ReadFile& read_file)
{
  Settings settings;
  const Command first = parse_command_line(args, env);
  if (first.action == Command::Action::help || first.action == Command::Action::version) {
    settings.command = first;
    return settings;
  }
  const Config config = load_config(first.options, env, read_file, settings);

  settings.sources.push_back({ std::vector<std::string>(args.begin(), args.end()), "flag" });
  settings.system_chosen = first.options.system.has_value();
  std::vector<std::vector<std::string>> above_env;
  const ConfigSection* role = nullptr;
  if (first.options.role) {
    role = &find_section(config.roles, *first.options.role, "role", "--role", config.path);
    settings.system_chosen =
      settings.system_chosen || role->values.count("system") || role->values.count("system_file");
    const auto role_args = role_arguments(*role, *first.options.role, config.path, env, read_file);
    above_env.push_back(flatten(role_args));
    settings.sources.insert(settings.sources.end(), role_args.begin(), role_args.end());
  }
  const ProfileChoice choice = choose_profile(first.options, env, config, settings);
  std::vector<SourcedArguments> profile_args;
  if (choice.name) {
    const std::string via = choice.by_default ? " via default_profile" : "";
    const ConfigSection& profile = find_section(config.profiles, *choice.name, "profile", choice.option, config.path);
    profile_args = sourced(profile, config.path, "profile." + *choice.name);
    for (auto& argument : profile_args) {
      argument.origin += via;
    }
    if (!choice.by_default) {
      above_env.push_back(flatten(profile_args));
      settings.sources.insert(settings.sources.end(), profile_args.begin(), profile_args.end());
    }
    // The profile's key is meant for the profile's server: when
    // OPENAI_BASE_URL displaces a default profile's base_url, the key comes
    // from OPENAI_API_KEY, as it would without the config file.
    const bool url_from_env = choice.by_default && profile.values.count("base_url") &&
                              env("OPENAI_BASE_URL").value_or("") != "" && !(role && role->values.count("base_url")) &&
                              !options_in(settings.sources.front().args).count("base-url");
    if (url_from_env) {
      settings.key_source.defined_at = "env OPENAI_BASE_URL";
    } else {
      set_key_source(settings.key_source, profile, *choice.name, config, via, env);
    }
  }
  const auto from_env = environment_arguments(env);
  settings.sources.insert(settings.sources.end(), from_env.begin(), from_env.end());
  std::vector<std::vector<std::string>> below_env;
  if (choice.by_default) {
    below_env.push_back(flatten(profile_args));
    settings.sources.insert(settings.sources.end(), profile_args.begin(), profile_args.end());
  }
  const std::vector<SourcedArguments> top = sourced(config.top, config.path, "");
  settings.sources.insert(settings.sources.end(), top.begin(), top.end());
  below_env.push_back(flatten(top));
  const bool no_layer = above_env.empty() && std::all_of(below_env.begin(), below_env.end(), [](const auto& layer) {
                          return layer.empty();
                        });
  if (no_layer) {
    // No config layer applies (no config file, or one without top-level
    // settings, and no role or profile): the first parse had the same
    // inputs, so its result stands.
    settings.command = first;
    return settings;
  }
  settings.command = parse_command_line(args, env, above_env, below_env);
  return settings;
}

} // namespace gptq
