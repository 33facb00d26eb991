#pragma once

#include "environment.hpp"
#include "settings.hpp" // KeySource

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

namespace gptq {

// How long api_key_cmd may run, and the option that set it, for messages.
struct KeyCommandLimit {
  std::chrono::milliseconds time{ 10000 };
  std::string option = "--connect-timeout";
};

// Returns the key, or nullopt when the source holds none (an unset or
// empty variable). A key file readable by group or others gets a warning on
// `warnings`. The command's key is the first line it printed when it exits
// (a child it leaves running is not waited for). Throws gptq::Error (auth)
// when the file cannot be read or holds more than key_limit, when the
// command fails (its exit status and first stderr line in the message),
// runs longer than `limit` or prints more than key_limit (it is killed
// then), and when the key holds characters a header cannot carry; every
// message names where the source is set, and none repeats the key.
std::optional<std::string> read_api_key(const KeySource& source,
                                        const Environment& env,
                                        std::ostream& warnings,
                                        const KeyCommandLimit& limit = {});

} // namespace gptq
