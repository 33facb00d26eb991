#include "batch_helpers.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;

namespace gptq::it {

std::ostream& operator<<(std::ostream& os, const Stats& s)
{
  return os << "requests=" << s.requests << " connections=" << s.connections << " early=" << s.early;
}

Stats stats(const std::string& key)
{
  const json::value v = json::parse(http_get_body("/stats/" + key));
  return { v.at("requests").to_number<std::int64_t>(),
           v.at("connections").to_number<std::int64_t>(),
           v.at("early").to_number<std::int64_t>() };
}

// `lines`, each ended by "\n".
std::string joined(const std::vector<std::string>& lines)
{
  std::string text;
  for (const auto& line : lines) {
    text += line + "\n";
  }
  return text;
}

// Each line of `text` parsed as a JSON object; fails the test when one is not.
std::vector<json::object> jsonl_records(const std::string& text)
{
  std::vector<json::object> records;
  for (const auto& line : split_lines(text)) {
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    BOOST_TEST_REQUIRE((!ec && v.is_object()), "not a JSON object: '" << line << "'");
    records.push_back(v.as_object());
  }
  return records;
}

std::string string_at(const json::object& o, std::string_view name)
{
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string())
                                        : std::string("<no string " + std::string(name) + ">");
}

// Runs gptq in batch mode against batch/KEY with `lines` on stdin and
// `extra` options.
RunResult run_batch(const std::string& key, const std::vector<std::string>& extra, const std::string& input)
{
  return run_gptq_https("batch/" + key, extra, StdinSpec::of(input));
}

// The stderr lines of a run, each checked to start with "gptq: ".
std::vector<std::string> error_lines(const RunResult& r)
{
  const auto lines = split_lines(r.err);
  for (const auto& line : lines) {
    BOOST_TEST(starts_with(line, "gptq: "), "stderr line: '" << line << "'");
  }
  BOOST_TEST((r.err.empty() || r.err.back() == '\n'), "stderr ends with a newline");
  return lines;
}

// Checks a run that ended normally, without the key anywhere.
void check_ran(const RunResult& r, int code)
{
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE_MESSAGE(!r.killed, "gptq did not finish within the time limit and was killed");
    BOOST_TEST(r.exit_code == code);
    BOOST_TEST(!contains(r.out, fake_key));
    BOOST_TEST(!contains(r.err, fake_key));
  }
}

} // namespace gptq::it
