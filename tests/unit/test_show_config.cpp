// --show-config: the effective value of each setting and the first layer
// that set it, from strings: a command line, an environment and a config
// text.

#include "show_config.hpp"

#include "fake_environment.hpp"

#include "error.hpp"
#include "option_table.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace gptq;
using gptq::test::env_of;

namespace {

const std::string config_path = "/x/gptq/config";

// What --show-config says for `args` with `vars` and, when given, the config
// file `text` at its default place: name -> "VALUE  (ORIGIN)". A name shown
// twice keeps its last line.
std::map<std::string, std::string> shown(std::vector<const char*> args,
                                         std::map<std::string, std::string> vars,
                                         const std::optional<std::string>& text)
{
  vars["XDG_CONFIG_HOME"] = "/x";
  vars["HOME"] = "/h";
  const Environment env = env_of(vars);
  const ReadFile read = [&](const std::string& path, const std::string& what, bool may_be_missing) {
    if (path == config_path && text) {
      return std::optional<std::string>(*text);
    }
    if (may_be_missing) {
      return std::optional<std::string>();
    }
    throw Error(ExitStatus::usage, what, "cannot read '" + path + "'");
  };
  args.insert(args.begin(), "--show-config");
  const Settings settings = resolve_settings(args, env, read);
  BOOST_TEST((settings.command.action == Command::Action::show_config));
  std::map<std::string, std::string> out;
  for (const auto& s : shown_settings(settings, env)) {
    out[s.name] = s.value + "  (" + s.origin + ")";
  }
  return out;
}

const std::string config_text = "model = m-top\n"                        // 1
                                "base_url = http://top.example/v1\n"     // 2
                                "retries = 1\n"                          // 3
                                "stream = false\n"                       // 4
                                "[role.r]\n"                             // 5
                                "model = m-role\n"                       // 6
                                "temperature = 0.5\n"                    // 7
                                "[profile.p]\n"                          // 8
                                "model = m-profile\n"                    // 9
                                "base_url = http://profile.example/v1\n" // 10
                                "api_key_env = P_KEY\n"                  // 11
                                "proxy = http://profile-proxy:8080\n"    // 12
                                "[profile.f]\n"                          // 13
                                "api_key_file = ~/keys/k\n"              // 14
                                "[profile.c]\n"                          // 15
                                "api_key_env = C_KEY\n"                  // 16
                                "api_key_cmd = pass show llm\n";         // 17

const std::string default_profile_text = "retries = 1\n"                    // 1
                                         "default_profile = q\n"            // 2
                                         "[profile.q]\n"                    // 3
                                         "model = m-q\n"                    // 4
                                         "base_url = http://q.example/v1\n" // 5
                                         "api_key_env = Q_KEY\n"            // 6
                                         "timeout = 30\n";                  // 7

std::string at(int line, const std::string& section = "")
{
  return "(config " + config_path + ":" + std::to_string(line) + (section.empty() ? "" : " [" + section + "]") + ")";
}

struct Case {
  const char* name;
  std::vector<const char*> args;
  std::map<std::string, std::string> env;
  std::optional<std::string> config;
  std::map<std::string, std::string> expected; // a subset of what is shown
};

} // namespace

BOOST_AUTO_TEST_SUITE(show_config)

// One table of cases, longer than a function should be, because the
// precedence of the layers (defaults, config, environment, profile, role,
// flags) is read best side by side.
BOOST_AUTO_TEST_CASE(each_setting_shows_its_value_and_the_first_layer_that_set_it)
{
  const std::string secret = "sk-unit-SECRET-9876543210";
  const Case cases[] = {
    { "defaults_without_a_config_file",
      {},
      {},
      std::nullopt,
      { { "config", config_path + " (not found)  (default)" },
        { "profile", "none  (default)" },
        { "role", "none  (default)" },
        { "model", "gpt-4o-mini  (default)" },
        { "base_url", "https://api.openai.com/v1  (default)" },
        { "api", "chat  (default)" },
        { "endpoint", "POST https://api.openai.com/v1/chat/completions  (default)" },
        { "system", "none  (default)" },
        { "stream", "true  (default)" },
        { "connect_timeout", "10 s  (default)" },
        { "idle_timeout", "600 s  (default)" },
        { "timeout", "none  (default)" },
        { "retries", "2  (default)" },
        { "proxy", "none  (default)" },
        { "no_proxy", "none  (default)" },
        { "cacert", "none  (default)" },
        { "key", "none (OPENAI_API_KEY is not set)  (default)" },
        { "key_header", "Authorization: Bearer  (default)" } } },
    { "top_level_beats_defaults",
      {},
      {},
      config_text,
      { { "config", config_path + " (found)  (default)" },
        { "model", "m-top  " + at(1) },
        { "base_url", "http://top.example/v1  " + at(2) },
        { "endpoint", "POST http://top.example/v1/chat/completions  " + at(2) },
        { "retries", "1  " + at(3) },
        { "stream", "false  " + at(4) },
        { "profile", "none  (default)" },
        { "timeout", "none  (default)" } } },
    { "environment_beats_top_level",
      {},
      { { "GPTQ_MODEL", "m-env" },
        { "OPENAI_BASE_URL", "https://env.example/v1" },
        { "OPENAI_API_KEY", secret },
        { "HTTPS_PROXY", "http://user:pa55word@envproxy:3128" } },
      config_text,
      { { "model", "m-env  (env GPTQ_MODEL)" },
        { "base_url", "https://env.example/v1  (env OPENAI_BASE_URL)" },
        { "endpoint", "POST https://env.example/v1/chat/completions  (env OPENAI_BASE_URL)" },
        { "retries", "1  " + at(3) },
        { "key", "env OPENAI_API_KEY  (default)" },
        { "proxy", "http://user:[REDACTED]@envproxy:3128  (env HTTPS_PROXY)" },
        { "no_proxy", "none  (default)" } } },
    { "no_proxy_exempts_the_endpoint",
      {},
      { { "OPENAI_BASE_URL", "https://env.example/v1" },
        { "HTTPS_PROXY", "http://envproxy:3128" },
        { "NO_PROXY", "localhost,.example" } },
      std::nullopt,
      { { "proxy", "none (no_proxy exempts env.example)  (env NO_PROXY)" },
        { "no_proxy", "localhost,.example  (env NO_PROXY)" } } },
    { "profile_from_gptq_profile_beats_environment",
      {},
      { { "GPTQ_PROFILE", "p" }, { "GPTQ_MODEL", "m-env" }, { "OPENAI_BASE_URL", "https://env.example/v1" } },
      config_text,
      { { "profile", "p  (env GPTQ_PROFILE)" },
        { "model", "m-profile  " + at(9, "profile.p") },
        { "base_url", "http://profile.example/v1  " + at(10, "profile.p") },
        { "key", "none (P_KEY is not set)  " + at(11, "profile.p") },
        { "proxy", "http://profile-proxy:8080  " + at(12, "profile.p") },
        { "stream", "false  " + at(4) } } },
    { "role_beats_profile",
      { "-r", "r", "-P", "p" },
      { { "GPTQ_MODEL", "m-env" }, { "P_KEY", secret } },
      config_text,
      { { "role", "r  (flag)" },
        { "profile", "p  (flag)" },
        { "model", "m-role  " + at(6, "role.r") },
        { "temperature", "0.5  " + at(7, "role.r") },
        { "base_url", "http://profile.example/v1  " + at(10, "profile.p") },
        { "key", "env P_KEY  " + at(11, "profile.p") } } },
    { "flags_beat_everything",
      { "-r",
        "r",
        "-P",
        "p",
        "-m",
        "m-cli",
        "--base-url",
        "http://cli.example/v1",
        "--no-stream",
        "--proxy",
        "",
        "--retries",
        "5",
        "-t",
        "1.25",
        "--timeout",
        "30",
        "--no-proxy",
        "cli.example" },
      { { "GPTQ_MODEL", "m-env" }, { "HTTPS_PROXY", "http://envproxy:1" }, { "NO_PROXY", "env.example" } },
      config_text,
      { { "model", "m-cli  (flag)" },
        { "base_url", "http://cli.example/v1  (flag)" },
        { "stream", "false  (flag)" },
        { "proxy", "none  (flag)" },
        { "no_proxy", "cli.example  (flag)" },
        { "retries", "5  (flag)" },
        { "temperature", "1.25  (flag)" },
        { "timeout", "30 s  (flag)" } } },
    { "key_file_and_command_are_named_not_read",
      { "-P", "f" },
      { { "OPENAI_API_KEY", secret } },
      config_text,
      { { "key", "file /h/keys/k  " + at(14, "profile.f") } } },
    { "key_command_beats_key_variable",
      { "-P", "c" },
      { { "C_KEY", secret } },
      config_text,
      { { "key", "command pass show llm  " + at(17, "profile.c") } } },
    { "default_profile_picks_the_profile",
      {},
      {},
      std::string("default_profile = q\n[profile.q]\nmodel = m-q\n"),
      { { "profile", "q  (config " + config_path + ":1 default_profile)" },
        { "model", "m-q  (config " + config_path + ":3 [profile.q] via default_profile)" } } },
    { "environment_beats_default_profile",
      {},
      { { "GPTQ_MODEL", "m-env" }, { "OPENAI_BASE_URL", "https://env.example/v1" }, { "Q_KEY", secret } },
      default_profile_text,
      { { "profile", "q  (config " + config_path + ":2 default_profile)" },
        { "model", "m-env  (env GPTQ_MODEL)" },
        { "base_url", "https://env.example/v1  (env OPENAI_BASE_URL)" },
        { "timeout", "30 s  (config " + config_path + ":7 [profile.q] via default_profile)" },
        { "retries", "1  " + at(1) },
        // The profile's key goes only to the profile's server.
        { "key", "none (OPENAI_API_KEY is not set)  (env OPENAI_BASE_URL)" } } },
    { "default_profile_keeps_its_key_when_its_base_url_stands",
      {},
      { { "GPTQ_MODEL", "m-env" }, { "Q_KEY", secret } },
      default_profile_text,
      { { "model", "m-env  (env GPTQ_MODEL)" },
        { "base_url", "http://q.example/v1  (config " + config_path + ":5 [profile.q] via default_profile)" },
        { "key", "env Q_KEY  (config " + config_path + ":6 [profile.q] via default_profile)" } } },
    { "profile_by_flag_or_gptq_profile_beats_environment",
      { "-P", "q" },
      { { "GPTQ_MODEL", "m-env" }, { "OPENAI_BASE_URL", "https://env.example/v1" }, { "Q_KEY", secret } },
      default_profile_text,
      { { "profile", "q  (flag)" },
        { "model", "m-q  " + at(4, "profile.q") },
        { "base_url", "http://q.example/v1  " + at(5, "profile.q") },
        { "key", "env Q_KEY  " + at(6, "profile.q") } } },
    { "azure_key_header_and_secret_headers",
      { "--base-url",
        "https://r.openai.azure.com/openai/deployments/d?api-version=1",
        "-H",
        "X-Api-Key: ",
        "-H",
        "X-Title: demo" },
      {},
      std::nullopt,
      { { "key_header", "api-key  (default)" }, { "header", "X-Title: demo  (flag)" } } },
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name)
    {
      const auto got = shown(c.args, c.env, c.config);
      for (const auto& [name, expected] : c.expected) {
        BOOST_TEST_CONTEXT(name)
        {
          BOOST_TEST_REQUIRE(got.count(name) == 1u);
          BOOST_TEST(got.at(name) == expected);
        }
      }
      for (const auto& [name, line] : got) {
        BOOST_TEST(line.find(secret) == std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_config_key_is_shown_with_the_line_that_set_it)
{
  // A valid value for each config key of the option table: a key the table
  // gains needs one here.
  const std::map<std::string, std::string> samples = {
    { "system", "be brief" },
    { "model", "m-x" },
    { "temperature", "0.5" },
    { "max_tokens", "9" },
    { "top_p", "0.5" },
    { "seed", "7" },
    { "json", "true" },
    { "schema", "s.json" },
    { "stream", "false" },
    { "reasoning", "true" },
    { "usage", "true" },
    { "base_url", "http://h.example/v1" },
    { "key_header", "api-key" },
    { "proxy", "http://p:8080" },
    { "api", "responses" },
    { "no_proxy", "example.com" },
    { "cacert", "ca.pem" },
    { "connect_timeout", "5" },
    { "idle_timeout", "50" },
    { "timeout", "60" },
    { "retries", "3" },
    { "verbose", "true" },
    { "detail", "low" },
    { "max_attachment", "5M" },
    { "attachments", "image,pdf" },
  };
  for (const OptionSpec& option : option_table()) {
    if (option.config == ConfigUse::none) {
      continue;
    }
    const std::string key = setting_name(option);
    const auto sample = samples.find(key);
    BOOST_TEST_REQUIRE((sample != samples.end()), "no sample value for " << key);
    const auto out = shown({}, {}, key + " = " + sample->second + "\n");
    BOOST_TEST_REQUIRE(out.count(key) == 1u, key << " is not shown");
    BOOST_TEST(out.at(key).ends_with("  " + at(1)), key << ": " << out.at(key));
  }
}

BOOST_AUTO_TEST_CASE(secret_headers_are_redacted)
{
  std::vector<std::string> lines;
  const auto env = env_of({});
  const ReadFile none = [](const std::string&, const std::string&, bool) { return std::optional<std::string>(); };
  const std::vector<const char*> args{
    "--show-config",        "-H", "Authorization: Bearer sk-h-1", "-H", "api-key: k-2",  "-H",
    "X-Session-Token: t-3", "-H", "X-Other: Basic dXNlcg==",      "-H", "X-Title: shown"
  };
  for (const auto& s : shown_settings(resolve_settings(args, env, none), env)) {
    if (s.name == "header") {
      lines.push_back(s.value);
    }
  }
  BOOST_TEST((lines == std::vector<std::string>{ "Authorization: [REDACTED]",
                                                 "api-key: [REDACTED]",
                                                 "X-Session-Token: [REDACTED]",
                                                 "X-Other: [REDACTED]",
                                                 "X-Title: shown" }));
}

BOOST_AUTO_TEST_CASE(lines_are_aligned_name_value_origin)
{
  const std::string text = format_settings({ { "model", "gpt-4o", "flag" }, { "connect_timeout", "10 s", "default" } });
  BOOST_TEST(text == "model            gpt-4o  (flag)\n"
                     "connect_timeout  10 s    (default)\n");
}

BOOST_AUTO_TEST_SUITE_END()
