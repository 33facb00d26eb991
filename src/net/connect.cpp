#include "connect.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace gptq {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using boost::system::error_code;

// RFC 8305's Connection Attempt Delay: how long a connection attempt runs
// alone before the next address is tried beside it (curl waits 200 ms).
constexpr std::chrono::milliseconds attempt_delay{ 250 };

std::string endpoint_text(const tcp::endpoint& endpoint)
{
  const auto address = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(endpoint.port());
}

// Returns the addresses of `endpoints` in the order to try them (RFC 8305
// section 4): the families take turns, starting with the family of the
// resolver's first answer, each in the resolver's order (RFC 6724's, which
// puts IPv6 first where it is usable). An address listed twice is tried once.
std::vector<tcp::endpoint> attempt_order(const tcp::resolver::results_type& endpoints)
{
  std::vector<tcp::endpoint> first;
  std::vector<tcp::endpoint> other;
  for (const auto& entry : endpoints) {
    const tcp::endpoint& endpoint = entry.endpoint();
    auto& family = first.empty() || endpoint.protocol() == first.front().protocol() ? first : other;
    if (std::find(family.begin(), family.end(), endpoint) == family.end()) {
      family.push_back(endpoint);
    }
  }
  std::vector<tcp::endpoint> order;
  for (std::size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
    for (const auto* family : { &first, &other }) {
      if (i < family->size()) {
        order.push_back((*family)[i]);
      }
    }
  }
  return order;
}

// The connection attempts of one connect, one socket per address (a socket
// whose connect failed is no use for another address: Linux then reports
// the next one's failure, or even its success, as "connection aborted").
// Shared with the attempts' completion handlers, since those of the losers
// run after the race is over.
struct ConnectRace {
  struct Attempt {
    Attempt(const tcp::endpoint& to, const net::any_io_executor& executor)
      : endpoint(to)
      , socket(executor)
    {
    }
    tcp::endpoint endpoint;
    tcp::socket socket;
    bool done = false;  // the connect has completed, with `ec`
    bool noted = false; // its failure has been taken into account
    error_code ec;
  };

  explicit ConnectRace(const net::any_io_executor& executor)
    : wake(executor)
  {
  }
  ~ConnectRace() { close(); }

  // Gives up every attempt still open.
  void close()
  {
    for (auto& attempt : attempts) {
      error_code ignored;
      attempt.socket.close(ignored);
    }
  }

  std::vector<Attempt> attempts; // reserved for every address: never moves
  net::steady_timer wake;        // slept on between events; each completion cancels it
};

// Starts the connection attempt to `endpoint`; a socket that cannot be
// opened (no IPv6 here) is an attempt that failed at once.
void start(const ExchangeContext& ctx,
           const std::shared_ptr<ConnectRace>& race,
           const tcp::endpoint& endpoint,
           bool say)
{
  auto& attempt = race->attempts.emplace_back(endpoint, race->wake.get_executor());
  if (say) {
    ctx.log("trying " + endpoint_text(endpoint) + " after " + ctx.elapsed());
  }
  attempt.socket.open(endpoint.protocol(), attempt.ec);
  if (attempt.ec) {
    attempt.done = true;
    return;
  }
  attempt.socket.async_connect(endpoint, [race, index = race->attempts.size() - 1](error_code ec) {
    auto& done = race->attempts[index];
    done.done = true;
    done.ec = ec;
    race->wake.cancel();
  });
}

// Makes `winner`'s socket `stream`'s; the other attempts are given up.
void win(const ExchangeContext& ctx,
         beast::tcp_stream& stream,
         const ConnectRace& race,
         ConnectRace::Attempt& winner,
         const std::string& name)
{
  stream.socket() = std::move(winner.socket);
  for (const auto& attempt : race.attempts) {
    if (!attempt.done) {
      ctx.log("gave up on " + endpoint_text(attempt.endpoint) + ": " + endpoint_text(winner.endpoint) +
              " answered first");
    }
  }
  error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  ctx.log("connected to " + name + " at " + endpoint_text(winner.endpoint) + " after " + ctx.elapsed());
}

// Throws the failure of a race that no attempt won, the one that tells
// the most: a refusal (the host is there, the server is not), then any
// other error, then silence.
[[noreturn]] void fail_race(const ExchangeContext& ctx, const ConnectRace& race, const std::string& name)
{
  const ConnectRace::Attempt* telling = nullptr;
  const auto rank = [](const ConnectRace::Attempt& attempt) {
    return !attempt.done ? 2 : attempt.ec == net::error::connection_refused ? 0 : 1;
  };
  for (const auto& attempt : race.attempts) {
    if (!attempt.done) {
      ctx.log("cannot connect to " + endpoint_text(attempt.endpoint) + ": no answer");
    }
    if (!telling || rank(attempt) < rank(*telling)) {
      telling = &attempt;
    }
  }
  if (telling && telling->done) {
    throw Error(
      FailureKind::connect, ExitStatus::network, "connect", "cannot connect to " + name + ": " + telling->ec.message());
  }
  ctx.deadlines.timed_out("cannot connect to " + name + ": no answer within " +
                          seconds_text(ctx.options.connect_timeout) + " (--connect-timeout)");
}

} // namespace

net::awaitable<tcp::resolver::results_type> resolve(ExchangeContext& ctx,
                                                    const std::string& host,
                                                    std::uint16_t port,
                                                    const std::string& name)
{
  const auto executor = co_await net::this_coro::executor;
  // An address needs no lookup, and Asio would start a thread for one.
  error_code not_an_address;
  const auto address = net::ip::make_address(host, not_an_address);
  if (!not_an_address) {
    co_return tcp::resolver::results_type::create(tcp::endpoint(address, port), host, std::to_string(port));
  }
  tcp::resolver resolver(executor);
  // The stream's timer does not cover the resolver; a timer of its own
  // cancels it.
  net::steady_timer timer(executor);
  timer.expires_at(ctx.deadlines.connect());
  bool timed_out = false;
  timer.async_wait([&](error_code ec) {
    if (!ec) {
      timed_out = true;
      resolver.cancel();
    }
  });
  auto [ec, results] =
    co_await resolver.async_resolve(host, std::to_string(port), tcp::resolver::numeric_service, use_tuple);
  timer.cancel();
  if (timed_out) {
    ctx.deadlines.timed_out("cannot resolve " + name + " within " + seconds_text(ctx.options.connect_timeout) +
                            " (--connect-timeout)");
  }
  if (ec) {
    Error failure(FailureKind::resolve, ExitStatus::network, "resolve", "cannot resolve " + name + ": " + ec.message());
    // EAI_NONAME and EAI_NODATA: the name server answered that there is
    // no such name (or no address for it), which a second try will not
    // change; EAI_AGAIN (host_not_found_try_again) may.
    if (ec == net::error::host_not_found) {
      failure.make_lasting();
    }
    throw failure;
  }
  co_return results;
}

net::awaitable<void> connect(ExchangeContext& ctx,
                             beast::tcp_stream& stream,
                             const tcp::resolver::results_type& endpoints,
                             const std::string& name,
                             std::function<void()>& meanwhile)
{
  const std::vector<tcp::endpoint> order = attempt_order(endpoints);
  if (order.empty()) {
    throw Error(FailureKind::connect, ExitStatus::network, "connect", "cannot connect to " + name + ": no address");
  }
  const auto deadline = ctx.deadlines.connect();
  const auto race = std::make_shared<ConnectRace>(co_await net::this_coro::executor);
  race->attempts.reserve(order.size());
  // However this ends, no attempt outlives it: a silent one would hold
  // the io_context for minutes.
  const std::unique_ptr<ConnectRace, void (*)(ConnectRace*)> closer(race.get(), [](ConnectRace* r) { r->close(); });
  std::size_t pending = 0;
  auto next_start = Clock::now(); // when the next address is tried
  for (;;) {
    for (auto& attempt : race->attempts) {
      if (attempt.done && !attempt.ec) {
        win(ctx, stream, *race, attempt, name);
        co_return;
      }
      if (attempt.done && !attempt.noted) {
        attempt.noted = true;
        --pending;
        ctx.log("cannot connect to " + endpoint_text(attempt.endpoint) + ": " + attempt.ec.message());
        next_start = Clock::now();
      }
    }
    const auto now = Clock::now();
    const bool all_started = race->attempts.size() == order.size();
    if (!all_started && now >= next_start && now < deadline) {
      start(ctx, race, order[race->attempts.size()], order.size() > 1);
      ++pending;
      next_start = now + attempt_delay;
      if (meanwhile) {
        std::exchange(meanwhile, {})();
      }
      continue;
    }
    if (pending == 0 || now >= deadline) {
      break;
    }
    race->wake.expires_at(all_started ? deadline : std::min(next_start, deadline));
    co_await race->wake.async_wait(use_tuple);
  }

  fail_race(ctx, *race, name);
}

} // namespace gptq
