#include "option_table.hpp"

#include <algorithm>
#include <iterator>

namespace gptq {

namespace {

using enum OptionArity;
using enum ConfigUse;

// An array, not a map: nothing to build at start-up, and a run looks up a
// handful of names at most. One option a row, as a table reads:
// clang-format off
constexpr OptionSpec options[] = {
  { "system",          's', value, key,    "Prompt",     "TEXT",      "system message (the persona); none by default" },
  { "role",            'r', value, none,   "Prompt",     "NAME",      "use a role from the config file (persona, options)" },
  { "file",            'f', list,  none,   "Prompt",     "PATH",      "add a file to the prompt (repeatable; - is stdin):\ntext, an image, a PDF or audio (WAV, MP3), or an\nimage's http(s) URL" },
  { "file-type",       0,   list,  none,   "Prompt",     "MIME",      "the type of the next -f, whatever its content says\n(image/png, application/pdf, audio/wav...)" },
  { "detail",          0,   value, key,    "Prompt",     "LEVEL",     "image detail: low, high or auto" },
  { "max-attachment",  0,   value, key,    "Prompt",     "SIZE",      "largest image, PDF or audio file (K, M, G)\n[default: 20M]" },
  { "attachments",     0,   value, key,    "Prompt",     "KINDS",     "what the server takes: image,pdf,audio or none\n[default: all]" },
  { "no-stdin",        0,   flag,  none,   "Prompt",     "",          "do not read stdin, even when it is not a terminal" },
  { "dry-run",         0,   flag,  none,   "Prompt",     "",          "print the JSON request body, attachments shortened\n(--dry-run=full: whole); send nothing" },
  { "thread",          'C', value, none,   "Prompt",     "FILE",      "continue the conversation in FILE and add this turn\nto it (created when missing)" },
  { "thread-tail",     0,   value, none,   "Prompt",     "N",         "send only the last N turns of the thread" },

  { "model",           'm', value, key,    "Model",      "NAME",      "model [$GPTQ_MODEL, default: gpt-4o-mini]" },
  { "temperature",     't', value, key,    "Model",      "X",         "sampling temperature, 0 to 2" },
  { "max-tokens",      0,   value, key,    "Model",      "N",         "longest reply, in tokens" },
  { "top-p",           0,   value, key,    "Model",      "X",         "nucleus sampling, 0 to 1" },
  { "seed",            0,   value, key,    "Model",      "N",         "ask for repeatable sampling" },
  { "stop",            0,   list,  none,   "Model",      "SEQ",       "stop at SEQ (repeatable)" },
  { "option",          'o', list,  none,   "Model",      "KEY=VALUE", "set any request field (VALUE as JSON, else text)" },
  { "json",            0,   flag,  toggle, "Model",      "",          "ask for a JSON object as the reply" },
  { "schema",          0,   value, key,    "Model",      "FILE",      "ask for JSON that follows the JSON Schema in FILE" },

  { "no-stream",       0,   flag,  none,   "Output",     "",          "print the reply when complete, not as it arrives", "stream" },
  { "stream",          0,   flag,  toggle, "Output",     "",          "stream it (the default, unless the config says no)" },
  { "reasoning",       0,   flag,  toggle, "Output",     "",          "show the model's reasoning text on stderr" },
  { "usage",           0,   flag,  toggle, "Output",     "",          "print the token usage on stderr" },
  { "code",            0,   flag,  none,   "Output",     "",          "print only the code blocks of the reply" },
  { "raw",             0,   flag,  none,   "Output",     "",          "print the server's JSON, not the reply text" },

  { "each-line",       'L', flag,  none,   "Batch",      "",          "every stdin line is a prompt; one result line each,\nin input order" },
  { "input-jsonl",     0,   flag,  none,   "Batch",      "",          "every stdin line is a JSON request: {\"prompt\": ...}" },
  { "jsonl",           0,   flag,  none,   "Batch",      "",          "write each result as a JSON line, with its input" },
  { "jobs",            'j', value, none,   "Batch",      "N",         "requests in flight, 1 to 64 [default: 4]" },
  { "fail-fast",       0,   flag,  none,   "Batch",      "",          "stop at the first line that fails" },
  { "resume",          0,   value, none,   "Batch",      "FILE",      "skip the lines FILE (a --jsonl output) has done" },
  { "emit-batch",      0,   value, none,   "Batch",      "FILE",      "write OpenAI Batch API requests to FILE instead" },
  { "from-batch",      0,   value, none,   "Batch",      "FILE",      "print the results of a Batch API output FILE" },
  { "batch-submit",    0,   flag,  none,   "Batch",      "",          "send the lines to the provider's Batch API; print\nthe batch id" },
  { "batch-wait",      0,   value, none,   "Batch",      "ID",        "wait for batch ID, then print its results in order" },
  { "batch",           0,   flag,  none,   "Batch",      "",          "--batch-submit, then --batch-wait, in one run" },
  { "batch-cancel",    0,   value, none,   "Batch",      "ID",        "cancel batch ID" },
  { "batch-list",      0,   flag,  none,   "Batch",      "",          "list recent batches with status and counts" },

  { "api",             0,   value, key,    "Connection", "API",       "chat (Chat Completions) or responses (Responses)\n[default: chat]" },
  { "base-url",        0,   value, key,    "Connection", "URL",       "API base URL [$OPENAI_BASE_URL,\ndefault: https://api.openai.com/v1]" },
  { "header",          'H', list,  none,   "Connection", "'N: V'",    "add a request header (repeatable)" },
  { "key-header",      0,   value, key,    "Connection", "NAME",      "send the key as NAME: KEY, not as a Bearer token\n[default: api-key for Azure, else Authorization]" },
  { "proxy",           0,   value, key,    "Connection", "URL",       "http://, socks5:// or socks5h:// proxy ('' for none)\n[$HTTPS_PROXY, $HTTP_PROXY, $ALL_PROXY]" },
  { "no-proxy",        0,   value, key,    "Connection", "LIST",      "hosts to reach directly [$NO_PROXY]" },
  { "cacert",          0,   value, key,    "Connection", "FILE",      "also trust the CA certificates in FILE" },
  { "connect-timeout", 0,   value, key,    "Connection", "S",         "seconds to connect and handshake [default: 10]" },
  { "idle-timeout",    0,   value, key,    "Connection", "S",         "longest silence from the server [default: 600]" },
  { "timeout",         0,   value, key,    "Connection", "S",         "limit for the whole request [default: none]" },
  { "retries",         0,   value, key,    "Connection", "N",         "retries after a rate limit, server error or\nconnection failure [default: 2]" },
  { "verbose",         'v', flag,  toggle, "Connection", "",          "show the connection, attempts and timings" },

  { "config",          0,   value, none,   "Config",     "FILE",      "config file [$GPTQ_CONFIG,\ndefault: ~/.config/gptq/config]" },
  { "profile",         'P', value, none,   "Config",     "NAME",      "use a provider profile from it [$GPTQ_PROFILE]" },
  { "list-roles",      0,   flag,  none,   "Config",     "",          "print the roles of the config file" },
  { "list-profiles",   0,   flag,  none,   "Config",     "",          "print the profiles of the config file" },
  { "show-config",     0,   flag,  none,   "Config",     "",          "print each setting and where it comes from; send\nnothing" },

  { "help",            'h', flag,  none,   "",           "",          "show this help" },
  { "version",         0,   flag,  none,   "",           "",          "show version information" },
};
// clang-format on

} // namespace

std::span<const OptionSpec> option_table()
{
  return options;
}

const OptionSpec* find_option(std::string_view name)
{
  const auto found =
    std::find_if(std::begin(options), std::end(options), [&](const OptionSpec& o) { return o.name == name; });
  return found == std::end(options) ? nullptr : &*found;
}

const OptionSpec* find_config_key(std::string_view key)
{
  // Underscores for dashes, and only so: "base-url" is no config key.
  auto spells = [&](const OptionSpec& o) {
    return o.config != ConfigUse::none && o.name.size() == key.size() &&
           std::equal(
             o.name.begin(), o.name.end(), key.begin(), [](char n, char k) { return n == '-' ? k == '_' : n == k; });
  };
  const auto found = std::find_if(std::begin(options), std::end(options), spells);
  return found == std::end(options) ? nullptr : &*found;
}

std::string setting_name(const OptionSpec& spec)
{
  std::string name(spec.setting.empty() ? spec.name : spec.setting);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

} // namespace gptq
