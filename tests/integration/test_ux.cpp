// A newcomer's first hour (issue 14): an empty stdin is said, not sent
// silently; --from-batch stands alone; a name that cannot be resolved says
// whose name it is and is not asked again when it does not exist.

#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>

#include <unistd.h>

namespace json = boost::json;
using namespace gptq::it;

namespace {

std::size_t line_count(const std::string& text)
{
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A run that succeeded with `expected_out` and said exactly one warning line
// on stderr, which it returns.
std::string check_warned(const RunResult& r, const std::string& expected_out)
{
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == expected_out);
    BOOST_TEST(starts_with(r.err, "gptq: warning: "));
    BOOST_TEST(line_count(r.err) == 1u);
    BOOST_TEST(!contains(r.err, fake_key));
  }
  return r.err;
}

} // namespace

// --- An empty stdin ----------------------------------------------------------

BOOST_AUTO_TEST_SUITE(empty_stdin)

// `git diff --cached | gptq "write a commit message"` with nothing staged:
// the answer is made up from the words alone, and the user is told so.
BOOST_AUTO_TEST_CASE(an_empty_pipe_after_prompt_words_is_warned_of)
{
  const std::string err = check_warned(run_gptq_https("echo", { "write", "a", "commit", "message" }, StdinSpec::of("")),
                                       "write a commit message\n");
  BOOST_TEST(err == "gptq: warning: stdin was empty; only the PROMPT words are sent "
                    "(use --no-stdin or </dev/null when that is meant)\n",
             err);
}

BOOST_AUTO_TEST_CASE(a_blank_pipe_is_warned_of_as_white_space)
{
  const std::string err =
    check_warned(run_gptq_https("echo", { "only", "words" }, StdinSpec::of(" \n\t\n")), "only words\n");
  BOOST_TEST(contains(err, "stdin held only white space; only the PROMPT words are sent"), err);
}

BOOST_AUTO_TEST_CASE(an_empty_file_on_stdin_is_warned_of)
{
  const std::string path = scratch_file("empty-stdin.txt", "");
  const std::string err = check_warned(run_gptq_https("echo", { "summarise" }, StdinSpec::file(path)), "summarise\n");
  BOOST_TEST(contains(err, "stdin was empty"), err);
}

// /dev/null, a closed stdin and --no-stdin are no input on purpose (the
// waiting hint itself suggests </dev/null); a terminal is not read at all.
BOOST_AUTO_TEST_CASE(no_input_on_purpose_is_not_warned_of)
{
  check_success(run_gptq_https("echo", { "just", "words" }, StdinSpec::dev_null()), "just words\n");
  check_success(run_gptq_https("echo", { "just", "words" }, StdinSpec::closed()), "just words\n");
  check_success(run_gptq_https("echo", { "--no-stdin", "just", "words" }, StdinSpec::of("")), "just words\n");
}

BOOST_AUTO_TEST_CASE(the_warning_names_the_files_sent_instead)
{
  const std::string path = scratch_file("notes-for-empty-stdin.txt", "a note\n");
  const RunResult with_words = run_gptq_https("echo", { "-f", path, "review" }, StdinSpec::of(""));
  const std::string err = check_warned(with_words, with_words.out);
  BOOST_TEST(contains(err, "only the PROMPT words and --file files are sent"), err);
  BOOST_TEST(contains(with_words.out, "a note"), with_words.describe());

  const RunResult files_only = run_gptq_https("echo", { "-f", path }, StdinSpec::of(""));
  BOOST_TEST(contains(check_warned(files_only, files_only.out), "only the --file files are sent"));
}

// -f - sends stdin as a file: empty, the prompt holds an empty file.
BOOST_AUTO_TEST_CASE(an_empty_stdin_given_as_a_file_is_warned_of)
{
  const RunResult r = run_gptq_https("echo", { "-f", "-", "review" }, StdinSpec::of(""));
  const std::string err = check_warned(r, "review\n");
  BOOST_TEST(err == "gptq: warning: stdin (-f -) was empty; it adds nothing to the prompt\n", err);
}

// --dry-run shows the request that would go: the warning applies to it.
BOOST_AUTO_TEST_CASE(a_dry_run_warns_as_well)
{
  const RunResult r = run_gptq({ "--dry-run", "words" }, base_env(), StdinSpec::of(""));
  check_warned(r, r.out);
  BOOST_TEST(contains(r.out, R"("content":"words")"), r.describe());
}

// Without words or files an empty stdin stays the usage error it was: one
// line, no warning before it.
BOOST_AUTO_TEST_CASE(an_empty_prompt_is_still_an_error_without_a_warning)
{
  const RunResult r = run_gptq_https("echo", {}, StdinSpec::of(""));
  check_failure(r, 2, { "the prompt is empty" });
  BOOST_TEST(!contains(r.err, "warning"), r.describe());
}

// In batch mode an empty stdin is no lines: nothing is sent, so nothing is
// made up either, and there is nothing to say (as xargs -r).
BOOST_AUTO_TEST_CASE(batch_mode_with_an_empty_stdin_sends_and_says_nothing)
{
  check_success(run_gptq_https("echo", { "-L", "Translate:" }, StdinSpec::of("")), "");
  check_success(run_gptq_https("echo", { "-L", "Translate:" }, StdinSpec::dev_null()), "");
}

BOOST_AUTO_TEST_SUITE_END()

// --- --from-batch without -L -------------------------------------------------

namespace {

// One line of a Batch API output file: `content` answered for `custom_id`.
std::string batch_answer(const std::string& custom_id, const std::string& content)
{
  const json::object completion{
    { "id", "chatcmpl-" + custom_id },
    { "object", "chat.completion" },
    { "choices",
      json::array{ json::object{ { "index", 0 },
                                 { "message", json::object{ { "role", "assistant" }, { "content", content } } },
                                 { "finish_reason", "stop" } } } },
  };
  return json::serialize(json::object{
           { "id", "batch_req_" + custom_id },
           { "custom_id", custom_id },
           { "response", json::object{ { "status_code", 200 }, { "request_id", "req_1" }, { "body", completion } } },
           { "error", nullptr } }) +
         "\n";
}

// The API's own order, a gap (line 2 was blank), a request it did not run
// (line 4) and a line number past 9 (ordered as a number, not as text).
std::string unordered_batch_output()
{
  return batch_answer("line-10", "Ten.") + batch_answer("line-3", "Answer\nthree.") +
         R"({"id": "batch_req_x", "custom_id": "line-4", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})"
         "\n" +
         batch_answer("line-1", "One.");
}

} // namespace

BOOST_AUTO_TEST_SUITE(from_batch_alone)

BOOST_AUTO_TEST_CASE(without_L_the_results_are_printed_in_line_order)
{
  const std::string results = scratch_file("alone-output.jsonl", unordered_batch_output());
  const RunResult r = run_gptq({ "--from-batch", results }, base_env());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 5); // the request the API did not run
    BOOST_TEST(r.out == "One.\nAnswer three.\n\nTen.\n");
    BOOST_TEST(starts_with(r.err, "gptq: line 4: "));
    BOOST_TEST(contains(r.err, "completion window expired"));
    BOOST_TEST(line_count(r.err) == 1u);
  }
}

BOOST_AUTO_TEST_CASE(without_L_jsonl_records_carry_the_line_and_no_input)
{
  const std::string results = scratch_file("alone-output-2.jsonl", unordered_batch_output());
  const RunResult r = run_gptq({ "--jsonl", "--from-batch", results }, base_env());
  BOOST_TEST_REQUIRE(r.exit_code == 5, r.describe());
  std::vector<json::object> records;
  for (std::size_t at = 0, end; (end = r.out.find('\n', at)) != std::string::npos; at = end + 1) {
    records.push_back(json::parse(r.out.substr(at, end - at)).as_object());
  }
  BOOST_TEST_REQUIRE(records.size() == 4u, r.describe());
  BOOST_TEST(records[0] == (json::object{ { "line", 1 }, { "output", "One." } }));
  BOOST_TEST(records[1] == (json::object{ { "line", 3 }, { "output", "Answer\nthree." } }));
  BOOST_TEST(records[2].at("line") == 4);
  BOOST_TEST(!records[2].contains("input"));
  BOOST_TEST(records[2].at("error").at("status") == 5);
  BOOST_TEST(records[3] == (json::object{ { "line", 10 }, { "output", "Ten." } }));
}

// Without -L stdin holds no input lines, whatever it is: it is not read.
BOOST_AUTO_TEST_CASE(without_L_stdin_is_not_read)
{
  const std::string results = scratch_file("alone-output-3.jsonl", batch_answer("line-2", "Two."));
  check_success(run_gptq({ "--from-batch", results }, base_env(), StdinSpec::of("a\nb\nc\n")), "Two.\n");
  check_success(run_gptq({ "--from-batch", results }, base_env(), StdinSpec::silent(std::chrono::seconds(60))),
                "Two.\n");
}

// The order is that of the input lines gptq numbered: a custom_id of
// another shape (a batch made by another tool) has no place in it, with or
// without -L.
BOOST_AUTO_TEST_CASE(without_L_a_custom_id_gptq_did_not_write_is_refused)
{
  const std::string results =
    scratch_file("alone-foreign.jsonl", batch_answer("line-1", "One.") + batch_answer("request-7", "Seven."));
  check_failure(run_gptq({ "--from-batch", results }, base_env()), 2, { ":2", "request-7", "line-N" });
}

// What only a batch that sends can use still needs -L.
BOOST_AUTO_TEST_CASE(without_L_the_options_for_sending_lines_are_still_refused)
{
  const std::string results = scratch_file("alone-output-4.jsonl", batch_answer("line-1", "One."));
  check_failure(run_gptq({ "--from-batch", results, "--jobs", "2" }, base_env()), 2, { "--jobs", "-L" });
  check_failure(run_gptq({ "--from-batch", results, "--dry-run" }, base_env()), 2, { "--dry-run" });
}

BOOST_AUTO_TEST_SUITE_END()

// --- Names that cannot be resolved ---------------------------------------------

namespace {

// Runs gptq as run_gptq_with_hosts does, but with host names looked up in
// DNS alone, from a name server that is not there (nothing listens on
// 127.0.0.1:53, so each query is refused at once): every lookup fails for
// now (EAI_AGAIN), as on a machine whose network is down.
RunResult run_gptq_without_dns(const std::vector<std::string>& args, const Env& env)
{
  BOOST_REQUIRE_MESSAGE(geteuid() == 0, "this test needs root (unshare -m and mount --bind)");
  const std::string nsswitch = scratch_file("nsswitch-dns-only.conf", "hosts: dns\n");
  const std::string resolv = scratch_file("resolv-nobody.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  std::vector<std::string> argv{
    "/usr/bin/unshare",
    "-m",
    "/bin/sh",
    "-c",
    "mount --bind \"$1\" /etc/nsswitch.conf && mount --bind \"$2\" /etc/resolv.conf || exit 125; "
    "shift 2; exec \"$@\"",
    "sh",
    nsswitch,
    resolv,
    GPTQ_BIN
  };
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv, env, StdinSpec::dev_null());
  BOOST_REQUIRE_MESSAGE(r.exit_code != 125, "cannot replace the resolver's files: " << r.describe());
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(name_resolution)

// RFC 6761 keeps .invalid from ever resolving; the hosts runner makes the
// lookup files-only, so that it fails the same way on every machine.
BOOST_AUTO_TEST_CASE(an_unknown_proxy_host_is_named_as_the_proxy_with_its_source)
{
  Env env = key_env();
  env["HTTPS_PROXY"] = "http://proxy.invalid:3128";
  const RunResult r = run_gptq_with_hosts(debian_hosts, { "--base-url", https_url("echo"), "hello" }, env);
  check_failure(r, 4, { "gptq: resolve: ", "proxy host proxy.invalid", "HTTPS_PROXY" });

  const RunResult flag = run_gptq_with_hosts(
    debian_hosts, { "--proxy", "socks5h://proxy.invalid", "--base-url", https_url("echo"), "hello" }, key_env());
  check_failure(flag, 4, { "proxy host proxy.invalid", "--proxy" });
}

BOOST_AUTO_TEST_CASE(an_unknown_server_host_is_named_as_the_host)
{
  const RunResult r = run_gptq_with_hosts(
    debian_hosts, { "--base-url", "https://api.example.invalid/v1", "--retries", "0", "hello" }, key_env());
  check_failure(r, 4, { "gptq: resolve: ", "cannot resolve host api.example.invalid" });
  BOOST_TEST(!contains(r.err, "proxy"), r.describe());
}

// A name that does not exist (NXDOMAIN, EAI_NONAME) will not exist a second
// later: no retry, and no backoff to wait for.
BOOST_AUTO_TEST_CASE(a_name_that_does_not_exist_is_not_retried)
{
  const RunResult r = run_gptq_with_hosts(
    debian_hosts, { "-v", "--retries", "2", "--base-url", "https://api.example.invalid/v1", "hello" }, key_env());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 4);
    BOOST_TEST(r.out == "");
    BOOST_TEST(contains(r.err, "cannot resolve host api.example.invalid"));
    BOOST_TEST(!contains(r.err, "retry 1 of 2"));
  }

  Env env = key_env();
  env["HTTPS_PROXY"] = "http://proxy.invalid:3128";
  const RunResult proxied =
    run_gptq_with_hosts(debian_hosts, { "-v", "--retries", "2", "--base-url", https_url("echo"), "hi" }, env);
  BOOST_TEST(proxied.exit_code == 4, proxied.describe());
  BOOST_TEST(!contains(proxied.err, "retry 1 of 2"), proxied.describe());
}

// A lookup that failed for now (no name server answered) may work a moment
// later: it is still retried.
BOOST_AUTO_TEST_CASE(a_lookup_that_failed_for_now_is_retried)
{
  const RunResult r =
    run_gptq_without_dns({ "-v", "--retries", "1", "--base-url", "https://api.example.invalid/v1", "hi" }, key_env());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 4);
    BOOST_TEST(contains(r.err, "cannot resolve host api.example.invalid"));
    BOOST_TEST(contains(r.err, "retry 1 of 1"));
  }
}

BOOST_AUTO_TEST_SUITE_END()
