#include "socks5.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace gptq;
using namespace std::string_literals;
using gptq::test::failure_of;

constexpr int network = static_cast<int>(ExitStatus::network);
constexpr int usage = static_cast<int>(ExitStatus::usage);

namespace {

Proxy socks_proxy(const std::string& username = "", const std::string& password = "")
{
  Proxy proxy = parse_proxy("socks5h://127.0.0.1:7890", "ALL_PROXY");
  proxy.username = username;
  proxy.password = password;
  return proxy;
}

} // namespace

BOOST_AUTO_TEST_SUITE(socks5_bytes)

BOOST_AUTO_TEST_CASE(greeting_offers_a_login_only_with_a_username)
{
  BOOST_TEST(socks5::greeting(false) == "\x05\x01\x00"s);
  BOOST_TEST(socks5::greeting(true) == "\x05\x02\x00\x02"s);
}

BOOST_AUTO_TEST_CASE(password_chosen_reads_the_method)
{
  const Proxy proxy = socks_proxy("u", "p");
  BOOST_TEST(!socks5::password_chosen("\x05\x00"s, false, proxy));
  BOOST_TEST(!socks5::password_chosen("\x05\x00"s, true, proxy));
  BOOST_TEST(socks5::password_chosen("\x05\x02"s, true, proxy));
}

BOOST_AUTO_TEST_CASE(password_chosen_rejects_what_was_not_offered)
{
  const Proxy proxy = socks_proxy();
  for (const std::string& choice : { "\x05\x02"s, "\x05\xff"s, "\x04\x00"s, "\x05"s, ""s }) {
    const auto e = failure_of([&] { socks5::password_chosen(choice, false, proxy); });
    BOOST_TEST(e.phase == "proxy");
    BOOST_TEST(e.status == network);
    BOOST_TEST(e.message == "socks5h://127.0.0.1:7890 wants a login (user:password@ in the proxy URL)");
  }
  const auto e = failure_of([&] { socks5::password_chosen("\x05\xff"s, true, socks_proxy("u", "p")); });
  BOOST_TEST(e.message == "socks5h://u@127.0.0.1:7890 accepts none of the offered ways to log in");
}

BOOST_AUTO_TEST_CASE(login_request_is_rfc_1929)
{
  BOOST_TEST(socks5::login_request(socks_proxy("al", "pwd")) == "\x01\x02"
                                                                "al\x03pwd"s);
  BOOST_TEST(socks5::login_request(socks_proxy("u", "")) == "\x01\x01u\x00"s);
  BOOST_TEST(socks5::login_request(socks_proxy(std::string(255, 'u'), std::string(255, 'p'))).size() == 3u + 510u);
}

BOOST_AUTO_TEST_CASE(login_request_refuses_names_and_passwords_over_255_bytes)
{
  for (const auto& proxy : { socks_proxy(std::string(256, 'u'), "p"), socks_proxy("u", std::string(256, 'p')) }) {
    const auto e = failure_of([&] { socks5::login_request(proxy); });
    BOOST_TEST(e.status == usage);
    BOOST_TEST(e.phase == "ALL_PROXY");
    BOOST_TEST(e.message == "SOCKS5 user names and passwords are at most 255 bytes");
  }
}

BOOST_AUTO_TEST_CASE(check_login_verdict_accepts_only_status_0)
{
  const Proxy proxy = socks_proxy("u", "p");
  socks5::check_login_verdict("\x01\x00"s, proxy);
  for (const std::string& verdict : { "\x01\x01"s, "\x01\xff"s, "\x01"s }) {
    const auto e = failure_of([&] { socks5::check_login_verdict(verdict, proxy); });
    BOOST_TEST(e.phase == "proxy");
    BOOST_TEST(e.message == "socks5h://u@127.0.0.1:7890 rejected the username and password");
  }
}

BOOST_AUTO_TEST_CASE(connect_requests_name_the_target)
{
  BOOST_TEST(socks5::connect_request_for_name("api.example.com", 443) == "\x05\x01\x00\x03\x0f"
                                                                         "api.example.com\x01\xbb"s);
  BOOST_TEST(socks5::connect_request_for_address("\x7f\x00\x00\x01"s, 8443) ==
             "\x05\x01\x00\x01\x7f\x00\x00\x01\x20\xfb"s);
  const std::string v6(16, '\x01');
  BOOST_TEST(socks5::connect_request_for_address(v6, 80) == "\x05\x01\x00\x04"s + v6 + "\x00\x50"s);
  BOOST_TEST(socks5::connect_request_for_name(std::string(255, 'h'), 1).size() == 5u + 255u + 2u);
}

BOOST_AUTO_TEST_CASE(connect_request_for_name_refuses_names_over_255_bytes)
{
  const auto e = failure_of([] { socks5::connect_request_for_name(std::string(256, 'h'), 443); });
  BOOST_TEST(e.status == usage);
  BOOST_TEST(e.phase == "--base-url");
  BOOST_TEST(e.message == "the host name is too long for SOCKS5");
}

BOOST_AUTO_TEST_CASE(connect_reply_size_counts_the_bound_address)
{
  const Proxy proxy = socks_proxy();
  const auto size = [&](const std::string& reply) { return socks5::connect_reply_size(reply, proxy, "h:443"); };
  BOOST_TEST((size("\x05\x00\x00\x01"s) == std::size_t{ 10u }));
  BOOST_TEST((size("\x05\x00\x00\x04"s) == std::size_t{ 22u }));
  BOOST_TEST((size("\x05\x00\x00\x03\x07"s) == std::size_t{ 4u + 1u + 7u + 2u }));
  BOOST_TEST((size("\x05\x00\x00\x03\x00"s) == std::size_t{ 7u }));
  BOOST_TEST((size("\x05\x00\x00\x09"s) == std::size_t{ 6u }));
  // Bytes past what the head tells are not looked at.
  BOOST_TEST((size("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"s) == std::size_t{ 10u }));
}

BOOST_AUTO_TEST_CASE(connect_reply_size_waits_for_a_short_reply)
{
  const Proxy proxy = socks_proxy();
  const std::string whole = "\x05\x00\x00\x03\x07"s;
  for (std::size_t n = 0; n < 4; ++n) {
    BOOST_TEST(!socks5::connect_reply_size(whole.substr(0, n), proxy, "h:443"), n);
  }
  BOOST_TEST(!socks5::connect_reply_size(whole.substr(0, 4), proxy, "h:443"));
  BOOST_TEST((socks5::connect_reply_size(whole, proxy, "h:443") == std::size_t{ 14 }));
}

BOOST_AUTO_TEST_CASE(every_reply_code_names_its_reason)
{
  const char* const reasons[] = { nullptr,
                                  "general failure",
                                  "not allowed by its rules",
                                  "network unreachable",
                                  "host unreachable",
                                  "connection refused",
                                  "TTL expired",
                                  "command not supported",
                                  "address type not supported" };
  const Proxy proxy = socks_proxy();
  for (unsigned code = 1; code < 256; ++code) {
    const std::string reason = code < std::size(reasons) ? reasons[code] : "unknown error";
    BOOST_TEST(socks5::reply_reason(static_cast<unsigned char>(code)) == reason);
    const std::string reply = "\x05"s + static_cast<char>(code) + "\x00\x01"s;
    const auto e = failure_of([&] { socks5::connect_reply_size(reply, proxy, "api.example.com:443"); });
    BOOST_TEST(e.phase == "proxy");
    BOOST_TEST(e.status == network);
    BOOST_TEST(e.message == "socks5h://127.0.0.1:7890 could not connect to api.example.com:443: " + reason);
  }
  BOOST_TEST(socks5::reply_reason(0) == "succeeded");
  // Another version is a failure too, named by its code.
  const auto e = failure_of([&] { socks5::connect_reply_size("\x04\x00\x00\x01"s, proxy, "h:1"); });
  BOOST_TEST(e.message == "socks5h://127.0.0.1:7890 could not connect to h:1: succeeded");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(socks5_kinds)

BOOST_AUTO_TEST_CASE(refusals_are_proxy_failures_and_limits_usage_errors)
{
  const Proxy proxy = socks_proxy("u", "p");
  const auto kind_of = [](const auto& call) {
    try {
      call();
    } catch (const Error& e) {
      return e.kind();
    }
    return FailureKind::other;
  };
  BOOST_TEST((kind_of([&] { socks5::password_chosen("\x05\xff"s, true, proxy); }) == FailureKind::proxy));
  BOOST_TEST((kind_of([&] { socks5::check_login_verdict("\x01\x01"s, proxy); }) == FailureKind::proxy));
  BOOST_TEST((kind_of([&] { socks5::connect_reply_size("\x05\x05\x00\x01"s, proxy, "h:1"); }) == FailureKind::proxy));
  BOOST_TEST((kind_of([&] { socks5::login_request(socks_proxy(std::string(256, 'u'), "p")); }) == FailureKind::other));
}

BOOST_AUTO_TEST_SUITE_END()
