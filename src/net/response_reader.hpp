#pragma once

// Reads an HTTP/1.x response from bytes handed to it, with no socket: the
// exchange moves bytes between the stream and a ResponseReader, which parses
// them (with Beast's parser) and passes the head and the body on to a
// ResponseHandler, and tells how the response ended or why it failed.

#include "transport.hpp"

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// How a response ended.
struct Ending {
  bool peer_closed = false; // the server closed the connection
  bool reusable = false;    // complete, and the server keeps the connection open
};

// One response's reading. Interim (1xx) responses before the final one are
// skipped (RFC 9110, 15.2). The heads together may be at most head_limit
// bytes; the body has no limit here, as it is handed on piece by piece and
// never held (the handler decides how much it keeps).
class ResponseReader {
public:
  using Head = boost::beast::http::response<boost::beast::http::buffer_body>;
  using Log = std::function<void(const std::string&)>;
  // Looks at the final head before the handler gets it; may throw.
  using HeadCheck = std::function<void(const Head&)>;

  static constexpr std::size_t head_limit = 64 * 1024;
  // The most body handed on at once: one read's worth (read_size in the
  // exchange), whose body, with the chunk framing gone, is no larger.
  static constexpr std::size_t piece_size = 64 * 1024;

  // `where` names the server in messages ("host:port"); `log` (may be
  // empty) takes --verbose lines; `check` (may be empty) sees the final
  // head first. `where`, `log` and `handler` must outlive the reader.
  // `piece_limit` (at most piece_size; tests make it small) caps each body
  // piece.
  ResponseReader(ResponseHandler& handler,
                 const std::string& where,
                 const Log& log,
                 HeadCheck check,
                 std::size_t piece_limit = piece_size);
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // Parses all it can of `bytes`, to the last byte, handing the head and
  // all the body in them to the handler before returning: nothing decoded
  // waits for more bytes. Sets `used` to how many bytes it used; the rest
  // (a head or chunk header cut short, bytes after the response or after
  // an error) stays with the caller, to be passed again with more after
  // it. `read_ec` is how the read that brought the last of them ended
  // (boost::asio::error::eof when the server closed the connection), or
  // no error. Returns the error that ends reading, to be passed to fail():
  // the bytes' parse error, else `read_ec` unless the close ends a body
  // that lasts until the close (as http::async_read_some does). When it
  // returns no error, either ending() is set or more bytes are wanted.
  // Throws gptq::Error for a 101 response, and what the check or the
  // handler throw.
  boost::system::error_code feed(std::string_view bytes, boost::system::error_code read_ec, std::size_t& used);

  // Set once the response is complete, or the handler wants no more of it
  // (a stream that said [DONE]): then the rest is not to be read.
  const std::optional<Ending>& ending() const { return ending_; }

  // True when some bytes of a response came: the server took the request.
  bool answered() const;
  bool head_delivered() const { return head_delivered_; }

  // Throws the gptq::Error that tells how reading failed with `ec` (a parse
  // error or how the input ended, not a time limit): network when no byte
  // of response came, bad_response (phase response) when the head or the
  // body is broken or cut. `rest` is what feed() left unused. Returns an
  // ending instead when `ec` is a TLS close without close_notify ending a
  // body that lasts until the close: many servers skip close_notify, so it
  // is taken as the end, as curl does, and truncation inside such a body is
  // left to the JSON parser to notice.
  Ending fail(const boost::system::error_code& ec, std::string_view rest);

private:
  // Parses `bytes` (see feed); returns how many it used; sets ending_ or
  // the parse error.
  std::size_t parse(std::string_view bytes, boost::system::error_code& ec);
  // The input ended with `ec` after all that came before it was parsed.
  boost::system::error_code end_input(boost::system::error_code ec);
  void fresh_parser();
  void skip_interim();
  void deliver_head();
  void deliver(std::size_t size);
  void log(const std::string& line) const;
  std::string bad_head(const boost::system::error_code& ec, bool closed, std::string_view rest) const;

  ResponseHandler& handler_;
  const std::string& where_;
  const Log& log_;
  HeadCheck check_;
  std::size_t piece_limit_;
  // Beast's parser takes a 1xx head for a whole message, so each head gets
  // a parser of its own.
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  std::size_t interim_bytes_ = 0; // the heads of 1xx responses so far
  std::size_t head_bytes_ = 0;    // what the current parser has taken
  bool head_delivered_ = false;
  std::uint64_t received_ = 0; // body bytes handed on
  std::optional<Ending> ending_;
  std::array<char, piece_size> piece_; // the body parsed from one feed
};

} // namespace gptq
