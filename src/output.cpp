#include "output.hpp"

#include "error.hpp"

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
  std::size_t done = 0;
  while (done < piece.size()) {
    const ssize_t n = ::write(fd_, piece.data() + done, piece.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error(ExitStatus::internal, "stdout", std::string("cannot write the reply: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ends_with_newline_ = piece.back() == '\n';
}

void ReplyWriter::finish()
{
  if (!ends_with_newline_) {
    write("\n");
  }
}

} // namespace gptq
