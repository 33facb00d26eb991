#pragma once

#include "exit_status.hpp"

#include <stdexcept>
#include <string>

namespace gptq {

// The one error type the program reports to the user. It carries the exit
// status and the phase that failed ("connect", "tls", "api", ...); app.cpp
// prints it as `gptq: <phase>: <message>`. An empty `phase` prints just the
// message.
class Error : public std::runtime_error {
public:
  Error(ExitStatus status, std::string phase, const std::string& message)
    : std::runtime_error(message)
    , status_(status)
    , phase_(std::move(phase))
  {
  }

  ExitStatus status() const { return status_; }
  const std::string& phase() const { return phase_; }

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
  std::string phase_;
  bool lasting_ = false;
};

} // namespace gptq
