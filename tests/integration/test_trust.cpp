// Certificate trust: where trust may come from (--cacert, SSL_CERT_FILE,
// SSL_CERT_DIR), and that every certificate problem is exit 4 with a message
// that names it.

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <ostream>

namespace data = boost::unit_test::data;
namespace fs = std::filesystem;
using namespace gptq::it;

namespace {

struct CertCase {
  const char* name;
  std::string host;
  int Ports::*listener;
  std::string cacert; // file name in the certs dir; empty for none
  bool system_store;  // the machine's store only, instead of an empty one
  std::vector<std::string> mentions;
};

std::ostream& operator<<(std::ostream& os, const CertCase& c)
{
  return os << c.name;
}

const std::vector<CertCase> rejected_certificates{
  { "test_ca_not_in_the_system_store", "127.0.0.1", &Ports::https, "", true, { "not trusted", "--cacert" } },
  { "nothing_trusted_at_all", "127.0.0.1", &Ports::https, "", false, { "not trusted" } },
  { "expired", "127.0.0.1", &Ports::expired, "ca.pem", false, { "expired" } },
  { "expired_by_name", "localhost", &Ports::expired, "ca.pem", false, { "expired" } },
  { "wrong_host_for_an_ip", "127.0.0.1", &Ports::wronghost, "ca.pem", false, { "mismatch" } },
  { "wrong_host_for_a_name", "localhost", &Ports::wronghost, "ca.pem", false, { "mismatch" } },
  { "self_signed", "127.0.0.1", &Ports::selfsigned, "ca.pem", false, { "not trusted" } },
  { "self_signed_by_name", "localhost", &Ports::selfsigned, "ca.pem", false, { "not trusted" } },
  { "other_ca", "127.0.0.1", &Ports::https, "other-ca.pem", false, { "not trusted" } },
};

} // namespace

BOOST_AUTO_TEST_SUITE(trust)

BOOST_AUTO_TEST_CASE(cacert_option_trusts_the_test_ca)
{
  check_success(run_gptq_https("echo", { "trusted" }), "trusted\n");
}

BOOST_AUTO_TEST_CASE(ssl_cert_file_trusts_the_test_ca)
{
  Env env = key_env();
  env["SSL_CERT_FILE"] = cert("ca.pem");
  check_success(run_gptq({ "--base-url", https_url("echo"), "via", "file" }, env), "via file\n");
}

BOOST_AUTO_TEST_CASE(ssl_cert_dir_trusts_a_hashed_test_ca)
{
  const std::string dir = scratch_dir() + "/hashed-ca-dir";
  fs::create_directories(dir);
  fs::copy_file(cert("ca.pem"), dir + "/gptq-test-ca.pem", fs::copy_options::overwrite_existing);
  const RunResult rehash = run({ "/usr/bin/openssl", "rehash", dir }, base_env(), StdinSpec::dev_null());
  BOOST_REQUIRE_MESSAGE(rehash.exit_code == 0, "openssl rehash: " << rehash.describe());

  Env env = key_env();
  env["SSL_CERT_FILE"] = scratch_dir() + "/no-such-file.pem";
  env["SSL_CERT_DIR"] = dir;
  check_success(run_gptq({ "--base-url", https_url("echo"), "via", "dir" }, env), "via dir\n");
}

BOOST_AUTO_TEST_CASE(cacert_adds_to_the_system_store)
{
  check_success(run_gptq({ "--base-url", https_url("echo"), "--cacert", cert("ca.pem"), "both" }, system_store_env()),
                "both\n");
}

BOOST_AUTO_TEST_CASE(localhost_is_verified_by_name)
{
  const std::string url = base_url("https", ports().https, "echo", "localhost");
  check_success(run_gptq({ "--base-url", url, "--cacert", cert("ca.pem"), "by", "name" }), "by name\n");
}

BOOST_DATA_TEST_CASE(untrusted_certificates_fail_with_exit_4, data::make(rejected_certificates), c)
{
  std::vector<std::string> args{ "--base-url", base_url("https", ports().*c.listener, "echo", c.host) };
  if (!c.cacert.empty()) {
    args.insert(args.end(), { "--cacert", cert(c.cacert) });
  }
  args.emplace_back("hello");
  check_failure(run_gptq(args, c.system_store ? system_store_env() : key_env()), 4, c.mentions);
}

BOOST_AUTO_TEST_CASE(unreadable_cacert_is_a_usage_error)
{
  check_failure(run_gptq({ "--base-url", https_url("echo"), "--cacert", "/nonexistent/ca.pem", "hello" }),
                2,
                { "--cacert", "/nonexistent/ca.pem" });
}

BOOST_AUTO_TEST_CASE(cacert_without_certificates_is_a_usage_error)
{
  check_failure(run_gptq({ "--base-url", https_url("echo"), "--cacert", scratch_dir() + "/empty-ca.pem", "hello" }),
                2,
                { "--cacert" });
}

BOOST_AUTO_TEST_CASE(plain_http_to_the_tls_port_fails_with_exit_4)
{
  check_failure(run_gptq({ "--base-url", base_url("http", ports().https, "echo"), "hello" }), 4);
}

BOOST_AUTO_TEST_CASE(tls_to_the_plain_http_port_fails_with_exit_4)
{
  check_failure(
    run_gptq({ "--base-url", base_url("https", ports().http, "echo"), "--cacert", cert("ca.pem"), "hello" }),
    4,
    { "TLS" });
}

BOOST_AUTO_TEST_SUITE_END()
