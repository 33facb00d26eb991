#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// One `key = value` of the config file.
struct ConfigValue {
  std::string value;
  int line = 0;
};

// The keys of one section: the top level, a [role.NAME] or a [profile.NAME].
struct ConfigSection {
  std::map<std::string, ConfigValue> values;
  int line = 0; // of the [header]; 0 for the top level
};

// The config file: INI. `[role.NAME]` and `[profile.NAME]` start sections,
// `key = value` lines set keys (blanks around both trimmed), and a line
// whose first character after blanks is # or ; is a comment: # and ;
// elsewhere are part of the value.
struct Config {
  std::string path;
  ConfigSection top;
  std::map<std::string, ConfigSection> roles;
  std::map<std::string, ConfigSection> profiles;
};

// Parses the config file `text` read from `path`. Throws gptq::Error (usage)
// with phase "PATH:LINE" naming the key or section when a line is not
// `key = value` or `[section]`, a section is neither role.NAME nor
// profile.NAME, or a key is unknown where it stands. Values are checked
// later, against the options they set (see section_arguments).
Config parse_config(const std::string& text, const std::string& path);

// Returns " (a # or ; starts a comment only at the start of a line)" when
// `value` has a # or ; after a blank, as a comment at the end of a line
// would; else "". Added to the message of a bad value.
std::string inline_comment_hint(std::string_view value);

// Returns the command-line arguments a section's keys stand for, in key
// order, each with the key it came from: `model = x` is {"--model", "x"},
// `stream = false` is {"--set-stream", "false"}. Keys that are not options
// (system_file, api_key_*, default_profile) are left out. Throws gptq::Error
// (usage) naming file, line and key for a boolean that is not true/false.
struct ConfigArgument {
  std::string key;
  int line = 0;
  std::vector<std::string> args;
};
std::vector<ConfigArgument> section_arguments(const ConfigSection& section, const std::string& path);

} // namespace gptq
