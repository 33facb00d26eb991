#include "exchange_context.hpp"

#include <cstdio>

namespace gptq {

namespace {

// How long sending TLS close_notify may take once the response is complete:
// the reply is already in hand, so this only bounds how long exiting can
// take (the alert waits only for room in the socket's send buffer).
constexpr std::chrono::milliseconds shutdown_limit{ 1000 };

} // namespace

std::string seconds_text(std::chrono::milliseconds ms)
{
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g s", static_cast<double>(ms.count()) / 1000.0);
  return buffer;
}

Deadlines::Deadlines(const TransportOptions& options)
  : options_(options)
  , total_(options.total_timeout ? Clock::now() + *options.total_timeout : Clock::time_point::max())
{
}

Clock::time_point Deadlines::shutdown() const
{
  return capped(shutdown_limit);
}

void Deadlines::timed_out(const std::string& step_message) const
{
  if (total_passed()) {
    throw Error(FailureKind::timeout,
                ExitStatus::network,
                "timeout",
                "no complete response within " + seconds_text(*options_.total_timeout) + " (--timeout)");
  }
  throw Error(FailureKind::timeout, ExitStatus::network, "timeout", step_message);
}

ExchangeContext::ExchangeContext(const TransportOptions& options, const Url& url)
  : options(options)
  , url(url)
  , deadlines(options)
  , proxy(options.proxy ? &*options.proxy : nullptr)
  , started(Clock::now())
  , where(url.host.find(':') != std::string::npos ? "[" + url.host + "]:" + std::to_string(url.port)
                                                  : url.host + ":" + std::to_string(url.port))
{
}

std::string ExchangeContext::elapsed() const
{
  char buffer[32];
  std::snprintf(
    buffer, sizeof buffer, "%.1f ms", std::chrono::duration<double, std::milli>(Clock::now() - started).count());
  return buffer;
}

} // namespace gptq
