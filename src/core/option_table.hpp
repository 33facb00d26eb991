#pragma once

#include <span>
#include <string>
#include <string_view>

namespace gptq {

// How an option takes its value on the command line.
enum class OptionArity {
  flag,  // --NAME alone, no value
  value, // --NAME VALUE, at most once
  list,  // --NAME VALUE, repeatable, kept in order
};

// What a config file section may do with an option.
enum class ConfigUse {
  none,   // nothing: a config file cannot set it
  key,    // `NAME = VALUE` (underscores for dashes) stands for --NAME VALUE
  toggle, // `NAME = true|false` stands for --set-NAME true|false
};

// One option of gptq: the single place that names it. The parser, --help,
// the config keys and --show-config all read this table, and the tests that
// keep the man page, README and completions complete iterate it.
struct OptionSpec {
  std::string_view name; // long name, "max-tokens"
  char letter;           // short letter, 0 when it has none
  OptionArity arity;
  ConfigUse config;
  std::string_view group;        // the --help heading it is listed under; "" for the last, unnamed group
  std::string_view argument;     // "TEXT" in "--system TEXT"; "" for a flag
  std::string_view help;         // its --help description; '\n' separates lines
  std::string_view setting = {}; // the setting it sets, when not its own: "stream" for no-stream
};

// Every option a user may give, in --help order (grouped, the groups in
// --help order). PROMPT words and the --set-NAME switches of config layers
// are not in it: the parser adds them (see options.hpp).
std::span<const OptionSpec> option_table();

// The option named `name` (long name), or nullptr.
const OptionSpec* find_option(std::string_view name);

// The option that the config key `key` sets ("max_tokens" for
// --max-tokens), or nullptr when no option is a config key of that name.
const OptionSpec* find_config_key(std::string_view key);

// The name of the setting `spec` sets, as a config file and --show-config
// spell it: its name with underscores for dashes ("max_tokens"), or its
// `setting` when it sets another option's.
std::string setting_name(const OptionSpec& spec);

// How config layers set a toggle: "set-" + the option's name. One name per
// setting, apart from --NAME and --no-NAME, so that the first layer to set
// it wins, whichever way it sets it.
inline constexpr std::string_view config_toggle_prefix = "set-";

} // namespace gptq
