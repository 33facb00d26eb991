#include "output.hpp"

#include "error.hpp"
#include "interrupt.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <unistd.h>

namespace gptq {

void ReplyWriter::write(std::string_view piece)
{
  if (piece.empty()) {
    return;
  }
  // Set before the write: once a reader can see the bytes, Ctrl-C must
  // find the line open (at worst it ends a line that had just ended).
  set_reply_line_open(true);
  std::size_t done = 0;
  while (done < piece.size()) {
    const ssize_t n = ::write(fd_, piece.data() + done, piece.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EPIPE) {
        throw Error(ExitStatus::stdout_closed, "", "");
      }
      throw Error(ExitStatus::internal, "stdout", std::string("cannot write the reply: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  started_ = true;
  ends_with_newline_ = piece.back() == '\n';
  set_reply_line_open(!ends_with_newline_);
}

void ReplyWriter::finish()
{
  if (!ends_with_newline_) {
    write("\n");
  }
}

} // namespace gptq
