#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace gptq {

// All the text of an input: in a buffer of its own, or the pages of a
// regular file mapped read-only in place, which costs neither a copy nor
// fresh memory (a 64 MiB prompt file is then never in gptq's memory twice).
class InputText {
public:
  InputText() = default;
  explicit InputText(std::string text)
    : text_(std::move(text))
    , view_(text_)
  {
  }
  InputText(InputText&& other) noexcept { *this = std::move(other); }
  InputText& operator=(InputText&& other) noexcept;
  InputText(const InputText&) = delete;
  InputText& operator=(const InputText&) = delete;
  ~InputText() { reset(); }

  // Takes over the mapping `map` of `map_size` bytes (munmap frees it);
  // `text` lies within it.
  static InputText mapped(void* map, std::size_t map_size, std::string_view text);

  // The text; valid while this object lives and is not reset.
  std::string_view view() const { return view_; }
  // Frees the text (unmaps the file); view() is then empty.
  void reset();

private:
  std::string text_;
  void* map_ = nullptr; // the mapping, when the text is a file's pages
  std::size_t map_size_ = 0;
  std::string_view view_;
};

// The most gptq reads of one kind of input. Far above any real use, far
// below the memory an input that never ends (/dev/zero, `yes`) would take.
struct InputLimit {
  std::size_t bytes;
  const char* text; // as messages show it: "256 MiB"
};
inline constexpr InputLimit prompt_limit{ std::size_t{ 256 } << 20, "256 MiB" }; // stdin, --file
inline constexpr InputLimit results_limit{ std::size_t{ 1 } << 30, "1 GiB" };    // --resume, --from-batch
inline constexpr InputLimit thread_limit{ std::size_t{ 1 } << 30, "1 GiB" };     // -C
inline constexpr InputLimit settings_limit{ std::size_t{ 4 } << 20, "4 MiB" };   // config, system_file, --schema
inline constexpr InputLimit key_limit{ std::size_t{ 64 } << 10, "64 KiB" };      // api_key_file, api_key_cmd

// Reads all of file descriptor `fd` until end of file, from where its
// offset is (and leaves it at the end). A regular file of 1 MiB or more is
// mapped rather than read, unless it grows while gptq reads it; should it
// shrink while mapped, gptq ends with a one-line error and status 2. When
// nothing has arrived after `hint_after`, calls `on_wait` once (the caller
// prints a hint that gptq is waiting for stdin) and goes on reading. Throws
// gptq::Error (usage) when reading fails or the input holds more than
// `limit` or is a device that never ends (/dev/zero), naming `what`
// ("stdin").
InputText read_all_input(int fd,
                         const std::string& what,
                         const InputLimit& limit,
                         std::chrono::milliseconds hint_after,
                         const std::function<void()>& on_wait);

// Returns the contents of the file at `path`, which the user named as
// `what` (an option, or "FILE:LINE" of a config file). Anything that ends
// is read (a regular file, a pipe, a FIFO, /dev/stdin). Throws gptq::Error
// (usage) naming `what` and the path when it cannot be opened or read, is
// a directory or a character device other than a terminal or /dev/null
// (/dev/zero), or holds more than `limit`: a regular file is refused by its
// size before it is read, anything else (a pipe that never ends) when
// reading passes the limit.
std::string read_user_file(const std::string& path, const std::string& what, const InputLimit& limit);

// Makes a file of its own in $TMPDIR (else /tmp), mode 0600, named
// `prefix` and random letters, whose name it puts in `path`; returns it
// open. Throws gptq::Error (internal, phase "batch") when it cannot.
int temporary_file(const std::string& prefix, std::string& path);

// As temporary_file, already unlinked: gone when closed.
int unlinked_temporary_file(const std::string& prefix);

// Copies all that `from` holds, from where it is to its end, to `to`, at
// most `limit` (else throws gptq::Error usage naming `what`): stdin kept for
// later, a pipe made seekable.
void copy_all(int from, int to, const std::string& what, const InputLimit& limit);

// Opens the file at `path` as read_user_file does, with its checks and
// limit, for reading at any offset: a regular file as it is, anything else
// (a pipe, a FIFO) copied into an unlinked temporary file first. The caller
// closes the descriptor.
int open_seekable_user_file(const std::string& path, const std::string& what, const InputLimit& limit);

// As read_user_file, as an InputText (a regular file of 1 MiB or more is
// mapped, as read_all_input maps it), calling `before_reading` (when set)
// with the open file and its status before reading it: a caller that can
// tell from the first bytes that the file is too large for what it is.
InputText read_user_input(const std::string& path,
                          const std::string& what,
                          const InputLimit& limit,
                          const std::function<void(int fd, const struct stat& st)>& before_reading = {});

// True when `fd` should be read as input: it is open and not a terminal.
bool is_readable_non_terminal(int fd);

// True when `fd` is /dev/null: input the user closed on purpose
// (`</dev/null`, as gptq's own hint says), unlike an empty pipe or file.
bool is_null_device(int fd);

} // namespace gptq
