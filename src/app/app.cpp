#include "app.hpp"

#include "activity.hpp"
#include "batch.hpp"
#include "batch_api.hpp"
#include "batch_api_client.hpp"
#include "batch_files.hpp"
#include "batch_schedule.hpp"
#include "chat_completions.hpp"
#include "config.hpp"
#include "error.hpp"
#include "file_inputs.hpp"
#include "input.hpp"
#include "interrupt.hpp"
#include "key_source.hpp"
#include "network.hpp"
#include "options.hpp"
#include "output.hpp"
#include "progress_line.hpp"
#include "prompt.hpp"
#include "proxy.hpp"
#include "reply_handler.hpp"
#include "request.hpp"
#include "response.hpp"
#include "retry.hpp"
#include "secrets.hpp"
#include "settings.hpp"
#include "show_config.hpp"
#include "text.hpp"
#include "thread_file.hpp"
#include "url.hpp"

#include <boost/version.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

namespace gptq {

namespace {

// Seconds are positive and at most 1e6 (options.cpp), so adding a half and
// truncating rounds as llround would, without linking libm for one call.
std::chrono::milliseconds to_ms(double seconds)
{
  return std::chrono::milliseconds(std::max<long long>(1, static_cast<long long>(seconds * 1000 + 0.5)));
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

// How long a run waits for another that holds its thread file (-C): the
// --timeout the user gave for the whole request, else as long as the
// default limit of the server's silence, a reply's worth.
std::chrono::seconds lock_limit(const Options& options)
{
  if (options.timeout) {
    // Rounded by hand: std::llround would link libm (see tests/link).
    return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(*options.timeout + 0.5)));
  }
  return std::chrono::seconds(600);
}

// The user message as a -C thread keeps it: its text, or with attachments
// its whole line (chat_message_json), parts and all.
struct KeptUser {
  std::string text;
  bool is_line = false;
};

// Reads the config file and a role's system_file for resolve_settings.
std::optional<std::string> read_settings_file(const std::string& path, const std::string& what, bool may_be_missing)
{
  if (may_be_missing && !std::ifstream(path).good()) {
    return std::nullopt;
  }
  return read_user_file(path, what, settings_limit);
}

class Run {
public:
  explicit Run(const AppContext& context)
    : context_(context)
  {
  }

  ExitStatus operator()(std::span<const char* const> args)
  {
    const Settings settings = resolve_settings(args, context_.env, read_settings_file);
    const Command& command = settings.command;
    // Before the key, stdin or the network: a reply that can reach no one
    // must not be asked for (or paid).
    if (context_.stdout_closed && !command.options.emit_batch) {
      throw Error(ExitStatus::internal, "", "stdout is closed; nothing was sent");
    }
    ReplyWriter out(context_.stdout_fd, ReplyWriter::Ending::one_newline);
    if (command.action != Command::Action::run) {
      return answer_without_request(settings, out);
    }
    Options options = command.options;
    verbose_ = options.verbose;
    attachments_origin_ = setting_origin(settings, "attachments");
    if (options.schema_file) {
      options.schema_text = read_user_file(*options.schema_file, "--schema", settings_limit);
    }
    const Url endpoint = endpoint_url(parse_url(options.base_url), endpoint_path(options.api));
    read_key(settings, options, endpoint);

    if (options.system) {
      require_utf8(*options.system, "--system");
    }
    if (options.batch_wait || options.batch_cancel || options.batch_list) {
      return run_batch_api_command(options);
    }
    if (options.each_line) {
      return run_each_line(options, endpoint);
    }
    if (options.from_batch) {
      // Without -L there are no input lines: stdin is not read.
      BatchSettings batch;
      batch.jsonl_out = options.jsonl;
      return from_batch(
        batch, results_file(*options.from_batch), *options.from_batch, std::nullopt, context_.stdout_fd, *context_.err);
    }
    // Locked before the prompt is read and kept until the turn is added:
    // another gptq on the same file waits, then continues from this answer.
    std::optional<ThreadFile> thread;
    std::vector<Message> earlier;
    KeptUser thread_user; // the user message as the thread keeps it
    if (options.thread) {
      thread.emplace(*options.thread, options.dry_run, *context_.err, lock_limit(options));
      if (thread_system_holds(thread->thread(), settings.system_chosen)) {
        options.system.reset(); // a default's: the thread's own is sent
      }
      earlier = thread_messages(thread->thread(), options.system.has_value(), options.thread_tail);
    }
    std::string body = request_body_from_input(options, endpoint, earlier, thread ? &thread_user : nullptr);
    if (options.dry_run) {
      out.write(body);
      out.finish();
      return ExitStatus::ok;
    }

    const HttpRequest request = build_http_request(
      endpoint, std::move(body), key_, options.stream, key_header_for(endpoint, options.key_header), options.headers);
    TransportOptions transport = network_options(options, endpoint);
    verbose("POST " + endpoint.scheme + "://" + endpoint.authority() + endpoint.target());
    send_and_keep_turn(request, transport, options, out, thread ? &*thread : nullptr, thread_user);
    return ExitStatus::ok;
  }

  // Returns `text` without the secrets known so far. Server text is
  // redacted before it is cut to an excerpt (secrets_ is handed to all that
  // make excerpts); this is the last line of defence for what was not.
  std::string scrub(std::string text) const { return secrets_.redact(std::move(text)); }

private:
  // Carries out a command that sends nothing (--list-roles, --list-profiles,
  // --show-config, --help, --version), writing its answer to `out`.
  ExitStatus answer_without_request(const Settings& settings, ReplyWriter& out)
  {
    const Command& command = settings.command;
    if (command.action == Command::Action::list_roles || command.action == Command::Action::list_profiles) {
      const bool roles = command.action == Command::Action::list_roles;
      for (const auto& name : roles ? settings.role_names : settings.profile_names) {
        out.write(name + "\n");
      }
      return ExitStatus::ok;
    }
    if (command.action == Command::Action::show_config) {
      // Before the key, stdin or any file a run reads: nothing is sent.
      auto shown = shown_settings(settings, context_.env);
      if (command.options.thread) {
        add_thread_setting(shown, command.options, settings.system_chosen);
      }
      out.write(format_settings(shown));
      return ExitStatus::ok;
    }
    if (command.action == Command::Action::help) {
      out.write(help_text());
      return ExitStatus::ok;
    }
    out.write(version_text());
    return ExitStatus::ok;
  }

  // Sends `request` (send_with_retries), then, with -C, appends the turn to
  // `thread`: `user_message` and the reply. A server saying its context is
  // full is told of --thread-tail.
  void send_and_keep_turn(const HttpRequest& request,
                          const TransportOptions& transport,
                          const Options& options,
                          ReplyWriter& out,
                          ThreadFile* thread,
                          const KeptUser& user_message)
  {
    std::string reply;
    try {
      send_with_retries(request, transport, options, out, thread ? &reply : nullptr);
    } catch (const Error& e) {
      if (thread && e.kind() == FailureKind::http_status && says_context_is_full(e.what())) {
        throw e.with_message(std::string(e.what()) +
                             " (the thread is too long for the model: --thread-tail N sends only its last N turns)");
      }
      throw;
    }
    if (thread) {
      // The key is never kept, even where the server quoted it back.
      thread->append(thread_addition(thread->thread(),
                                     options.system,
                                     secrets_.redact(user_message.text),
                                     secrets_.redact(reply),
                                     user_message.is_line));
    }
  }

  // Adds -C's line to --show-config, after the system message: the file and
  // what of it a run would send. The file is read, never created or changed.
  void add_thread_setting(std::vector<ShownSetting>& shown, const Options& options, bool system_chosen)
  {
    const ThreadFile file(*options.thread, true, *context_.err, lock_limit(options));
    const bool own_system = thread_system_holds(file.thread(), system_chosen);
    const auto sent = thread_messages(file.thread(), options.system.has_value() && !own_system, options.thread_tail);
    const std::string value =
      escape_controls(*options.thread) + ": " + std::to_string(file.thread().messages().size()) + " messages, " +
      std::to_string(sent.size()) + " sent" +
      (options.thread_tail ? " (--thread-tail " + std::to_string(*options.thread_tail) + ")" : "") +
      (own_system && options.system ? "; its own system message holds over the default above" : "");
    const auto system =
      std::find_if(shown.begin(), shown.end(), [](const ShownSetting& s) { return s.name == "system"; });
    shown.insert(system == shown.end() ? shown.end() : system + 1, ShownSetting{ "thread", value, "flag" });
  }

  // Reads the API key, when a request will be sent, and makes it and every
  // credential in `options` a secret. Throws gptq::Error (auth) when
  // OpenAI's endpoint would be sent no key.
  void read_key(const Settings& settings, const Options& options, const Url& endpoint)
  {
    // The key is checked before stdin is read: a missing key should not
    // first make the user wait for (and lose) a long piped input.
    // Nothing is sent when only printing or writing requests, or reading
    // results: no key is needed then.
    const bool offline = options.dry_run || options.emit_batch || options.from_batch;
    if (!offline) {
      // A key command is bounded as the connection would be: by the whole
      // request's limit when there is one.
      const KeyCommandLimit limit{ to_ms(options.timeout.value_or(options.connect_timeout)),
                                   options.timeout ? "--timeout" : "--connect-timeout" };
      key_ = read_api_key(settings.key_source, context_.env, *context_.err, limit);
    }
    if (key_) {
      secrets_.add(*key_);
    }
    // A key may come with -H as well (another scheme, another header): the
    // values that --show-config hides, and any -H in the key's own header.
    const std::string key_header = key_header_for(endpoint, options.key_header);
    for (const auto& [name, value] : options.headers) {
      if (header_looks_secret(name, value) || find_header({ { name, value } }, key_header)) {
        secrets_.add_credentials(value);
      }
    }
    if (!key_ && is_openai(endpoint) && !offline) {
      throw Error(ExitStatus::auth,
                  "",
                  settings.key_source.file || settings.key_source.command
                    ? "the key source of " + settings.key_source.origin + " gave no key"
                    : settings.key_source.env_name + " is not set; export your OpenAI API key in it, or use "
                                                     "--base-url for a server that needs no key");
    }
  }

  // Returns the request body for the prompt words, stdin and --file, read
  // now, after `earlier` (a thread's messages); warns, before the request
  // goes, when stdin said nothing. Copies the user message to `user_copy`
  // when given (-C keeps it).
  std::string request_body_from_input(const Options& options,
                                      const Url& endpoint,
                                      std::span<const Message> earlier,
                                      KeptUser* user_copy)
  {
    std::optional<InputText> input;
    const bool stdin_is_a_file = std::find(options.files.begin(), options.files.end(), "-") != options.files.end();
    if ((!options.no_stdin || stdin_is_a_file) && is_readable_non_terminal(context_.stdin_fd)) {
      const bool have_words = !options.prompt_words.empty();
      input = read_all_input(context_.stdin_fd, "stdin", prompt_limit, context_.stdin_hint_after, [&] {
        if (have_words) {
          *context_.err << "gptq: waiting for stdin, which is open but not a terminal; close it (</dev/null) "
                           "or pass --no-stdin to send only the PROMPT\n"
                        << std::flush;
        }
      });
    }
    // Whether stdin said nothing, to be told once the prompt stands;
    // /dev/null is no stdin on purpose.
    std::optional<std::string> blank_stdin;
    if (input && !is_null_device(context_.stdin_fd)) {
      const bool other_files =
        std::any_of(options.files.begin(), options.files.end(), [](const auto& path) { return path != "-"; });
      blank_stdin = blank_stdin_warning(input->view(), !options.prompt_words.empty(), other_files, stdin_is_a_file);
    }
    // stdin, read above, is not the prompt text too when it is -f -.
    FileInputs files(options.files, options.file_types, options, &input, attachments_origin_, *context_.err);
    // The input may be most of the request: the message is the input itself
    // when it can be, and each copy is dropped as soon as the next holds it.
    std::string message_storage;
    const bool stdin_says_nothing = !input || trim(input->view()).empty();
    const bool parts_alone =
      !files.parts.empty() && options.prompt_words.empty() && stdin_says_nothing && files.texts.empty();
    const std::string_view message =
      parts_alone
        ? std::string_view()
        : user_message_view(
            options.prompt_words, input ? std::optional(input->view()) : std::nullopt, files.texts, message_storage);
    if (input && message.data() != input->view().data()) {
      input.reset();
    }
    files.texts.clear();
    std::string body = build_request_body(options, message, endpoint, earlier, files.parts);
    if (user_copy) {
      // -C keeps the turn as sent: with attachments, the message's whole
      // line, the parts written out.
      user_copy->is_line = !files.parts.empty();
      user_copy->text =
        user_copy->is_line ? chat_message_json(user_message(message, files.parts)) : std::string(message);
    }
    if (blank_stdin) {
      // Before the request goes: there is still time to stop it.
      *context_.err << "gptq: warning: " << *blank_stdin << '\n' << std::flush;
    }
    input.reset();
    message_storage = std::string();
    return body;
  }

  // The transport's settings for requests to `endpoint`, one-shot and batch
  // alike: time limits, trust, the proxy (whose credentials become secrets
  // before anything can quote them), the secrets, and -v's log.
  TransportOptions network_options(const Options& options, const Url& endpoint)
  {
    TransportOptions transport = transport_options(options);
    transport.proxy = choose_proxy(endpoint, options.proxy, options.no_proxy, context_.env);
    if (transport.proxy) {
      add_proxy_secrets(*transport.proxy);
    }
    transport.secrets = secrets_;
    if (options.verbose) {
      transport.log = [this](const std::string& line) { verbose(line); };
    }
    return transport;
  }

  // Adds the proxy's password and the Basic credentials sent to it, which a
  // proxy may quote back in its refusal.
  void add_proxy_secrets(const Proxy& proxy)
  {
    // A password is redacted from 4 bytes on: it is surely meant as a
    // secret, while a short key is a placeholder for a local server ("1",
    // "ollama"). Fewer bytes would blot out ordinary words.
    secrets_.add(proxy.password, 4);
    if (!proxy.username.empty()) {
      secrets_.add_credentials(proxy_authorization(proxy));
    }
  }

  // The provider's Batch API under --base-url, with the run's key, headers,
  // proxy, trust and retries.
  BatchApiClient batch_api(const Options& options)
  {
    const Url base = parse_url(options.base_url);
    return BatchApiClient(context_,
                          { base,
                            key_,
                            key_header_for(base, options.key_header),
                            options.headers,
                            network_options(options, base),
                            options.retries });
  }

  // --batch-wait, --batch-cancel, --batch-list: no stdin is read.
  ExitStatus run_batch_api_command(const Options& options)
  {
    BatchApiClient client = batch_api(options);
    ReplyWriter out(context_.stdout_fd, ReplyWriter::Ending::keep_blank_lines);
    if (options.batch_cancel) {
      const BatchStatus batch = client.cancel(*options.batch_cancel);
      out.write(batch.id + " " + one_line(batch.status, 40) + "\n");
      return ExitStatus::ok;
    }
    if (options.batch_list) {
      for (const BatchStatus& batch : client.list()) {
        out.write(batch.id + "  " + batch_progress_text(batch) + "\n");
      }
      return ExitStatus::ok;
    }
    BatchSettings settings;
    settings.jsonl_out = options.jsonl;
    return wait_for_batch(client, *options.batch_wait, settings);
  }

  // --batch-submit (and --batch): the request lines (as --emit-batch writes
  // them) into a file of their own, checked against the Batch API's limits,
  // uploaded and made a batch, whose id is printed; with --batch, waited for.
  // `frame` (plain lines) goes into the batch's metadata for a later
  // --batch-wait to find each line's input in the batch's input file.
  ExitStatus submit_batch(const Options& options,
                          const BatchSettings& batch,
                          const std::function<std::string(const BatchItem&)>& body_for,
                          std::optional<InputFrame> frame)
  {
    std::string path;
    struct Close {
      int fd;
      ~Close() { ::close(fd); }
    } requests{ temporary_file("gptq-batch", path) };
    // Written through its name, read through `requests`, and unlinked at
    // once: a run cut short (Ctrl-C ends gptq with _exit) leaves no file of
    // prompts behind.
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    ::unlink(path.c_str());
    if (!file.is_open()) {
      throw Error(ExitStatus::internal, "batch", "cannot write the requests to " + quoted(path));
    }
    // With --batch the input is kept (a file of its own, gone when closed)
    // for the results to be printed beside, as -L prints them.
    std::optional<int> kept_input;
    struct CloseInput {
      std::optional<int>& fd;
      ~CloseInput()
      {
        if (fd) {
          ::close(*fd);
        }
      }
    } close_input{ kept_input };
    int in_fd = context_.stdin_fd;
    if (options.batch_round_trip) {
      kept_input = unlinked_temporary_file("gptq-input");
      copy_all(context_.stdin_fd, *kept_input, "stdin", results_limit);
      ::lseek(*kept_input, 0, SEEK_SET);
      in_fd = *kept_input;
    }
    const ExitStatus emitted = emit_batch(batch, in_fd, file, *context_.err, body_for);
    file.close();
    if (!file) {
      throw Error(ExitStatus::internal, "batch", "cannot write the requests to " + quoted(path));
    }
    if (emitted != ExitStatus::ok) {
      return emitted; // a line that cannot make a request: nothing is sent
    }
    std::size_t lines = 0;
    std::uint64_t bytes = 0;
    char buffer[65536];
    for (ssize_t got; (got = ::pread(requests.fd, buffer, sizeof buffer, static_cast<off_t>(bytes))) != 0;) {
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        throw Error(
          ExitStatus::internal, "batch", std::string("cannot read the requests back: ") + std::strerror(errno));
      }
      lines += static_cast<std::size_t>(std::count(buffer, buffer + got, '\n'));
      bytes += static_cast<std::uint64_t>(got);
    }
    if (lines == 0) {
      throw Error(ExitStatus::usage, "batch", "stdin held no lines to send");
    }
    check_batch_limits(lines, bytes);
    BatchApiClient client = batch_api(options);
    const std::string file_id = client.upload(requests.fd, bytes, "gptq-batch.jsonl");
    const BatchStatus created = client.create(file_id, options.api, lines, frame);
    if (!options.batch_round_trip) {
      ReplyWriter out(context_.stdout_fd, ReplyWriter::Ending::keep_blank_lines);
      out.write(created.id + "\n");
      return ExitStatus::ok;
    }
    *context_.err << "gptq: batch " << created.id << " submitted (" << lines << " lines); waiting for it\n"
                  << std::flush;
    ::lseek(*kept_input, 0, SEEK_SET);
    return wait_for_batch(client, created.id, batch, kept_input);
  }

  // Polls batch `id` until it ends, a progress line on a terminal, then
  // prints its results in input order as --from-batch does. Ctrl-C stops
  // the wait, not the batch, and says how to take it up again.
  // With `in_fd` (--batch: the input it sent), the results are printed
  // beside their input lines as -L prints them (--jsonl with "input").
  ExitStatus wait_for_batch(BatchApiClient& client,
                            const std::string& id,
                            const BatchSettings& settings,
                            std::optional<int> in_fd = std::nullopt)
  {
    set_interrupt_note("gptq: batch " + id + " goes on at the provider: gptq --batch-wait " + id +
                       " takes it up again, gptq --batch-cancel " + id + " cancels it\n");
    std::optional<ProgressLine> progress;
    if (::isatty(context_.stderr_fd) == 1) {
      progress.emplace(context_.stderr_fd);
    }
    BatchStatus batch;
    for (int poll = 0;; ++poll) {
      batch = client.get(id);
      if (progress) {
        progress->draw("batch " + id + ": " + batch_progress_text(batch));
      }
      if (batch.ended()) {
        break;
      }
      // A server that says when to ask again (Retry-After, as on a 202) is
      // asked then, within the same 60 s at most.
      const auto asked = server_retry_wait(client.last_headers(), std::chrono::system_clock::now());
      context_.sleep(asked ? std::min(*asked, std::chrono::milliseconds(60'000)) : batch_poll_delay(poll));
    }
    if (progress) {
      progress->erase();
    }
    set_interrupt_note("");
    if (batch.status == "failed") {
      for (const auto& error : batch.errors) {
        *context_.err << "gptq: batch " << id << ": " << error << "\n";
      }
      throw Error(ExitStatus::rejected, "batch", "batch " + id + " failed: the provider did not accept its requests");
    }
    BatchFiles files;
    for (const auto& file : { batch.output_file_id, batch.error_file_id }) {
      if (file) {
        files.add_results(download(client, *file), "batch " + id + " file " + *file, ResultsFrom::provider);
      }
    }
    // Without the input at hand, the input file of a batch gptq made says
    // which lines were sent (the others were blank and keep their places)
    // and, for plain lines, what each line was.
    if (!in_fd && batch.gptq_lines && !batch.input_file_id.empty()) {
      try {
        files.add_input(download(client, batch.input_file_id), "batch " + id + " input file", batch.input_frame);
      } catch (const Error& e) {
        if (e.kind() != FailureKind::http_status) {
          throw;
        }
        // Deleted at the provider, say: the results matter more than their
        // places and inputs.
        *context_.err << "gptq: warning: cannot download batch " << id << "'s input file " << batch.input_file_id
                      << " (" << e.what() << "): its results are printed without their inputs, blank lines left out\n"
                      << std::flush;
      }
    }
    const ExitStatus printed = from_batch(settings, files, "batch " + id, in_fd, context_.stdout_fd, *context_.err);
    if (batch.status == "expired" || batch.status == "cancelled") {
      *context_.err << "gptq: batch " << id << " " << batch.status << " with "
                    << batch.counts.total - batch.counts.completed << " of " << batch.counts.total
                    << " lines unanswered\n";
      return batch_severity(printed) > batch_severity(ExitStatus::batch_unfinished) ? printed
                                                                                    : ExitStatus::batch_unfinished;
    }
    return printed;
  }

  // The content of the batch's file `file_id`, streamed down into a file
  // of its own (gone when closed), which it returns open.
  static int download(BatchApiClient& client, const std::string& file_id)
  {
    const int fd = unlinked_temporary_file("gptq-results");
    try {
      client.download(file_id, fd);
    } catch (...) {
      ::close(fd);
      throw;
    }
    return fd;
  }

  // A --from-batch file, indexed for from_batch.
  static BatchFiles results_file(const std::string& path)
  {
    BatchFiles files;
    files.add_results(open_seekable_user_file(path, "--from-batch", results_limit), path, ResultsFrom::user);
    return files;
  }

  // Batch mode: every stdin line one request (see batch.hpp).
  ExitStatus run_each_line(Options options, const Url& endpoint)
  {
    if (!context_.make_connection) {
      throw Error(ExitStatus::internal, "", "batch mode has no connections here");
    }
    // Read once: the same text and parts go with every line.
    const FileInputs files(options.files, options.file_types, options, nullptr, attachments_origin_, *context_.err);
    BatchSettings batch;
    batch.jobs = options.jobs;
    batch.retries = options.retries;
    batch.jsonl_in = options.input_jsonl;
    batch.jsonl_out = options.jsonl;
    batch.fail_fast = options.fail_fast;
    batch.api = options.api;
    if (options.resume) {
      batch.resumed = resumed_records(read_user_file(*options.resume, "--resume", results_limit), *options.resume);
      batch.resume_path = *options.resume;
    }
    // A whole reply per line: nothing is printed before it is complete.
    options.stream = false;
    // The request body of one line: its own system message and fields over
    // the command line's.
    auto body_for = [&](const BatchItem& item, const Url& to) {
      Options line_options = options;
      if (item.system) {
        line_options.system = item.system;
      }
      line_options.fields.insert(line_options.fields.end(), item.fields.begin(), item.fields.end());
      // Batch mode reads whole replies (and the Batch API has no streams):
      // a stream field from -o or the line would break every line's reply.
      std::erase_if(line_options.fields,
                    [](const auto& field) { return field.first == "stream" || field.first == "stream_options"; });
      if (item.files.empty()) {
        return build_request_body(
          line_options, assemble_user_message(options.prompt_words, item.prompt, files.texts), to, {}, files.parts);
      }
      // The line's own files ("files" of --input-jsonl) after the command
      // line's.
      const FileInputs own(item.files, {}, options, nullptr, attachments_origin_, *context_.err);
      std::vector<Attachment> texts = files.texts;
      texts.insert(texts.end(), own.texts.begin(), own.texts.end());
      std::vector<ContentPart> parts = files.parts;
      parts.insert(parts.end(), own.parts.begin(), own.parts.end());
      return build_request_body(
        line_options, assemble_user_message(options.prompt_words, item.prompt, texts), to, {}, parts);
    };
    if (options.batch_submit) {
      std::optional<InputFrame> frame;
      if (!options.input_jsonl) {
        frame = find_input_frame(
          [&](const std::string& input) { return assemble_user_message(options.prompt_words, input, files.texts); });
      }
      return submit_batch(
        options, batch, [&](const BatchItem& item) { return body_for(item, endpoint); }, frame);
    }
    if (options.emit_batch) {
      std::ofstream file(*options.emit_batch, std::ios::binary | std::ios::trunc);
      if (!file) {
        throw Error(ExitStatus::usage,
                    "--emit-batch",
                    "cannot write " + quoted(*options.emit_batch) + ": " + std::strerror(errno));
      }
      // The Batch API is OpenAI's: its field names, whatever --base-url says.
      const Url openai = endpoint_url(parse_url(default_base_url), endpoint_path(options.api));
      const ExitStatus status = emit_batch(
        batch, context_.stdin_fd, file, *context_.err, [&](const BatchItem& item) { return body_for(item, openai); });
      file.close();
      if (!file) {
        throw Error(ExitStatus::internal, "--emit-batch", "cannot write " + quoted(*options.emit_batch));
      }
      return status;
    }
    if (options.from_batch) {
      return from_batch(batch,
                        results_file(*options.from_batch),
                        *options.from_batch,
                        context_.stdin_fd,
                        context_.stdout_fd,
                        *context_.err);
    }
    TransportOptions transport = network_options(options, endpoint);
    batch.timeout = transport.total_timeout;
    BatchContext batch_context;
    batch_context.in_fd = context_.stdin_fd;
    batch_context.out_fd = context_.stdout_fd;
    batch_context.err = context_.err;
    batch_context.err_fd = context_.stderr_fd;
    batch_context.secrets = secrets_;
    batch_context.connect = [&](const boost::asio::any_io_executor& executor) {
      return context_.make_connection(executor, transport);
    };
    const std::string key_header = key_header_for(endpoint, options.key_header);
    batch_context.request_for = [&](const BatchItem& item) {
      return build_http_request(endpoint, body_for(item, endpoint), key_, false, key_header, options.headers);
    };
    return run_batch(batch, batch_context);
  }

  // Whether the user set the reply's token limit: --max-tokens, or the
  // field itself through -o.
  static bool max_tokens_given(const Options& options)
  {
    return options.max_tokens.has_value() ||
           std::any_of(options.fields.begin(), options.fields.end(), [](const auto& field) {
             return field.first == "max_tokens" || field.first == "max_completion_tokens" ||
                    field.first == "max_output_tokens";
           });
  }

  // Sends `request` until it succeeds or may not be tried again, as
  // decide_retry says: at most options.retries more times, only while
  // nothing was written to stdout, and never past --timeout, which bounds
  // all the tries together.
  // With `transcript`, the reply's whole text is left there.
  void send_with_retries(const HttpRequest& request,
                         TransportOptions transport,
                         const Options& options,
                         ReplyWriter& out,
                         std::string* transcript)
  {
    const auto start = std::chrono::steady_clock::now();
    const auto total = transport.total_timeout;
    std::minstd_rand random(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::optional<Error> first; // the first try's failure, named too when the last differs
    for (int attempt = 0;; ++attempt) {
      TryState state{ attempt, options.retries, false, std::nullopt };
      if (total) {
        state.time_left = std::max(
          std::chrono::milliseconds(1),
          *total - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
        transport.total_timeout = state.time_left;
      }
      if (transcript) {
        transcript->clear(); // a try that failed before printing is not the reply
      }
      ActivityIndicator activity(context_.stderr_fd);
      ReplyHandler handler(out,
                           *context_.err,
                           [&] { activity.stop(); },
                           { options.reasoning,
                             options.usage,
                             options.code,
                             options.raw,
                             max_tokens_given(options),
                             secrets_,
                             request.url.text(),
                             options.api,
                             transcript });
      try {
        context_.make_transport(transport)->send(request, handler);
        handler.finish();
        return;
      } catch (const Error& e) {
        activity.stop();
        if (e.status() == ExitStatus::stdout_closed) {
          throw;
        }
        if (!first) {
          first = e;
        }
        state.reply_started = out.started();
        if (total) {
          // The time the try took is not left for the wait.
          state.time_left =
            *total - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        }
        const RetryDecision decision =
          decide_retry(e, handler.error_response(), state, std::chrono::system_clock::now(), unit(random));
        if (decision.action == RetryDecision::Action::give_up) {
          if (state.reply_started) {
            out.finish(); // keep what was printed, and end its line
          }
          throw with_first_failure(with_reason(e, decision), *first, attempt + 1, secrets_);
        }
        verbose("attempt " + std::to_string(attempt + 1) + " failed: " + e.what() + "; " + decision.reason);
        context_.sleep(decision.wait);
      }
    }
  }

  void verbose(const std::string& line) const
  {
    if (verbose_) {
      *context_.err << escape_controls(scrub("gptq: " + line)) << '\n' << std::flush;
    }
  }

  const AppContext& context_;
  std::optional<std::string> key_;
  Secrets secrets_; // the key's and every credential's, once known
  bool verbose_ = false;
  std::string attachments_origin_; // where --attachments was set, for messages
};

} // namespace

std::string version_text()
{
  // As curl -V does: what a bug report needs. Boost is compiled in, so its
  // version is the headers'; OpenSSL is the shared library found at run
  // time, which a system update may have changed since the build.
  std::string text = std::string("gptq ") + GPTQ_VERSION + "\n";
  text += "Boost " + std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
          std::to_string(BOOST_VERSION % 100) + ", " + tls_library_version() + "\n";
#if defined(__clang__)
  text += "built with clang " __clang_version__;
#elif defined(__GNUC__)
  text += "built with GCC " __VERSION__;
#endif
#if defined(__x86_64__)
  text += " for x86_64";
#elif defined(__aarch64__)
  text += " for aarch64";
#endif
  text += "\n";
  return text;
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
    // A server may quote the key back in its error message. Whatever a
    // message quotes, it stays one line that sends the terminal nothing.
    err << escape_controls(run.scrub(line)) << '\n' << std::flush;
    return static_cast<int>(e.status());
  } catch (const std::bad_alloc&) {
    err << "gptq: out of memory\n" << std::flush;
  } catch (const std::exception& e) {
    err << run.scrub(std::string("gptq: internal error: ") + e.what()) << '\n' << std::flush;
  }
  return static_cast<int>(ExitStatus::internal);
}

} // namespace gptq
