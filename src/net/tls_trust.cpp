#include "tls_trust.hpp"

#include "error.hpp"
#include "text.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include <sys/stat.h>

namespace gptq {

namespace {

// The value of the variable `name` (SSL_CERT_FILE, SSL_CERT_DIR), or
// OpenSSL's built-in `fallback` when it is unset or empty.
std::string location(const char* name, const char* fallback)
{
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// Verifies the chain of `store_ctx` again, with the store as it is now and
// the same parameters (purpose, host name, time), and leaves the verdict in
// `store_ctx` as if it had been its own: OpenSSL verifies a context only
// once, so a fresh one does the work. Returns X509_verify_cert's result.
int verify_again(X509_STORE_CTX* store_ctx)
{
  const std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> again(X509_STORE_CTX_new(),
                                                                              X509_STORE_CTX_free);
  if (!again ||
      X509_STORE_CTX_init(again.get(),
                          X509_STORE_CTX_get0_store(store_ctx),
                          X509_STORE_CTX_get0_cert(store_ctx),
                          X509_STORE_CTX_get0_untrusted(store_ctx)) != 1 ||
      X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(again.get()), X509_STORE_CTX_get0_param(store_ctx)) != 1) {
    return 0; // store_ctx keeps its own failure
  }
  const int result = X509_verify_cert(again.get());
  X509_STORE_CTX_set_error(store_ctx, X509_STORE_CTX_get_error(again.get()));
  X509_STORE_CTX_set_error_depth(store_ctx, X509_STORE_CTX_get_error_depth(again.get()));
  X509_STORE_CTX_set_current_cert(store_ctx, X509_STORE_CTX_get_current_cert(again.get()));
  X509_STORE_CTX_set0_verified_chain(store_ctx, X509_STORE_CTX_get1_chain(again.get()));
  return result;
}

// Why the bundle `path` (from SSL_CERT_FILE when `from_variable`) did not
// load, as the end of a message, or "" for a built-in bundle that is not
// there.
std::string bundle_failure(const std::string& path, bool from_variable)
{
  const std::string name = (from_variable ? "SSL_CERT_FILE " : "the CA bundle ") + path;
  struct stat status {};
  if (stat(path.c_str(), &status) != 0) {
    return from_variable ? name + " cannot be read: " + std::strerror(errno) : "";
  }
  if (S_ISDIR(status.st_mode)) {
    return name + " is a directory, not a PEM bundle";
  }
  return name + " holds no PEM certificate";
}

} // namespace

TlsTrust::TlsTrust(SSL_CTX* ctx, const std::optional<std::string>& cacert, Log log)
  : bundle_(location(X509_get_default_cert_file_env(), X509_get_default_cert_file()))
  , log_(std::move(log))
{
  const char* variable = std::getenv(X509_get_default_cert_file_env());
  bundle_from_variable_ = variable && *variable;
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  // SSL_CERT_DIR may be a list, like PATH. A missing directory is no error:
  // verification says what is missing.
  const std::string directory = location(X509_get_default_cert_dir_env(), X509_get_default_cert_dir());
  if (X509_LOOKUP* dir = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) {
    X509_LOOKUP_add_dir(dir, directory.c_str(), X509_FILETYPE_PEM);
  }
  ERR_clear_error();
  if (cacert) {
    if (std::FILE* f = std::fopen(cacert->c_str(), "r")) {
      std::fclose(f);
    } else {
      throw Error(ExitStatus::usage, "--cacert", "cannot read " + quoted(*cacert) + ": " + std::strerror(errno));
    }
    if (X509_STORE_load_file(store, cacert->c_str()) != 1) {
      const char* reason = ERR_reason_error_string(ERR_peek_last_error());
      const std::string why = reason ? reason : "no certificate found";
      ERR_clear_error();
      throw Error(ExitStatus::usage, "--cacert", quoted(*cacert) + " holds no usable PEM certificates (" + why + ")");
    }
  }
  SSL_CTX_set_cert_verify_callback(ctx, &TlsTrust::verify, this);
  if (log_) {
    log_("trusting the CA directory " + directory +
         (bundle_.empty() ? "" : ", then the CA bundle " + bundle_ + " if the directory does not verify the server") +
         (cacert ? ", and --cacert " + *cacert : ""));
  }
}

int TlsTrust::verify(X509_STORE_CTX* store_ctx, void* self)
{
  auto& trust = *static_cast<TlsTrust*>(self);
  const int result = X509_verify_cert(store_ctx);
  if (result == 1 || trust.bundle_.empty()) {
    return result;
  }
  // Not verified with the directory and --cacert: once more with the
  // bundle. Rare (a store without hash links, or a certificate that is bad
  // anyway), so the common case verifies once.
  const std::string bundle = std::exchange(trust.bundle_, std::string());
  const bool loaded = X509_STORE_load_file(X509_STORE_CTX_get0_store(store_ctx), bundle.c_str()) == 1;
  ERR_clear_error();
  if (!loaded) {
    trust.bundle_problem_ = bundle_failure(bundle, trust.bundle_from_variable_);
  }
  if (trust.log_) {
    trust.log_(loaded ? "the server's certificate is not verified by the hashed CA directory or --cacert; loaded "
                        "the CA bundle " +
                          bundle
                      : "the server's certificate is not verified by the hashed CA directory or --cacert, and "
                        "the CA bundle " +
                          bundle + " cannot be loaded" +
                          (trust.bundle_problem_.empty() ? "" : ": " + trust.bundle_problem_));
  }
  return loaded ? verify_again(store_ctx) : result;
}

} // namespace gptq
