// Keeps the man page and README true to the program: every option in --help
// is documented, and both list exactly the exit codes the program defines.

#include "exit_status.hpp"
#include "options.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
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

} // namespace

BOOST_AUTO_TEST_SUITE(docs)

BOOST_AUTO_TEST_CASE(man_page_documents_every_option_in_help)
{
  std::string man = read_file(GPTQ_SOURCE_DIR "/man/gptq.1");
  // roff writes '-' as "\-".
  man = std::regex_replace(man, std::regex(R"(\\-)"), "-");
  const auto documented = long_options(man);
  for (const auto& name : long_options(help_text())) {
    BOOST_TEST(documented.count(name) == 1u, "--" << name << " is in --help but not in man/gptq.1");
  }
}

BOOST_AUTO_TEST_CASE(readme_lists_every_option_in_help)
{
  const auto listed = long_options(read_file(GPTQ_SOURCE_DIR "/README.md"));
  for (const auto& name : long_options(help_text())) {
    BOOST_TEST(listed.count(name) == 1u, "--" << name << " is in --help but not in README.md");
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
