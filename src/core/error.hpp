#pragma once

#include "exit_status.hpp"

#include <stdexcept>
#include <string>

namespace gptq {

// What failed, for the code that acts on a failure (the retry policy, batch
// mode's messages); the phase is only the label a user reads. Set where the
// failure is raised.
enum class FailureKind {
  other,        // none of the below: a usage error, a local file, a bug
  resolve,      // the server's (or proxy's) host name could not be looked up
  connect,      // no connection to the server or proxy
  network,      // the connection failed before any byte of a response came
  proxy,        // the proxy refused or failed
  tls,          // the TLS handshake failed
  certificate,  // the server's certificate is not trusted
  timeout,      // a time limit passed
  http_status,  // the server answered with an error status (not 2xx)
  bad_response, // the response, or the reply in it, cannot be used
  refusal,      // the model refused
  input,        // a batch input line that cannot make a request
};

// The one error type the program reports to the user. It carries the exit
// status, the kind of failure, and the phase that failed ("connect", "tls",
// "api", ...); app.cpp prints it as `gptq: <phase>: <message>`. An empty
// `phase` prints just the message.
class Error : public std::runtime_error {
public:
  Error(FailureKind kind, ExitStatus status, std::string phase, const std::string& message)
    : std::runtime_error(message)
    , status_(status)
    , kind_(kind)
    , phase_(std::move(phase))
  {
  }
  // A failure of kind `other`.
  Error(ExitStatus status, std::string phase, const std::string& message)
    : Error(FailureKind::other, status, std::move(phase), message)
  {
  }

  ExitStatus status() const { return status_; }
  FailureKind kind() const { return kind_; }
  const std::string& phase() const { return phase_; }

  // Returns this failure told by `message` instead: the same status, kind,
  // phase and lastingness.
  Error with_message(const std::string& message) const
  {
    Error copy(kind_, status_, phase_, message);
    copy.lasting_ = lasting_;
    return copy;
  }

  // True when no other try can mend the failure, whatever its phase would
  // allow: a host name that does not exist (NXDOMAIN) is not retried, while
  // a lookup that failed for now (EAI_AGAIN) may be.
  bool lasting() const { return lasting_; }
  // Marks the failure lasting; returns *this, to be thrown.
  Error& make_lasting()
  {
    lasting_ = true;
    return *this;
  }

private:
  ExitStatus status_;
  FailureKind kind_;
  std::string phase_;
  bool lasting_ = false;
};

} // namespace gptq
