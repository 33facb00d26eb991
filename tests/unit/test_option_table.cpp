#include "option_table.hpp"

#include "config.hpp"
#include "options.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <sstream>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(option_table)

BOOST_AUTO_TEST_CASE(names_and_letters_are_unique_and_every_option_has_help)
{
  std::set<std::string_view> names;
  std::set<char> letters;
  for (const OptionSpec& option : gptq::option_table()) {
    BOOST_TEST(names.insert(option.name).second, option.name);
    if (option.letter != 0) {
      BOOST_TEST(letters.insert(option.letter).second, option.name);
    }
    BOOST_TEST(!option.help.empty(), option.name);
    // A flag takes no value, so --help shows none; the others show one.
    BOOST_TEST(option.argument.empty() == (option.arity == OptionArity::flag), option.name);
    // The parser's own names cannot be options.
    BOOST_TEST(option.name != "prompt");
    BOOST_TEST(!option.name.starts_with(config_toggle_prefix), option.name);
    // Only a flag can be a config toggle.
    BOOST_TEST((option.config != ConfigUse::toggle || option.arity == OptionArity::flag), option.name);
  }
  BOOST_TEST(names.size() > 40u);
}

BOOST_AUTO_TEST_CASE(find_option_finds_long_names_only)
{
  BOOST_TEST_REQUIRE(find_option("max-tokens") != nullptr);
  BOOST_TEST(find_option("max-tokens")->name == "max-tokens");
  BOOST_TEST(find_option("max_tokens") == nullptr);
  BOOST_TEST(find_option("m") == nullptr);
  BOOST_TEST(find_option("set-stream") == nullptr);
  BOOST_TEST(find_option("") == nullptr);
}

BOOST_AUTO_TEST_CASE(find_config_key_spells_dashes_as_underscores)
{
  BOOST_TEST_REQUIRE(find_config_key("max_tokens") != nullptr);
  BOOST_TEST(find_config_key("max_tokens")->name == "max-tokens");
  BOOST_TEST(find_config_key("model")->name == "model");
  BOOST_TEST((find_config_key("stream")->config == ConfigUse::toggle));
  BOOST_TEST(find_config_key("max-tokens") == nullptr);  // dashes are for the command line
  BOOST_TEST(find_config_key("file") == nullptr);        // an option, but no config key
  BOOST_TEST(find_config_key("no_stream") == nullptr);   // `stream = false` says it
  BOOST_TEST(find_config_key("api_key_env") == nullptr); // a key, but no option
}

BOOST_AUTO_TEST_CASE(setting_name_is_the_config_spelling_of_what_it_sets)
{
  BOOST_TEST(setting_name(*find_option("max-tokens")) == "max_tokens");
  BOOST_TEST(setting_name(*find_option("no-stream")) == "stream");
  BOOST_TEST(setting_name(*find_option("stream")) == "stream");
  BOOST_TEST(setting_name(*find_option("help")) == "help");
}

BOOST_AUTO_TEST_CASE(the_parser_knows_every_option_by_its_long_and_short_name)
{
  for (const OptionSpec& option : gptq::option_table()) {
    const std::string name(option.name);
    std::vector<std::string> args{ "--" + name };
    if (option.arity != OptionArity::flag) {
      args.push_back("x");
    }
    BOOST_TEST(options_in(args) == std::set<std::string>{ name }, name);
    if (option.letter != 0) {
      args[0] = std::string("-") + option.letter;
      BOOST_TEST(options_in(args) == std::set<std::string>{ name }, name);
    }
  }
}

BOOST_AUTO_TEST_CASE(help_lists_the_table_in_order_with_letters_and_arguments)
{
  std::istringstream help(help_text());
  std::string line;
  for (const OptionSpec& option : gptq::option_table()) {
    std::string expected = option.letter != 0 ? std::string("  -") + option.letter + ", --" : "      --";
    expected += option.name;
    if (!option.argument.empty()) {
      expected += ' ';
      expected += option.argument;
    }
    expected += "  ";
    while (std::getline(help, line) && !line.starts_with("  -") && !line.starts_with("      --")) {
    }
    BOOST_TEST(line.starts_with(expected), "'" << line << "' for --" << option.name);
  }
  // And no other.
  while (std::getline(help, line)) {
    BOOST_TEST(!(line.starts_with("  -") || line.starts_with("      --")), line);
  }
}

BOOST_AUTO_TEST_CASE(every_config_key_stands_for_its_option)
{
  int keys = 0;
  for (const OptionSpec& option : gptq::option_table()) {
    if (option.config == ConfigUse::none) {
      continue;
    }
    ++keys;
    const std::string key = setting_name(option);
    const bool toggle = option.config == ConfigUse::toggle;
    const std::string value = toggle ? "false" : "v";
    const Config config = parse_config(key + " = " + value + "\n", "c");
    const auto arguments = section_arguments(config.top, "c");
    BOOST_TEST_REQUIRE(arguments.size() == 1u, key);
    const std::string expected = (toggle ? "--set-" : "--") + std::string(option.name);
    BOOST_TEST((arguments[0].args == std::vector<std::string>{ expected, value }), key);
  }
  BOOST_TEST(keys == 25);
}

BOOST_AUTO_TEST_SUITE_END()
