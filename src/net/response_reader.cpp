#include "response_reader.hpp"

#include "error.hpp"
#include "text.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace gptq {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

HttpResponse head_of(const ResponseReader::Head& message)
{
  HttpResponse head;
  head.status = static_cast<int>(message.result_int());
  head.reason = std::string(message.reason());
  for (const auto& field : message) {
    head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return head;
}

} // namespace

ResponseReader::ResponseReader(ResponseHandler& handler,
                               const std::string& where,
                               const Log& log,
                               HeadCheck check,
                               std::size_t piece_limit)
  : handler_(handler)
  , where_(where)
  , log_(log)
  , check_(std::move(check))
  , piece_limit_(std::min(piece_limit, piece_size))
{
  fresh_parser();
}

void ResponseReader::fresh_parser()
{
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(head_limit - std::min(interim_bytes_, head_limit - 1)));
  parser_->body_limit(boost::none);
  // Each put() parses all it is given, not just the next chunk.
  parser_->eager(true);
  head_bytes_ = 0;
}

// The parser is driven here rather than by http::async_read_some, which
// parses at most one HTTP chunk per call and completes through the event
// loop each time: a stream of small events paid an event-loop turn, a
// handler call and a write to stdout per event, however many arrived in one
// read. Here each read is parsed at once, and all the body in it goes to
// the handler as one piece.
error_code ResponseReader::feed(std::string_view bytes, error_code read_ec, std::size_t& used)
{
  error_code ec;
  used = parse(bytes, ec);
  if (ending_) {
    return {};
  }
  if (ec || !read_ec) {
    return ec;
  }
  return end_input(read_ec);
}

std::size_t ResponseReader::parse(std::string_view bytes, error_code& ec)
{
  std::size_t offset = 0;
  std::size_t got = 0; // body bytes in `piece_`
  while (offset < bytes.size() && !parser_->is_done()) {
    parser_->get().body().data = piece_.data() + got;
    parser_->get().body().size = piece_limit_ - got;
    const std::size_t used = parser_->put(net::const_buffer(bytes.data() + offset, bytes.size() - offset), ec);
    offset += used;
    head_bytes_ += used;
    got = piece_limit_ - parser_->get().body().size;
    if (!head_delivered_ && parser_->is_header_done()) {
      if (parser_->get().result_int() / 100 == 1) {
        skip_interim();
        interim_bytes_ += head_bytes_;
        fresh_parser();
        continue;
      }
      deliver_head();
    }
    if (got == piece_limit_) {
      // `piece_` is full: hand it on and parse on.
      deliver(got);
      got = 0;
      if (!handler_.wants_more()) {
        ending_ = Ending{ false, false };
        return offset;
      }
      if (ec == http::error::need_buffer) {
        ec = {};
        continue;
      }
    }
    if (ec == http::error::need_more) {
      ec = {}; // the rest of a head or chunk header is still to come
      break;
    }
    if (ec || used == 0) {
      break;
    }
  }
  if (got > 0) {
    deliver(got);
  }
  if (!ec && parser_->is_done()) {
    ending_ = Ending{ false, parser_->keep_alive() };
  } else if (head_delivered_ && !handler_.wants_more()) {
    log("the reply is complete; the rest of the body is not read");
    ending_ = Ending{ false, false };
  }
  return offset;
}

error_code ResponseReader::end_input(error_code ec)
{
  if (ec != net::error::eof) {
    return ec;
  }
  if (!parser_->got_some()) {
    return http::error::end_of_stream;
  }
  ec = {};
  parser_->put_eof(ec);
  if (!ec) {
    ending_ = Ending{ false, parser_->keep_alive() };
  }
  return ec;
}

bool ResponseReader::answered() const
{
  return head_delivered_ || interim_bytes_ > 0 || parser_->got_some();
}

Ending ResponseReader::fail(const error_code& ec, std::string_view rest)
{
  const bool closed = ec == net::error::eof || ec == http::error::end_of_stream ||
                      ec == net::ssl::error::stream_truncated || ec == net::error::connection_reset;
  if (!answered()) {
    if (closed) {
      throw Error(
        FailureKind::network, ExitStatus::network, "network", where_ + " closed the connection without a response");
    }
    throw Error(FailureKind::network,
                ExitStatus::network,
                "network",
                "no valid HTTP response from " + where_ + ": " + ec.message());
  }
  if (!head_delivered_) {
    // The server answered (and may have billed the request) but not with a
    // head gptq can read: sending it again would not mend that.
    throw Error(FailureKind::bad_response, ExitStatus::bad_response, "response", bad_head(ec, closed, rest));
  }
  if (ec == net::ssl::error::stream_truncated && !parser_->chunked() && !parser_->content_length()) {
    error_code eof_ec;
    parser_->put_eof(eof_ec);
    if (!eof_ec) {
      return Ending{ true, false };
    }
  }
  std::string detail = closed ? "the connection closed" : ec.message();
  if (const auto length = parser_->content_length()) {
    detail += " after " + std::to_string(received_) + " of " + std::to_string(*length) + " bytes";
  }
  throw Error(FailureKind::bad_response,
              ExitStatus::bad_response,
              "response",
              "the response from " + where_ + " is incomplete: " + detail);
}

// Logs an interim response. Throws gptq::Error for 101 Switching Protocols:
// gptq asks for no upgrade, and what follows is not HTTP.
void ResponseReader::skip_interim()
{
  const Head& head = parser_->get();
  const std::string status = std::to_string(head.result_int()) + " " + one_line(std::string(head.reason()), 60);
  if (head.result_int() == 101) {
    throw Error(FailureKind::bad_response,
                ExitStatus::bad_response,
                "response",
                where_ + " switched to another protocol (HTTP " + status + "), which gptq did not ask for");
  }
  log("HTTP " + status + " (interim response, skipped)");
}

void ResponseReader::deliver_head()
{
  if (check_) {
    check_(parser_->get());
  }
  handler_.on_head(head_of(parser_->get()));
  head_delivered_ = true;
}

void ResponseReader::deliver(std::size_t size)
{
  received_ += size;
  handler_.on_body({ piece_.data(), size });
}

void ResponseReader::log(const std::string& line) const
{
  if (log_) {
    log_(line);
  }
}

// Returns what is wrong with a response head that could not be read: `ec`
// is the parser's error or how the connection ended (`closed`); `rest`
// holds the unparsed bytes, which start with the status line when that is
// what was wrong.
std::string ResponseReader::bad_head(const error_code& ec, bool closed, std::string_view rest) const
{
  const bool after_interim = interim_bytes_ > 0;
  const std::string from = "the response from " + where_;
  if (ec == http::error::header_limit) {
    return from + " has a head larger than 64 KiB" + (after_interim ? " (with its interim responses)" : "");
  }
  if (ec == http::error::bad_content_length) {
    return from + " has an invalid Content-Length (not a number, or beside Transfer-Encoding)";
  }
  if (ec == http::error::multiple_content_length) {
    return from + " has two different Content-Length values";
  }
  if (ec == http::error::bad_transfer_encoding) {
    return from + " has an invalid Transfer-Encoding (repeated, or beside Content-Length)";
  }
  if (ec == http::error::bad_version || ec == http::error::bad_status || ec == http::error::bad_reason) {
    const std::string_view line = rest.substr(0, rest.find_first_of("\r\n"));
    return from + " is not HTTP/1.x: its status line is \"" + one_line(line, 60) + "\"";
  }
  if (closed || ec == http::error::partial_message) {
    return from + " ended in its head: the connection closed" + (after_interim ? " after an interim response" : "");
  }
  return from + " has a malformed head (" + ec.message() + ")";
}

} // namespace gptq
