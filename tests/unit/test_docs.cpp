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

BOOST_AUTO_TEST_CASE(man_page_exit_status_lists_exactly_the_program_codes)
{
  const std::string man = read_file(GPTQ_SOURCE_DIR "/man/gptq.1");
  const auto start = man.find(".SH EXIT STATUS");
  BOOST_TEST_REQUIRE(start != std::string::npos);
  const auto end = man.find(".SH ", start + 1);
  const std::string section = man.substr(start, end - start);
  std::set<int> codes;
  const std::regex entry(R"(\n\.TP\n\.B (\d+)\n)");
  for (auto it = std::sregex_iterator(section.begin(), section.end(), entry); it != std::sregex_iterator(); ++it) {
    codes.insert(std::stoi((*it)[1]));
  }
  BOOST_TEST(codes == program_codes());
}

BOOST_AUTO_TEST_CASE(readme_exit_code_table_lists_exactly_the_program_codes)
{
  const std::string readme = read_file(GPTQ_SOURCE_DIR "/README.md");
  const auto start = readme.find("## Exit codes");
  BOOST_TEST_REQUIRE(start != std::string::npos);
  const auto end = readme.find("\n## ", start + 1);
  const std::string section = readme.substr(start, end - start);
  std::set<int> codes;
  const std::regex row(R"(\n\| (\d+) \|)");
  for (auto it = std::sregex_iterator(section.begin(), section.end(), row); it != std::sregex_iterator(); ++it) {
    codes.insert(std::stoi((*it)[1]));
  }
  BOOST_TEST(codes == program_codes());
}

BOOST_AUTO_TEST_SUITE_END()
