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
    : std::runtime_error(message), status_(status), phase_(std::move(phase))
  {
  }

  ExitStatus status() const { return status_; }
  const std::string& phase() const { return phase_; }

private:
  ExitStatus status_;
  std::string phase_;
};

} // namespace gptq
