// Every example of README.md and the man page works as written: each line of
// their shell blocks (README's ```sh blocks, the man page's .nf and .EX
// blocks) and each whole gptq command in their running text is found in the
// files themselves, so that a new example is tested without anyone listing
// it, and becomes one test case named after its file and line (README_md_84).
//
// A gptq invocation (alone, after variable assignments, at the end of a
// pipeline, with redirections) runs in bash as written (continuation lines
// joined), with the built gptq first on PATH, in a fresh directory that is
// also HOME, whose ~/.config/gptq/config is the man page's own example
// config (CONFIGURATION). What the test changes, and so does not check:
//   - every base URL (--base-url, OPENAI_BASE_URL=, the config's base_url)
//     becomes the test server's of the same scheme, the query kept (mode
//     `sse`, or `echo` for -L, which asks for whole replies), and
//     OPENAI_BASE_URL in the environment points there too: real servers are
//     out of reach, and the test server takes its mode from the path. So
//     what a provider's host name decides (Azure's api-key header) is left
//     to the request tests;
//   - a proxy URL (*_PROXY=, --proxy) becomes a tinyproxy or microsocks of
//     the test's own on 127.0.0.1 with the example's user and password, and
//     the request must have gone through it;
//   - the test server's CA is the whole trust store (SSL_CERT_FILE);
//   - `pass` and `git` are stand-ins that print a key and a small diff, and
//     every $VARIABLE a line names (AZURE_OPENAI_KEY...) holds a fake key;
//   - the files a line reads (--cacert: the test CA, --schema, --from-batch:
//     a Batch API output, -f, `< FILE`, `cat FILE`; the config's
//     system_file) are made first, unless a line before it in its block
//     writes them: those gptq and export lines run first, quietly (run1.jsonl
//     for --resume). A -f file holds text whatever its name (screenshot.png,
//     memo.mp3): the test server echoes a prompt of text only, so such an
//     example checks its command line and files, and the attachment tests
//     check the parts an image, a PDF or audio becomes.
// What it checks: the line exits 0, so the command line parses and the
// config, role and profile it names exist; gptq got an answer from the test
// server (stdout, or the file the line writes, is not empty); --dry-run
// prints a JSON body and --show-config names the role and profile asked
// for; no fake key is printed. Before a line runs, every URL in it and in
// the config (but a header's value, an image's URL given to -f, which gptq
// only sends, and comments) must be on 127.0.0.1, so
// no example reaches beyond loopback. --code is satisfied by its own "no
// code block" (exit 8): the test server's reply is the prompt.
//
// Other lines: the completion loaders (`source completions/gptq.bash  #
// bash`) run in the shell their comment names, from the source tree, which
// must then complete gptq; the rest (install, build, test commands) are
// only checked to be valid bash (`bash -n`). The few examples that cannot
// run here are listed in `exceptions` with the reason, which their test
// case prints.

#include "harness.hpp"
#include "proxy.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace gptq::it;

namespace {

enum class Kind {
  invocation, // runs gptq
  loader,     // a completion loader, for the shell its comment names
  shell,      // any other shell line: syntax only
  exception,  // cannot run here: see `exceptions`
};

struct Example {
  std::string file;                // "README.md" or "man/gptq.1"
  int line = 0;                    // where it starts in the file
  std::string text;                // as a shell reads it (roff escapes undone)
  std::vector<std::string> before; // the gptq and export lines before it in its block
  Kind kind = Kind::shell;
  std::string reason; // for an exception
};

std::ostream& operator<<(std::ostream& os, const Example& e)
{
  return os << e.file << ":" << e.line;
}

struct Exception {
  std::regex pattern;
  const char* what;
  const char* reason;
};

// Kept few, each with its reason.
const std::vector<Exception>& exceptions()
{
  static const std::vector<Exception> table{
    { std::regex(R"(^:)"),
      "a Vim command (:'<,'>Gptq, :'<,'>!gptq)",
      "not a shell line: tests/editors/test_vim.sh runs the plugin's :Gptq in a real Vim, and !gptq "
      "is gptq reading stdin as in the shell examples" },
    { std::regex(R"(\|\s*sh\s*$)"),
      "a reply piped into sh",
      "runs the model's answer as a command: the test server's answer is the prompt, not a command" },
    { std::regex(R"(^(?!.*--dry-run).*\s(-f|--file)[= ]+https?://)"),
      "an image's URL given to -f",
      "sends an image_url part, and the test server echoes only a prompt of text (content a string); the "
      "example with --dry-run runs, and the attachment tests check the part" },
  };
  return table;
}

void replace_all(std::string& s, const std::string& from, const std::string& to)
{
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The text of a roff line as printed: the escapes the man page uses undone.
std::string unroff(std::string s)
{
  for (const char* font : { "\\fB", "\\fI", "\\fR", "\\fP", "\\&", "\\%" }) {
    replace_all(s, font, "");
  }
  replace_all(s, "\\-", "-");
  replace_all(s, "\\(aq", "'");
  replace_all(s, "\\(dq", "\"");
  replace_all(s, "\\e", "\\");
  return s;
}

const std::regex invocation_pattern(R"((^|\|\s*)([A-Za-z_][A-Za-z0-9_]*=\S*\s+)*gptq(\s|$))");
const std::regex loader_pattern(R"(#\s*(bash|zsh|fish)\s*$)");

bool is_export(const std::string& line)
{
  return line.rfind("export ", 0) == 0;
}

// `text` as one line: continuations joined, as the shell reads it.
std::string joined(std::string text)
{
  replace_all(text, "\\\n", " ");
  return text;
}

// Classifies `e` by its text.
void classify(Example& e)
{
  const std::string flat = joined(e.text);
  for (const auto& x : exceptions()) {
    if (std::regex_search(flat, x.pattern)) {
      e.kind = Kind::exception;
      e.reason = std::string(x.what) + ": " + x.reason;
      return;
    }
  }
  if (std::regex_search(flat, loader_pattern)) {
    e.kind = Kind::loader;
  } else if (std::regex_search(flat, invocation_pattern)) {
    e.kind = Kind::invocation;
  } else {
    e.kind = Kind::shell;
  }
}

// Turns the lines of one block into examples: blank and comment lines are
// none, a line ending in a backslash goes on.
void add_block(std::vector<Example>& out,
               const std::string& file,
               const std::vector<std::pair<int, std::string>>& block)
{
  std::vector<std::string> before;
  for (std::size_t i = 0; i < block.size(); ++i) {
    Example e;
    e.file = file;
    e.line = block[i].first;
    e.text = block[i].second;
    while (!e.text.empty() && e.text.back() == '\\' && i + 1 < block.size()) {
      e.text += "\n" + block[++i].second;
    }
    const auto start = e.text.find_first_not_of(" \t");
    if (start == std::string::npos || e.text[start] == '#') {
      continue;
    }
    e.before = before;
    classify(e);
    if (e.kind == Kind::invocation || is_export(e.text)) {
      before.push_back(e.text);
    }
    out.push_back(std::move(e));
  }
}

// A command in running text is an example when it is a whole one: it starts
// with gptq or pipes into it, and holds no "..." placeholder.
bool is_inline_example(const std::string& text)
{
  return (text.rfind("gptq ", 0) == 0 || text.find("| gptq ") != std::string::npos) &&
         text.find("...") == std::string::npos;
}

std::vector<Example> readme_examples()
{
  std::vector<Example> out;
  const auto lines = split_lines(read_file(std::string(GPTQ_SOURCE_DIR) + "/README.md"));
  std::vector<std::pair<int, std::string>> block;
  bool in_sh = false;
  bool in_other = false;
  const std::regex code_span("`([^`]+)`");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("```", 0) == 0) {
      if (in_sh) {
        add_block(out, "README.md", block);
        block.clear();
        in_sh = false;
      } else if (in_other) {
        in_other = false;
      } else if (line == "```sh" || line == "```bash" || line == "```shell") {
        in_sh = true;
      } else {
        in_other = true;
      }
      continue;
    }
    if (in_sh) {
      block.emplace_back(static_cast<int>(i + 1), line);
    } else if (!in_other) {
      for (auto it = std::sregex_iterator(line.begin(), line.end(), code_span); it != std::sregex_iterator(); ++it) {
        if (is_inline_example((*it)[1])) {
          add_block(out, "README.md", { { static_cast<int>(i + 1), (*it)[1] } });
        }
      }
    }
  }
  return out;
}

const char* const config_heading = "# ~/.config/gptq/config";

std::vector<Example> man_examples()
{
  std::vector<Example> out;
  const auto lines = split_lines(read_file(std::string(GPTQ_SOURCE_DIR) + "/man/gptq.1"));
  std::vector<std::pair<int, std::string>> block;
  bool in_block = false;
  const std::regex bold(R"(\\fB(.*?)\\f[RP])");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line == ".nf" || line == ".EX") {
      in_block = true;
    } else if (line == ".fi" || line == ".EE") {
      if (block.empty() || block.front().second != config_heading) {
        add_block(out, "man/gptq.1", block);
      }
      block.clear();
      in_block = false;
    } else if (in_block) {
      block.emplace_back(static_cast<int>(i + 1), unroff(line));
    } else {
      for (auto it = std::sregex_iterator(line.begin(), line.end(), bold); it != std::sregex_iterator(); ++it) {
        const std::string text = unroff((*it)[1]);
        if (is_inline_example(text)) {
          add_block(out, "man/gptq.1", { { static_cast<int>(i + 1), text } });
        }
      }
    }
  }
  return out;
}

std::vector<Example> all_examples()
{
  auto out = readme_examples();
  auto man = man_examples();
  out.insert(out.end(), man.begin(), man.end());
  return out;
}

const std::vector<Example>& examples()
{
  static const std::vector<Example> all = all_examples();
  return all;
}

// The man page's example config (CONFIGURATION), as the file would hold it.
std::string man_config()
{
  const auto lines = split_lines(read_file(std::string(GPTQ_SOURCE_DIR) + "/man/gptq.1"));
  std::string config;
  bool in = false;
  for (const auto& line : lines) {
    const std::string text = unroff(line);
    if (text == config_heading) {
      in = true;
    } else if (in && (line == ".fi" || line == ".EE")) {
      return config;
    } else if (in) {
      config += text + "\n";
    }
  }
  throw std::runtime_error("the man page has no example config (a block starting '" + std::string(config_heading) +
                           "')");
}

// The stand-ins and the gptq link, once per run.
const std::string& bin_dir()
{
  static const std::string dir = [] {
    const std::string d = scratch_dir() + "/docs-bin";
    fs::create_directories(d);
    fs::create_symlink(GPTQ_BIN, d + "/gptq");
    const auto script = [&](const std::string& name, const std::string& body) {
      std::ofstream(d + "/" + name) << "#!/bin/sh\n" << body;
      fs::permissions(d + "/" + name, fs::perms::owner_all);
    };
    script("pass", "echo sk-docs-pass-0123456789abcdef\n");
    script("git",
           "printf '%s\\n' 'diff --git a/hello.c b/hello.c' '--- a/hello.c' '+++ b/hello.c' '@@ -1 +1 @@' "
           "'-int main() { return 1; }' '+int main() { return 0; }'\n");
    return d;
  }();
  return dir;
}

// What replaces a URL of `scheme`: the test server's in `mode`, with `query`
// kept.
std::string server_url(const std::string& scheme, const std::string& mode, const std::string& query)
{
  return (scheme == "http" ? http_url(mode) : https_url(mode)) + query;
}

// Where a URL is one gptq connects to: a base URL (option, variable, config
// key) or a proxy. Other URLs (an HTTP-Referer header's) are only text.
const char* const base_url_prefix = R"((?:--base-url(?:=|\s+)|OPENAI_BASE_URL=|base_url\s*=\s*)['"]?)";
const char* const proxy_prefix = R"((?:--proxy(?:=|\s+)|(?:[Hh][Tt][Tt][Pp][Ss]?|[Aa][Ll][Ll])_(?:PROXY|proxy)=)['"]?)";

// Every base URL in `text` made the test server's, in `mode`.
std::string rewrite_urls(const std::string& text, const std::string& mode)
{
  static const std::regex url(std::string("(") + base_url_prefix + R"()(https?)://[^\s"'?]+(\?[^\s"']*)?)");
  std::string out;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), url); it != std::sregex_iterator(); ++it) {
    out.append(last, (*it)[0].first);
    out += (*it)[1].str() + server_url((*it)[2], mode, (*it)[3]);
    last = (*it)[0].second;
  }
  out.append(last, text.cend());
  return out;
}

// A line's proxy URLs made proxies of the test's own (with the example's
// user and password), which `proxies` keeps running; then its base URLs the
// test server's, in `mode`.
std::string rewrite_line(const std::string& text, const std::string& mode, std::vector<Proxy>& proxies)
{
  static const std::regex proxy_url(std::string("(") + proxy_prefix +
                                    R"()(https?|socks5h?)://(?:([^:@\s'"]+):([^@\s'"]+)@)?[^\s'"/]+/?)");
  std::string out;
  std::vector<std::string> replacements;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), proxy_url); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    std::optional<ProxyUser> user;
    std::string userinfo;
    if (m[3].matched) {
      user = ProxyUser{ m[3], m[4] };
      userinfo = m[3].str() + ":" + m[4].str();
    }
    const bool http = m[2] == "http" || m[2] == "https";
    proxies.push_back(http ? Proxy::tinyproxy(user) : Proxy::microsocks(user));
    out.append(last, m[0].first);
    // A placeholder, so that the base URL rewriting leaves the proxy alone.
    out += m[1].str() + "@@PROXY" + std::to_string(replacements.size()) + "@@";
    replacements.push_back(proxies.back().url(http ? "http" : m[2].str(), userinfo));
    last = m[0].second;
  }
  out.append(last, text.cend());
  out = rewrite_urls(out, mode);
  for (std::size_t i = 0; i < replacements.size(); ++i) {
    replace_all(out, "@@PROXY" + std::to_string(i) + "@@", replacements[i]);
  }
  return out;
}

// The hosts of every URL in `text` but those in a header's value (an
// HTTP-Referer) and an image's URL given to -f, which gptq only sends (the
// server fetches the image), and in comments: whatever a line may connect
// to.
std::set<std::string> connect_hosts(std::string text)
{
  static const std::regex header(R"((-H|--header)(=|\s+)("[^"]*"|'[^']*'|\S+))");
  static const std::regex image_url(R"((-f|--file)(=|\s+)['"]?https?://\S+)");
  static const std::regex comment(R"((^|\s)#.*)");
  text = std::regex_replace(std::regex_replace(std::regex_replace(text, header, ""), image_url, ""), comment, "");
  static const std::regex url(R"([a-z0-9]+://(?:[^@\s/'"]*@)?(\[[^\]]*\]|[^:/\s'"?]+))");
  std::set<std::string> hosts;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), url); it != std::sregex_iterator(); ++it) {
    hosts.insert((*it)[1]);
  }
  return hosts;
}

// The files a line writes: its stdout redirections and --emit-batch's FILE.
std::vector<std::string> written_files(const std::string& text, bool& stdout_redirected)
{
  static const std::regex redirect(R"((?:^|[^0-9&>])>>?\s*([^\s&|;]+))");
  static const std::regex emit(R"(--emit-batch[= ](\S+))");
  std::vector<std::string> files;
  stdout_redirected = false;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), redirect); it != std::sregex_iterator(); ++it) {
    stdout_redirected = true;
    files.push_back((*it)[1]);
  }
  for (auto it = std::sregex_iterator(text.begin(), text.end(), emit); it != std::sregex_iterator(); ++it) {
    stdout_redirected = true;
    files.push_back((*it)[1]);
  }
  return files;
}

// The NAME after each `option` in `text`.
std::vector<std::string> values_of(const std::string& text, const std::string& option)
{
  const std::regex value("(?:^|\\s)" + option + "[= ]([A-Za-z0-9_.-]+)");
  std::vector<std::string> values;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), value); it != std::sregex_iterator(); ++it) {
    values.push_back((*it)[1]);
  }
  return values;
}

std::string batch_output_record(int line, const std::string& content)
{
  return R"({"id":"batch_req_)" + std::to_string(line) + R"(","custom_id":"line-)" + std::to_string(line) +
         R"(","response":{"status_code":200,"request_id":"r)" + std::to_string(line) +
         R"(","body":{"id":"chatcmpl-x","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":")" +
         content +
         R"("},"finish_reason":"stop"}]}},"error":null})"
         "\n";
}

// The files `text` reads, each with what to put in it: the options that
// name a file to read, `< FILE` and `cat FILE`.
std::map<std::string, std::string> read_files(const std::string& text)
{
  static const std::regex named(
    R"((--cacert|--schema|--from-batch|--resume|-f|--file)[= ]+([^\s|;&<>]+)|(?:^|[^<])<\s*([^\s|;&<>]+)|\bcat\s+([^\s|;&<>-][^\s|;&<>]*))");
  std::map<std::string, std::string> files;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), named); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const std::string option = m[1];
    const std::string path = m[2].matched ? m[2] : m[3].matched ? m[3] : m[4];
    if (path.rfind("/dev/", 0) == 0 || path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
      continue; // a device, or an image's URL (-f), which gptq sends as it is
    }
    if (option == "--cacert") {
      files[path] = read_file(cert("ca.pem")); // the test server's CA stands for the private one
    } else if (option == "--schema") {
      files[path] = R"({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]})"
                    "\n";
    } else if (option == "--from-batch") {
      files[path] = batch_output_record(2, "negative") + batch_output_record(1, "positive");
    } else if (option == "--resume") {
      files[path] = ""; // a run that did no line yet
    } else {
      files[path] = "good morning\nthank you\n";
    }
  }
  return files;
}

// A fresh directory, HOME and working directory of one example, with the
// config (and the system_file it names), and the files the example and the
// lines before it read.
std::string make_home(int serial, const std::string& mode, const Example& e)
{
  const std::string home = scratch_dir() + "/docs-home-" + std::to_string(serial);
  const std::string config = rewrite_urls(man_config(), mode);
  write_file(home + "/.config/gptq/config", config);
  static const std::regex system_file(R"((^|\n)system_file\s*=\s*~/(\S+))");
  for (auto it = std::sregex_iterator(config.begin(), config.end(), system_file); it != std::sregex_iterator(); ++it) {
    write_file(home + "/" + (*it)[2].str(), "Reply in one short sentence.\n");
  }
  // A file a line reads that a line before it writes is made by that line.
  std::set<std::string> written;
  auto lines = e.before;
  lines.push_back(e.text);
  for (const auto& line : lines) {
    for (const auto& [path, text] : read_files(joined(line))) {
      if (!written.contains(path) && !fs::exists(fs::path(home) / path)) {
        write_file((fs::path(home) / path).string(), text);
      }
    }
    bool redirected = false;
    for (const auto& file : written_files(joined(line), redirected)) {
      written.insert(file);
    }
  }
  return home;
}

Env example_env(const std::string& home, const std::string& mode, const std::string& text)
{
  Env env{
    { "PATH", bin_dir() + ":/usr/local/bin:/usr/bin:/bin" },
    { "HOME", home },
    { "OPENAI_API_KEY", fake_key },
    { "OPENAI_BASE_URL", https_url(mode) },
    { "SSL_CERT_FILE", cert("ca.pem") },
    { "SSL_CERT_DIR", scratch_dir() + "/empty-ca-dir" },
  };
  // Each variable the line names holds a fake key of its own.
  static const std::regex variable(R"(\$\{?([A-Z_][A-Z0-9_]*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), variable); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    if (!env.contains(name) && name != "PWD") {
      env[name] = "sk-docs-" + name + "-0123456789abcdef";
    }
  }
  return env;
}

void check_no_fake_key(const RunResult& r, const Env& env)
{
  for (const auto& [name, value] : env) {
    if (value.rfind("sk-", 0) == 0) {
      BOOST_TEST(!contains(r.out, value), "the value of " << name << " is not on stdout");
      BOOST_TEST(!contains(r.err, value), "the value of " << name << " is not on stderr");
    }
  }
}

void run_invocation(const Example& e)
{
  // Batch mode asks for whole replies, which the sse mode would not give.
  const std::string mode = std::regex_search(e.text, std::regex(R"((^|\s)(-L|--each-line)(\s|$))")) ? "echo" : "sse";
  static int serial = 0;
  const std::string home = make_home(++serial, mode, e);
  std::vector<Proxy> setup_proxies;
  std::vector<Proxy> proxies;
  std::string script = "cd '" + home + "' || exit 125\n";
  if (!e.before.empty()) {
    script += "{\n";
    for (const auto& line : e.before) {
      script += rewrite_line(joined(line), mode, setup_proxies) + "\n";
    }
    script += "} >/dev/null 2>&1 </dev/null\n";
  }
  const std::string line = rewrite_line(joined(e.text), mode, proxies);
  script += line + "\n";
  BOOST_TEST_MESSAGE(e << " runs as: " << line);
  const std::string config = read_file(home + "/.config/gptq/config");
  for (const auto& host : connect_hosts(script + "\n" + config)) {
    BOOST_TEST_REQUIRE(host == "127.0.0.1", "the rewritten example or config names " << host << ", not loopback");
  }

  const Env env = example_env(home, mode, script);
  const RunResult r = run({ "/bin/bash", "-c", script }, env, StdinSpec::dev_null());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE_MESSAGE(!r.killed, "the example did not finish within the time limit");
    // The test server's reply is the prompt, which holds no fenced code
    // block: --code saying so (exit 8) shows that all else worked.
    if (contains(line, "--code") && r.exit_code == 8 && contains(r.err, "no code block")) {
      BOOST_TEST_MESSAGE(e << ": --code found no code block in the echoed prompt, as expected");
      return;
    }
    BOOST_TEST(r.exit_code == 0);
    check_no_fake_key(r, env);
    bool redirected = false;
    for (const auto& file : written_files(line, redirected)) {
      if (file.rfind("/dev/", 0) == 0) {
        continue;
      }
      const fs::path path = fs::path(home) / file;
      BOOST_TEST((fs::exists(path) && fs::file_size(path) > 0), "the example writes " << file);
      if (fs::exists(path)) {
        const std::string written = read_file(path.string());
        for (const auto& [name, value] : env) {
          BOOST_TEST(!(value.rfind("sk-", 0) == 0 && contains(written, value)),
                     "the value of " << name << " is not in " << file);
        }
      }
    }
    if (!redirected) {
      BOOST_TEST(!r.out.empty(), "the example prints the reply");
    }
    for (const auto& proxy : proxies) {
      BOOST_TEST(!proxy.requests().empty(),
                 "the request went through the proxy at " << proxy.host_port() << ": " << proxy.log());
    }
    if (contains(line, "--dry-run")) {
      BOOST_CHECK_NO_THROW(boost::json::parse(r.out).as_object().at("messages"));
    }
    if (contains(line, "--show-config")) {
      for (const auto& profile : values_of(line, "(?:-P|--profile)")) {
        BOOST_TEST(std::regex_search(r.out, std::regex("(^|\\n)profile +" + profile + " ")),
                   "--show-config shows the profile " << profile);
      }
      for (const auto& role : values_of(line, "(?:-r|--role)")) {
        BOOST_TEST(std::regex_search(r.out, std::regex("(^|\\n)role +" + role + " ")),
                   "--show-config shows the role " << role);
      }
    }
  }
}

void run_loader(const Example& e)
{
  std::smatch m;
  std::regex_search(e.text, m, loader_pattern);
  const std::string shell = m[1];
  std::string program;
  for (const char* dir : { "/usr/bin/", "/bin/" }) {
    if (fs::exists(dir + shell)) {
      program = dir + shell;
      break;
    }
  }
  if (program.empty()) {
    BOOST_TEST_MESSAGE(e << ": " << shell << " is not installed; its completion loader is not run");
    return;
  }
  const std::string home = scratch_dir() + "/docs-loader-home";
  fs::create_directories(home);
  // Then whether the shell now completes gptq from the source tree's
  // completions/ (not from an installed copy): the line did its job.
  const std::map<std::string, std::string> probe{
    { "bash", "complete -p gptq >/dev/null" },
    { "zsh", "[[ -n ${_comps[gptq]} && -n ${fpath[(r)$PWD/completions]} ]]" },
    { "fish",
      "contains -- $PWD/completions $fish_complete_path; and complete -C 'gptq --vers' | string match -q -- "
      "'--version*'" },
  };
  const std::string script = "cd '" GPTQ_SOURCE_DIR "' || exit 125\n" + e.text + "\n" + probe.at(shell) + "\n";
  std::vector<std::string> argv{ program };
  if (shell == "zsh") {
    argv.push_back("-f"); // no rc files: the loader alone
  }
  argv.insert(argv.end(), { "-c", script });
  const RunResult r = run(argv, { { "PATH", bin_dir() + ":/usr/bin:/bin" }, { "HOME", home } }, StdinSpec::dev_null());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.err == "");
  }
}

void check_syntax(const Example& e)
{
  const RunResult r = run({ "/bin/bash", "-n", "-c", e.text }, { { "PATH", "/usr/bin:/bin" } }, StdinSpec::dev_null());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(r.exit_code == 0, e << " is valid bash");
    BOOST_TEST(r.err == "");
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(docs_examples)

namespace {

void check_example(const Example& e)
{
  BOOST_TEST_CONTEXT(e << ": " << e.text)
  {
    switch (e.kind) {
      case Kind::invocation:
        run_invocation(e);
        break;
      case Kind::loader:
        run_loader(e);
        break;
      case Kind::shell:
        check_syntax(e);
        break;
      case Kind::exception:
        BOOST_TEST_MESSAGE(e << " is not run: " << e.reason);
        BOOST_TEST(true);
        break;
    }
  }
}

// One test case per example, named after its file and line (README_md_84,
// man_gptq_1_634; a second example on a line gets _2), so that a failure
// names the example and --run_test=docs_examples/NAME runs it alone.
class ExampleCases : public boost::unit_test::test_unit_generator {
public:
  boost::unit_test::test_unit* next() const override
  {
    if (next_ == examples().size()) {
      return nullptr;
    }
    const Example& e = examples()[next_++];
    std::string name = e.file + "_" + std::to_string(e.line);
    for (char& c : name) {
      c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    if (const int n = ++seen_[name]; n > 1) {
      name += "_" + std::to_string(n);
    }
    return boost::unit_test::make_test_case([&e] { check_example(e); }, name, __FILE__, __LINE__);
  }

private:
  mutable std::size_t next_ = 0;
  mutable std::map<std::string, int> seen_;
};

const boost::unit_test::ut_detail::auto_test_unit_registrar example_cases(
  ExampleCases(),
  boost::unit_test::decorator::collector_t::instance());

} // namespace

// The extraction itself: both files give examples, most of them gptq
// invocations, and every exception still matches an example (a stale one
// would hide nothing, but mislead).
BOOST_AUTO_TEST_CASE(examples_are_found_in_both_files_and_exceptions_are_few)
{
  std::map<std::string, int> invocations;
  int excepted = 0;
  for (const auto& e : examples()) {
    invocations[e.file] += e.kind == Kind::invocation ? 1 : 0;
    excepted += e.kind == Kind::exception ? 1 : 0;
    if (e.kind == Kind::exception) {
      BOOST_TEST_MESSAGE("not run: " << e << " " << e.text << "\n  " << e.reason);
    }
  }
  BOOST_TEST(invocations["README.md"] >= 10);
  BOOST_TEST(invocations["man/gptq.1"] >= 10);
  BOOST_TEST(excepted <= 4);
  for (const auto& x : exceptions()) {
    bool used = false;
    for (const auto& e : examples()) {
      used = used || std::regex_search(joined(e.text), x.pattern);
    }
    BOOST_TEST(used, "the exception '" << x.what << "' matches an example");
  }
}

// README's config excerpt is part of the man page's example config, which
// the examples run with: each of its sections, and each key = value under
// it, is there.
BOOST_AUTO_TEST_CASE(readme_config_excerpt_is_part_of_the_man_page_config)
{
  const std::string readme = read_file(std::string(GPTQ_SOURCE_DIR) + "/README.md");
  const auto start = readme.find("```ini\n");
  BOOST_TEST_REQUIRE(start != std::string::npos, "README.md has an ini block");
  const auto end = readme.find("```", start + 7);
  const auto excerpt = split_lines(readme.substr(start + 7, end - start - 7));
  const auto config = split_lines(man_config());
  std::string section;
  std::map<std::string, std::set<std::string>> man_sections;
  for (const auto& line : config) {
    if (line.rfind("[", 0) == 0) {
      section = line;
    } else if (!line.empty() && line[0] != '#') {
      man_sections[section].insert(line);
    }
  }
  section.clear();
  for (const auto& line : excerpt) {
    if (line.rfind("[", 0) == 0) {
      section = line;
      BOOST_TEST(man_sections.contains(section), section << " is in the man page's config");
    } else if (!line.empty()) {
      BOOST_TEST(man_sections[section].contains(line), line << " is under " << section << " in the man page's config");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
