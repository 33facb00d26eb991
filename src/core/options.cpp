#include "options.hpp"

#include "batch_api.hpp"
#include "error.hpp"
#include "media.hpp"
#include "option_table.hpp"
#include "text.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

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

// "20M", "512K", "1G", "300000": bytes, the suffixes binary (K = 1024),
// an optional "iB" or "B" after them; at most 4 GiB.
std::size_t parse_size(const std::string& option, const std::string& text)
{
  const std::string want = "a size such as 20M, 512K or 1G (at most 4G)";
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (text.empty() || ec != std::errc() || end == text.data()) {
    bad_value(option, text, want);
  }
  int shift = 0;
  if (!unit.empty()) {
    const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(unit.front())));
    shift = letter == 'K' ? 10 : letter == 'M' ? 20 : letter == 'G' ? 30 : letter == 'B' ? 0 : -1;
    unit.remove_prefix(1);
    if (shift > 0 && (unit == "iB" || unit == "B" || unit == "ib" || unit == "b")) {
      unit = {};
    }
  }
  if (shift < 0 || !unit.empty() || value == 0 || value > (4ULL << 30) >> shift) {
    bad_value(option, text, want);
  }
  return static_cast<std::size_t>(value << shift);
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

// Every option of the table, and the names the parser stores internally:
// PROMPT words as "prompt" and each config toggle as --set-NAME.
po::options_description make_all_options()
{
  po::options_description desc;
  auto add = [&](const std::string& name, const po::value_semantic* semantic) {
    desc.add_options()(name.c_str(), semantic);
  };
  for (const OptionSpec& option : option_table()) {
    std::string name(option.name);
    if (option.letter != 0) {
      name += ',';
      name += option.letter;
    }
    switch (option.arity) {
      case OptionArity::flag:
        add(name, po::bool_switch());
        break;
      case OptionArity::value:
        add(name, po::value<std::string>());
        break;
      case OptionArity::list:
        add(name, po::value<std::vector<std::string>>());
        break;
    }
    if (option.config == ConfigUse::toggle) {
      add(std::string(config_toggle_prefix) + std::string(option.name), po::value<std::string>());
    }
  }
  add("prompt", po::value<std::vector<std::string>>());
  return desc;
}

// Built once: a run parses the command line once or twice, and checks
// every config key with a parse of its own; building the description each
// time cost about 200,000 instructions a parse (callgrind). Boost
// reads it through const references only, so threads may share it.
const po::options_description& all_options()
{
  static const po::options_description desc = make_all_options();
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

namespace {

// --dry-run=full, the one optional value: Boost would take the word after
// an option with an implicit value as that value (`--dry-run hello`), so
// the command line's "--dry-run=full" is read as --dry-run and noted here.
std::vector<std::string> command_words(std::span<const char* const> args, bool* full = nullptr)
{
  std::vector<std::string> words;
  bool options_end = false;
  for (const char* arg : args) {
    const std::string_view word(arg);
    options_end = options_end || word == "--";
    if (!options_end && word.starts_with("--dry-run=")) {
      if (word != "--dry-run=full") {
        throw Error(ExitStatus::usage, "--dry-run", "takes =full or nothing, not " + quoted(word.substr(10), 40));
      }
      if (full) {
        *full = true;
      }
      words.emplace_back("--dry-run");
      continue;
    }
    words.emplace_back(word);
  }
  return words;
}

} // namespace

std::set<std::string> options_in(const std::vector<std::string>& args)
{
  po::positional_options_description positional;
  positional.add("prompt", -1);
  std::set<std::string> names;
  try {
    std::vector<const char*> pointers;
    for (const auto& arg : args) {
      pointers.push_back(arg.c_str());
    }
    const auto parsed = po::command_line_parser(command_words(pointers))
                          .options(all_options())
                          .positional(positional)
                          .style(parse_style)
                          .run();
    for (const auto& option : parsed.options) {
      names.insert(option.string_key);
    }
  } catch (const po::error& e) {
    throw Error(ExitStatus::usage, "", std::string(e.what()) + " (see 'gptq --help')");
  }
  return names;
}

namespace {

// What only the order of the command line tells.
struct CommandOrder {
  std::vector<std::optional<std::string>> file_types; // --file-type of each -f
  bool dry_run_full = false;
};

// The --file-type that goes with each -f of `parsed`: the one just before.
std::vector<std::optional<std::string>> file_types_of(const po::parsed_options& parsed)
{
  std::vector<std::optional<std::string>> types;
  std::optional<std::string> pending;
  for (const auto& option : parsed.options) {
    if (option.string_key == "file-type" && !option.value.empty()) {
      if (pending) {
        throw Error(ExitStatus::usage, "--file-type", "two in a row; each one is for the -f after it");
      }
      pending = option.value.front();
    } else if (option.string_key == "file") {
      types.push_back(std::exchange(pending, std::nullopt));
    }
  }
  if (pending) {
    throw Error(ExitStatus::usage, "--file-type", "no -f follows it; it gives the type of the next -f");
  }
  return types;
}

// Parses `args` and stores them, then each layer, into one map; later
// stores never replace what an earlier one set: that is the precedence.
po::variables_map parse_layers(std::span<const char* const> args,
                               const Environment& env,
                               const std::vector<std::vector<std::string>>& above_env,
                               const std::vector<std::vector<std::string>>& below_env,
                               CommandOrder& order)
{
  const po::options_description& desc = all_options();
  po::positional_options_description positional;
  positional.add("prompt", -1);

  po::variables_map vm;
  try {
    const std::vector<std::string> words = command_words(args, &order.dry_run_full);
    const po::parsed_options parsed =
      po::command_line_parser(words).options(desc).positional(positional).style(parse_style).run();
    // PROMPT words are stored as "prompt" and the config's switches as
    // --set-NAME; neither is an option of the command line, where Boost
    // would take them by name too.
    for (const auto& option : parsed.options) {
      const bool named = option.position_key < 0 && !option.original_tokens.empty();
      if (named && (option.string_key == "prompt" || option.string_key.starts_with(config_toggle_prefix))) {
        throw po::unknown_option(option.original_tokens.front());
      }
    }
    order.file_types = file_types_of(parsed);
    po::store(parsed, vm);
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
  return vm;
}

std::optional<std::string> text_of(const po::variables_map& vm, const char* name)
{
  if (vm.count(name)) {
    return vm[name].as<std::string>();
  }
  return std::nullopt;
}

bool flag_of(const po::variables_map& vm, const char* name)
{
  return vm[name].as<bool>();
}

// A toggle on the command line wins (--`name`, or --`off` when not null);
// else the first layer that set it with --set-`name`; else `fallback`.
bool toggle_of(const po::variables_map& vm, const char* name, const char* off, bool fallback)
{
  if (flag_of(vm, name)) {
    return true;
  }
  if (off && flag_of(vm, off)) {
    return false;
  }
  const std::string set = std::string(config_toggle_prefix) + name;
  if (vm.count(set)) {
    return vm[set].as<std::string>() == "true";
  }
  return fallback;
}

Command::Action action_of(const po::variables_map& vm)
{
  if (flag_of(vm, "help")) {
    return Command::Action::help;
  }
  if (flag_of(vm, "version")) {
    return Command::Action::version;
  }
  if (flag_of(vm, "list-roles") && flag_of(vm, "list-profiles")) {
    throw Error(ExitStatus::usage, "--list-roles", "use either --list-roles or --list-profiles, not both");
  }
  if (flag_of(vm, "show-config")) {
    return Command::Action::show_config;
  }
  if (flag_of(vm, "list-roles")) {
    return Command::Action::list_roles;
  }
  if (flag_of(vm, "list-profiles")) {
    return Command::Action::list_profiles;
  }
  return Command::Action::run;
}

// The prompt, the model and the request's sampling fields.
void read_request(const po::variables_map& vm, Options& o)
{
  o.system = text_of(vm, "system");
  if (vm.count("file")) {
    o.files = vm["file"].as<std::vector<std::string>>();
  }
  o.thread = text_of(vm, "thread");
  if (o.thread && o.thread->empty()) {
    throw Error(ExitStatus::usage, "--thread", "the file name is empty");
  }
  if (auto n = text_of(vm, "thread-tail")) {
    if (!o.thread) {
      throw Error(ExitStatus::usage, "--thread-tail", "only works with -C (--thread)");
    }
    o.thread_tail = parse_count("--thread-tail", *n);
  }
  if (vm.count("prompt")) {
    o.prompt_words = vm["prompt"].as<std::vector<std::string>>();
  }
  if (auto model = text_of(vm, "model")) {
    o.model = *model;
  }
  if (o.model.empty()) {
    throw Error(ExitStatus::usage, "--model", "the model name is empty");
  }
  if (auto url = text_of(vm, "base-url")) {
    o.base_url = *url;
  }
  if (auto api = text_of(vm, "api")) {
    if (*api != "chat" && *api != "responses") {
      throw Error(ExitStatus::usage, "--api", "expected chat or responses, got " + quoted(*api, 40));
    }
    o.api = *api == "chat" ? Api::chat : Api::responses;
  }
  if (auto t = text_of(vm, "temperature")) {
    o.temperature = parse_double("--temperature", *t, 0, 2, "a number from 0 to 2");
  }
  if (auto n = text_of(vm, "max-tokens")) {
    o.max_tokens = parse_count("--max-tokens", *n);
  }
  if (auto p = text_of(vm, "top-p")) {
    o.top_p = parse_double("--top-p", *p, 0, 1, "a number from 0 to 1");
  }
  if (auto s = text_of(vm, "seed")) {
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
}

// The reply's format, then the connection: its limits, proxy and headers.
void read_attachments(const po::variables_map& vm, const CommandOrder& order, Options& o)
{
  o.file_types = order.file_types;
  o.file_types.resize(o.files.size());
  for (const auto& type : o.file_types) {
    if (type && !media_type_of_mime(*type)) {
      bad_value("--file-type", *type, "one of " + std::string(supported_mimes()));
    }
  }
  o.dry_run_full = order.dry_run_full;
  if (auto detail = text_of(vm, "detail")) {
    if (*detail != "low" && *detail != "high" && *detail != "auto") {
      bad_value("--detail", *detail, "low, high or auto");
    }
    o.detail = *detail;
  }
  if (auto size = text_of(vm, "max-attachment")) {
    o.max_attachment = parse_size("--max-attachment", *size);
  }
  if (auto kinds = text_of(vm, "attachments")) {
    std::set<std::string> allowed;
    if (*kinds != "none") {
      for (std::size_t at = 0; at <= kinds->size();) {
        const auto comma = std::min(kinds->find(',', at), kinds->size());
        const std::string kind(trim(std::string_view(*kinds).substr(at, comma - at)));
        if (kind != "image" && kind != "pdf" && kind != "audio") {
          bad_value("--attachments", *kinds, "a list of image, pdf and audio, or none");
        }
        allowed.insert(kind);
        at = comma + 1;
      }
    }
    o.attachment_kinds = std::move(allowed);
  }
}

void read_connection(const po::variables_map& vm, Options& o)
{
  if (flag_of(vm, "stream") && flag_of(vm, "no-stream")) {
    throw Error(ExitStatus::usage, "--stream", "use either --stream or --no-stream, not both");
  }
  o.json = toggle_of(vm, "json", nullptr, false);
  o.schema_file = text_of(vm, "schema");
  if (o.json && o.schema_file) {
    throw Error(ExitStatus::usage, "--schema", "use either --json or --schema, not both");
  }
  if (auto s = text_of(vm, "connect-timeout")) {
    o.connect_timeout = parse_seconds("--connect-timeout", *s);
  }
  if (auto s = text_of(vm, "idle-timeout")) {
    o.idle_timeout = parse_seconds("--idle-timeout", *s);
  }
  if (auto s = text_of(vm, "timeout")) {
    o.timeout = parse_seconds("--timeout", *s);
  }
  o.cacert = text_of(vm, "cacert");
  if (o.cacert && o.cacert->empty()) {
    throw Error(ExitStatus::usage, "--cacert", "the file name is empty");
  }
  o.proxy = text_of(vm, "proxy");
  o.no_proxy = text_of(vm, "no-proxy");
  if (auto n = text_of(vm, "retries")) {
    o.retries = static_cast<int>(parse_integer("--retries", *n, 0, max_retries));
  }
  if (vm.count("header")) {
    for (const auto& h : vm["header"].as<std::vector<std::string>>()) {
      o.headers.push_back(parse_header(h));
    }
  }
  if (auto name = text_of(vm, "key-header")) {
    if (!is_header_name(*name)) {
      throw Error(ExitStatus::usage, "--key-header", quoted(*name, 60) + " is not a header name");
    }
    o.key_header = *name;
  }
  o.verbose = toggle_of(vm, "verbose", nullptr, false);
}

// The config file, role and profile named, and how the reply is printed
// and the input read.
void read_run(const po::variables_map& vm, Options& o)
{
  o.config_file = text_of(vm, "config");
  o.role = text_of(vm, "role");
  o.profile = text_of(vm, "profile");
  o.dry_run = flag_of(vm, "dry-run");
  o.no_stdin = flag_of(vm, "no-stdin");
  o.stream = toggle_of(vm, "stream", "no-stream", true);
  o.reasoning = toggle_of(vm, "reasoning", nullptr, false);
  o.usage = toggle_of(vm, "usage", nullptr, false);
  o.code = flag_of(vm, "code");
  o.raw = flag_of(vm, "raw");
  if (o.code && o.raw) {
    throw Error(ExitStatus::usage, "--raw", "use either --code or --raw, not both");
  }
  o.input_jsonl = flag_of(vm, "input-jsonl");
  o.each_line = flag_of(vm, "each-line") || o.input_jsonl;
  o.jsonl = flag_of(vm, "jsonl");
  o.fail_fast = flag_of(vm, "fail-fast");
  o.resume = text_of(vm, "resume");
  o.emit_batch = text_of(vm, "emit-batch");
  o.from_batch = text_of(vm, "from-batch");
  o.batch_round_trip = flag_of(vm, "batch");
  o.batch_submit = flag_of(vm, "batch-submit") || o.batch_round_trip;
  o.batch_wait = text_of(vm, "batch-wait");
  o.batch_cancel = text_of(vm, "batch-cancel");
  o.batch_list = flag_of(vm, "batch-list");
  if (auto n = text_of(vm, "jobs")) {
    o.jobs = static_cast<int>(parse_integer("--jobs", *n, 1, max_jobs));
  }
}

// Refuses the Batch API's commands where they cannot go: one at a time,
// submitting with lines to submit, and never beside the local batch files.
void check_batch_api_options(const Options& o)
{
  const int commands = int(o.batch_submit && !o.batch_round_trip) + int(o.batch_round_trip) +
                       int(o.batch_wait.has_value()) + int(o.batch_cancel.has_value()) + int(o.batch_list);
  if (commands > 1) {
    throw Error(ExitStatus::usage,
                "--batch",
                "use one of --batch-submit, --batch-wait, --batch, --batch-cancel and --batch-list at a time");
  }
  if (commands == 0) {
    return;
  }
  if (o.batch_submit && !o.each_line) {
    throw Error(ExitStatus::usage,
                o.batch_round_trip ? "--batch" : "--batch-submit",
                "needs -L (--each-line) or --input-jsonl: every stdin line is one request");
  }
  for (const auto& [option, set] : { std::pair{ "--emit-batch", o.emit_batch.has_value() },
                                     { "--from-batch", o.from_batch.has_value() },
                                     { "--resume", o.resume.has_value() },
                                     { "--dry-run", o.dry_run },
                                     { "--thread", o.thread.has_value() } }) {
    if (set) {
      throw Error(ExitStatus::usage, option, "does not work with the Batch API's commands");
    }
  }
  // The id goes into a URL path and messages as it is.
  for (const auto* id : { &o.batch_wait, &o.batch_cancel }) {
    const char* option = id == &o.batch_wait ? "--batch-wait" : "--batch-cancel";
    if (*id && id->value().empty()) {
      throw Error(ExitStatus::usage, option, "the batch id is empty");
    }
    if (*id && !is_batch_api_id(**id)) {
      throw Error(ExitStatus::usage,
                  option,
                  quoted(**id, 80) + " is not a batch id: one is " + std::string(batch_api_id_shape) +
                    ", as batch_abc123");
    }
  }
}

// Refuses batch options without batch mode and what batch mode cannot do.
void check_batch_options(const po::variables_map& vm, const Options& o)
{
  if (!o.each_line && o.from_batch) {
    // --from-batch alone needs no input: it prints the file's results in
    // line order. What only sending lines uses still needs -L.
    for (const char* batch_only : { "fail-fast", "resume", "jobs" }) {
      if (vm.count(batch_only) && !vm[batch_only].defaulted()) {
        throw Error(
          ExitStatus::usage, std::string("--") + batch_only, "only works with -L (--each-line) or --input-jsonl");
      }
    }
    for (const auto& [option, set] : { std::pair{ "--dry-run", o.dry_run },
                                       { "--code", o.code },
                                       { "--raw", o.raw },
                                       { "--thread", o.thread.has_value() } }) {
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
    if (o.thread) {
      throw Error(ExitStatus::usage,
                  "--thread",
                  "does not work with -L (--each-line): a thread is one conversation, a batch many");
    }
    if (std::find(o.files.begin(), o.files.end(), "-") != o.files.end()) {
      throw Error(ExitStatus::usage, "--file", "'-' (stdin) does not work with -L: stdin holds the prompts");
    }
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
}

} // namespace

Command parse_command_line(std::span<const char* const> args,
                           const Environment& env,
                           const std::vector<std::vector<std::string>>& above_env,
                           const std::vector<std::vector<std::string>>& below_env)
{
  CommandOrder order;
  const po::variables_map vm = parse_layers(args, env, above_env, below_env, order);
  Command command;
  command.action = action_of(vm);
  if (command.action == Command::Action::help || command.action == Command::Action::version) {
    return command;
  }
  read_request(vm, command.options);
  read_attachments(vm, order, command.options);
  read_connection(vm, command.options);
  read_run(vm, command.options);
  check_batch_api_options(command.options);
  if (!command.options.batch_wait) { // --batch-wait prints results as --from-batch does: --jsonl too
    check_batch_options(vm, command.options);
  }
  return command;
}

std::string help_text()
{
  // Descriptions start in this column; their further lines too.
  constexpr std::size_t description_column = 27;
  std::string text = "Usage: gptq [OPTIONS] [PROMPT...]\n"
                     "Ask an OpenAI-compatible chat model one question; print only the answer.\n"
                     "The prompt is the PROMPT words, then stdin when it is not a terminal.\n";
  std::optional<std::string_view> group;
  for (const OptionSpec& option : option_table()) {
    if (option.group != group) {
      group = option.group;
      text += '\n';
      if (!option.group.empty()) {
        text += option.group;
        text += ":\n";
      }
    }
    std::string line = option.letter != 0 ? std::string("  -") + option.letter + ", --" : "      --";
    line += option.name;
    if (!option.argument.empty()) {
      line += ' ';
      line += option.argument;
    }
    line.resize(std::max(description_column, line.size() + 2), ' ');
    std::string_view help = option.help;
    for (auto end = help.find('\n'); end != std::string_view::npos; end = help.find('\n')) {
      text += line;
      text += help.substr(0, end + 1);
      help.remove_prefix(end + 1);
      line.assign(description_column, ' ');
    }
    text += line;
    text += help;
    text += '\n';
  }
  return text + "\nThe API key is read from $OPENAI_API_KEY. See 'man gptq' for exit codes.\n";
}

} // namespace gptq
