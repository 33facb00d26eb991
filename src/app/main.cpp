#include "app.hpp"
#include "interrupt.hpp"
#include "network.hpp"

#include <csignal>
#include <iostream>
#include <thread>

#include <fcntl.h>

namespace {

// Gives each of descriptors 0, 1 and 2 that the caller closed (`gptq ...
// >&-`) /dev/null, so that no descriptor gptq opens later (Asio's eventfd,
// a socket, a file) takes its number and gets what is meant for stdin,
// stdout or stderr. Returns whether stdout was closed.
bool reserve_standard_descriptors()
{
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) {
      continue;
    }
    stdout_closed = stdout_closed || fd == 1;
    // The lowest free number is `fd` itself: the lower ones are open.
    const int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null != fd && null != -1) {
      close(null);
    }
  }
  return stdout_closed;
}

} // namespace

int main(int argc, char** argv)
{
  const bool stdout_closed = reserve_standard_descriptors();
  // A closed stdout must surface as a write error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  gptq::init_network_library();
  gptq::install_interrupt_handler();
  gptq::exit_when_reader_leaves(1);
  gptq::AppContext context;
  context.err = &std::cerr;
  context.stdout_closed = stdout_closed;
  context.env = gptq::process_environment();
  gptq::NetworkClient network;
  context.make_transport = [&network](const gptq::TransportOptions& options) {
    return network.make_transport(options);
  };
  context.make_connection = [&network](const boost::asio::any_io_executor& executor,
                                       const gptq::TransportOptions& options) {
    return network.make_connection(executor, options);
  };
  context.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  return gptq::run_app({ argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0) }, context);
}
