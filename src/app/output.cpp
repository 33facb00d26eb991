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
  if (ending_ == Ending::keep_blank_lines) {
    emit(piece);
    return;
  }
  constexpr std::string_view line_end = "\r\n";
  if (at_line_end() && piece.find_first_not_of(line_end) == std::string_view::npos) {
    trailing_.append(piece); // maybe the end of the reply: held back
    return;
  }
  if (!trailing_.empty()) {
    // Text follows: the blank lines held back were inside the reply.
    std::string held;
    held.swap(trailing_);
    emit(held);
  }
  // The run of line ends at the end of the piece is written up to its
  // first '\n'; the rest is held back.
  const auto last_text = piece.find_last_not_of(line_end);
  const auto run_start = last_text == std::string_view::npos ? 0 : last_text + 1;
  const auto first_newline = piece.find('\n', run_start);
  if (first_newline == std::string_view::npos) {
    emit(piece);
    return;
  }
  emit(piece.substr(0, first_newline + 1));
  trailing_.assign(piece.substr(first_newline + 1));
}

void ReplyWriter::emit(std::string_view piece)
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
  } clear{ pending_ };
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
  trailing_.clear();
  if (!at_line_end()) {
    emit("\n");
  }
}

} // namespace gptq
