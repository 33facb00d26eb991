#pragma once

#include "environment.hpp"
#include "headers.hpp"

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

inline constexpr const char* default_model = "gpt-4o-mini";
inline constexpr const char* default_base_url = "https://api.openai.com/v1";
inline constexpr double default_connect_timeout = 10;
inline constexpr double default_idle_timeout = 600;
inline constexpr int default_retries = 2;
inline constexpr int max_retries = 10;
inline constexpr int default_jobs = 4;
inline constexpr int max_jobs = 64;
inline constexpr std::size_t default_max_attachment = std::size_t{ 20 } << 20;

// The wire format of the request and reply: OpenAI's Chat Completions
// (POST .../chat/completions, what nearly every server speaks) or its
// Responses API (POST .../responses, the only one some models are on).
enum class Api { chat, responses };

// Returns the path of the API's endpoint under the base URL:
// "/chat/completions" or "/responses".
inline std::string_view endpoint_path(Api api)
{
  return api == Api::responses ? "/responses" : "/chat/completions";
}

// Everything the command line and the environment decide for one run.
struct Options {
  std::optional<std::string> system;     // -s; no system message when absent
  std::vector<std::string> prompt_words; // PROMPT...
  std::vector<std::string> files;        // -f, in order; "-" is stdin
  // --file-type MIME of each -f (the one given just before it), or none:
  // told by the content. As long as `files`.
  std::vector<std::optional<std::string>> file_types;
  std::optional<std::string> detail;                     // --detail low|high|auto, for images
  std::size_t max_attachment = default_max_attachment;   // --max-attachment, bytes, for each binary -f
  std::optional<std::set<std::string>> attachment_kinds; // --attachments: "image", "pdf", "audio"; all when absent
  std::optional<std::string> thread;                     // -C FILE: the conversation to continue and add to
  std::optional<long long> thread_tail;                  // --thread-tail N: only the last N turns are sent
  std::string model = default_model;
  std::string base_url = default_base_url;
  Api api = Api::chat; // --api
  std::optional<double> temperature;
  std::optional<long long> max_tokens;
  std::optional<double> top_p;
  std::optional<long long> seed;
  std::vector<std::string> stop;                           // --stop, in order
  std::vector<std::pair<std::string, std::string>> fields; // -o KEY=VALUE, VALUE as written
  bool json = false;                                       // --json
  std::optional<std::string> schema_file;                  // --schema FILE
  std::optional<std::string> schema_text;                  // its contents, read by the app
  double connect_timeout = default_connect_timeout;        // seconds
  double idle_timeout = default_idle_timeout;              // seconds
  std::optional<double> timeout;                           // seconds; none by default
  std::optional<std::string> cacert;
  std::optional<std::string> proxy;    // --proxy; "" means none
  std::optional<std::string> no_proxy; // --no-proxy
  int retries = default_retries;
  Headers headers;                       // -H, in order
  std::optional<std::string> key_header; // --key-header
  bool verbose = false;
  std::optional<std::string> config_file; // --config
  std::optional<std::string> role;        // -r
  std::optional<std::string> profile;     // -P
  bool dry_run = false;
  bool dry_run_full = false; // --dry-run=full: attachments whole, not shortened
  bool no_stdin = false;
  bool stream = true;                      // --no-stream turns it off
  bool reasoning = false;                  // show reasoning text on stderr
  bool usage = false;                      // print token usage on stderr
  bool code = false;                       // --code: only the fenced code blocks of the reply
  bool raw = false;                        // --raw: the server's JSON instead of the text
  bool each_line = false;                  // -L: every stdin line is one prompt (batch mode)
  bool input_jsonl = false;                // --input-jsonl: every stdin line a JSON request (implies -L)
  bool jsonl = false;                      // --jsonl: one JSON record per result
  int jobs = default_jobs;                 // -j: requests in flight
  bool fail_fast = false;                  // stop the batch at the first failed line
  std::optional<std::string> resume;       // --resume FILE: a previous --jsonl output
  std::optional<std::string> emit_batch;   // --emit-batch FILE: write Batch API requests there
  std::optional<std::string> from_batch;   // --from-batch FILE: a Batch API output to print
  bool batch_submit = false;               // --batch-submit (and --batch): the lines to the Batch API
  std::optional<std::string> batch_wait;   // --batch-wait ID (or --batch): wait, then print the results
  bool batch_round_trip = false;           // --batch: submit, then wait
  std::optional<std::string> batch_cancel; // --batch-cancel ID
  bool batch_list = false;                 // --batch-list
};

// What the command line asks for: a run, or one of the informational
// outputs that need no request.
struct Command {
  enum class Action { run, help, version, list_roles, list_profiles, show_config };
  Action action = Action::run;
  Options options;
};

// Arguments from one source, and which: "flag" (the command line),
// "env NAME", or "config FILE:LINE [SECTION]". --show-config names it.
struct SourcedArguments {
  std::vector<std::string> args;
  std::string origin;
};

// The environment's layer of arguments: GPTQ_MODEL as --model and
// OPENAI_BASE_URL as --base-url, each with its variable as the origin; an
// empty variable counts as unset.
std::vector<SourcedArguments> environment_arguments(const Environment& env);

// Returns the long names of the options that `args` set ("model",
// "set-stream", "prompt" for PROMPT words), without checking their values.
// Throws gptq::Error (usage) when `args` are not options at all.
std::set<std::string> options_in(const std::vector<std::string>& args);

// Parses `args` (argv without argv[0]) with `env` supplying GPTQ_MODEL and
// OPENAI_BASE_URL. Returns the command; throws gptq::Error (usage) naming
// the option and what is wrong with its value. The first source that sets an
// option wins: `args`, then each of `above_env` (the role's and the
// profile's settings, as arguments), then the environment, then each of
// `below_env` (a default_profile's settings and the config file's top
// level), then the built-in defaults. PROMPT words are "prompt" and config
// switches "--set-NAME" inside; in `args` neither may be given by name.
Command parse_command_line(std::span<const char* const> args,
                           const Environment& env,
                           const std::vector<std::vector<std::string>>& above_env = {},
                           const std::vector<std::vector<std::string>>& below_env = {});

// Returns the --help text: short, grouped, under 80 columns; the options
// as the option table (option_table.hpp) lists and describes them.
std::string help_text();

} // namespace gptq
