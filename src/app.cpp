#include "app.hpp"

#include "activity.hpp"
#include "error.hpp"
#include "input.hpp"
#include "options.hpp"
#include "output.hpp"
#include "prompt.hpp"
#include "reply_handler.hpp"
#include "request.hpp"
#include "response.hpp"
#include "text.hpp"
#include "url.hpp"

#include <boost/version.hpp>
#include <openssl/crypto.h>

#include <cmath>

namespace gptq {

namespace {

std::chrono::milliseconds to_ms(double seconds)
{
  return std::chrono::milliseconds(std::max<long long>(1, std::llround(seconds * 1000)));
}

TransportOptions transport_options(const Options& options)
{
  TransportOptions t;
  t.connect_timeout = to_ms(options.connect_timeout);
  t.idle_timeout = to_ms(options.idle_timeout);
  if (options.timeout) {
    t.total_timeout = to_ms(*options.timeout);
  }
  t.cacert = options.cacert;
  return t;
}

// Returns the API key from OPENAI_API_KEY, or nullopt when it is unset or
// empty. Throws gptq::Error (auth) when it could not be sent in a header;
// the message never repeats the key.
std::optional<std::string> api_key(const Environment& env)
{
  auto raw = env("OPENAI_API_KEY");
  if (!raw) {
    return std::nullopt;
  }
  const std::string key(trim(*raw));
  if (key.empty()) {
    return std::nullopt;
  }
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      throw Error(ExitStatus::auth,
                  "",
                  "OPENAI_API_KEY contains spaces, control or non-ASCII characters, so it cannot be sent; "
                  "check how it was set");
    }
  }
  return key;
}

class Run {
public:
  explicit Run(const AppContext& context) : context_(context) {}

  ExitStatus operator()(std::span<const char* const> args)
  {
    const Command command = parse_command_line(args, context_.env);
    ReplyWriter out(context_.stdout_fd);
    if (command.action == Command::Action::help) {
      out.write(help_text());
      return ExitStatus::ok;
    }
    if (command.action == Command::Action::version) {
      out.write(version_text());
      return ExitStatus::ok;
    }
    const Options& options = command.options;
    const Url endpoint = endpoint_url(parse_url(options.base_url), "/chat/completions");

    // The key is checked before stdin is read: a missing key should not
    // first make the user wait for (and lose) a long piped input.
    key_ = api_key(context_.env);
    if (!key_ && is_openai(endpoint) && !options.dry_run) {
      throw Error(ExitStatus::auth,
                  "",
                  "OPENAI_API_KEY is not set; export your OpenAI API key in it, or use --base-url for a "
                  "server that needs no key");
    }

    if (options.system) {
      require_utf8(*options.system, "--system");
    }
    std::optional<std::string> input;
    if (!options.no_stdin && is_readable_non_terminal(context_.stdin_fd)) {
      const bool have_words = !options.prompt_words.empty();
      input = read_all_input(context_.stdin_fd, context_.stdin_hint_after, [&] {
        if (have_words) {
          *context_.err << "gptq: waiting for stdin, which is open but not a terminal; close it (</dev/null) "
                           "or pass --no-stdin to send only the PROMPT\n"
                        << std::flush;
        }
      });
    }
    const std::string user_message = assemble_user_message(options.prompt_words, input);
    std::string body = build_request_body(options, user_message, endpoint);
    if (options.dry_run) {
      out.write(body);
      out.finish();
      return ExitStatus::ok;
    }

    const HttpRequest request = build_http_request(endpoint, std::move(body), key_, options.stream);
    ActivityIndicator activity(context_.stderr_fd);
    ReplyHandler handler(out, *context_.err, [&] { activity.stop(); }, {options.reasoning, options.usage, key_});
    try {
      context_.make_transport(transport_options(options))->send(request, handler);
      handler.finish();
    } catch (const Error& e) {
      activity.stop();
      if (!out.started() || e.status() == ExitStatus::stdout_closed) {
        throw;
      }
      // Keep what was printed, end its line, and say it is not all.
      out.finish();
      throw Error(e.status(), e.phase(), std::string(e.what()) + "; the reply is incomplete");
    }
    return ExitStatus::ok;
  }

  // The key, once known, so that error messages can be scrubbed of it.
  const std::optional<std::string>& key() const { return key_; }

private:
  const AppContext& context_;
  std::optional<std::string> key_;
};

} // namespace

std::string version_text()
{
  return std::string("gptq ") + GPTQ_VERSION + "\n" + "Boost " + std::to_string(BOOST_VERSION / 100000) + "." +
         std::to_string(BOOST_VERSION / 100 % 1000) + "." + std::to_string(BOOST_VERSION % 100) + ", " +
         OpenSSL_version(OPENSSL_VERSION) + "\n";
}

int run_app(std::span<const char* const> args, const AppContext& context)
{
  Run run(context);
  std::ostream& err = *context.err;
  try {
    return static_cast<int>(run(args));
  } catch (const Error& e) {
    if (e.status() == ExitStatus::stdout_closed) {
      return static_cast<int>(e.status()); // the reader left; nothing to tell
    }
    std::string line = "gptq: ";
    if (!e.phase().empty()) {
      line += e.phase() + ": ";
    }
    line += e.what();
    // A server may quote the key back in its error message.
    err << redact(line, run.key().value_or("")) << '\n' << std::flush;
    return static_cast<int>(e.status());
  } catch (const std::bad_alloc&) {
    err << "gptq: out of memory\n" << std::flush;
  } catch (const std::exception& e) {
    err << redact(std::string("gptq: internal error: ") + e.what(), run.key().value_or("")) << '\n' << std::flush;
  }
  return static_cast<int>(ExitStatus::internal);
}

} // namespace gptq
