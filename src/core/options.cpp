#include "options.hpp"

#include "error.hpp"
#include "text.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace po = boost::program_options;

namespace gptq {

namespace {

[[noreturn]] void bad_value(const std::string& option, const std::string& value, const std::string& want)
{
  throw Error(ExitStatus::usage, option, "expected " + want + ", got " + quoted(value, 80));
}

double parse_double(const std::string& option, const std::string& text, double min, double max, const std::string& want)
{
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < min ||
      value > max) {
    bad_value(option, text, want);
  }
  return value;
}

long long parse_count(const std::string& option, const std::string& text)
{
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    bad_value(option, text, "a whole number of at least 1");
  }
  return value;
}

// Seconds are bounded so that converting them to a chrono duration cannot
// overflow; a million seconds is eleven days.
double parse_seconds(const std::string& option, const std::string& text)
{
  const double value = parse_double(option, text, 0, 1e6, "a number of seconds above 0");
  if (value <= 0) {
    bad_value(option, text, "a number of seconds above 0");
  }
  return value;
}

long long parse_integer(const std::string& option, const std::string& text, long long min, long long max)
{
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    bad_value(option, text, "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

bool is_header_name(std::string_view name)
{
  // RFC 9110 token characters.
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Parses -H "Name: value". The value may be empty; it may not hold line
// breaks or NUL, which would let it smuggle in headers of its own.
std::pair<std::string, std::string> parse_header(const std::string& text)
{
  const auto colon = text.find(':');
  const std::string name = colon == std::string::npos ? text : text.substr(0, colon);
  if (colon == std::string::npos || !is_header_name(name)) {
    throw Error(ExitStatus::usage, "--header", "expected 'Name: value', got " + quoted(text, 80));
  }
  const std::string value(trim(std::string_view(text).substr(colon + 1)));
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    throw Error(ExitStatus::usage, "--header", "the value of " + name + " has a line break or NUL byte");
  }
  return { name, value };
}

std::optional<std::string> non_empty(const Environment& env, const std::string& name)
{
  auto value = env(name);
  if (value && value->empty()) {
    return std::nullopt;
  }
  return value;
}

// Every option, including the --set-NAME ones that config layers use.
po::options_description all_options()
{
  po::options_description desc;
  // clang-format off: one option a line
  desc.add_options()("system,s", po::value<std::string>())("model,m", po::value<std::string>())(
    "base-url", po::value<std::string>())("temperature,t", po::value<std::string>())(
    "max-tokens", po::value<std::string>())("top-p", po::value<std::string>())("seed", po::value<std::string>())(
    "stop", po::value<std::vector<std::string>>())("option,o", po::value<std::vector<std::string>>())(
    "json", po::bool_switch())("schema", po::value<std::string>())("connect-timeout", po::value<std::string>())(
    "idle-timeout", po::value<std::string>())("timeout", po::value<std::string>())("cacert", po::value<std::string>())(
    "proxy", po::value<std::string>())("no-proxy", po::value<std::string>())("retries", po::value<std::string>())(
    "header,H", po::value<std::vector<std::string>>())("key-header", po::value<std::string>())(
    "verbose,v", po::bool_switch())("dry-run", po::bool_switch())("stream", po::bool_switch())
    // How config layers set switches, true or false: one name per setting,
    // so that the first layer to set it wins, whichever way it sets it.
    ("set-stream", po::value<std::string>())("set-json", po::value<std::string>())(
      "set-usage", po::value<std::string>())("set-reasoning", po::value<std::string>())(
      "set-verbose", po::value<std::string>())("no-stdin", po::bool_switch())("no-stream", po::bool_switch())(
      "reasoning", po::bool_switch())("usage", po::bool_switch())("code", po::bool_switch())("raw", po::bool_switch())(
      "help,h", po::bool_switch())("version", po::bool_switch())("file,f", po::value<std::vector<std::string>>())(
      "config", po::value<std::string>())("role,r", po::value<std::string>())("profile,P", po::value<std::string>())(
      "list-roles", po::bool_switch())("list-profiles", po::bool_switch())("show-config", po::bool_switch())(
      "each-line,L", po::bool_switch())("input-jsonl", po::bool_switch())("jsonl", po::bool_switch())(
      "jobs,j", po::value<std::string>())("fail-fast", po::bool_switch())("resume", po::value<std::string>())(
      "emit-batch", po::value<std::string>())("from-batch", po::value<std::string>())(
      "prompt", po::value<std::vector<std::string>>());
  // clang-format on
  return desc;
}

// No abbreviations: a prefix that is unique today stops being unique when
// an option is added, and scripts must not break then.
constexpr int parse_style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

} // namespace

std::vector<SourcedArguments> environment_arguments(const Environment& env)
{
  std::vector<SourcedArguments> out;
  if (auto model = non_empty(env, "GPTQ_MODEL")) {
    out.push_back({ { "--model", *model }, "env GPTQ_MODEL" });
  }
  if (auto url = non_empty(env, "OPENAI_BASE_URL")) {
    out.push_back({ { "--base-url", *url }, "env OPENAI_BASE_URL" });
  }
  return out;
}

std::set<std::string> options_in(const std::vector<std::string>& args)
{
  po::positional_options_description positional;
  positional.add("prompt", -1);
  std::set<std::string> names;
  try {
    const auto parsed =
      po::command_line_parser(args).options(all_options()).positional(positional).style(parse_style).run();
    for (const auto& option : parsed.options) {
      names.insert(option.string_key);
    }
  } catch (const po::error& e) {
    throw Error(ExitStatus::usage, "", std::string(e.what()) + " (see 'gptq --help')");
  }
  return names;
}

Command parse_command_line(std::span<const char* const> args,
                           const Environment& env,
                           const std::vector<std::vector<std::string>>& above_env,
                           const std::vector<std::vector<std::string>>& below_env)
{
  const po::options_description desc = all_options();
  po::positional_options_description positional;
  positional.add("prompt", -1);

  po::variables_map vm;
  try {
    const std::vector<std::string> words(args.begin(), args.end());
    const po::parsed_options parsed =
      po::command_line_parser(words).options(desc).positional(positional).style(parse_style).run();
    // PROMPT words are stored as "prompt" and the config's switches as
    // --set-NAME; neither is an option of the command line, where Boost
    // would take them by name too.
    for (const auto& option : parsed.options) {
      const bool named = option.position_key < 0 && !option.original_tokens.empty();
      if (named && (option.string_key == "prompt" || option.string_key.starts_with("set-"))) {
        throw po::unknown_option(option.original_tokens.front());
      }
    }
    po::store(parsed, vm);
    // Later stores never replace what an earlier one set: that is the
    // precedence.
    auto store_layer = [&](const std::vector<std::string>& layer) {
      po::store(po::command_line_parser(layer).options(desc).style(parse_style).run(), vm);
    };
    for (const auto& layer : above_env) {
      store_layer(layer);
    }
    for (const auto& from_env : environment_arguments(env)) {
      store_layer(from_env.args);
    }
    for (const auto& layer : below_env) {
      store_layer(layer);
    }
  } catch (const po::error& e) {
    throw Error(ExitStatus::usage, "", std::string(e.what()) + " (see 'gptq --help')");
  }

  Command command;
  if (vm["help"].as<bool>()) {
    command.action = Command::Action::help;
    return command;
  }
  if (vm["version"].as<bool>()) {
    command.action = Command::Action::version;
    return command;
  }
  if (vm["list-roles"].as<bool>() && vm["list-profiles"].as<bool>()) {
    throw Error(ExitStatus::usage, "--list-roles", "use either --list-roles or --list-profiles, not both");
  }
  if (vm["list-roles"].as<bool>()) {
    command.action = Command::Action::list_roles;
  }
  if (vm["list-profiles"].as<bool>()) {
    command.action = Command::Action::list_profiles;
  }
  if (vm["show-config"].as<bool>()) {
    command.action = Command::Action::show_config;
  }

  Options& o = command.options;
  auto get = [&](const char* name) -> std::optional<std::string> {
    if (vm.count(name)) {
      return vm[name].as<std::string>();
    }
    return std::nullopt;
  };

  o.system = get("system");
  if (vm.count("file")) {
    o.files = vm["file"].as<std::vector<std::string>>();
  }
  if (vm.count("prompt")) {
    o.prompt_words = vm["prompt"].as<std::vector<std::string>>();
  }
  if (auto model = get("model")) {
    o.model = *model;
  }
  if (o.model.empty()) {
    throw Error(ExitStatus::usage, "--model", "the model name is empty");
  }
  if (auto url = get("base-url")) {
    o.base_url = *url;
  }
  if (auto t = get("temperature")) {
    o.temperature = parse_double("--temperature", *t, 0, 2, "a number from 0 to 2");
  }
  if (auto n = get("max-tokens")) {
    o.max_tokens = parse_count("--max-tokens", *n);
  }
  if (auto p = get("top-p")) {
    o.top_p = parse_double("--top-p", *p, 0, 1, "a number from 0 to 1");
  }
  if (auto s = get("seed")) {
    o.seed = parse_integer("--seed", *s, std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max());
  }
  if (vm.count("stop")) {
    o.stop = vm["stop"].as<std::vector<std::string>>();
    for (const auto& s : o.stop) {
      if (s.empty()) {
        throw Error(ExitStatus::usage, "--stop", "a stop sequence cannot be empty");
      }
    }
  }
  if (vm.count("option")) {
    for (const auto& field : vm["option"].as<std::vector<std::string>>()) {
      const auto eq = field.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw Error(ExitStatus::usage, "--option", "expected KEY=VALUE, got " + quoted(field, 80));
      }
      o.fields.emplace_back(field.substr(0, eq), field.substr(eq + 1));
    }
  }
  // A switch on the command line wins; else the first layer that set it.
  auto resolve_switch = [&](const char* on, const char* off, const char* set, bool fallback) {
    if (on && vm[on].as<bool>()) {
      return true;
    }
    if (off && vm[off].as<bool>()) {
      return false;
    }
    if (vm.count(set)) {
      return vm[set].as<std::string>() == "true";
    }
    return fallback;
  };
  if (vm["stream"].as<bool>() && vm["no-stream"].as<bool>()) {
    throw Error(ExitStatus::usage, "--stream", "use either --stream or --no-stream, not both");
  }
  o.json = resolve_switch("json", nullptr, "set-json", false);
  o.schema_file = get("schema");
  if (o.json && o.schema_file) {
    throw Error(ExitStatus::usage, "--schema", "use either --json or --schema, not both");
  }
  if (auto s = get("connect-timeout")) {
    o.connect_timeout = parse_seconds("--connect-timeout", *s);
  }
  if (auto s = get("idle-timeout")) {
    o.idle_timeout = parse_seconds("--idle-timeout", *s);
  }
  if (auto s = get("timeout")) {
    o.timeout = parse_seconds("--timeout", *s);
  }
  o.cacert = get("cacert");
  if (o.cacert && o.cacert->empty()) {
    throw Error(ExitStatus::usage, "--cacert", "the file name is empty");
  }
  o.proxy = get("proxy");
  o.no_proxy = get("no-proxy");
  if (auto n = get("retries")) {
    o.retries = static_cast<int>(parse_integer("--retries", *n, 0, max_retries));
  }
  if (vm.count("header")) {
    for (const auto& h : vm["header"].as<std::vector<std::string>>()) {
      o.headers.push_back(parse_header(h));
    }
  }
  if (auto name = get("key-header")) {
    if (!is_header_name(*name)) {
      throw Error(ExitStatus::usage, "--key-header", quoted(*name, 60) + " is not a header name");
    }
    o.key_header = *name;
  }
  o.verbose = resolve_switch("verbose", nullptr, "set-verbose", false);
  o.config_file = get("config");
  o.role = get("role");
  o.profile = get("profile");
  o.dry_run = vm["dry-run"].as<bool>();
  o.no_stdin = vm["no-stdin"].as<bool>();
  o.stream = resolve_switch("stream", "no-stream", "set-stream", true);
  o.reasoning = resolve_switch("reasoning", nullptr, "set-reasoning", false);
  o.usage = resolve_switch("usage", nullptr, "set-usage", false);
  o.code = vm["code"].as<bool>();
  o.raw = vm["raw"].as<bool>();
  if (o.code && o.raw) {
    throw Error(ExitStatus::usage, "--raw", "use either --code or --raw, not both");
  }
  o.input_jsonl = vm["input-jsonl"].as<bool>();
  o.each_line = vm["each-line"].as<bool>() || o.input_jsonl;
  o.jsonl = vm["jsonl"].as<bool>();
  o.fail_fast = vm["fail-fast"].as<bool>();
  o.resume = get("resume");
  o.emit_batch = get("emit-batch");
  o.from_batch = get("from-batch");
  if (auto n = get("jobs")) {
    o.jobs = static_cast<int>(parse_integer("--jobs", *n, 1, max_jobs));
  }
  if (!o.each_line && o.from_batch) {
    // --from-batch alone needs no input: it prints the file's results in
    // line order. What only sending lines uses still needs -L.
    for (const char* batch_only : { "fail-fast", "resume", "jobs" }) {
      if (vm.count(batch_only) && !vm[batch_only].defaulted()) {
        throw Error(
          ExitStatus::usage, std::string("--") + batch_only, "only works with -L (--each-line) or --input-jsonl");
      }
    }
    for (const auto& [option, set] :
         { std::pair{ "--dry-run", o.dry_run }, { "--code", o.code }, { "--raw", o.raw } }) {
      if (set) {
        throw Error(ExitStatus::usage, option, "does not work with --from-batch");
      }
    }
    if (o.from_batch->empty()) {
      throw Error(ExitStatus::usage, "--from-batch", "the file name is empty");
    }
    if (o.emit_batch) {
      throw Error(ExitStatus::usage, "--emit-batch", "use either --emit-batch or --from-batch, not both");
    }
  } else if (!o.each_line) {
    for (const char* batch_only : { "jsonl", "fail-fast", "resume", "jobs", "emit-batch", "from-batch" }) {
      if (vm.count(batch_only) && !vm[batch_only].defaulted()) {
        throw Error(
          ExitStatus::usage, std::string("--") + batch_only, "only works with -L (--each-line) or --input-jsonl");
      }
    }
  } else {
    for (const auto& [option, set] : { std::pair{ "--dry-run", o.dry_run },
                                       { "--code", o.code },
                                       { "--raw", o.raw },
                                       { "--no-stdin", o.no_stdin } }) {
      if (set) {
        throw Error(ExitStatus::usage, option, "does not work with -L (--each-line)");
      }
    }
    for (const auto& [option, file] :
         { std::pair{ "--resume", &o.resume }, { "--emit-batch", &o.emit_batch }, { "--from-batch", &o.from_batch } }) {
      if (*file && (*file)->empty()) {
        throw Error(ExitStatus::usage, option, "the file name is empty");
      }
    }
    if (o.emit_batch && o.from_batch) {
      throw Error(ExitStatus::usage, "--emit-batch", "use either --emit-batch or --from-batch, not both");
    }
  }
  return command;
}

std::string help_text()
{
  return "Usage: gptq [OPTIONS] [PROMPT...]\n"
         "Ask an OpenAI-compatible chat model one question; print only the answer.\n"
         "The prompt is the PROMPT words, then stdin when it is not a terminal.\n"
         "\n"
         "Prompt:\n"
         "  -s, --system TEXT        system message (the persona); none by default\n"
         "  -r, --role NAME          use a role from the config file (persona, options)\n"
         "  -f, --file PATH          add a file to the prompt (repeatable; - is stdin)\n"
         "      --no-stdin           do not read stdin, even when it is not a terminal\n"
         "      --dry-run            print the JSON request body; send nothing\n"
         "\n"
         "Model:\n"
         "  -m, --model NAME         model [$GPTQ_MODEL, default: gpt-4o-mini]\n"
         "  -t, --temperature X      sampling temperature, 0 to 2\n"
         "      --max-tokens N       longest reply, in tokens\n"
         "      --top-p X            nucleus sampling, 0 to 1\n"
         "      --seed N             ask for repeatable sampling\n"
         "      --stop SEQ           stop at SEQ (repeatable)\n"
         "  -o, --option KEY=VALUE   set any request field (VALUE as JSON, else text)\n"
         "      --json               ask for a JSON object as the reply\n"
         "      --schema FILE        ask for JSON that follows the JSON Schema in FILE\n"
         "\n"
         "Output:\n"
         "      --no-stream          print the reply when complete, not as it arrives\n"
         "      --stream             stream it (the default, unless the config says no)\n"
         "      --reasoning          show the model's reasoning text on stderr\n"
         "      --usage              print the token usage on stderr\n"
         "      --code               print only the code blocks of the reply\n"
         "      --raw                print the server's JSON, not the reply text\n"
         "\n"
         "Batch:\n"
         "  -L, --each-line          every stdin line is a prompt; one result line each,\n"
         "                           in input order\n"
         "      --input-jsonl        every stdin line is a JSON request: {\"prompt\": ...}\n"
         "      --jsonl              write each result as a JSON line, with its input\n"
         "  -j, --jobs N             requests in flight, 1 to 64 [default: 4]\n"
         "      --fail-fast          stop at the first line that fails\n"
         "      --resume FILE        skip the lines FILE (a --jsonl output) has done\n"
         "      --emit-batch FILE    write OpenAI Batch API requests to FILE instead\n"
         "      --from-batch FILE    print the results of a Batch API output FILE\n"
         "\n"
         "Connection:\n"
         "      --base-url URL       API base URL [$OPENAI_BASE_URL,\n"
         "                           default: https://api.openai.com/v1]\n"
         "  -H, --header 'N: V'      add a request header (repeatable)\n"
         "      --key-header NAME    send the key as NAME: KEY, not as a Bearer token\n"
         "                           [default: api-key for Azure, else Authorization]\n"
         "      --proxy URL          http://, socks5:// or socks5h:// proxy ('' for none)\n"
         "                           [$HTTPS_PROXY, $HTTP_PROXY, $ALL_PROXY]\n"
         "      --no-proxy LIST      hosts to reach directly [$NO_PROXY]\n"
         "      --cacert FILE        also trust the CA certificates in FILE\n"
         "      --connect-timeout S  seconds to connect and handshake [default: 10]\n"
         "      --idle-timeout S     longest silence from the server [default: 600]\n"
         "      --timeout S          limit for the whole request [default: none]\n"
         "      --retries N          retries after a rate limit, server error or\n"
         "                           connection failure [default: 2]\n"
         "  -v, --verbose            show the connection, attempts and timings\n"
         "\n"
         "Config:\n"
         "      --config FILE        config file [$GPTQ_CONFIG,\n"
         "                           default: ~/.config/gptq/config]\n"
         "  -P, --profile NAME       use a provider profile from it [$GPTQ_PROFILE]\n"
         "      --list-roles         print the roles of the config file\n"
         "      --list-profiles      print the profiles of the config file\n"
         "      --show-config        print each setting and where it comes from; send\n"
         "                           nothing\n"
         "\n"
         "  -h, --help               show this help\n"
         "      --version            show version information\n"
         "\n"
         "The API key is read from $OPENAI_API_KEY. See 'man gptq' for exit codes.\n";
}

} // namespace gptq
