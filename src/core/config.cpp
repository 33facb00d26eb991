#include "config.hpp"

#include "error.hpp"
#include "option_table.hpp"
#include "text.hpp"

#include <algorithm>
#include <string_view>

namespace gptq {

namespace {

bool allowed(const std::string& section_kind, const std::string& key)
{
  if (find_config_key(key)) {
    return true;
  }
  if (section_kind == "") {
    return key == "default_profile";
  }
  if (section_kind == "role") {
    return key == "system_file";
  }
  return key == "api_key_env" || key == "api_key_file" || key == "api_key_cmd";
}

[[noreturn]] void fail(const std::string& path, int line, const std::string& message)
{
  // Appended, not ":" + to_string(line): GCC 12 warns (-Wrestrict, a false
  // positive) about that once this is inlined into section_arguments.
  std::string phase = escape_controls(path);
  if (line > 0) {
    phase += ':';
    phase += std::to_string(line);
  }
  throw Error(ExitStatus::usage, phase, message);
}

} // namespace

std::string inline_comment_hint(std::string_view value)
{
  for (std::size_t at = value.find_first_of("#;"); at != std::string_view::npos;
       at = value.find_first_of("#;", at + 1)) {
    if (at > 0 && (value[at - 1] == ' ' || value[at - 1] == '\t')) {
      return " (a # or ; starts a comment only at the start of a line)";
    }
  }
  return "";
}

// Our own reader rather than Boost.ProgramOptions' parse_config_file, which
// cuts every line at its first '#', so that `system = Answer in C# only`
// lost its end without a word. Here, as in systemd units, ssh_config and
// Python's configparser (pip.conf), a comment is a whole line.
Config parse_config(const std::string& text, const std::string& path)
{
  Config config;
  config.path = path;
  std::string_view rest(text);
  // A byte order mark, which some editors write.
  if (rest.starts_with("\xEF\xBB\xBF")) {
    rest.remove_prefix(3);
  }
  ConfigSection* section = &config.top;
  std::string kind;  // "", "role" or "profile"
  std::string label; // "role.NAME" or "profile.NAME"; "" at the top level
  for (int number = 1; !rest.empty(); ++number) {
    const auto end = std::min(rest.find('\n'), rest.size());
    const std::string_view line = trim(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      const std::string name(trim(line.substr(1, line.size() - 2)));
      const auto dot = name.find('.');
      kind = name.substr(0, dot);
      if (dot == std::string::npos || dot + 1 == name.size() || (kind != "role" && kind != "profile")) {
        fail(path, number, "unknown section [" + one_line(name, 60) + "]; sections are [role.NAME] and [profile.NAME]");
      }
      auto& sections = kind == "role" ? config.roles : config.profiles;
      section = &sections[name.substr(dot + 1)];
      // A section may come back later in the file; its first header is
      // where it is said to be.
      if (section->line == 0) {
        section->line = number;
      }
      label = name;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      fail(path, number, quoted(line, 80) + " is neither 'key = value' nor '[section]'");
    }
    const std::string key(trim(line.substr(0, eq)));
    if (!allowed(kind, key)) {
      fail(path,
           number,
           "unknown key " + quoted(key, 80) +
             (label.empty() ? " at the top level" : " in [" + escape_controls(label) + "]"));
    }
    // A key given twice keeps its last value.
    section->values[key] = { std::string(trim(line.substr(eq + 1))), number };
  }
  return config;
}

std::vector<ConfigArgument> section_arguments(const ConfigSection& section, const std::string& path)
{
  std::vector<ConfigArgument> out;
  for (const auto& [key, setting] : section.values) {
    const OptionSpec* option = find_config_key(key);
    if (!option) {
      continue;
    }
    if (option->config == ConfigUse::key) {
      out.push_back({ key, setting.line, { "--" + std::string(option->name), setting.value } });
      continue;
    }
    if (setting.value != "true" && setting.value != "false") {
      fail(path,
           setting.line,
           key + ": expected true or false, got " + quoted(setting.value, 40) + inline_comment_hint(setting.value));
    }
    out.push_back(
      { key, setting.line, { "--" + std::string(config_toggle_prefix) + std::string(option->name), setting.value } });
  }
  return out;
}

} // namespace gptq
