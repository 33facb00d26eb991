#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace gptq {

// Reads all of file descriptor `fd` until end of file. When nothing has
// arrived after `hint_after`, calls `on_wait` once (the caller prints a hint
// that gptq is waiting for stdin) and goes on reading. Throws gptq::Error
// (usage) when reading fails.
std::string read_all_input(int fd,
                           std::chrono::milliseconds hint_after,
                           const std::function<void()>& on_wait);

// True when `fd` should be read as input: it is open and not a terminal.
bool is_readable_non_terminal(int fd);

} // namespace gptq
