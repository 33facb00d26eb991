#include "proxy.hpp"

#include "fake_environment.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace gptq;
using gptq::test::env_of;

namespace {

const Url https_target = parse_url("https://api.example.com/v1");
const Url http_target = parse_url("http://localhost:11434/v1");

} // namespace

BOOST_AUTO_TEST_SUITE(proxy)

BOOST_AUTO_TEST_CASE(parse_proxy_follows_curl)
{
  const Proxy p = parse_proxy("proxy.corp:3128", "HTTPS_PROXY");
  BOOST_TEST((p.kind == Proxy::Kind::http));
  BOOST_TEST(p.host == "proxy.corp");
  BOOST_TEST(p.port == 3128);
  BOOST_TEST(parse_proxy("http://proxy.corp", "x").port == 1080);
  BOOST_TEST(parse_proxy("http://proxy.corp/", "x").port == 1080);
  BOOST_TEST((parse_proxy("socks5h://127.0.0.1:7890", "x").kind == Proxy::Kind::socks5h));
  BOOST_TEST((parse_proxy("SOCKS5://[::1]:9050", "x").kind == Proxy::Kind::socks5));
  BOOST_TEST(parse_proxy("socks5://[::1]:9050", "x").host == "::1");
  BOOST_TEST(parse_proxy("socks5://[::1]", "x").port == 1080);
}

BOOST_AUTO_TEST_CASE(credentials_are_percent_decoded_and_never_displayed)
{
  const Proxy p = parse_proxy("http://al%40ice:p%40ss:w@rd@proxy:8080", "--proxy");
  BOOST_TEST(p.username == "al@ice");
  BOOST_TEST(p.password == "p@ss:w@rd");
  BOOST_TEST(p.host == "proxy");
  BOOST_TEST(p.display() == "http://al@ice@proxy:8080");
  BOOST_TEST(p.display().find("ss:w") == std::string::npos);
  BOOST_TEST(proxy_authorization(p) == "Basic YWxAaWNlOnBAc3M6d0ByZA==");
  Proxy short_one;
  short_one.username = "a";
  short_one.password = "b";
  BOOST_TEST(proxy_authorization(short_one) == "Basic YTpi");
}

BOOST_AUTO_TEST_CASE(bad_proxies_are_usage_errors_without_the_password)
{
  for (const char* text :
       { "https://proxy:443", "ftp://p", "http://user:sec%zzret@p", "http://user:secret@", "http://p:99999" }) {
    const auto f = gptq::test::failure_of([&] { parse_proxy(text, "HTTPS_PROXY"); }, text);
    BOOST_TEST(f.status == 2);
    BOOST_TEST(f.phase == "HTTPS_PROXY");
    BOOST_TEST(f.message.find("secret") == std::string::npos, f.message);
  }
}

BOOST_AUTO_TEST_CASE(no_proxy_matching)
{
  struct Case {
    const char* list;
    const char* host;
    unsigned port;
    bool matches;
  };
  const Case cases[] = {
    { "*", "anything", 443, true },
    { "example.com", "example.com", 443, true },
    { "example.com", "api.example.com", 443, true },
    { ".example.com", "api.example.com", 443, true },
    { ".example.com", "example.com", 443, true },
    { "example.com", "badexample.com", 443, false },
    { "example.com", "example.com.evil", 443, false },
    { "a.com, example.com ,b.com", "x.example.com", 443, true },
    { "EXAMPLE.com", "Api.Example.COM", 443, true },
    { "127.0.0.1", "127.0.0.1", 8080, true },
    { "127.0.0.1", "127.0.0.2", 8080, false },
    { "localhost", "127.0.0.1", 8080, false },
    { "", "localhost", 80, false },
    { "localhost:8080", "localhost", 8080, true },
    { "localhost:8080", "localhost", 8081, false },
    { "::1", "::1", 443, true },
    { "[::1]", "::1", 443, true },
    { "[::1]:443", "::1", 443, true },
    { "[::1]:443", "::1", 80, false },
  };
  for (const auto& c : cases) {
    BOOST_TEST(no_proxy_matches(c.list, c.host, static_cast<std::uint16_t>(c.port)) == c.matches,
               c.list << " vs " << c.host << ":" << c.port);
  }
}

BOOST_AUTO_TEST_CASE(environment_by_target_scheme_lower_case_first)
{
  const auto env = env_of({ { "https_proxy", "http://lower:1" },
                            { "HTTPS_PROXY", "http://upper:2" },
                            { "HTTP_PROXY", "http://plain:3" },
                            { "ALL_PROXY", "socks5h://all:4" } });
  BOOST_TEST(choose_proxy(https_target, std::nullopt, std::nullopt, env)->host == "lower");
  BOOST_TEST(choose_proxy(https_target, std::nullopt, std::nullopt, env)->source == "https_proxy");
  BOOST_TEST(choose_proxy(http_target, std::nullopt, std::nullopt, env)->host == "plain");
  const auto all_only = env_of({ { "ALL_PROXY", "socks5h://all:4" } });
  BOOST_TEST(choose_proxy(https_target, std::nullopt, std::nullopt, all_only)->host == "all");
  BOOST_TEST(choose_proxy(http_target, std::nullopt, std::nullopt, all_only)->host == "all");
  BOOST_TEST(!choose_proxy(https_target, std::nullopt, std::nullopt, env_of({})).has_value());
}

BOOST_AUTO_TEST_CASE(flags_beat_the_environment)
{
  const auto env = env_of({ { "HTTPS_PROXY", "http://env:1" }, { "NO_PROXY", "example.com" } });
  BOOST_TEST(choose_proxy(https_target, std::string("http://flag:2"), std::nullopt, env_of({}))->host == "flag");
  BOOST_TEST(!choose_proxy(https_target, std::string(""), std::nullopt, env).has_value());
  // NO_PROXY exempts api.example.com, --no-proxy replaces NO_PROXY.
  BOOST_TEST(!choose_proxy(https_target, std::nullopt, std::nullopt, env).has_value());
  BOOST_TEST(choose_proxy(https_target, std::nullopt, std::string("other.com"), env)->host == "env");
  BOOST_TEST(!choose_proxy(https_target, std::string("http://flag:2"), std::string("*"), env).has_value());
}

BOOST_AUTO_TEST_CASE(localhost_is_not_exempt_unless_listed)
{
  const auto env = env_of({ { "http_proxy", "http://p:1" } });
  BOOST_TEST(choose_proxy(http_target, std::nullopt, std::nullopt, env).has_value());
  const auto listed = env_of({ { "http_proxy", "http://p:1" }, { "no_proxy", "localhost" } });
  BOOST_TEST(!choose_proxy(http_target, std::nullopt, std::nullopt, listed).has_value());
}

BOOST_AUTO_TEST_CASE(explain_proxy_says_where_the_proxy_and_the_exemption_come_from)
{
  const Url target = parse_url("https://api.example.com/v1");
  const auto env = env_of({ { "HTTPS_PROXY", "http://u:pw@p:3128" }, { "NO_PROXY", "example.com" } });
  const ProxyChoice bypassed = explain_proxy(target, std::nullopt, std::nullopt, env);
  BOOST_TEST(!bypassed.proxy.has_value());
  BOOST_TEST(bypassed.bypassed);
  BOOST_TEST(bypassed.source == "HTTPS_PROXY");
  BOOST_TEST(bypassed.no_proxy_source == "NO_PROXY");
  const ProxyChoice used = explain_proxy(target, std::nullopt, std::string("other.org"), env);
  BOOST_TEST(used.proxy->display() == "http://u@p:3128");
  BOOST_TEST(!used.bypassed);
  BOOST_TEST(used.no_proxy_source == "--no-proxy");
  const ProxyChoice none = explain_proxy(target, std::string(""), std::nullopt, env_of({}));
  BOOST_TEST(!none.proxy.has_value());
  BOOST_TEST(!none.bypassed);
  BOOST_TEST(none.source == "--proxy");
  BOOST_TEST(none.no_proxy_source == "");
}

BOOST_AUTO_TEST_SUITE_END()
