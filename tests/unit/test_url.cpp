#include "url.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;
using gptq::test::failure_of;

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(parse_url_splits_the_parts)
{
  struct Case {
    const char* text;
    const char* scheme;
    const char* host;
    unsigned port;
    const char* path;
    const char* query;
  };
  const Case cases[] = {
    { "https://api.openai.com/v1", "https", "api.openai.com", 443, "/v1", "" },
    { "http://localhost:11434/v1", "http", "localhost", 11434, "/v1", "" },
    { "HTTPS://Example.COM", "https", "example.com", 443, "", "" },
    { "http://127.0.0.1:8080", "http", "127.0.0.1", 8080, "", "" },
    { "https://[::1]:8443/api/v1/", "https", "::1", 8443, "/api/v1/", "" },
    { "https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21",
      "https",
      "x.openai.azure.com",
      443,
      "/openai/deployments/d",
      "api-version=2024-10-21" },
    { "https://h/p#fragment", "https", "h", 443, "/p", "" },
    { "https://h?q=1", "https", "h", 443, "", "q=1" },
  };
  for (const auto& c : cases) {
    const Url u = parse_url(c.text);
    BOOST_TEST(u.scheme == c.scheme, c.text);
    BOOST_TEST(u.host == c.host, c.text);
    BOOST_TEST(u.port == c.port, c.text);
    BOOST_TEST(u.path == c.path, c.text);
    BOOST_TEST(u.query == c.query, c.text);
  }
}

BOOST_AUTO_TEST_CASE(parse_url_rejects_unusable_urls)
{
  for (const char* text : { "",
                            "api.openai.com/v1",
                            "ftp://h/",
                            "https://",
                            "https:///v1",
                            "https://h:0/",
                            "https://h:65536/",
                            "https://h:x/",
                            "https://h:/",
                            "https://user:pw@h/v1",
                            "https://[::1/",
                            "https://[nothex]/",
                            "https://h o/",
                            "https://h/a b",
                            "https://h/\xC3\xA9" }) {
    const auto f = failure_of([&] { parse_url(text); }, text);
    BOOST_TEST(f.status == static_cast<int>(ExitStatus::usage));
    BOOST_TEST(f.phase == "--base-url");
  }
}

BOOST_AUTO_TEST_CASE(nul_inside_an_ipv6_literal_is_rejected)
{
  BOOST_CHECK_THROW(parse_url(std::string_view("http://[::1\0x]/", 15)), Error);
}

BOOST_AUTO_TEST_CASE(credentials_in_url_are_not_echoed_back)
{
  for (const char* url : { "https://user:s3cret@h/v1",
                           "https://s3cret@h",
                           "https://u:s3cret@h:99999/v1?q=a@b",
                           "ftp://u:s3cret@h/",
                           "https://u:s3cret@[::1/" }) {
    const std::string message = failure_of([&] { parse_url(url); }, url).message;
    BOOST_TEST(message.find("s3cret") == std::string::npos, message);
    BOOST_TEST(message.find("[REDACTED]@") != std::string::npos, message);
  }
  const auto f = gptq::test::error_of([] { parse_url("https://user:s3cret@h/v1"); });
  if (f.thrown) {
    BOOST_TEST(f.message.find("OPENAI_API_KEY") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(authority_omits_default_ports_and_brackets_ipv6)
{
  BOOST_TEST(parse_url("https://h/").authority() == "h");
  BOOST_TEST(parse_url("http://h/").authority() == "h");
  BOOST_TEST(parse_url("https://h:80/").authority() == "h:80");
  BOOST_TEST(parse_url("http://h:443/").authority() == "h:443");
  BOOST_TEST(parse_url("https://[::1]:8443/").authority() == "[::1]:8443");
  BOOST_TEST(parse_url("https://[::1]/").authority() == "[::1]");
}

BOOST_AUTO_TEST_CASE(text_is_the_whole_url)
{
  BOOST_TEST(parse_url("HTTPS://h:443/v1?x=1").text() == "https://h/v1?x=1");
  BOOST_TEST(endpoint_url(parse_url("http://[::1]:8080/v1/"), "/chat/completions").text() ==
             "http://[::1]:8080/v1/chat/completions");
}

BOOST_AUTO_TEST_CASE(host_is_ip_detects_literals)
{
  BOOST_TEST(parse_url("https://127.0.0.1/").host_is_ip());
  BOOST_TEST(parse_url("https://[::1]/").host_is_ip());
  BOOST_TEST(!parse_url("https://localhost/").host_is_ip());
  BOOST_TEST(!parse_url("https://1.2.3.example/").host_is_ip());
}

BOOST_AUTO_TEST_CASE(endpoint_url_appends_to_the_path_and_keeps_the_query)
{
  BOOST_TEST(endpoint_url(parse_url("https://api.openai.com/v1"), "/chat/completions").target() ==
             "/v1/chat/completions");
  BOOST_TEST(endpoint_url(parse_url("https://h/v1/"), "/chat/completions").target() == "/v1/chat/completions");
  BOOST_TEST(endpoint_url(parse_url("http://h:8080"), "/chat/completions").target() == "/chat/completions");
  BOOST_TEST(
    endpoint_url(parse_url("https://h/openai/deployments/d?api-version=2024-10-21"), "/chat/completions").target() ==
    "/openai/deployments/d/chat/completions?api-version=2024-10-21");
}

BOOST_AUTO_TEST_SUITE_END()
