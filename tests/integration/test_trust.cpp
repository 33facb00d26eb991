// Certificate trust: where trust may come from (--cacert, SSL_CERT_FILE,
// SSL_CERT_DIR), and that every certificate problem is exit 4 with a message
// that names it.

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
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

// A directory named `name` in the scratch directory holding `certs` (file
// names in the certificates directory), with OpenSSL's hash links.
std::string hashed_dir(const std::string& name, const std::vector<std::string>& certs)
{
  const std::string dir = scratch_dir() + "/" + name;
  fs::create_directories(dir);
  for (const auto& c : certs) {
    fs::copy_file(cert(c), dir + "/" + c, fs::copy_options::overwrite_existing);
  }
  const RunResult rehash = run({ "/usr/bin/openssl", "rehash", dir }, base_env(), StdinSpec::dev_null());
  BOOST_REQUIRE_MESSAGE(rehash.exit_code == 0, "openssl rehash: " << rehash.describe());
  return dir;
}

// A bundle file named `name` in the scratch directory: the machine's system
// bundle followed by `certs` (file names in the certificates directory).
std::string bundle(const std::string& name, const std::vector<std::string>& certs)
{
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << std::ifstream("/etc/ssl/certs/ca-certificates.crt", std::ios::binary).rdbuf();
  for (const auto& c : certs) {
    out << std::ifstream(cert(c), std::ios::binary).rdbuf();
  }
  BOOST_REQUIRE(out.flush());
  return path;
}

// key_env() with the system store made of `dir` and `file`.
Env store_env(const std::string& dir, const std::string& file)
{
  Env env = key_env();
  env["SSL_CERT_DIR"] = dir;
  env["SSL_CERT_FILE"] = file;
  return env;
}

const std::string bundle_loaded = "loaded the CA bundle";

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
  const Env env = store_env(hashed_dir("hashed-ca-dir", { "ca.pem" }), scratch_dir() + "/no-such-file.pem");
  check_success(run_gptq({ "--base-url", https_url("echo"), "via", "dir" }, env), "via dir\n");
}

// The test CA added to a copy of the system store, as a corporate CA is:
// the hashed directory finds it, so the bundle is never parsed.
BOOST_AUTO_TEST_CASE(a_ca_in_the_hashed_directory_does_not_load_the_bundle)
{
  const Env env =
    store_env(hashed_dir("store-dir-with-ca", { "ca.pem", "other-ca.pem" }), bundle("store-with-ca.crt", { "ca.pem" }));
  check_success(run_gptq({ "--base-url", https_url("echo"), "fast" }, env), "fast\n");
  const RunResult verbose = run_gptq({ "--base-url", https_url("echo"), "-v", "fast" }, env);
  BOOST_TEST(verbose.exit_code == 0, verbose.describe());
  BOOST_TEST(!contains(verbose.err, bundle_loaded), verbose.describe());
}

// -v says what gptq trusts, once: where a corporate CA goes missing, this
// is the line to read.
BOOST_AUTO_TEST_CASE(verbose_names_what_is_trusted)
{
  const std::string dir = hashed_dir("store-dir-named", { "other-ca.pem" });
  const std::string file = bundle("store-named.crt", {});
  const RunResult r =
    run_gptq({ "--base-url", https_url("echo"), "--cacert", cert("ca.pem"), "-v", "named" }, store_env(dir, file));
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == "named\n");
    const std::string said = "gptq: trusting the CA directory " + dir + ", then the CA bundle " + file +
                             " if the directory does not verify the server, and --cacert " + cert("ca.pem") + "\n";
    BOOST_TEST(contains(r.err, said));
    BOOST_TEST(r.err.find("gptq: trusting ") == r.err.rfind("gptq: trusting "), "said once");
  }
}

// A store that is a bundle only (as on distributions without hash links)
// still trusts what the bundle holds.
BOOST_AUTO_TEST_CASE(a_ca_only_in_the_bundle_is_trusted)
{
  const Env env =
    store_env(hashed_dir("store-dir-without-ca", { "other-ca.pem" }), bundle("store-bundle-only.crt", { "ca.pem" }));
  check_success(run_gptq({ "--base-url", https_url("echo"), "from", "bundle" }, env), "from bundle\n");
  const RunResult verbose = run_gptq({ "--base-url", https_url("echo"), "-v", "from", "bundle" }, env);
  BOOST_TEST(verbose.exit_code == 0, verbose.describe());
  BOOST_TEST(verbose.out == "from bundle\n");
  BOOST_TEST(contains(verbose.err, bundle_loaded + " " + scratch_dir() + "/store-bundle-only.crt"), verbose.describe());
}

BOOST_AUTO_TEST_CASE(a_ca_in_neither_part_of_the_store_is_not_trusted)
{
  const Env env =
    store_env(hashed_dir("store-dir-other", { "other-ca.pem" }), bundle("store-bundle-other.crt", { "other-ca.pem" }));
  check_failure(run_gptq({ "--base-url", https_url("echo"), "hello" }, env), 4, { "not trusted", "--cacert" });
}

// A failure found with the directory alone is checked again with the bundle
// loaded, and still named for what it is.
BOOST_AUTO_TEST_CASE(an_expired_certificate_is_named_with_a_directory_store)
{
  const Env env =
    store_env(hashed_dir("store-dir-expired", { "ca.pem" }), bundle("store-bundle-expired.crt", { "ca.pem" }));
  check_failure(run_gptq({ "--base-url", base_url("https", ports().expired, "echo"), "hello" }, env), 4, { "expired" });
}

BOOST_AUTO_TEST_CASE(cacert_adds_to_the_system_store)
{
  check_success(run_gptq({ "--base-url", https_url("echo"), "--cacert", cert("ca.pem"), "both" }, system_store_env()),
                "both\n");
}

BOOST_AUTO_TEST_CASE(localhost_is_verified_by_name)
{
  const std::string url = base_url("https", ports().https, "echo", "localhost");
  check_success(run_gptq_with_hosts(debian_hosts, { "--base-url", url, "--cacert", cert("ca.pem"), "by", "name" }),
                "by name\n");
}

BOOST_DATA_TEST_CASE(untrusted_certificates_fail_with_exit_4, data::make(rejected_certificates), c)
{
  std::vector<std::string> args{ "--base-url", base_url("https", ports().*c.listener, "echo", c.host) };
  if (!c.cacert.empty()) {
    args.insert(args.end(), { "--cacert", cert(c.cacert) });
  }
  args.emplace_back("hello");
  const Env env = c.system_store ? system_store_env() : key_env();
  check_failure(
    c.host == "127.0.0.1" ? run_gptq(args, env) : run_gptq_with_hosts(debian_hosts, args, env), 4, c.mentions);
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
