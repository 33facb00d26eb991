// -C, --thread: a conversation kept in a file. Its turns are sent before the
// new message, a turn is appended only after a reply, and nothing is lost or
// mixed: a failed or interrupted request leaves the file byte for byte, a
// bad file stops gptq before anything is sent, and concurrent runs on one
// file take turns.

#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <future>
#include <set>
#include <sys/stat.h>

namespace json = boost::json;
using namespace gptq::it;

namespace {

std::string fresh_thread(const std::string& name)
{
  const std::string path = scratch_dir() + "/" + name;
  std::remove(path.c_str());
  return path;
}

// The (role, content) of each line of the thread file at `path`.
std::vector<std::pair<std::string, std::string>> lines_of(const std::string& path)
{
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : split_lines(read_file(path))) {
    const auto value = json::parse(line).as_object();
    out.emplace_back(std::string(value.at("role").as_string()), std::string(value.at("content").as_string()));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> sent_messages(const RunResult& r)
{
  std::vector<std::pair<std::string, std::string>> out;
  const SeenRequest seen = seen_request(r);
  for (const auto& m : seen.body.at("messages").as_array()) {
    out.emplace_back(std::string(m.at("role").as_string()), std::string(m.at("content").as_string()));
  }
  return out;
}

using Lines = std::vector<std::pair<std::string, std::string>>;

const std::string two_lines = "{\"role\":\"user\",\"content\":\"q\"}\n{\"role\":\"assistant\",\"content\":\"a\"}\n";

// Mounts a small tmpfs of its own at `dir` (the tests run as root), writes
// two_lines to the thread `path` in it, then runs the shell words `then`.
void mount_with_thread(const std::string& dir, const std::string& path, const std::string& then)
{
  const RunResult mounted = run({ "/bin/bash",
                                  "-c",
                                  "mkdir -p '" + dir + "' && mount -t tmpfs -o size=64k tmpfs '" + dir +
                                    "' && printf '%s' '" + two_lines + "' > '" + path + "' && " + then },
                                base_env(),
                                StdinSpec::dev_null());
  BOOST_TEST_REQUIRE(mounted.exit_code == 0, mounted.describe());
}

} // namespace

BOOST_AUTO_TEST_SUITE(thread)

BOOST_AUTO_TEST_CASE(a_thread_is_created_0600_and_continued)
{
  const std::string path = fresh_thread("continued.thread");
  check_success(run_gptq_https("echo", { "-C", path, "-s", "be brief", "first" }), "first\n");
  struct stat st {};
  BOOST_TEST_REQUIRE(stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST((lines_of(path) == Lines{ { "system", "be brief" }, { "user", "first" }, { "assistant", "first" } }));
  const RunResult r = run_gptq_https("request", { "-C", path, "second" });
  BOOST_TEST((sent_messages(r) ==
              Lines{ { "system", "be brief" }, { "user", "first" }, { "assistant", "first" }, { "user", "second" } }));
  BOOST_TEST(lines_of(path).size() == 5u);
  BOOST_TEST(!contains(read_file(path), fake_key));
}

BOOST_AUTO_TEST_CASE(a_new_system_message_takes_over_and_the_tail_is_cut)
{
  const std::string path = scratch_file("tail.thread", "{\"role\":\"system\",\"content\":\"old\"}\n" + two_lines);
  check_success(run_gptq_https("echo", { "-C", path, "-s", "new", "second" }), "second\n");
  const RunResult r = run_gptq_https("request", { "-C", path, "--thread-tail", "1", "third" });
  BOOST_TEST((sent_messages(r) ==
              Lines{ { "system", "new" }, { "user", "second" }, { "assistant", "second" }, { "user", "third" } }));
  BOOST_TEST((lines_of(path).at(3) == std::pair<std::string, std::string>{ "system", "new" }));
}

BOOST_AUTO_TEST_CASE(a_default_system_message_yields_to_the_threads_own)
{
  // The config's top-level system is a default: a thread with its own keeps
  // it; a role's is chosen, and takes over; a thread without one gets the
  // default, kept in the file from then on.
  const std::string config =
    scratch_file("system.conf", "system = the default\n[role.terse]\nsystem = the role's\n[role.plain]\nmodel = m\n");
  const std::string own = scratch_file("own.thread", "{\"role\":\"system\",\"content\":\"its own\"}\n" + two_lines);
  const RunResult r = run_gptq_https("request", { "--config", config, "-C", own, "-r", "plain", "next" });
  BOOST_TEST(
    (sent_messages(r) == Lines{ { "system", "its own" }, { "user", "q" }, { "assistant", "a" }, { "user", "next" } }));
  BOOST_TEST(lines_of(own).size() == 5u); // no system line added
  const RunResult shown = run_gptq({ "--config", config, "--show-config", "-C", own });
  BOOST_TEST(contains(shown.out, "its own system message holds over the default above"), shown.describe());

  const RunResult by_role = run_gptq_https("request", { "--config", config, "-C", own, "-r", "terse", "again" });
  BOOST_TEST((sent_messages(by_role).at(0) == std::pair<std::string, std::string>{ "system", "the role's" }));
  BOOST_TEST((lines_of(own).at(5) == std::pair<std::string, std::string>{ "system", "the role's" }));

  const std::string none = scratch_file("none.thread", two_lines);
  const RunResult fresh = run_gptq_https("request", { "--config", config, "-C", none, "next" });
  BOOST_TEST((sent_messages(fresh).at(0) == std::pair<std::string, std::string>{ "system", "the default" }));
  BOOST_TEST((lines_of(none).at(2) == std::pair<std::string, std::string>{ "system", "the default" }));
}

BOOST_AUTO_TEST_CASE(reasoning_is_never_kept_and_only_role_and_content_are_sent)
{
  const std::string path = fresh_thread("reasoning.thread");
  const RunResult r = run_gptq_https("sse-reasoning", { "-C", path, "--reasoning", "think" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(contains(r.err, "thinking"), r.describe());
  const std::string kept = read_file(path);
  BOOST_TEST(!contains(kept, "thinking"));
  BOOST_TEST(!contains(kept, "more thought"));
  BOOST_TEST(!contains(kept, "reasoning"));
  BOOST_TEST(lines_of(path).size() == 2u);
  // A hand-written line's other fields stay in the file, and are not sent.
  scratch_file("reasoning.thread", "{\"role\":\"user\",\"content\":\"q\",\"ts\":1,\"reasoning_content\":\"x\"}\n");
  const SeenRequest seen = seen_request(run_gptq_https("request", { "-C", path, "next" }));
  BOOST_TEST(json::serialize(seen.body.at("messages").as_array().at(0)) == R"({"role":"user","content":"q"})");
  BOOST_TEST(contains(read_file(path), "\"ts\":1,\"reasoning_content\":\"x\"}\n"));
}

BOOST_AUTO_TEST_CASE(the_turns_become_input_items_of_the_responses_api)
{
  const std::string path = scratch_file("responses.thread", two_lines);
  const RunResult r = run_gptq_https("request", { "--api", "responses", "-C", path, "next" });
  const auto input = seen_request(r).body.at("input").as_array();
  BOOST_TEST_REQUIRE(input.size() == 3u);
  BOOST_TEST(input[1].at("role") == "assistant");
  BOOST_TEST(input[2].at("content") == "next");
  BOOST_TEST(lines_of(path).size() == 4u);
}

BOOST_AUTO_TEST_CASE(dry_run_shows_the_turns_and_changes_nothing)
{
  const std::string path = scratch_file("dry.thread", two_lines);
  const RunResult r = run_gptq({ "--dry-run", "-C", path, "next" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(json::parse(r.out).at("messages").as_array().size() == 3u);
  BOOST_TEST(read_file(path) == two_lines);
  const std::string missing = fresh_thread("missing.thread");
  BOOST_TEST(run_gptq({ "--dry-run", "-C", missing, "next" }).exit_code == 0);
  struct stat st {};
  BOOST_TEST(stat(missing.c_str(), &st) != 0);
}

BOOST_AUTO_TEST_CASE(show_config_names_the_thread_and_what_of_it_is_sent)
{
  const std::string path = scratch_file("shown.thread", "{\"role\":\"system\",\"content\":\"s\"}\n" + two_lines);
  const RunResult r = run_gptq({ "--show-config", "-C", path, "--thread-tail", "1" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(contains(r.out, path + ": 3 messages, 3 sent (--thread-tail 1)"), r.describe());
  BOOST_TEST(read_file(path) == "{\"role\":\"system\",\"content\":\"s\"}\n" + two_lines);
}

BOOST_AUTO_TEST_CASE(a_failed_or_broken_request_leaves_the_file_as_it_was)
{
  // The last line without its newline: any write would show.
  const std::string text = two_lines.substr(0, two_lines.size() - 1);
  const std::string path = scratch_file("failed.thread", text);
  check_failure(run_gptq_https("status/400", { "-C", path, "--retries", "0", "next" }), 5);
  BOOST_TEST(read_file(path) == text);
  const RunResult broken = run_gptq_https("sse-drop", { "-C", path, "--retries", "0", "next" });
  BOOST_TEST(broken.exit_code != 0, broken.describe());
  BOOST_TEST(read_file(path) == text);
  const RunResult interrupted = run_gptq_https_watched("sse-delay/2000",
                                                       { "-C", path, "--no-stdin", "abcdefghijklmnop" },
                                                       [](const std::string&, int pid) { kill(pid, SIGINT); });
  BOOST_TEST(interrupted.exit_code == 130, interrupted.describe());
  BOOST_TEST(read_file(path) == text);
  // The newline it lacked comes before the new turn.
  check_success(run_gptq_https("echo", { "-C", path, "next" }), "next\n");
  BOOST_TEST(read_file(path) == two_lines + R"({"role":"user","content":"next"})" + "\n" +
                                  R"({"role":"assistant","content":"next"})" + "\n");
}

BOOST_AUTO_TEST_CASE(a_closed_stdout_leaves_the_file_as_it_was)
{
  const std::string path = scratch_file("closed.thread", two_lines);
  // head takes the first piece and leaves: the reply never ended.
  const std::string command = std::string("'") + GPTQ_BIN + "' --base-url '" + https_url("sse-delay/300") +
                              "' --cacert '" + cert("ca.pem") + "' -C '" + path +
                              "' --no-stdin abcdefghijklmnopqrstuvwxyz | head -c 3; echo \" ${PIPESTATUS[0]}\"";
  const RunResult r = run({ "/bin/bash", "-c", command }, key_env(), StdinSpec::dev_null());
  BOOST_TEST(r.out == "abc 141\n", r.describe());
  BOOST_TEST(read_file(path) == two_lines);
}

BOOST_AUTO_TEST_CASE(a_full_disk_cuts_the_file_back_and_exits_1)
{
  // A small tmpfs of its own (the tests run as root): the thread and a
  // filler that takes the rest of it, so the turn cannot be written.
  const std::string dir = scratch_dir() + "/full";
  const std::string path = dir + "/t.thread";
  mount_with_thread(dir, path, "(head -c 1M /dev/zero > '" + dir + "/filler' 2>/dev/null; true)");
  const std::string prompt(20000, 'x');
  const RunResult r = run_gptq_https("echo", { "-C", path, prompt });
  const std::string after = read_file(path);
  run({ "/bin/umount", dir }, base_env(), StdinSpec::dev_null());
  BOOST_TEST(after == two_lines);
  BOOST_TEST(r.exit_code == 1, r.describe());
  BOOST_TEST(r.out == prompt + "\n");
  BOOST_TEST(contains(r.err, "the file is as it was"), r.describe());
  BOOST_TEST(split_lines(r.err).size() == 1u, r.describe());
}

BOOST_AUTO_TEST_CASE(an_unwritable_file_stops_gptq_before_anything_is_sent)
{
  // Root may write any file whatever its mode: a read-only tmpfs of its own
  // is what refuses.
  const std::string dir = scratch_dir() + "/readonly";
  const std::string path = dir + "/t.thread";
  mount_with_thread(dir, path, "mount -o remount,ro '" + dir + "'");
  // The request mode would answer: exit 2 means nothing was sent.
  const RunResult r = run_gptq_https("request", { "-C", path, "next" });
  const std::string after = read_file(path);
  run({ "/bin/umount", dir }, base_env(), StdinSpec::dev_null());
  check_failure(r, 2, { "--thread", "t.thread", "Read-only file system" });
  BOOST_TEST(after == two_lines);
}

BOOST_AUTO_TEST_CASE(a_second_run_waits_for_the_lock_and_says_so)
{
  const std::string path = scratch_file("locked.thread", two_lines);
  const std::string held = scratch_dir() + "/locked.held";
  std::remove(held.c_str());
  // flock(1) holds the lock until the file `held` exists and 2 s more have passed.
  const std::string command = "flock '" + path + "' -c 'touch \"" + held + "\"; sleep 2' & " + "while [ ! -e '" + held +
                              "' ]; do sleep 0.05; done; '" + GPTQ_BIN + "' --base-url '" + https_url("echo") +
                              "' --cacert '" + cert("ca.pem") + "' -C '" + path + "' next; wait";
  const RunResult r = run({ "/bin/bash", "-c", command }, key_env(), StdinSpec::dev_null());
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "next\n", r.describe());
  BOOST_TEST(contains(r.err, "which another process is using (-C)"), r.describe());
  BOOST_TEST(lines_of(path).size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_full_context_names_thread_tail_and_keeps_the_file)
{
  const std::string path = scratch_file("full.thread", two_lines);
  const RunResult r = run_gptq_https("context-full", { "-C", path, "next" });
  check_failure(r, 5, { "maximum context length", "--thread-tail N sends only its last N turns" });
  BOOST_TEST(read_file(path) == two_lines);
  // Without -C the hint would point nowhere.
  BOOST_TEST(!contains(run_gptq_https("context-full", { "next" }).err, "--thread-tail"));
}

BOOST_AUTO_TEST_CASE(a_run_gives_up_waiting_for_the_lock_after_its_timeout)
{
  const std::string path = scratch_file("held.thread", two_lines);
  const std::string held = scratch_dir() + "/held.held";
  std::remove(held.c_str());
  // flock(1) holds the lock for 5 s (its output elsewhere: the run ends
  // without waiting for it); gptq waits only its --timeout.
  const std::string command = "flock '" + path + "' -c 'touch \"" + held + "\"; sleep 5' >/dev/null 2>&1 & " +
                              "while [ ! -e '" + held + "' ]; do sleep 0.05; done; '" + GPTQ_BIN + "' --base-url '" +
                              https_url("request") + "' --cacert '" + cert("ca.pem") + "' --timeout 1 -C '" + path +
                              "' next";
  const RunResult r = run({ "/bin/bash", "-c", command }, key_env(), StdinSpec::dev_null());
  check_failure(r, 1, { "held.thread", "still in use by another process after 1 s; nothing was sent" });
  BOOST_TEST(read_file(path) == two_lines);
}

BOOST_AUTO_TEST_CASE(a_bad_file_stops_gptq_before_anything_is_sent)
{
  const std::vector<std::pair<std::string, std::string>> cases{
    { two_lines + "{\"role\":\"user\",\"con", ":3: not a whole JSON line" },
    { two_lines + "{\"role\":\"tool\",\"content\":\"x\"}\n", ":3: unknown role" },
    { "{\"role\":\"user\",\"content\":\"\xff\"}\n", ":1: not UTF-8" },
    { "[]\n", ":1: not a JSON object" },
  };
  for (const auto& [text, says] : cases) {
    const std::string path = scratch_file("bad.thread", text);
    // The request mode would answer: exit 2 means nothing was sent.
    check_failure(run_gptq_https("request", { "-C", path, "next" }), 2, { "bad.thread" + says });
    BOOST_TEST(read_file(path) == text);
  }
  check_failure(run_gptq_https("request", { "-C", scratch_dir(), "next" }), 2, { "is a directory" });
  check_failure(
    run_gptq_https("request", { "-C", scratch_dir() + "/no/such/dir/t.thread", "next" }), 2, { "--thread" });
  check_failure(run_gptq({ "-C", "x.thread", "-L" }), 2, { "-L" });
  // A FIFO would block a reader: refused at once, --dry-run too.
  const std::string fifo = fresh_thread("fifo.thread");
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  check_failure(run_gptq({ "--dry-run", "-C", fifo, "next" }), 2, { "not a regular file" });
  check_failure(run_gptq_https("request", { "-C", fifo, "next" }), 2, { "not a regular file" });
}

BOOST_AUTO_TEST_CASE(concurrent_runs_on_one_file_take_turns)
{
  const std::string path = scratch_file("shared.thread", two_lines);
  constexpr int runs = 20;
  std::vector<std::future<RunResult>> results;
  for (int i = 0; i < runs; ++i) {
    results.push_back(std::async(std::launch::async, [&path, i] {
      return run_gptq_https("echo", { "-C", path, "message " + std::to_string(i) });
    }));
  }
  for (auto& result : results) {
    const RunResult r = result.get();
    BOOST_TEST(r.exit_code == 0, r.describe());
  }
  const Lines lines = lines_of(path);
  BOOST_TEST_REQUIRE(lines.size() == 2u + 2 * runs);
  std::set<std::string> seen;
  for (std::size_t i = 2; i < lines.size(); i += 2) {
    BOOST_TEST(lines[i].first == "user");
    BOOST_TEST(lines[i + 1].first == "assistant");
    // echo answers the last user message: each run read the one before's turn.
    BOOST_TEST(lines[i + 1].second == lines[i].second);
    seen.insert(lines[i].second);
  }
  BOOST_TEST(seen.size() == static_cast<std::size_t>(runs));
}

BOOST_AUTO_TEST_SUITE_END()
