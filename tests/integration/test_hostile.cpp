// The hostile-server suite: gptq against servers that a script drives byte
// by byte (raw_server.hpp), one behaviour a case. The cases live in
// test_hostile_<area>.cpp beside this file; here is what they all rely on:
// that the scripted server speaks well enough for gptq when told to.

#include "raw_server.hpp"

#include "harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq::it;

BOOST_AUTO_TEST_SUITE(hostile)

BOOST_AUTO_TEST_CASE(scripted_server_answers_each_request_of_a_connection)
{
  RawServer server([](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      c.send(completion_response("echo: " + user_content_of(request)));
    }
  });
  const RunResult r = run_gptq({ "--base-url", server.url(), "--no-stream", "--no-stdin", "hello" });
  check_success(r, "echo: hello\n");
  BOOST_TEST(server.requests() == 1);
  BOOST_TEST(server.connections() == 1);
}

BOOST_AUTO_TEST_CASE(scripted_server_stops_with_a_script_still_waiting)
{
  // A script blocked on a peer that never closes must not hold the test.
  RawServer server([](RawConnection& c) {
    c.read_request();
    c.wait_closed(std::chrono::minutes(5));
  });
  const RunResult r =
    run_gptq({ "--base-url", server.url(), "--no-stdin", "--idle-timeout", "0.3", "--retries", "0", "hi" });
  check_failure(r, 4, { "0.3 s" });
}

BOOST_AUTO_TEST_SUITE_END()
