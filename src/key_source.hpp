#pragma once

#include "environment.hpp"
#include "settings.hpp" // KeySource

#include <optional>
#include <ostream>
#include <string>

namespace gptq {

// Returns the key, or nullopt when the source holds none (an unset or
// empty variable). A key file readable by group or others gets a warning on
// `warnings`. Throws gptq::Error (auth) when the file cannot be read or the
// command fails (its exit status and first stderr line in the message), and
// when the key holds characters a header cannot carry; no message repeats
// the key.
std::optional<std::string> read_api_key(const KeySource& source, const Environment& env, std::ostream& warnings);

} // namespace gptq
