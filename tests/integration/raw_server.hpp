#pragma once

// A scripted plain-TCP server for the hostile-server tests: it says exactly
// the bytes a script gives it, so that a test can play a broken gateway, a
// debugging proxy or a hostile endpoint that the Beast test server, which
// always speaks correct HTTP, cannot imitate.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gptq::it {

// One accepted connection, handed to the script on a thread of its own.
// Every call returns (never throws) when the peer has gone or the server is
// being destroyed, so that a script can be written as straight-line code.
class RawConnection {
public:
  RawConnection(int fd, std::atomic<bool>& stopping, std::atomic<int>& requests);
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection();

  // Reads one HTTP/1.1 request: its head up to the blank line and as many
  // body bytes as its Content-Length says. Returns it as it came, or "" when
  // the peer closed (or reset) the connection first or the server stops.
  // Bytes read past the request are kept for the next call.
  std::string read_request();

  // Reads whatever arrives within `limit` (at most `max` bytes); "" on a
  // close or when nothing came.
  std::string read_some(std::chrono::milliseconds limit, std::size_t max = 65536);

  // Writes all of `bytes`; returns false when the peer is gone.
  bool send(std::string_view bytes);

  // Sends FIN: the peer reads end of file after what was sent.
  void shutdown_write();

  // Resets the connection (SO_LINGER 0, then close): the peer gets RST.
  void reset();

  // Waits until the peer closes the connection (or `limit` passes, or the
  // server stops); returns true when it did close. Anything it sends
  // meanwhile is read and dropped.
  bool wait_closed(std::chrono::milliseconds limit = std::chrono::seconds(30));

  int fd() const { return fd_; }

private:
  // Waits until the socket is readable; false when the server stops first
  // or `limit` passes.
  bool wait_readable(std::chrono::milliseconds limit);

  int fd_;
  std::atomic<bool>& stopping_;
  std::atomic<int>& requests_;
  std::string pending_; // read past the last request
};

// Listens on 127.0.0.1 (or `address`, a loopback address) at an ephemeral
// port and serves every connection with `script`, each on its own thread.
// The destructor stops listening, wakes every script (their calls return as
// if the peer had gone) and joins them: a test never hangs on its server.
class RawServer {
public:
  using Script = std::function<void(RawConnection&)>;

  explicit RawServer(Script script, const std::string& address = "127.0.0.1", int port = 0);
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;
  ~RawServer();

  int port() const { return port_; }

  // "http://ADDRESS:PORT" + `path` (IPv6 addresses in brackets).
  std::string url(const std::string& path = "/v1") const;

  // Connections accepted so far.
  int connections() const { return connections_; }

  // Requests read so far by all scripts (read_request calls that returned
  // one).
  int requests() const { return requests_; }

private:
  void accept_loop();

  Script script_;
  std::string address_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{ false };
  std::atomic<int> connections_{ 0 };
  std::atomic<int> requests_{ 0 };
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_; // under mutex_: shut down on destruction
  std::thread acceptor_;
};

// An HTTP/1.1 response: `status_line` (e.g. "200 OK"), `headers` (each
// "Name: value", without CRLF) and `body`, with a Content-Length added
// unless a header already sets one or Transfer-Encoding.
std::string http_response(const std::string& status_line,
                          const std::vector<std::string>& headers,
                          const std::string& body);

// A chat completion whose message content is `content` (a JSON string is
// made of it), as a 200 application/json response.
std::string completion_response(const std::string& content);

// The content of the last user message of a raw request's JSON body, or ""
// when there is none: what the Beast test server's echo mode answers.
std::string user_content_of(const std::string& raw_request);

} // namespace gptq::it
