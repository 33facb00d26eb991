#pragma once

namespace gptq {

// Installs the SIGINT (Ctrl-C) handler: it stops at once, keeping what was
// printed: it ends an open reply line on stdout, erases the activity
// indicator on stderr, and exits with status 130.
void install_interrupt_handler();

// Tells the handler whether the reply on stdout is in the middle of a line.
void set_reply_line_open(bool open);

// Tells the handler whether the activity indicator is on stderr.
void set_indicator_visible(bool visible);

} // namespace gptq
