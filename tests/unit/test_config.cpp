#include "config.hpp"

#include "fake_environment.hpp"

#include "error.hpp"
#include "options.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace gptq;
using gptq::test::env_of;

namespace {

// The usage error's "phase: message" for config `text`.
std::string config_error(const std::string& text)
{
  return gptq::test::error_line(
    [&] {
      const Config config = parse_config(text, "cfg");
      for (const auto* sections : { &config.roles, &config.profiles }) {
        for (const auto& [name, section] : *sections) {
          section_arguments(section, "cfg");
        }
      }
      section_arguments(config.top, "cfg");
    },
    2,
    text);
}

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(sections_keys_and_lines)
{
  const Config c = parse_config("# comment\nmodel = m\n\n[role.fr]\nsystem = Translate to French.\n"
                                "temperature=0\n[profile.local]\nbase_url = http://localhost:11434/v1\n"
                                "api_key_cmd = pass show x\n[role.empty]\n",
                                "cfg");
  BOOST_TEST(c.top.values.at("model").value == "m");
  BOOST_TEST(c.top.values.at("model").line == 2);
  BOOST_TEST(c.roles.at("fr").values.at("system").value == "Translate to French.");
  BOOST_TEST(c.roles.at("fr").values.at("temperature").line == 6);
  BOOST_TEST(c.roles.at("fr").line == 4);
  BOOST_TEST(c.profiles.at("local").values.at("api_key_cmd").value == "pass show x");
  BOOST_TEST(c.roles.count("empty") == 1u);
}

BOOST_AUTO_TEST_CASE(every_error_names_file_line_and_key)
{
  BOOST_TEST(config_error("model = m\nbogus = 1\n") == "cfg:2: unknown key 'bogus' at the top level");
  BOOST_TEST(config_error("[role.a]\nsystem = x\napi_key_cmd = y\n") == "cfg:3: unknown key 'api_key_cmd' in [role.a]");
  BOOST_TEST(config_error("[profile.p]\nsystem_file = x\n") == "cfg:2: unknown key 'system_file' in [profile.p]");
  BOOST_TEST(config_error("model = m\n[colors]\nred = 1\n").starts_with("cfg:2: unknown section [colors]"));
  BOOST_TEST(config_error("[role]\nsystem = x\n").starts_with("cfg:1: unknown section [role]"));
  BOOST_TEST(config_error("model = m\nnot ini at all\n") ==
             "cfg:2: 'not ini at all' is neither 'key = value' nor '[section]'");
  BOOST_TEST(config_error("stream = maybe\n") == "cfg:1: stream: expected true or false, got 'maybe'");
  BOOST_TEST(config_error("[role.x]\na.b = 1\n") == "cfg:2: unknown key 'a.b' in [role.x]");
  BOOST_TEST(config_error("role.x.system = s\n") == "cfg:1: unknown key 'role.x.system' at the top level");
  BOOST_TEST(config_error("[profile.]\n").starts_with("cfg:1: unknown section [profile.]"));
  BOOST_TEST(config_error("[role.x\n") == "cfg:1: '[role.x' is neither 'key = value' nor '[section]'");
  BOOST_TEST(config_error("= v\n") == "cfg:1: unknown key '' at the top level");
  // Comments go on lines of their own: a value that seems to have one says so.
  BOOST_TEST(config_error("stream = false # for scripts\n") ==
             "cfg:1: stream: expected true or false, got 'false # for scripts' (a # or ; starts a comment only at "
             "the start of a line)");
}

BOOST_AUTO_TEST_CASE(hash_and_semicolon_inside_a_value_are_kept)
{
  const Config c = parse_config("system = Answer in C# only; be brief.\n"
                                "[profile.p]\n"
                                "base_url = http://h/v1#frag\n"
                                "api_key_cmd = pass show x; echo # not a comment\n",
                                "cfg");
  BOOST_TEST(c.top.values.at("system").value == "Answer in C# only; be brief.");
  BOOST_TEST(c.profiles.at("p").values.at("base_url").value == "http://h/v1#frag");
  BOOST_TEST(c.profiles.at("p").values.at("api_key_cmd").value == "pass show x; echo # not a comment");
}

BOOST_AUTO_TEST_CASE(comment_lines_start_with_hash_or_semicolon_after_blanks)
{
  const Config c = parse_config("# a comment\n"
                                "; another = with an equals sign\n"
                                "   # indented\n"
                                "\t; tabbed = too\n"
                                "model = m\n"
                                "  [role.r]  \n"
                                "    ; comment in a section\n"
                                "  system = s  \n",
                                "cfg");
  BOOST_TEST(c.top.values.size() == 1u);
  BOOST_TEST(c.top.values.at("model").line == 5);
  BOOST_TEST(c.roles.at("r").line == 6);
  BOOST_TEST(c.roles.at("r").values.size() == 1u);
  BOOST_TEST(c.roles.at("r").values.at("system").value == "s");
  BOOST_TEST(c.roles.at("r").values.at("system").line == 8);
}

BOOST_AUTO_TEST_CASE(crlf_lines_a_bom_and_a_missing_last_newline_are_fine)
{
  const Config c = parse_config("\xEF\xBB\xBFmodel = m\r\n\r\n[profile.p]\r\nbase_url = http://h/v1", "cfg");
  BOOST_TEST(c.top.values.at("model").value == "m");
  BOOST_TEST(c.profiles.at("p").values.at("base_url").value == "http://h/v1");
  BOOST_TEST(c.profiles.at("p").values.at("base_url").line == 4);
}

BOOST_AUTO_TEST_CASE(a_repeated_key_keeps_its_last_value_and_line)
{
  const Config c = parse_config("model = a\nmodel = b\n", "cfg");
  BOOST_TEST(c.top.values.at("model").value == "b");
  BOOST_TEST(c.top.values.at("model").line == 2);
}

BOOST_AUTO_TEST_CASE(values_may_be_empty_and_hold_equals_signs)
{
  const Config c = parse_config("system =\n[profile.p]\napi_key_cmd = env A=b cmd\n", "cfg");
  BOOST_TEST(c.top.values.at("system").value == "");
  BOOST_TEST(c.profiles.at("p").values.at("api_key_cmd").value == "env A=b cmd");
}

BOOST_AUTO_TEST_CASE(sections_become_arguments)
{
  const Config c = parse_config("base_url = http://h/v1\nmax_tokens = 5\nstream = false\njson = true\nusage = false\n"
                                "default_profile = x\n",
                                "cfg");
  std::vector<std::string> args;
  for (const auto& a : section_arguments(c.top, "cfg")) {
    args.insert(args.end(), a.args.begin(), a.args.end());
  }
  BOOST_TEST((args == std::vector<std::string>{ "--base-url",
                                                "http://h/v1",
                                                "--set-json",
                                                "true",
                                                "--max-tokens",
                                                "5",
                                                "--set-stream",
                                                "false",
                                                "--set-usage",
                                                "false" }));
}

BOOST_AUTO_TEST_CASE(a_layer_can_switch_off_what_a_lower_one_switched_on)
{
  auto env = [](const std::string&) { return std::optional<std::string>(); };
  const Options o = parse_command_line(std::vector<const char*>{},
                                       env,
                                       { { "--set-stream", "true", "--set-verbose", "false" } },
                                       { { "--set-stream", "false", "--set-verbose", "true" } })
                      .options;
  BOOST_TEST(o.stream);
  BOOST_TEST(!o.verbose);
  const Options cli =
    parse_command_line(std::vector<const char*>{ "--stream" }, env, {}, { { "--set-stream", "false" } }).options;
  BOOST_TEST(cli.stream);
  const Options off =
    parse_command_line(std::vector<const char*>{ "--no-stream" }, env, { { "--set-stream", "true" } }, {}).options;
  BOOST_TEST(!off.stream);
}

BOOST_AUTO_TEST_CASE(precedence_command_line_role_profile_environment_top_default)
{
  struct Case {
    std::vector<const char*> cli;
    std::vector<std::string> role;
    std::vector<std::string> profile;
    std::map<std::string, std::string> env;
    std::vector<std::string> top;
    std::string model;
  };
  const Case cases[] = {
    { {}, {}, {}, {}, {}, "gpt-4o-mini" },
    { {}, {}, {}, {}, { "--model", "top" }, "top" },
    { {}, {}, {}, { { "GPTQ_MODEL", "env" } }, { "--model", "top" }, "env" },
    { {}, {}, { "--model", "profile" }, { { "GPTQ_MODEL", "env" } }, { "--model", "top" }, "profile" },
    { {}, { "--model", "role" }, { "--model", "profile" }, { { "GPTQ_MODEL", "env" } }, { "--model", "top" }, "role" },
    { { "-m", "cli" },
      { "--model", "role" },
      { "--model", "profile" },
      { { "GPTQ_MODEL", "env" } },
      { "--model", "top" },
      "cli" },
  };
  for (const auto& c : cases) {
    const Options o = parse_command_line(c.cli, env_of(c.env), { c.role, c.profile }, { c.top }).options;
    BOOST_TEST(o.model == c.model);
  }
}

BOOST_AUTO_TEST_CASE(profile_base_url_beats_an_ambient_openai_base_url)
{
  const Options o = parse_command_line(std::vector<const char*>{},
                                       env_of({ { "OPENAI_BASE_URL", "https://ambient/v1" } }),
                                       { { "--base-url", "http://profile/v1" } },
                                       {})
                      .options;
  BOOST_TEST(o.base_url == "http://profile/v1");
}

BOOST_AUTO_TEST_CASE(layers_fill_only_what_is_unset)
{
  const Options o = parse_command_line(std::vector<const char*>{ "-t", "0.1" },
                                       env_of({}),
                                       { { "--system", "role persona", "--temperature", "1" } },
                                       { { "--max-tokens", "9" } })
                      .options;
  BOOST_TEST(*o.temperature == 0.1);
  BOOST_TEST(*o.system == "role persona");
  BOOST_TEST(*o.max_tokens == 9);
}

BOOST_AUTO_TEST_SUITE_END()
