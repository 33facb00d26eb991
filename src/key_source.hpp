#pragma once

#include "environment.hpp"

#include <optional>
#include <ostream>
#include <string>

namespace gptq {

// Where the API key comes from: a profile's api_key_env, api_key_file or
// api_key_cmd, else OPENAI_API_KEY.
struct KeySource {
  std::string env_name = "OPENAI_API_KEY";
  std::optional<std::string> file;    // the first line of this file
  std::optional<std::string> command; // the first line this command prints
  std::string origin;                 // for messages: "profile NAME"
};

// Returns the key, or nullopt when the source holds none (an unset or
// empty variable). A key file readable by group or others gets a warning on
// `warnings`. Throws gptq::Error (auth) when the file cannot be read or the
// command fails (its exit status and first stderr line in the message), and
// when the key holds characters a header cannot carry; no message repeats
// the key.
std::optional<std::string> read_api_key(const KeySource& source, const Environment& env, std::ostream& warnings);

} // namespace gptq
