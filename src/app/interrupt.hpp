#pragma once

#include <string_view>

namespace gptq {

// Installs the handler of SIGINT (Ctrl-C), SIGTERM (kill, timeout) and
// SIGHUP (the terminal closed), unless the signal is ignored (nohup): it
// stops at once, keeping what was printed: it ends an open reply line on
// stdout, erases the activity indicator on stderr, and exits with status
// 130, 143 or 129, as a shell reports the signal.
void install_interrupt_handler();

// When `fd` (stdout) is a pipe or socket, watches it from a thread of its
// own and ends the process quietly with status 141 the moment its reader
// goes away (`gptq ... | head -c 20`), even while gptq is still waiting for
// the server and has nothing to write that would find out.
void exit_when_reader_leaves(int fd);

// Tells the handler whether the reply on stdout is in the middle of a line.
void set_reply_line_open(bool open);

// Tells the handler whether batch mode's progress line is open on stderr.
void set_progress_line_open(bool open);

// Tells the handler whether the activity indicator is on stderr.
void set_indicator_visible(bool visible);

// A line (with its newline) the handler writes to stderr before exiting:
// what goes on without gptq (a batch on the provider's side) and how to
// take it up again; "" for none. At most 512 bytes are kept.
void set_interrupt_note(std::string_view line);

} // namespace gptq
