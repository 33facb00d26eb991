#pragma once

#include "batch.hpp"
#include "environment.hpp"
#include "transport.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <span>

namespace gptq {

// What the program reads and writes, so that tests can run it whole with a
// fake transport and their own environment.
struct AppContext {
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;           // the activity indicator goes here, on a terminal
  bool stdout_closed = false;  // the caller closed descriptor 1: no output can reach anyone
  std::ostream* err = nullptr; // where `gptq: ...` lines go
  Environment env;
  std::function<std::unique_ptr<Transport>(const TransportOptions&)> make_transport;
  // Batch mode's kept-alive connections (batch.hpp).
  std::function<std::unique_ptr<Connection>(const boost::asio::any_io_executor&, const TransportOptions&)>
    make_connection;
  std::chrono::milliseconds stdin_hint_after{ 3000 };
  std::function<void(std::chrono::milliseconds)> sleep; // waits between retries
};

// Runs gptq with `args` (argv without argv[0]): options, prompt, request,
// transport, reply. The one place that turns errors into a `gptq: ...` line
// and an exit status. Returns the exit status.
int run_app(std::span<const char* const> args, const AppContext& context);

// Returns the --version text: gptq's version and the Boost and OpenSSL
// versions it runs with.
std::string version_text();

} // namespace gptq
