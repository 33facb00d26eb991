// Fuzzes gptq::parse_config, the INI reader of the config file, and
// section_arguments. gptq::Error (usage) is how they reject a file; its
// message must be fit for one line of a terminal. An accepted file must hold
// only known sections and keys, values trimmed and on one line, line numbers
// within the file, and must read back the same when written out again.
#include "config.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"
#include "text.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

// A file's lines, as the reader counts them: a last line need not end in
// a newline.
int line_count(std::string_view text)
{
  const auto newlines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

void check_section(const gptq::ConfigSection& section, int lines)
{
  check(section.line >= 0 && section.line <= lines, "a section's line is outside the file");
  for (const auto& [key, value] : section.values) {
    check(!key.empty(), "an empty key was accepted");
    check(value.line >= 1 && value.line <= lines, "a key's line is outside the file");
    check(value.value.find('\n') == std::string::npos, "a value holds a line break");
    check(gptq::trim(value.value) == value.value, "a value was not trimmed");
  }
  try {
    for (const auto& argument : gptq::section_arguments(section, "cfg")) {
      check(!argument.args.empty() && argument.args.front().starts_with("--"),
            "section_arguments made something other than an option");
    }
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::usage, "section_arguments failed with a status other than usage");
    check(gptq::fuzz::is_one_line(e.what()), "section_arguments' message is not one line");
  }
}

// `config` as a file of its own: the top level, then each section.
std::string written(const gptq::Config& config)
{
  std::string text;
  auto keys = [&](const gptq::ConfigSection& section) {
    for (const auto& [key, value] : section.values) {
      text += key + " = " + value.value + "\n";
    }
  };
  keys(config.top);
  for (const auto& [name, section] : config.roles) {
    text += "[role." + name + "]\n";
    keys(section);
  }
  for (const auto& [name, section] : config.profiles) {
    text += "[profile." + name + "]\n";
    keys(section);
  }
  return text;
}

bool same_values(const gptq::ConfigSection& a, const gptq::ConfigSection& b)
{
  return std::equal(
    a.values.begin(), a.values.end(), b.values.begin(), b.values.end(), [](const auto& x, const auto& y) {
      return x.first == y.first && x.second.value == y.second.value;
    });
}

template<class Sections>
bool same_sections(const Sections& a, const Sections& b)
{
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.first == y.first && same_values(x.second, y.second);
  });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string text(reinterpret_cast<const char*>(data), size);
  gptq::Config config;
  try {
    config = gptq::parse_config(text, "cfg");
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::usage, "parse_config failed with a status other than usage");
    check(e.phase().starts_with("cfg"), "parse_config's error does not name the file");
    check(gptq::fuzz::is_one_line(e.what()), "parse_config's message is not one line");
    return 0;
  }
  const int lines = line_count(text);
  check(config.top.line == 0, "the top level has a header line");
  check_section(config.top, lines);
  for (const auto* sections : { &config.roles, &config.profiles }) {
    for (const auto& [name, section] : *sections) {
      check(!name.empty(), "a section without a name was accepted");
      check(section.line >= 1, "a section has no header line");
      check_section(section, lines);
    }
  }

  // Written out and read again, the file means the same.
  gptq::Config again;
  try {
    again = gptq::parse_config(written(config), "cfg");
  } catch (const gptq::Error&) {
    check(false, "an accepted config written out again is refused");
  }
  check(same_values(config.top, again.top), "the top level reads back differently");
  check(same_sections(config.roles, again.roles), "the roles read back differently");
  check(same_sections(config.profiles, again.profiles), "the profiles read back differently");
  return 0;
}
