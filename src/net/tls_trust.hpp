#pragma once

#include <functional>
#include <optional>
#include <string>

#include <openssl/types.h>

namespace gptq {

// What a TLS client context trusts: the system store, as OpenSSL's default
// verify paths define it (SSL_CERT_DIR or the default hashed directory, and
// SSL_CERT_FILE or the default bundle), plus an optional --cacert file.
//
// The union is the same as SSL_CTX_set_default_verify_paths() gives, but
// the bundle is read only when needed. OpenSSL parses a bundle whole, about
// 150 certificates and 20 ms, while a hashed directory is looked up by the
// issuer's name hash and costs a stat and one small file. So the directory
// and --cacert are tried first, and the bundle is loaded only when they do
// not verify the server (on Debian the directory holds the same CAs as the
// bundle, so a plain request never reads it).
//
// Must outlive every handshake made with the context it configures.
class TlsTrust {
public:
  using Log = std::function<void(const std::string&)>;

  // Throws gptq::Error (usage) when `cacert` cannot be read or holds no
  // certificate.
  TlsTrust(SSL_CTX* ctx, const std::optional<std::string>& cacert, Log log);
  TlsTrust(const TlsTrust&) = delete;
  TlsTrust& operator=(const TlsTrust&) = delete;

  // Why the bundle could not be used when a verification needed it, naming
  // it ("SSL_CERT_FILE /x is a directory, not a PEM bundle"), or
  // "" when it was not needed, was loaded, or is the built-in one and
  // missing (a system may keep its CAs in the directory alone).
  const std::string& bundle_problem() const { return bundle_problem_; }

private:
  static int verify(X509_STORE_CTX* store_ctx, void* self);

  std::string bundle_;                // the bundle file; empty once loaded or when there is none
  bool bundle_from_variable_ = false; // SSL_CERT_FILE chose it
  std::string bundle_problem_;
  Log log_;
};

} // namespace gptq
