#include "options.hpp"

#include "fake_environment.hpp"

#include "error.hpp"
#include "option_table.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>

using namespace gptq;
using gptq::test::env_of;

namespace {

Command parse(std::vector<const char*> args, std::map<std::string, std::string> vars = {})
{
  return parse_command_line(args, env_of(std::move(vars)));
}

// Returns the usage error's text ("phase: message"); fails the test when
// parsing succeeds.
std::string usage_error(std::vector<const char*> args)
{
  return gptq::test::error_line([&] { parse(args); }, 2, "the arguments");
}

} // namespace

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(defaults_without_arguments)
{
  const Command c = parse({});
  BOOST_TEST((c.action == Command::Action::run));
  const Options& o = c.options;
  BOOST_TEST(!o.system.has_value());
  BOOST_TEST(o.prompt_words.empty());
  BOOST_TEST(o.model == "gpt-4o-mini");
  BOOST_TEST(o.base_url == "https://api.openai.com/v1");
  BOOST_TEST(!o.temperature.has_value());
  BOOST_TEST(!o.max_tokens.has_value());
  BOOST_TEST(o.connect_timeout == 10);
  BOOST_TEST(o.idle_timeout == 600);
  BOOST_TEST(!o.timeout.has_value());
  BOOST_TEST(!o.dry_run);
  BOOST_TEST(!o.no_stdin);
}

BOOST_AUTO_TEST_CASE(short_and_long_forms)
{
  const Options o = parse({ "-s",
                            "a pirate",
                            "-m",
                            "m1",
                            "-t",
                            "0.5",
                            "--max-tokens",
                            "42",
                            "--base-url=http://h/v1",
                            "--connect-timeout",
                            "1.5",
                            "--idle-timeout",
                            "30",
                            "--timeout",
                            "60",
                            "--cacert",
                            "ca.pem",
                            "--dry-run",
                            "--no-stdin",
                            "why",
                            "is",
                            "the sky blue?" })
                      .options;
  BOOST_TEST(*o.system == "a pirate");
  BOOST_TEST(o.model == "m1");
  BOOST_TEST(*o.temperature == 0.5);
  BOOST_TEST(*o.max_tokens == 42);
  BOOST_TEST(o.base_url == "http://h/v1");
  BOOST_TEST(o.connect_timeout == 1.5);
  BOOST_TEST(o.idle_timeout == 30);
  BOOST_TEST(*o.timeout == 60);
  BOOST_TEST(*o.cacert == "ca.pem");
  BOOST_TEST(o.dry_run);
  BOOST_TEST(o.no_stdin);
  BOOST_TEST((o.prompt_words == std::vector<std::string>{ "why", "is", "the sky blue?" }));
}

BOOST_AUTO_TEST_CASE(api_is_chat_unless_responses_is_asked_for)
{
  BOOST_TEST((parse({}).options.api == Api::chat));
  BOOST_TEST((parse({ "--api", "chat" }).options.api == Api::chat));
  BOOST_TEST((parse({ "--api", "responses" }).options.api == Api::responses));
  BOOST_TEST(usage_error({ "--api", "Responses" }) == "--api: expected chat or responses, got 'Responses'");
}

BOOST_AUTO_TEST_CASE(options_may_follow_prompt_words)
{
  const Options o = parse({ "hello", "-s", "x", "world" }).options;
  BOOST_TEST((o.prompt_words == std::vector<std::string>{ "hello", "world" }));
  BOOST_TEST(*o.system == "x");
}

BOOST_AUTO_TEST_CASE(double_dash_ends_options)
{
  const Options o = parse({ "--", "-5", "--help" }).options;
  BOOST_TEST((o.prompt_words == std::vector<std::string>{ "-5", "--help" }));
}

BOOST_AUTO_TEST_CASE(environment_sets_model_and_base_url)
{
  const Options o = parse({}, { { "GPTQ_MODEL", "env-model" }, { "OPENAI_BASE_URL", "http://env/v1" } }).options;
  BOOST_TEST(o.model == "env-model");
  BOOST_TEST(o.base_url == "http://env/v1");
}

BOOST_AUTO_TEST_CASE(command_line_beats_environment)
{
  const Options o = parse({ "-m", "flag-model", "--base-url", "http://flag/v1" },
                          { { "GPTQ_MODEL", "env" }, { "OPENAI_BASE_URL", "http://env" } })
                      .options;
  BOOST_TEST(o.model == "flag-model");
  BOOST_TEST(o.base_url == "http://flag/v1");
}

BOOST_AUTO_TEST_CASE(empty_environment_values_count_as_unset)
{
  const Options o = parse({}, { { "GPTQ_MODEL", "" }, { "OPENAI_BASE_URL", "" } }).options;
  BOOST_TEST(o.model == "gpt-4o-mini");
  BOOST_TEST(o.base_url == "https://api.openai.com/v1");
}

BOOST_AUTO_TEST_CASE(help_and_version_are_results)
{
  BOOST_TEST((parse({ "-h" }).action == Command::Action::help));
  BOOST_TEST((parse({ "--help", "--temperature", "9" }).action == Command::Action::help));
  BOOST_TEST((parse({ "--version" }).action == Command::Action::version));
}

BOOST_AUTO_TEST_CASE(list_roles_and_list_profiles_are_results)
{
  BOOST_TEST((parse({ "--list-roles" }).action == Command::Action::list_roles));
  BOOST_TEST((parse({ "--list-profiles" }).action == Command::Action::list_profiles));
  BOOST_TEST((parse({ "--config", "c", "--list-profiles" }).options.config_file == std::optional<std::string>("c")));
  BOOST_TEST(usage_error({ "--list-roles", "--list-profiles" }).find("not both") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_option)
{
  BOOST_TEST(usage_error({ "-t", "abc" }).starts_with("--temperature: "));
  BOOST_TEST(usage_error({ "-t", "2.5" }).find("0 to 2") != std::string::npos);
  BOOST_TEST(usage_error({ "-t", "-0.1" }).starts_with("--temperature"));
  BOOST_TEST(usage_error({ "-t", "nan" }).starts_with("--temperature"));
  BOOST_TEST(usage_error({ "--max-tokens", "0" }).starts_with("--max-tokens: "));
  BOOST_TEST(usage_error({ "--max-tokens", "1.5" }).starts_with("--max-tokens: "));
  BOOST_TEST(usage_error({ "--max-tokens", "99999999999999999999" }).starts_with("--max-tokens: "));
  BOOST_TEST(usage_error({ "--timeout", "0" }).starts_with("--timeout: "));
  BOOST_TEST(usage_error({ "--idle-timeout", "-3" }).starts_with("--idle-timeout"));
  BOOST_TEST(usage_error({ "--connect-timeout", "1e9" }).starts_with("--connect-timeout: "));
  BOOST_TEST(usage_error({ "-m", "" }).starts_with("--model: "));
  BOOST_TEST(usage_error({ "--cacert", "" }).starts_with("--cacert: "));
}

BOOST_AUTO_TEST_CASE(request_option_flags)
{
  const Options o = parse({ "--top-p",
                            "0.5",
                            "--seed",
                            "-3",
                            "--stop",
                            "a",
                            "--stop",
                            "b",
                            "-o",
                            "k=v",
                            "--option",
                            "n=2",
                            "-o",
                            "eq=a=b",
                            "--json" })
                      .options;
  BOOST_TEST(*o.top_p == 0.5);
  BOOST_TEST(*o.seed == -3);
  BOOST_TEST((o.stop == std::vector<std::string>{ "a", "b" }));
  BOOST_TEST(o.fields.size() == 3u);
  BOOST_TEST(o.fields[2].first == "eq");
  BOOST_TEST(o.fields[2].second == "a=b");
  BOOST_TEST(o.json);
  BOOST_TEST(usage_error({ "--top-p", "1.5" }).starts_with("--top-p: "));
  BOOST_TEST(usage_error({ "--seed", "x" }).starts_with("--seed: "));
  BOOST_TEST(usage_error({ "-o", "novalue" }).starts_with("--option: "));
  BOOST_TEST(usage_error({ "-o", "=v" }).starts_with("--option: "));
  BOOST_TEST(usage_error({ "--stop", "" }).starts_with("--stop: "));
  BOOST_TEST(usage_error({ "--json", "--schema", "s.json" }).starts_with("--schema: "));
}

BOOST_AUTO_TEST_CASE(unknown_missing_and_repeated_options_are_usage_errors)
{
  BOOST_TEST(usage_error({ "--bogus" }).find("--bogus") != std::string::npos);
  BOOST_TEST(usage_error({ "--model" }).find("model") != std::string::npos);
  BOOST_TEST(usage_error({ "-s", "a", "-s", "b" }).find("system") != std::string::npos);
  BOOST_TEST(usage_error({ "--api-key", "sk-x" }).find("api-key") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(internal_option_names_are_refused_on_the_command_line)
{
  // PROMPT words and the config's switches are stored under option names
  // of their own; those names are no options a user may give.
  BOOST_TEST(usage_error({ "--prompt", "x" }) == ": unrecognised option '--prompt' (see 'gptq --help')");
  BOOST_TEST(usage_error({ "hi", "--prompt=x" }) == ": unrecognised option '--prompt=x' (see 'gptq --help')");
  BOOST_TEST(usage_error({ "--set-stream", "false", "hi" }) ==
             ": unrecognised option '--set-stream' (see 'gptq --help')");
  BOOST_TEST(usage_error({ "--set-verbose=true" }) == ": unrecognised option '--set-verbose=true' (see 'gptq --help')");
  // The words themselves, and words after --, still make the prompt.
  BOOST_TEST((parse({ "say", "--", "--prompt", "x" }).options.prompt_words ==
              std::vector<std::string>{ "say", "--prompt", "x" }));
}

BOOST_AUTO_TEST_CASE(abbreviated_long_options_are_refused)
{
  BOOST_TEST(usage_error({ "--mod", "m" }).find("mod") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_batch_id_to_wait_for_or_cancel_must_be_one)
{
  BOOST_TEST(parse({ "--batch-wait", "batch_abc123" }).options.batch_wait.value_or("") == "batch_abc123");
  BOOST_TEST(parse({ "--batch-cancel", "batches/abc-1.2:x" }).options.batch_cancel.value_or("") == "batches/abc-1.2:x");
  BOOST_TEST(usage_error({ "--batch-wait", "" }) == "--batch-wait: the batch id is empty");
  BOOST_TEST(usage_error({ "--batch-wait", "../files" }) ==
             "--batch-wait: '../files' is not a batch id: one is 1 to 256 letters, digits, '.', '_', ':', '-' and "
             "'/', as batch_abc123");
  BOOST_TEST(usage_error({ "--batch-cancel", "b?x=1" }).starts_with("--batch-cancel: 'b?x=1' is not a batch id"));
  // What a terminal would act on is shown, not sent, and a long id is cut.
  BOOST_TEST(usage_error({ "--batch-cancel", "b\x1b[2J\nx" }).starts_with("--batch-cancel: 'b\\x1B[2J\\nx' is not"));
  const std::string long_id(300, 'a');
  BOOST_TEST(
    usage_error({ "--batch-wait", long_id.c_str() }).starts_with("--batch-wait: '" + std::string(80, 'a') + "...'"));
}

BOOST_AUTO_TEST_CASE(help_text_fits_80_columns_and_lists_every_option)
{
  std::istringstream lines(help_text());
  std::string line;
  while (std::getline(lines, line)) {
    BOOST_TEST(line.size() < 80, line);
  }
  for (const OptionSpec& option : option_table()) {
    BOOST_TEST(help_text().find("--" + std::string(option.name)) != std::string::npos, option.name);
    if (option.letter != 0) {
      BOOST_TEST(help_text().find(std::string("-") + option.letter + ",") != std::string::npos, option.name);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
