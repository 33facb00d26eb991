#include "raw_server.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gptq::it {

namespace {

// Scripts and the acceptor wait in slices of this length, so that they see
// the server stopping soon after it does.
constexpr int slice_ms = 50;

// How long read_request waits for a request before giving up as if the
// peer had gone: longer than any run of gptq in a test.
constexpr std::chrono::seconds request_limit{ 60 };

std::string lower(std::string text)
{
  for (auto& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// The Content-Length of a request head, 0 when it has none.
std::size_t content_length(const std::string& head)
{
  const std::string low = lower(head);
  const auto at = low.find("\r\ncontent-length:");
  if (at == std::string::npos) {
    return 0;
  }
  return static_cast<std::size_t>(std::strtoull(low.c_str() + at + 17, nullptr, 10));
}

} // namespace

RawConnection::RawConnection(int fd, std::atomic<bool>& stopping, std::atomic<int>& requests)
  : fd_(fd)
  , stopping_(stopping)
  , requests_(requests)
{
}

RawConnection::~RawConnection()
{
  if (fd_ != -1) {
    close(fd_);
  }
}

bool RawConnection::wait_readable(std::chrono::milliseconds limit)
{
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!stopping_ && fd_ != -1) {
    pollfd p{ fd_, POLLIN, 0 };
    if (poll(&p, 1, slice_ms) > 0) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
  }
  return false;
}

std::string RawConnection::read_request()
{
  const auto end = std::chrono::steady_clock::now() + request_limit;
  std::size_t head_end = std::string::npos;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = pending_.find("\r\n\r\n");
    }
    if (head_end != std::string::npos) {
      const std::size_t total = head_end + 4 + content_length(pending_.substr(0, head_end + 2));
      if (pending_.size() >= total) {
        std::string request = pending_.substr(0, total);
        pending_.erase(0, total);
        ++requests_;
        return request;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= end || !wait_readable(std::chrono::duration_cast<std::chrono::milliseconds>(end - now))) {
      return {};
    }
    char buffer[65536];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return {};
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string RawConnection::read_some(std::chrono::milliseconds limit, std::size_t max)
{
  if (!pending_.empty()) {
    std::string out = pending_.substr(0, max);
    pending_.erase(0, out.size());
    return out;
  }
  if (!wait_readable(limit)) {
    return {};
  }
  std::string out(max, '\0');
  const ssize_t n = recv(fd_, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

bool RawConnection::send(std::string_view bytes)
{
  while (!bytes.empty() && fd_ != -1 && !stopping_) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return bytes.empty();
}

void RawConnection::shutdown_write()
{
  if (fd_ != -1) {
    shutdown(fd_, SHUT_WR);
  }
}

void RawConnection::reset()
{
  if (fd_ == -1) {
    return;
  }
  linger l{ 1, 0 };
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd_);
  fd_ = -1;
}

bool RawConnection::wait_closed(std::chrono::milliseconds limit)
{
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end || !wait_readable(std::chrono::duration_cast<std::chrono::milliseconds>(end - now))) {
      return false;
    }
    char buffer[65536];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return true;
    }
  }
}

RawServer::RawServer(Script script, const std::string& address, int port)
  : script_(std::move(script))
  , address_(address)
{
  const bool v6 = address.find(':') != std::string::npos;
  listen_fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ == -1) {
    throw std::runtime_error("RawServer: socket failed");
  }
  const int on = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    length = sizeof *a;
  }
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 || listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    const std::string why = std::strerror(errno);
    close(listen_fd_);
    throw std::runtime_error("RawServer: cannot listen on " + address + ": " + why);
  }
  port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RawServer::~RawServer()
{
  stopping_ = true;
  acceptor_.join();
  {
    // Wake scripts blocked in a system call on their connection.
    std::lock_guard lock(mutex_);
    for (const int fd : open_fds_) {
      shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& worker : workers_) {
    worker.join();
  }
  close(listen_fd_);
}

std::string RawServer::url(const std::string& path) const
{
  const std::string host = address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_;
  return "http://" + host + ":" + std::to_string(port_) + path;
}

void RawServer::accept_loop()
{
  while (!stopping_) {
    pollfd p{ listen_fd_, POLLIN, 0 };
    if (poll(&p, 1, slice_ms) <= 0) {
      continue;
    }
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd == -1) {
      continue;
    }
    ++connections_;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] {
      RawConnection connection(fd, stopping_, requests_);
      try {
        script_(connection);
      } catch (...) {
        // A script that fails ends its connection; the test sees that.
      }
      std::lock_guard lock(mutex_);
      open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    });
  }
}

std::string http_response(const std::string& status_line,
                          const std::vector<std::string>& headers,
                          const std::string& body)
{
  std::string text = "HTTP/1.1 " + status_line + "\r\n";
  bool framed = false;
  for (const auto& header : headers) {
    const std::string low = lower(header);
    framed = framed || low.starts_with("content-length:") || low.starts_with("transfer-encoding:");
    text += header + "\r\n";
  }
  if (!framed) {
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return text + "\r\n" + body;
}

std::string completion_response(const std::string& content)
{
  boost::json::object message{ { "role", "assistant" }, { "content", content } };
  boost::json::object choice{ { "index", 0 }, { "message", message }, { "finish_reason", "stop" } };
  boost::json::object completion{ { "id", "chatcmpl-raw" },
                                  { "object", "chat.completion" },
                                  { "created", 1700000000 },
                                  { "model", "raw-model" },
                                  { "choices", boost::json::array{ choice } } };
  return http_response("200 OK", { "Content-Type: application/json" }, boost::json::serialize(completion));
}

std::string user_content_of(const std::string& raw_request)
{
  const auto body_at = raw_request.find("\r\n\r\n");
  if (body_at == std::string::npos) {
    return {};
  }
  boost::system::error_code ec;
  const auto body = boost::json::parse(std::string_view(raw_request).substr(body_at + 4), ec);
  if (ec || !body.is_object()) {
    return {};
  }
  const auto* messages = body.as_object().if_contains("messages");
  if (!messages || !messages->is_array()) {
    return {};
  }
  std::string content;
  for (const auto& m : messages->as_array()) {
    if (!m.is_object()) {
      continue;
    }
    const auto* role = m.as_object().if_contains("role");
    const auto* text = m.as_object().if_contains("content");
    if (role && role->is_string() && role->as_string() == "user" && text && text->is_string()) {
      content = std::string(text->as_string());
    }
  }
  return content;
}

} // namespace gptq::it
