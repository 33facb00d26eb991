#include "config.hpp"

#include "error.hpp"
#include "text.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>

#include <algorithm>
#include <iterator>
#include <sstream>
#include <string_view>

namespace po = boost::program_options;

namespace gptq {

namespace {

// Keys that set the option of the same name (underscores for dashes).
// Arrays, not sets: nothing to build at start-up in runs with no config.
constexpr std::string_view option_keys[] = {
  "model",        "base_url", "temperature", "max_tokens", "top_p",  "seed",       "timeout", "connect_timeout",
  "idle_timeout", "retries",  "proxy",       "no_proxy",   "cacert", "key_header", "system",  "schema",
};
// Keys that are true/false switches.
constexpr std::string_view switch_keys[] = { "stream", "json", "usage", "reasoning", "verbose" };

template<std::size_t N>
bool is_one_of(const std::string_view (&keys)[N], std::string_view key)
{
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

bool allowed(const std::string& section_kind, const std::string& key)
{
  if (is_one_of(option_keys, key) || is_one_of(switch_keys, key)) {
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
  throw Error(ExitStatus::usage, escape_controls(path) + (line > 0 ? ":" + std::to_string(line) : ""), message);
}

// Where each section header and key stands, for messages: Boost's parser
// does not say.
struct Lines {
  std::map<std::string, int> keys;     // "section.key" or "key" -> line
  std::map<std::string, int> sections; // "section" -> line
  std::map<std::string, int> text;     // a trimmed line -> its first line number
};

Lines scan(const std::string& text)
{
  Lines lines;
  std::istringstream in(text);
  std::string raw;
  std::string section;
  for (int number = 1; std::getline(in, raw); ++number) {
    const std::string line(trim(raw));
    lines.text.emplace(line, number);
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(trim(std::string_view(line).substr(1, line.size() - 2)));
      lines.sections.emplace(section, number);
      continue;
    }
    const auto eq = line.find('=');
    const std::string key(trim(std::string_view(line).substr(0, eq)));
    lines.keys.emplace(section.empty() ? key : section + "." + key, number);
  }
  return lines;
}

} // namespace

Config parse_config(const std::string& text, const std::string& path)
{
  const Lines lines = scan(text);
  Config config;
  config.path = path;
  po::parsed_options parsed(nullptr);
  try {
    std::istringstream in(text);
    po::options_description none;
    parsed = po::parse_config_file(in, none, true);
  } catch (const po::invalid_config_file_syntax& e) {
    const auto found = lines.text.find(std::string(trim(e.tokens())));
    fail(path, found == lines.text.end() ? 0 : found->second,
         quoted(e.tokens(), 80) + " is neither 'key = value' nor '[section]'");
  } catch (const po::error& e) {
    fail(path, 0, e.what());
  }
  for (const auto& option : parsed.options) {
    const std::string& name = option.string_key;
    const auto line_of = lines.keys.find(name);
    const int line = line_of == lines.keys.end() ? 0 : line_of->second;
    const std::string value = option.value.empty() ? std::string() : option.value.front();
    // "key", or "role.NAME.key" / "profile.NAME.key"; names may hold dots
    // only in the middle part.
    const auto first_dot = name.find('.');
    if (first_dot == std::string::npos) {
      if (!allowed("", name)) {
        fail(path, line, "unknown key " + quoted(name, 80) + " at the top level");
      }
      config.top.values[name] = {value, line};
      continue;
    }
    const std::string kind = name.substr(0, first_dot);
    const auto last_dot = name.rfind('.');
    const std::string section_name = name.substr(first_dot + 1, last_dot - first_dot - 1);
    const std::string key = name.substr(last_dot + 1);
    if ((kind != "role" && kind != "profile") || last_dot == first_dot || section_name.empty()) {
      const std::string section = name.substr(0, last_dot);
      const auto header = lines.sections.find(section);
      fail(path, header == lines.sections.end() ? line : header->second,
           "unknown section [" + one_line(section, 60) + "]; sections are [role.NAME] and [profile.NAME]");
    }
    if (!allowed(kind, key)) {
      fail(path, line, "unknown key " + quoted(key, 80) + " in [" + escape_controls(kind + "." + section_name) + "]");
    }
    auto& sections = kind == "role" ? config.roles : config.profiles;
    auto& section = sections[section_name];
    const auto header = lines.sections.find(kind + "." + section_name);
    section.line = header == lines.sections.end() ? 0 : header->second;
    section.values[key] = {value, line};
  }
  // An empty [role.NAME] still names a role.
  for (const auto& [section, line] : lines.sections) {
    const auto dot = section.find('.');
    const std::string kind = section.substr(0, dot);
    if (dot != std::string::npos && (kind == "role" || kind == "profile")) {
      auto& sections = kind == "role" ? config.roles : config.profiles;
      sections[section.substr(dot + 1)].line = line;
    } else {
      fail(path, line, "unknown section [" + one_line(section, 60) + "]; sections are [role.NAME] and [profile.NAME]");
    }
  }
  return config;
}

std::vector<ConfigArgument> section_arguments(const ConfigSection& section, const std::string& path)
{
  std::vector<ConfigArgument> out;
  for (const auto& [key, setting] : section.values) {
    std::string option = "--" + key;
    std::replace(option.begin(), option.end(), '_', '-');
    if (is_one_of(option_keys, key)) {
      out.push_back({key, setting.line, {option, setting.value}});
      continue;
    }
    if (!is_one_of(switch_keys, key)) {
      continue;
    }
    if (setting.value != "true" && setting.value != "false") {
      fail(path, setting.line, key + ": expected true or false, got " + quoted(setting.value, 40));
    }
    out.push_back({key, setting.line, {"--set-" + key, setting.value}});
  }
  return out;
}

} // namespace gptq
