// The config file from the outside: top-level defaults, roles, provider
// profiles, where the key comes from, the precedence of every source, and
// the errors a bad file makes. Each test writes its own config under a fresh
// XDG_CONFIG_HOME and reads what the server received from the `request` mode.

#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

namespace data = boost::unit_test::data;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace gptq::it;

namespace {

// Replaces {url} (the `request` mode's base URL), {ca} (the test CA) and
// {home} (the test's HOME) in a config text.
std::string fill(std::string text, const std::string& home)
{
  const std::vector<std::pair<std::string, std::string>> fields{
    { "{url}", https_url("request") },
    { "{ca}", cert("ca.pem") },
    { "{home}", home },
  };
  for (const auto& [name, value] : fields) {
    for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size())) {
      text.replace(at, name.size(), value);
    }
  }
  return text;
}

// A file only its owner can read unless `mode` says otherwise, as a user's
// config would be.
void private_file(const std::string& path, const std::string& content, fs::perms mode = fs::perms(0600))
{
  write_file(path, content, mode);
}

// One test's own config home: a fresh directory holding XDG_CONFIG_HOME
// (with gptq/config in it when a text is given) and a HOME beside it.
struct ConfigHome {
  std::string root;
  std::string xdg;
  std::string home;

  explicit ConfigHome(const std::optional<std::string>& config_text)
  {
    static int count = 0;
    root = scratch_dir() + "/config-" + std::to_string(++count);
    xdg = root + "/xdg";
    home = root + "/home";
    fs::create_directories(xdg);
    fs::create_directories(home);
    if (config_text) {
      private_file(config_path(), fill(*config_text, home));
    }
  }

  std::string config_path() const { return xdg + "/gptq/config"; }

  // A file of this test (under root), with {url}, {ca} and {home} filled in.
  std::string file(const std::string& name, const std::string& content, fs::perms mode = fs::perms(0600)) const
  {
    const std::string path = root + "/" + name;
    private_file(path, fill(content, home), mode);
    return path;
  }

  // key_env() (or base_env() without the key) with XDG_CONFIG_HOME and
  // HOME, plus `extra`.
  Env env(const Env& extra = {}, bool with_key = true) const
  {
    Env e = with_key ? key_env() : base_env();
    e["XDG_CONFIG_HOME"] = xdg;
    e["HOME"] = home;
    for (const auto& [name, value] : extra) {
      e[name] = value;
    }
    return e;
  }

  RunResult run(const std::vector<std::string>& args, const Env& extra = {}) const
  {
    return run_gptq(args, env(extra));
  }
};

// The request as the server described it (the `request` mode's reply).
struct ConfigSeen {
  std::string target;
  json::object headers;
  json::object body;

  std::string header(const std::string& name) const
  {
    const auto* v = headers.if_contains(name);
    return v ? std::string(v->as_string()) : std::string("<no " + name + " header>");
  }
  std::string model() const { return std::string(body.at("model").as_string()); }
  // The system message, or "" when none was sent.
  std::string system() const
  {
    const auto& first = body.at("messages").as_array().at(0);
    return first.at("role").as_string() == "system" ? std::string(first.at("content").as_string()) : std::string();
  }
  std::string user() const
  {
    const auto& messages = body.at("messages").as_array();
    return std::string(messages.at(messages.size() - 1).at("content").as_string());
  }
};

// Parses a run against the `request` mode; fails the test when the run did
// not succeed. Stderr must be empty unless `stderr_allowed`.
ConfigSeen config_seen(const RunResult& r, bool stderr_allowed = false)
{
  ConfigSeen seen;
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_REQUIRE(r.exit_code == 0);
    if (!stderr_allowed) {
      BOOST_TEST(r.err == "");
    }
    BOOST_TEST(!contains(r.err, fake_key));
    BOOST_REQUIRE(!r.out.empty());
    BOOST_REQUIRE(r.out.back() == '\n');
    const json::value described = json::parse(std::string_view(r.out).substr(0, r.out.size() - 1));
    seen.target = described.at("target").as_string();
    seen.headers = described.at("headers").as_object();
    seen.body = json::parse(described.at("body").as_string()).as_object();
  }
  return seen;
}

const std::string endpoint = "/request/v1/chat/completions";

// --- The precedence table ---------------------------------------------------

// Where a setting can come from, highest first.
enum class Layer { cli, role, profile, env, top };

const char* layer_name(Layer l)
{
  switch (l) {
    case Layer::cli:
      return "cli";
    case Layer::role:
      return "role";
    case Layer::profile:
      return "profile";
    case Layer::env:
      return "env";
    case Layer::top:
      return "top";
  }
  return "?";
}

// Which layers set the model and the base URL, and which should win. Each
// layer sets model "m-LAYER" and base URL "{url}?from=LAYER".
struct PrecedenceCase {
  const char* name;
  std::set<Layer> model_from;
  std::set<Layer> url_from;
  std::string expected_model;
  std::string expected_url_from;
};

std::ostream& operator<<(std::ostream& os, const PrecedenceCase& c)
{
  return os << c.name;
}

const std::vector<PrecedenceCase> precedence_cases{
  { "top_level_beats_defaults", { Layer::top }, { Layer::top }, "m-top", "top" },
  { "no_model_anywhere_is_the_builtin_default", {}, { Layer::top }, "gpt-4o-mini", "top" },
  { "env_beats_top_level", { Layer::env, Layer::top }, { Layer::env, Layer::top }, "m-env", "env" },
  { "profile_beats_env",
    { Layer::profile, Layer::env, Layer::top },
    { Layer::profile, Layer::env },
    "m-profile",
    "profile" },
  { "role_beats_profile",
    { Layer::role, Layer::profile, Layer::env, Layer::top },
    { Layer::role, Layer::profile, Layer::env, Layer::top },
    "m-role",
    "role" },
  { "command_line_beats_everything",
    { Layer::cli, Layer::role, Layer::profile, Layer::env, Layer::top },
    { Layer::cli, Layer::role, Layer::profile, Layer::env, Layer::top },
    "m-cli",
    "cli" },
  { "role_beats_env_without_profile", { Layer::role, Layer::env }, { Layer::role, Layer::top }, "m-role", "role" },
  { "profile_beats_top_level", { Layer::profile, Layer::top }, { Layer::profile, Layer::top }, "m-profile", "profile" },
  { "command_line_beats_top_level", { Layer::cli, Layer::top }, { Layer::cli, Layer::top }, "m-cli", "cli" },
  { "each_key_has_its_own_winner", { Layer::role, Layer::top }, { Layer::env, Layer::top }, "m-role", "env" },
  { "env_model_with_profile_url", { Layer::env, Layer::top }, { Layer::profile, Layer::env }, "m-env", "profile" },
};

// --- Config errors ----------------------------------------------------------

struct ConfigErrorCase {
  const char* name;
  std::string text; // the config file
  int line;         // the line the error names
  std::vector<std::string> mentions;
};

std::ostream& operator<<(std::ostream& os, const ConfigErrorCase& c)
{
  return os << c.name;
}

const std::vector<ConfigErrorCase> config_error_cases{
  { "unknown_top_level_key", "model = m\ncolour = blue\n", 2, { "colour" } },
  { "unknown_key_in_a_role", "[role.x]\nsystem = a\napi_key_cmd = echo k\n", 3, { "api_key_cmd", "role.x" } },
  { "unknown_key_in_a_profile", "[profile.p]\nbase_url = {url}\nsystem_file = /x\n", 3, { "system_file" } },
  { "system_file_at_the_top_level", "system_file = /x\n", 1, { "system_file" } },
  { "default_profile_in_a_profile", "[profile.p]\ndefault_profile = p\n", 2, { "default_profile" } },
  { "unknown_section", "model = m\n\n[colours]\nred = 1\n", 3, { "colours" } },
  { "unknown_empty_section", "model = m\n[colours]\n", 2, { "colours" } },
  { "section_without_a_name", "[role]\nsystem = x\n", 1, { "[role]" } },
  { "line_that_is_not_key_value", "model = m\njust some words\n", 2, { "just some words" } },
  { "bad_value", "temperature = hot\n", 1, { "temperature", "hot" } },
  { "bad_value_in_an_unused_role", "[role.r]\n\ntemperature = 3\n", 3, { "temperature", "3" } },
  { "bad_value_in_a_profile", "[profile.p]\nretries = many\n", 2, { "retries", "many" } },
  { "boolean_that_is_not_true_or_false", "stream = maybe\n", 1, { "stream", "maybe" } },
  { "boolean_yes_in_a_profile", "[profile.p]\nverbose = yes\n", 2, { "verbose", "yes" } },
  { "inline_comment_after_a_number", "temperature = 0.2 # low\n", 1, { "temperature", "# low", "starts a comment" } },
};

} // namespace

BOOST_AUTO_TEST_SUITE(config)

// --- Top-level keys ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(top_level_keys_set_defaults)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\nmodel = m-top\ntemperature = 0.25\nmax_tokens = 64\n");
  const ConfigSeen seen = config_seen(h.run({ "hi" }));
  BOOST_TEST(seen.target == endpoint);
  BOOST_TEST(seen.model() == "m-top");
  BOOST_TEST(seen.body.at("temperature").to_number<double>() == 0.25);
  BOOST_TEST(seen.body.at("max_tokens").as_int64() == 64);
  BOOST_TEST(seen.user() == "hi");
  BOOST_TEST(seen.system() == "");
}

BOOST_AUTO_TEST_CASE(command_line_beats_top_level_keys)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\nmodel = m-top\ntemperature = 0.25\n");
  const ConfigSeen seen = config_seen(h.run({ "-m", "m-cli", "--temperature", "1.5", "hi" }));
  BOOST_TEST(seen.model() == "m-cli");
  BOOST_TEST(seen.body.at("temperature").to_number<double>() == 1.5);
}

BOOST_AUTO_TEST_CASE(top_level_system_is_the_default_system_message)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\nsystem = Be kind.\n");
  BOOST_TEST(config_seen(h.run({ "hi" })).system() == "Be kind.");
  BOOST_TEST(config_seen(h.run({ "-s", "Be brief.", "hi" })).system() == "Be brief.");
}

BOOST_AUTO_TEST_CASE(home_config_is_used_without_xdg_config_home)
{
  const ConfigHome h(std::nullopt);
  h.file("home/.config/gptq/config", "base_url = {url}\ncacert = {ca}\nmodel = m-home\n");
  Env env = h.env();
  env.erase("XDG_CONFIG_HOME");
  BOOST_TEST(config_seen(run_gptq({ "hi" }, env)).model() == "m-home");
}

// --- Roles ----------------------------------------------------------------

const char* const roles_config = R"(base_url = {url}
cacert = {ca}
model = m-top

[role.shell]
system = You are a terse shell expert.
temperature = 0
model = m-shell
max_tokens = 50

[role.fr]
system = Translate to French.
)";

BOOST_AUTO_TEST_CASE(role_sends_its_system_message_and_options)
{
  const ConfigHome h(roles_config);
  const ConfigSeen seen = config_seen(h.run({ "-r", "shell", "list", "ports" }));
  BOOST_TEST(seen.system() == "You are a terse shell expert.");
  BOOST_TEST(seen.user() == "list ports");
  BOOST_TEST(seen.model() == "m-shell");
  BOOST_TEST(seen.body.at("temperature").to_number<double>() == 0.0);
  BOOST_TEST(seen.body.at("max_tokens").as_int64() == 50);
}

BOOST_AUTO_TEST_CASE(without_a_role_no_role_settings_are_sent)
{
  const ConfigHome h(roles_config);
  const ConfigSeen seen = config_seen(h.run({ "hi" }));
  BOOST_TEST(seen.system() == "");
  BOOST_TEST(seen.model() == "m-top");
  BOOST_TEST(!seen.body.contains("temperature"));
  BOOST_TEST(!seen.body.contains("max_tokens"));
}

BOOST_AUTO_TEST_CASE(command_line_beats_the_role)
{
  const ConfigHome h(roles_config);
  const ConfigSeen seen =
    config_seen(h.run({ "--role", "shell", "-s", "You are a poet.", "-m", "m-cli", "-t", "0.7", "hi" }));
  BOOST_TEST(seen.system() == "You are a poet.");
  BOOST_TEST(seen.model() == "m-cli");
  BOOST_TEST(seen.body.at("temperature").to_number<double>() == 0.7);
  BOOST_TEST(seen.body.at("max_tokens").as_int64() == 50); // not overridden: still the role's
}

BOOST_AUTO_TEST_CASE(role_system_file_is_read_and_trimmed)
{
  const ConfigHome h(std::nullopt);
  const std::string prompt = h.file("prompts/commit.txt", "\n  Write a commit message.\n  Be brief.\n\n\n");
  const ConfigHome with_file("base_url = {url}\ncacert = {ca}\n[role.commit]\nsystem_file = " + prompt +
                             "\nmodel = m-commit\n");
  const ConfigSeen seen = config_seen(with_file.run({ "-r", "commit", "diff" }));
  BOOST_TEST(seen.system() == "Write a commit message.\n  Be brief.");
  BOOST_TEST(seen.model() == "m-commit");
  BOOST_TEST(config_seen(with_file.run({ "-r", "commit", "-s", "Other.", "diff" })).system() == "Other.");
}

BOOST_AUTO_TEST_CASE(role_system_file_under_home_is_read)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\n[role.commit]\nsystem_file = ~/.config/gptq/commit.txt\n");
  h.file("home/.config/gptq/commit.txt", "From home.\n");
  BOOST_TEST(config_seen(h.run({ "-r", "commit", "diff" })).system() == "From home.");
}

BOOST_AUTO_TEST_CASE(missing_role_system_file_is_a_usage_error_naming_the_config_line)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\n[role.commit]\nsystem_file = ~/nowhere.txt\n");
  check_failure(h.run({ "-r", "commit", "diff" }), 2, { h.config_path() + ":4", "nowhere.txt" });
}

BOOST_AUTO_TEST_CASE(unknown_role_is_a_usage_error_listing_the_known_ones)
{
  const ConfigHome h(roles_config);
  check_failure(h.run({ "-r", "german", "hi" }), 2, { "--role", "german", "fr, shell" });
}

BOOST_AUTO_TEST_CASE(role_without_any_roles_says_there_are_none)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\n");
  check_failure(h.run({ "-r", "shell", "hi" }), 2, { "--role", "shell" });
}

BOOST_AUTO_TEST_CASE(list_roles_prints_the_names_sorted_one_per_line)
{
  const ConfigHome h("model = m\n[role.zeta]\nsystem = z\n[role.alpha]\n[role.mid]\nsystem = m\n[profile.p]\n");
  check_success(h.run({ "--list-roles" }), "alpha\nmid\nzeta\n");
}

BOOST_AUTO_TEST_CASE(list_roles_without_a_config_file_prints_nothing)
{
  const ConfigHome h(std::nullopt);
  check_success(h.run({ "--list-roles" }), "");
  check_success(run_gptq({ "--list-roles" }), ""); // neither HOME nor XDG_CONFIG_HOME
}

BOOST_AUTO_TEST_CASE(list_profiles_prints_the_names_sorted_one_per_line)
{
  const ConfigHome h("model = m\n[profile.zeta]\nmodel = z\n[role.r]\n[profile.alpha]\n[profile.mid]\nmodel = m\n");
  check_success(h.run({ "--list-profiles" }), "alpha\nmid\nzeta\n");
}

BOOST_AUTO_TEST_CASE(list_profiles_reads_a_named_config_file)
{
  const ConfigHome h(std::nullopt);
  const std::string other = h.file("other.ini", "[profile.elsewhere]\nmodel = e\n");
  check_success(h.run({ "--config", other, "--list-profiles" }), "elsewhere\n");
}

BOOST_AUTO_TEST_CASE(list_profiles_without_a_config_file_prints_nothing)
{
  const ConfigHome h(std::nullopt);
  check_success(h.run({ "--list-profiles" }), "");
  check_success(run_gptq({ "--list-profiles" }), ""); // neither HOME nor XDG_CONFIG_HOME
}

// --- Profiles ----------------------------------------------------------------

const char* const profiles_config = R"(cacert = {ca}
model = m-top
base_url = {url}?from=top

[profile.local]
base_url = {url}?from=local
model = m-local

[profile.other]
base_url = {url}?from=other
model = m-other
)";

BOOST_AUTO_TEST_CASE(profile_by_name_sets_base_url_and_model)
{
  const ConfigHome h(profiles_config);
  const ConfigSeen seen = config_seen(h.run({ "-P", "local", "hi" }));
  BOOST_TEST(seen.target == endpoint + "?from=local");
  BOOST_TEST(seen.model() == "m-local");
  const ConfigSeen long_option = config_seen(h.run({ "--profile", "other", "hi" }));
  BOOST_TEST(long_option.target == endpoint + "?from=other");
  BOOST_TEST(long_option.model() == "m-other");
}

BOOST_AUTO_TEST_CASE(gptq_profile_picks_the_profile)
{
  const ConfigHome h(profiles_config);
  const ConfigSeen seen = config_seen(h.run({ "hi" }, { { "GPTQ_PROFILE", "local" } }));
  BOOST_TEST(seen.target == endpoint + "?from=local");
  BOOST_TEST(seen.model() == "m-local");
  // -P beats GPTQ_PROFILE.
  BOOST_TEST(config_seen(h.run({ "-P", "other", "hi" }, { { "GPTQ_PROFILE", "local" } })).model() == "m-other");
  // An empty GPTQ_PROFILE counts as unset.
  BOOST_TEST(config_seen(h.run({ "hi" }, { { "GPTQ_PROFILE", "" } })).model() == "m-top");
}

BOOST_AUTO_TEST_CASE(default_profile_picks_the_profile)
{
  const ConfigHome h(std::string("default_profile = local\n") + profiles_config);
  const ConfigSeen seen = config_seen(h.run({ "hi" }));
  BOOST_TEST(seen.target == endpoint + "?from=local");
  BOOST_TEST(seen.model() == "m-local");
  // GPTQ_PROFILE and -P beat default_profile.
  BOOST_TEST(config_seen(h.run({ "hi" }, { { "GPTQ_PROFILE", "other" } })).model() == "m-other");
  BOOST_TEST(config_seen(h.run({ "-P", "other", "hi" })).model() == "m-other");
}

BOOST_AUTO_TEST_CASE(environment_beats_a_profile_chosen_by_default_profile)
{
  const ConfigHome h(std::string("default_profile = local\n") + profiles_config);
  const Env ambient{ { "OPENAI_BASE_URL", https_url("request") + "?from=env" }, { "GPTQ_MODEL", "m-env" } };
  const ConfigSeen seen = config_seen(h.run({ "hi" }, ambient));
  BOOST_TEST(seen.target == endpoint + "?from=env");
  BOOST_TEST(seen.model() == "m-env");
  // Each variable on its own: what it does not set still comes from the
  // default profile, above the top level.
  const ConfigSeen model_only = config_seen(h.run({ "hi" }, { { "GPTQ_MODEL", "m-env" } }));
  BOOST_TEST(model_only.target == endpoint + "?from=local");
  BOOST_TEST(model_only.model() == "m-env");
  const ConfigSeen url_only =
    config_seen(h.run({ "hi" }, { { "OPENAI_BASE_URL", https_url("request") + "?from=env" } }));
  BOOST_TEST(url_only.target == endpoint + "?from=env");
  BOOST_TEST(url_only.model() == "m-local");
  // A profile chosen by -P or GPTQ_PROFILE beats the environment.
  const ConfigSeen by_flag = config_seen(h.run({ "-P", "local", "hi" }, ambient));
  BOOST_TEST(by_flag.target == endpoint + "?from=local");
  BOOST_TEST(by_flag.model() == "m-local");
  Env with_profile = ambient;
  with_profile["GPTQ_PROFILE"] = "other";
  const ConfigSeen by_env = config_seen(h.run({ "hi" }, with_profile));
  BOOST_TEST(by_env.target == endpoint + "?from=other");
  BOOST_TEST(by_env.model() == "m-other");
}

BOOST_AUTO_TEST_CASE(default_profile_key_is_not_sent_where_openai_base_url_points)
{
  const ConfigHome h("default_profile = work\ncacert = {ca}\n[profile.work]\nbase_url = {url}?from=work\n"
                     "api_key_env = WORK_KEY\n");
  const Env work_key{ { "WORK_KEY", "sk-work-key-for-work-only" } };
  // The profile's server gets the profile's key.
  BOOST_TEST(config_seen(h.run({ "hi" }, work_key)).header("authorization") == "Bearer sk-work-key-for-work-only");
  // Another server, from OPENAI_BASE_URL, gets OPENAI_API_KEY, as it would
  // without the config file.
  Env elsewhere = work_key;
  elsewhere["OPENAI_BASE_URL"] = https_url("request") + "?from=env";
  const RunResult r = h.run({ "hi" }, elsewhere);
  const ConfigSeen seen = config_seen(r);
  BOOST_TEST(seen.target == endpoint + "?from=env");
  BOOST_TEST(seen.header("authorization") == "Bearer " + fake_key);
  BOOST_TEST(!contains(r.out, "sk-work-key-for-work-only"));
}

BOOST_AUTO_TEST_CASE(profile_picked_by_name_beats_ambient_openai_base_url)
{
  const ConfigHome h(profiles_config);
  const Env ambient{ { "OPENAI_BASE_URL", https_url("request") + "?from=env" }, { "GPTQ_MODEL", "m-env" } };
  const ConfigSeen seen = config_seen(h.run({ "-P", "local", "hi" }, ambient));
  BOOST_TEST(seen.target == endpoint + "?from=local");
  BOOST_TEST(seen.model() == "m-local");
  // Without a profile the environment beats the top level.
  const ConfigSeen plain = config_seen(h.run({ "hi" }, ambient));
  BOOST_TEST(plain.target == endpoint + "?from=env");
  BOOST_TEST(plain.model() == "m-env");
}

BOOST_AUTO_TEST_CASE(unknown_profile_is_a_usage_error_listing_the_known_ones)
{
  const ConfigHome h(profiles_config);
  check_failure(h.run({ "-P", "azure", "hi" }), 2, { "--profile", "azure", "local, other" });
  check_failure(h.run({ "hi" }, { { "GPTQ_PROFILE", "azure" } }), 2, { "GPTQ_PROFILE", "azure", "local, other" });
}

BOOST_AUTO_TEST_CASE(default_profile_naming_no_profile_is_a_usage_error_naming_the_line)
{
  const ConfigHome bad(std::string("model = m\ndefault_profile = azure\n[profile.local]\n"));
  check_failure(bad.run({ "--base-url", https_url("request"), "--cacert", cert("ca.pem"), "hi" }),
                2,
                { bad.config_path() + ":2", "azure", "local" });
}

BOOST_DATA_TEST_CASE(precedence_command_line_role_profile_env_top_level_defaults, data::make(precedence_cases), c)
{
  auto lines = [&](Layer layer) {
    std::string text;
    if (c.model_from.count(layer)) {
      text += std::string("model = m-") + layer_name(layer) + "\n";
    }
    if (c.url_from.count(layer)) {
      text += std::string("base_url = {url}?from=") + layer_name(layer) + "\n";
    }
    return text;
  };
  const ConfigHome h("cacert = {ca}\n" + lines(Layer::top) + "[profile.p]\n" + lines(Layer::profile) + "[role.r]\n" +
                     lines(Layer::role));
  Env env;
  if (c.model_from.count(Layer::env)) {
    env["GPTQ_MODEL"] = "m-env";
  }
  if (c.url_from.count(Layer::env)) {
    env["OPENAI_BASE_URL"] = https_url("request") + "?from=env";
  }
  std::vector<std::string> args{ "-r", "r", "-P", "p" };
  if (c.model_from.count(Layer::cli)) {
    args.insert(args.end(), { "-m", "m-cli" });
  }
  if (c.url_from.count(Layer::cli)) {
    args.insert(args.end(), { "--base-url", https_url("request") + "?from=cli" });
  }
  args.push_back("hi");
  const ConfigSeen seen = config_seen(h.run(args, env));
  BOOST_TEST(seen.model() == c.expected_model);
  BOOST_TEST(seen.target == endpoint + "?from=" + c.expected_url_from);
}

// --- Comments -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(hash_and_semicolon_inside_a_value_are_sent_whole)
{
  const ConfigHome h("  # the defaults\n"
                     "\t; tabbed comment = not a key\n"
                     "base_url = {url}\n"
                     "cacert = {ca}\n"
                     "[role.c]\n"
                     "    # indented comment in a role\n"
                     "system = Answer in C# only; no F# and no prose.\n"
                     "model = m-c#\n");
  const ConfigSeen seen = config_seen(h.run({ "-r", "c", "hi" }));
  BOOST_TEST(seen.system() == "Answer in C# only; no F# and no prose.");
  BOOST_TEST(seen.model() == "m-c#");
}

// --- Key sources --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(api_key_env_sends_that_variables_key)
{
  const ConfigHome h("cacert = {ca}\n[profile.other]\nbase_url = {url}\napi_key_env = OTHER_KEY\n");
  const ConfigSeen seen = config_seen(h.run({ "-P", "other", "hi" }, { { "OTHER_KEY", "sk-other-key-42" } }));
  BOOST_TEST(seen.header("authorization") == "Bearer sk-other-key-42");
}

BOOST_AUTO_TEST_CASE(api_key_env_unset_sends_no_key_to_a_non_openai_server)
{
  const ConfigHome h("cacert = {ca}\n[profile.other]\nbase_url = {url}\napi_key_env = OTHER_KEY\n");
  const ConfigSeen seen = config_seen(h.run({ "-P", "other", "hi" }));
  BOOST_TEST(!seen.headers.contains("authorization")); // OPENAI_API_KEY is not used instead
}

BOOST_AUTO_TEST_CASE(api_key_file_sends_its_first_line_without_a_warning_when_private)
{
  const ConfigHome h("cacert = {ca}\n[profile.f]\nbase_url = {url}\napi_key_file = ~/keys/api\n");
  h.file("home/keys/api", "  sk-from-file-0600  \nsecond line\n", fs::perms(0600));
  const RunResult r = h.run({ "-P", "f", "hi" });
  const ConfigSeen seen = config_seen(r);
  BOOST_TEST(seen.header("authorization") == "Bearer sk-from-file-0600");
  BOOST_TEST(!contains(r.err, "sk-from-file-0600"));
}

BOOST_AUTO_TEST_CASE(api_key_file_readable_by_others_gets_a_warning_naming_the_file)
{
  const ConfigHome h(std::nullopt);
  const std::string key_file = h.file("keys/api", "sk-from-file-0644\n", fs::perms(0644));
  const ConfigHome with_key("cacert = {ca}\n[profile.f]\nbase_url = {url}\napi_key_file = " + key_file + "\n");
  const RunResult r = with_key.run({ "-P", "f", "hi" });
  const ConfigSeen seen = config_seen(r, true);
  BOOST_TEST(seen.header("authorization") == "Bearer sk-from-file-0644");
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(starts_with(r.err, "gptq: "));
    BOOST_TEST(contains(r.err, "warning"));
    BOOST_TEST(contains(r.err, key_file));
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    BOOST_TEST(!contains(r.err, "sk-from-file-0644"));
  }
}

BOOST_AUTO_TEST_CASE(unreadable_api_key_file_is_an_auth_error_naming_the_file)
{
  const ConfigHome h("cacert = {ca}\n[profile.f]\nbase_url = {url}\napi_key_file = ~/no-such-key\n");
  check_failure(h.run({ "-P", "f", "hi" }), 3, { "no-such-key", "profile f" });
}

BOOST_AUTO_TEST_CASE(api_key_cmd_sends_the_first_line_it_prints)
{
  const ConfigHome h(
    "cacert = {ca}\n[profile.c]\nbase_url = {url}\napi_key_cmd = echo sk-from-cmd; echo second line\n");
  const RunResult r = h.run({ "-P", "c", "hi" });
  BOOST_TEST(config_seen(r).header("authorization") == "Bearer sk-from-cmd");
}

BOOST_AUTO_TEST_CASE(failing_api_key_cmd_is_an_auth_error_with_its_message)
{
  const ConfigHome h("cacert = {ca}\n[profile.c]\nbase_url = {url}\napi_key_cmd = echo 'vault locked' >&2; exit 5\n");
  check_failure(h.run({ "-P", "c", "hi" }), 3, { "vault locked", "profile c" });
}

BOOST_AUTO_TEST_CASE(failing_api_key_cmd_does_not_show_what_it_printed)
{
  // The command prints a key on stdout and then fails: the key is not quoted
  // (its stderr is, for the reason it failed).
  const ConfigHome h("cacert = {ca}\n[profile.c]\nbase_url = {url}\napi_key_cmd = printf 'sk-%s\\n' leaky-4711; "
                     "echo 'token expired' >&2; exit 1\n");
  const RunResult r = h.run({ "-P", "c", "hi" });
  check_failure(r, 3, { "api_key_cmd", "token expired" });
  BOOST_TEST(!contains(r.err, "sk-leaky-4711"), r.describe());
}

BOOST_AUTO_TEST_CASE(api_key_cmd_printing_nothing_for_openai_is_an_auth_error)
{
  const ConfigHome h("[profile.c]\nbase_url = https://api.openai.com/v1\napi_key_cmd = true\n");
  check_failure(h.run({ "-P", "c", "hi" }), 3, { "profile c" });
}

BOOST_AUTO_TEST_CASE(key_from_a_file_or_command_never_shows_in_verbose_output_or_errors)
{
  const ConfigHome h(std::nullopt);
  const std::string key_file = h.file("keys/api", "sk-from-file-verbose\n");
  const ConfigHome with_key("cacert = {ca}\n[profile.f]\nbase_url = {url}\napi_key_file = " + key_file +
                            "\n[profile.c]\nbase_url = " + base_url("https", ports().https, "leakkey") +
                            "\napi_key_cmd = echo sk-from-cmd-leak\n");
  const RunResult verbose = with_key.run({ "-P", "f", "-v", "hi" });
  BOOST_TEST(verbose.exit_code == 0, verbose.describe());
  BOOST_TEST(!verbose.err.empty(), verbose.describe());
  BOOST_TEST(!contains(verbose.err, "sk-from-file-verbose"), verbose.describe());
  // The server quotes the key back in its 401.
  const RunResult leaked = with_key.run({ "-P", "c", "hi" });
  check_failure(leaked, 3, { "401", "[REDACTED]" });
  BOOST_TEST(!contains(leaked.err, "sk-from-cmd-leak"), leaked.describe());
}

// --- Config errors ------------------------------------------------------------

BOOST_DATA_TEST_CASE(config_errors_name_file_line_and_key, data::make(config_error_cases), c)
{
  const ConfigHome h(c.text);
  std::vector<std::string> mentions{ h.config_path() + ":" + std::to_string(c.line) };
  mentions.insert(mentions.end(), c.mentions.begin(), c.mentions.end());
  check_failure(h.run({ "--base-url", https_url("request"), "--cacert", cert("ca.pem"), "hi" }), 2, mentions);
}

BOOST_AUTO_TEST_CASE(config_errors_stop_list_roles_too)
{
  const ConfigHome h("[role.a]\ntemperature = hot\n");
  check_failure(h.run({ "--list-roles" }), 2, { h.config_path() + ":2", "temperature" });
  check_failure(h.run({ "--list-profiles" }), 2, { h.config_path() + ":2", "temperature" });
}

BOOST_AUTO_TEST_CASE(missing_named_config_file_is_a_usage_error)
{
  const ConfigHome h(std::nullopt);
  const std::string missing = h.root + "/missing/config";
  check_failure(h.run({ "--config", missing, "--base-url", https_url("request"), "--cacert", cert("ca.pem"), "hi" }),
                2,
                { "--config", missing });
  check_failure(
    h.run({ "--base-url", https_url("request"), "--cacert", cert("ca.pem"), "hi" }, { { "GPTQ_CONFIG", missing } }),
    2,
    { "GPTQ_CONFIG", missing });
}

BOOST_AUTO_TEST_CASE(missing_default_config_file_is_fine)
{
  const ConfigHome h(std::nullopt);
  const ConfigSeen seen = config_seen(h.run({ "--base-url", https_url("request"), "--cacert", cert("ca.pem"), "hi" }));
  BOOST_TEST(seen.model() == "gpt-4o-mini");
}

// --- Which file -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gptq_config_names_the_file_and_config_option_beats_it)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\nmodel = m-default-place\n");
  const std::string by_env = h.file("elsewhere/env.ini", "base_url = {url}\ncacert = {ca}\nmodel = m-gptq-config\n");
  const std::string by_option = h.file("elsewhere/opt.ini", "base_url = {url}\ncacert = {ca}\nmodel = m-option\n");
  BOOST_TEST(config_seen(h.run({ "hi" })).model() == "m-default-place");
  BOOST_TEST(config_seen(h.run({ "hi" }, { { "GPTQ_CONFIG", by_env } })).model() == "m-gptq-config");
  BOOST_TEST(config_seen(h.run({ "--config", by_option, "hi" }, { { "GPTQ_CONFIG", by_env } })).model() == "m-option");
  // An empty GPTQ_CONFIG counts as unset.
  BOOST_TEST(config_seen(h.run({ "hi" }, { { "GPTQ_CONFIG", "" } })).model() == "m-default-place");
}

BOOST_AUTO_TEST_CASE(errors_in_a_named_config_file_name_that_file)
{
  const ConfigHome h(std::nullopt);
  const std::string named = h.file("named.ini", "model = m\nflavour = x\n");
  check_failure(h.run({ "--config", named, "hi" }), 2, { named + ":2", "flavour" });
}

// --- Switches -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(stream_false_in_the_config_asks_for_the_whole_reply)
{
  const ConfigHome streaming("base_url = {url}\ncacert = {ca}\nstream = true\n");
  BOOST_TEST(config_seen(streaming.run({ "hi" })).body.at("stream").as_bool() == true);
  const ConfigHome whole("base_url = {url}\ncacert = {ca}\nstream = false\n");
  const ConfigSeen seen = config_seen(whole.run({ "hi" }));
  BOOST_TEST(!seen.body.contains("stream"));
  BOOST_TEST(!seen.body.contains("stream_options"));
}

BOOST_AUTO_TEST_CASE(usage_true_in_a_role_asks_for_usage_in_the_stream)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\n[role.u]\nusage = true\n");
  const RunResult r = h.run({ "-r", "u", "hi" });
  const ConfigSeen seen = config_seen(r, true); // --usage prints a line on stderr
  BOOST_TEST(seen.body.at("stream_options").at("include_usage").as_bool() == true);
}

BOOST_AUTO_TEST_CASE(role_stream_true_beats_top_level_stream_false)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\nstream = false\n[role.live]\nstream = true\n");
  const ConfigSeen seen = config_seen(h.run({ "-r", "live", "hi" }));
  BOOST_TEST(seen.body.contains("stream"));
}

BOOST_AUTO_TEST_CASE(role_switch_false_beats_top_level_switch_true)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\nverbose = true\n[role.quiet]\nverbose = false\n");
  BOOST_TEST(!h.run({ "hi" }).err.empty()); // the top level alone makes it verbose
  const RunResult r = h.run({ "-r", "quiet", "hi" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.err == "", r.describe()); // the role turned it off
}

// --- --show-config --------------------------------------------------------------

// A long, distinctive key and proxy password: neither may ever be printed.
const std::string shown_key = "sk-show-config-NEVER-PRINT-4f9a1c2e7b3d5a8f0e6c4b2a9d7f5e3c";
const std::string proxy_password = "pr0xy-PASSWORD-never-shown-81";

// How many requests the test server counted for `key` (counted/KEY/...).
std::int64_t counted(const std::string& key)
{
  return json::parse(http_get_body("/attempts/" + key)).at("attempts").to_number<std::int64_t>();
}

// Checks a --show-config run: exit 0, nothing on stderr, neither secret
// anywhere. Returns its lines as name -> "VALUE  (ORIGIN)", the value
// without its padding; a name shown twice keeps its last line.
std::map<std::string, std::string> show_config_lines(const RunResult& r)
{
  std::map<std::string, std::string> lines;
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.err == "");
    for (const auto& text : { r.out, r.err }) {
      BOOST_TEST(!contains(text, shown_key));
      BOOST_TEST(!contains(text, proxy_password));
      BOOST_TEST(!contains(text, fake_key));
    }
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      const auto name_end = line.find(' ');
      const auto origin = line.rfind("  (");
      BOOST_TEST_REQUIRE((name_end != std::string::npos && origin != std::string::npos && line.back() == ')'),
                         "not 'NAME VALUE  (ORIGIN)': " << line);
      const auto value_start = line.find_first_not_of(' ', name_end);
      const auto value_end = line.find_last_not_of(' ', origin) + 1;
      lines[line.substr(0, name_end)] = line.substr(value_start, value_end - value_start) + line.substr(origin);
    }
  }
  return lines;
}

BOOST_AUTO_TEST_CASE(show_config_prints_each_setting_and_its_origin_and_sends_nothing)
{
  const std::string counter = "show-config-realistic";
  const std::string url = base_url("https", ports().https, "counted/" + counter + "/request");
  const ConfigHome h("model = m-top\n"                          // 1
                     "timeout = 300\n"                          // 2
                     "default_profile = work\n"                 // 3
                     "stream = false\n"                         // 4
                     "\n"                                       // 5
                     "[role.shell]\n"                           // 6
                     "system = You are a terse shell expert.\n" // 7
                     "temperature = 0\n"                        // 8
                     "\n"                                       // 9
                     "[profile.work]\n"                         // 10
                     "base_url = " +
                     url +
                     "\n"                         // 11
                     "model = m-work\n"           // 12
                     "cacert = {ca}\n"            // 13
                     "api_key_env = WORK_KEY\n"); // 14
  const std::string cfg = "(config " + h.config_path() + ":";
  const std::string proxy = "http://alice:" + proxy_password + "@127.0.0.1:" + std::to_string(closed_port());
  const RunResult r = run_gptq(
    { "--show-config", "-r", "shell", "--retries", "4", "-H", "X-Title: demo", "-H", "X-Api-Key: " + shown_key, "hi" },
    h.env(
      { { "WORK_KEY", shown_key }, { "GPTQ_MODEL", "m-env" }, { "HTTPS_PROXY", proxy }, { "NO_PROXY", "localhost" } }));
  const auto lines = show_config_lines(r);
  const std::map<std::string, std::string> expected{
    { "config", h.config_path() + " (found)  (default)" },
    { "profile", "work  " + cfg + "3 default_profile)" },
    { "role", "shell  (flag)" },
    { "model", "m-env  (env GPTQ_MODEL)" }, // the environment beats a default profile
    { "base_url", url + "  " + cfg + "11 [profile.work] via default_profile)" },
    { "api", "chat  (default)" },
    { "endpoint", "POST " + url + "/chat/completions  " + cfg + "11 [profile.work] via default_profile)" },
    { "system", "You are a terse shell expert.  " + cfg + "7 [role.shell])" },
    { "temperature", "0  " + cfg + "8 [role.shell])" },
    { "stream", "false  " + cfg + "4)" },
    { "connect_timeout", "10 s  (default)" },
    { "idle_timeout", "600 s  (default)" },
    { "timeout", "300 s  " + cfg + "2)" },
    { "retries", "4  (flag)" },
    { "proxy", "http://alice:[REDACTED]@127.0.0.1:" + proxy.substr(proxy.rfind(':') + 1) + "  (env HTTPS_PROXY)" },
    { "no_proxy", "localhost  (env NO_PROXY)" },
    { "cacert", cert("ca.pem") + "  " + cfg + "13 [profile.work] via default_profile)" },
    { "key", "env WORK_KEY  " + cfg + "14 [profile.work] via default_profile)" },
    { "key_header", "Authorization: Bearer  (default)" },
    { "header", "X-Api-Key: [REDACTED]  (flag)" },
  };
  BOOST_TEST_CONTEXT(r.out)
  {
    for (const auto& [name, line] : expected) {
      BOOST_TEST(lines.count(name) == 1u, name);
      if (lines.count(name)) {
        BOOST_TEST(lines.at(name) == line);
      }
    }
    BOOST_TEST(lines.size() == expected.size()); // nothing else: no max_tokens, usage, ...
    BOOST_TEST(contains(r.out, "X-Title: demo"));
  }
  BOOST_TEST(counted(counter) == 0);
}

BOOST_AUTO_TEST_CASE(show_config_never_shows_the_key_from_env_file_or_command)
{
  const std::string counter = "show-config-keys";
  const std::string url = base_url("https", ports().https, "counted/" + counter + "/request");
  const ConfigHome h(std::nullopt);
  const std::string key_file = h.file("keys/api", shown_key + "\n");
  const ConfigHome with_keys("cacert = {ca}\nbase_url = " + url + "\n[profile.f]\napi_key_file = " + key_file +
                             "\n[profile.c]\napi_key_cmd = cat " + key_file + "\n");
  const Env env{ { "OPENAI_API_KEY", shown_key } };
  auto lines = show_config_lines(with_keys.run({ "--show-config", "hi" }, env));
  BOOST_TEST(lines["key"] == "env OPENAI_API_KEY  (default)");
  lines = show_config_lines(with_keys.run({ "--show-config", "-P", "f", "hi" }, env));
  BOOST_TEST(lines["key"] == "file " + key_file + "  (config " + with_keys.config_path() + ":4 [profile.f])");
  lines = show_config_lines(with_keys.run({ "--show-config", "-P", "c", "--verbose", "hi" }, env));
  BOOST_TEST(lines["key"] == "command cat " + key_file + "  (config " + with_keys.config_path() + ":6 [profile.c])");
  // Without any key: "none", and still exit 0.
  lines = show_config_lines(run_gptq({ "--show-config" }, with_keys.env({}, false)));
  BOOST_TEST(lines["key"] == "none (OPENAI_API_KEY is not set)  (default)");
  BOOST_TEST(counted(counter) == 0);
}

BOOST_AUTO_TEST_CASE(show_config_names_a_default_profile_and_the_environment_above_it)
{
  const ConfigHome h("default_profile = work\n" // 1
                     "[profile.work]\n"         // 2
                     "model = m-work\n"         // 3
                     "timeout = 30\n");         // 4
  const auto lines = show_config_lines(h.run({ "--show-config" }, { { "GPTQ_MODEL", "m-env" } }));
  const std::string cfg = "(config " + h.config_path() + ":";
  BOOST_TEST(lines.at("profile") == "work  " + cfg + "1 default_profile)");
  BOOST_TEST(lines.at("model") == "m-env  (env GPTQ_MODEL)");
  BOOST_TEST(lines.at("timeout") == "30 s  " + cfg + "4 [profile.work] via default_profile)");
}

BOOST_AUTO_TEST_CASE(show_config_with_a_bad_config_file_fails_as_any_run)
{
  const ConfigHome h("model = m\n[role.r]\ntemperature = hot\n");
  check_failure(h.run({ "--show-config" }), 2, { h.config_path() + ":3", "temperature", "hot" });
}

// --- The command line ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(prompt_and_set_options_are_refused_words_still_work)
{
  const ConfigHome h("base_url = {url}\ncacert = {ca}\n");
  for (const std::vector<std::string>& args : { std::vector<std::string>{ "--prompt", "hi" },
                                                { "hi", "--prompt=there" },
                                                { "--set-stream", "false", "hi" } }) {
    const RunResult r = h.run(args);
    check_failure(r, 2, { "unrecognised option '" + args[args[0] == "hi" ? 1 : 0] + "'", "gptq --help" });
  }
  BOOST_TEST(config_seen(h.run({ "say", "--", "--prompt", "hi" })).user() == "say --prompt hi");
}

BOOST_AUTO_TEST_SUITE_END()
