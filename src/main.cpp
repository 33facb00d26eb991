#include "app.hpp"
#include "interrupt.hpp"

#include <openssl/crypto.h>

#include <csignal>
#include <iostream>
#include <thread>

int main(int argc, char** argv)
{
  // A closed stdout must surface as a write error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // OpenSSL's exit handler frees every provider and algorithm table, about
  // half a millisecond of work whose only effect is on memory the kernel
  // is about to reclaim.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  gptq::install_interrupt_handler();
  gptq::exit_when_reader_leaves(1);
  gptq::AppContext context;
  context.err = &std::cerr;
  context.env = gptq::process_environment();
  context.make_transport = gptq::make_network_transport;
  context.make_connection = gptq::make_network_connection;
  context.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  return gptq::run_app({argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0)}, context);
}
