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
  if (held_) {
    pending_.append(piece);
    return;
  }
  write_out(piece);
}

void ReplyWriter::flush()
{
  if (pending_.empty()) {
    return;
  }
  // Emptied whatever happens (keeping its capacity): after a failed write
  // nothing is left to be written twice.
  struct Clear {
    std::string& bytes;
    ~Clear() { bytes.clear(); }
  } clear{pending_};
  write_out(pending_);
}

void ReplyWriter::write_out(std::string_view bytes)
{
  // Set before the write: once a reader can see the bytes, Ctrl-C must
  // find the line open (at worst it ends a line that had just ended).
  set_reply_line_open(true);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
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
  ends_with_newline_ = bytes.back() == '\n';
  set_reply_line_open(!ends_with_newline_);
}

void ReplyWriter::finish()
{
  if (!(pending_.empty() ? ends_with_newline_ : pending_.back() == '\n')) {
    write("\n");
  }
}

} // namespace gptq
