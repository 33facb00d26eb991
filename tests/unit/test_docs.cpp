// Keeps the man page, README and shell completions true to the program:
// every option in --help is documented and completed, the completions offer
// no other, and the man page and README list exactly the exit codes the
// program defines.

#include "exit_status.hpp"
#include "option_table.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace gptq;

namespace {

std::string read_file(const std::string& path)
{
  std::ifstream in(path);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<int> program_codes()
{
  std::set<int> codes;
  for (const auto status : all_exit_statuses) {
    codes.insert(static_cast<int>(status));
  }
  return codes;
}

// The long options named in `text` (as "--name").
std::set<std::string> long_options(const std::string& text)
{
  std::set<std::string> names;
  const std::regex option(R"(--([a-z][a-z-]*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), option); it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

// The numbers that `pattern` (with the number as its first group) finds in
// the part of `text` from `start` to the next `end`.
std::set<int> codes_in_section(const std::string& text,
                               const std::string& start,
                               const std::string& end,
                               const std::string& pattern)
{
  const auto from = text.find(start);
  BOOST_TEST_REQUIRE(from != std::string::npos, "no section " << start);
  const std::string section = text.substr(from, text.find(end, from + 1) - from);
  std::set<int> codes;
  const std::regex entry(pattern);
  for (auto it = std::sregex_iterator(section.begin(), section.end(), entry); it != std::sregex_iterator(); ++it) {
    codes.insert(std::stoi((*it)[1]));
  }
  return codes;
}

// The options of --help (the option table; test_option_table holds --help
// to it): each long name ("role") with its short letter, or 0 when it has
// none.
std::map<std::string, char> help_options()
{
  std::map<std::string, char> options;
  for (const OptionSpec& option : option_table()) {
    options[std::string(option.name)] = option.letter;
  }
  return options;
}

// The first group of every match of `pattern` in `text`.
std::set<std::string> matches(const std::string& text, const std::string& pattern)
{
  std::set<std::string> found;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    found.insert((*it)[1]);
  }
  return found;
}

// How a completion script names gptq's options. In the patterns, LONG
// stands for a long option's name and SHORT for its short letter.
struct CompletionScript {
  std::string path;           // under completions/
  std::string long_option;    // names --LONG
  std::string short_and_long; // names -SHORT as the short form of --LONG
  std::string long_names;     // finds every long option named (group 1)
  std::string short_names;    // finds every short option named (group 1)
  std::string shell_flags;    // letters short_names also finds in the shell's own commands
};

const CompletionScript completion_scripts[] = {
  { "gptq.bash",
    R"(--LONG(?![a-z-]))",
    R"(-SHORT(?: \| | )--LONG(?![a-z-]))",
    R"(--([a-z][a-z-]*))",
    R"((?:^|[^\w-])-([A-Za-z])(?![\w-]))",
    "FW" }, // complete -F, compgen -W
  { "_gptq",
    R"(--LONG(?![a-z-]))",
    R"(\{-SHORT\+?,--LONG=?\})",
    R"(--([a-z][a-z-]*))",
    R"((?:^|[^\w-])-([A-Za-z])(?![\w-]))",
    "San" }, // _arguments -S, compadd -a, [[ -n ]]
  { "gptq.fish",
    R"(\ncomplete [^\n]* -l LONG(?![a-z-]))", // not set -l
    R"(\ncomplete [^\n]* -s SHORT -l LONG(?![a-z-]))",
    R"((?:\ncomplete [^\n]* -l |--)([a-z][a-z-]*))",
    R"(-s ([A-Za-z])(?![\w-]))",
    "" },
};

// `text` without its comment lines.
std::string without_comments(const std::string& text)
{
  return std::regex_replace(text, std::regex(R"((^|\n)[ \t]*#[^\n]*)"), "$1");
}

// `pattern` for the option --`name`, -`letter`.
std::string with(const std::string& pattern, const std::string& name, char letter)
{
  return std::regex_replace(
    std::regex_replace(pattern, std::regex("SHORT"), std::string(1, letter)), std::regex("LONG"), name);
}

} // namespace

BOOST_AUTO_TEST_SUITE(docs)

BOOST_AUTO_TEST_CASE(man_page_documents_every_option_in_help)
{
  std::string man = read_file(GPTQ_SOURCE_DIR "/man/gptq.1");
  // roff writes '-' as "\-".
  man = std::regex_replace(man, std::regex(R"(\\-)"), "-");
  const auto documented = long_options(man);
  for (const auto& [name, letter] : help_options()) {
    BOOST_TEST(documented.count(name) == 1u, "--" << name << " is in --help but not in man/gptq.1");
  }
}

BOOST_AUTO_TEST_CASE(readme_lists_every_option_in_help)
{
  const auto listed = long_options(read_file(GPTQ_SOURCE_DIR "/README.md"));
  for (const auto& [name, letter] : help_options()) {
    BOOST_TEST(listed.count(name) == 1u, "--" << name << " is in --help but not in README.md");
  }
}

BOOST_AUTO_TEST_CASE(completion_scripts_complete_every_option_in_help_and_no_other)
{
  const auto options = help_options();
  BOOST_TEST_REQUIRE(options.size() > 40u);
  std::set<char> letters;
  for (const auto& [name, letter] : options) {
    if (letter != 0) {
      letters.insert(letter);
    }
  }
  for (const auto& script : completion_scripts) {
    const std::string text = without_comments(read_file(GPTQ_SOURCE_DIR "/completions/" + script.path));
    for (const auto& [name, letter] : options) {
      BOOST_TEST(std::regex_search(text, std::regex(with(script.long_option, name, letter))),
                 script.path << " does not complete --" << name);
      if (letter != 0) {
        BOOST_TEST(std::regex_search(text, std::regex(with(script.short_and_long, name, letter))),
                   script.path << " does not complete -" << std::string(1, letter) << " as --" << name);
      }
    }
    for (const auto& name : matches(text, script.long_names)) {
      BOOST_TEST(options.count(name) == 1u, script.path << " completes --" << name << ", which --help lacks");
    }
    for (const auto& letter : matches(text, script.short_names)) {
      BOOST_TEST((letters.count(letter[0]) == 1u || script.shell_flags.find(letter[0]) != std::string::npos),
                 script.path << " completes -" << letter << ", which --help lacks");
    }
  }
}

BOOST_AUTO_TEST_CASE(man_page_exit_status_lists_exactly_the_program_codes)
{
  const std::string man = read_file(GPTQ_SOURCE_DIR "/man/gptq.1");
  BOOST_TEST(codes_in_section(man, ".SH EXIT STATUS", "\n.SH ", R"(\n\.TP\n\.B (\d+)\n)") == program_codes());
}

BOOST_AUTO_TEST_CASE(readme_exit_code_table_lists_exactly_the_program_codes)
{
  const std::string readme = read_file(GPTQ_SOURCE_DIR "/README.md");
  BOOST_TEST(codes_in_section(readme, "## Exit codes", "\n## ", R"(\n\| (\d+) \|)") == program_codes());
}

BOOST_AUTO_TEST_SUITE_END()
