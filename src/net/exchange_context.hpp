#pragma once

// What the steps of one exchange share (connect.hpp, tunnel.hpp, tls.hpp,
// net_transport.cpp): the options, the time limits, how messages name the
// server, and the start time that --verbose lines count from.

#include "error.hpp"
#include "transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <string>

namespace gptq {

using Clock = std::chrono::steady_clock;

// Asio's awaitable completion that hands back the error code instead of
// throwing it: every failure is turned into a gptq::Error by its step.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// "2.5 s": a time limit as messages give it.
std::string seconds_text(std::chrono::milliseconds ms);

// The time limits of one exchange: each step's own limit, capped by the
// deadline of the whole request.
class Deadlines {
public:
  explicit Deadlines(const TransportOptions& options);

  Clock::time_point connect() const { return capped(options_.connect_timeout); }
  Clock::time_point idle() const { return capped(options_.idle_timeout); }
  Clock::time_point shutdown() const;
  bool total_passed() const { return Clock::now() >= total_; }

  // Throws the timeout error for a step that ran out of time: the
  // whole-request limit when that is what passed, else `step_message`.
  [[noreturn]] void timed_out(const std::string& step_message) const;

private:
  Clock::time_point capped(std::chrono::milliseconds limit) const
  {
    const auto now = Clock::now();
    return total_ - now < limit ? total_ : now + limit;
  }

  const TransportOptions& options_;
  Clock::time_point total_;
};

// One exchange's shared state. `options` and `url` must outlive it.
struct ExchangeContext {
  ExchangeContext(const TransportOptions& options, const Url& url);

  // Passes a --verbose line to the options' log, if any.
  void log(const std::string& line) const
  {
    if (options.log) {
      options.log(line);
    }
  }
  // "12.3 ms": the time since the exchange started, for --verbose lines.
  std::string elapsed() const;

  const TransportOptions& options;
  const Url& url; // the server's
  Deadlines deadlines;
  const Proxy* proxy; // null: a direct connection
  Clock::time_point started;
  std::string where; // the server as messages name it: "host:port", "[::1]:port"
};

} // namespace gptq
