#pragma once

#include <functional>
#include <optional>
#include <string>

namespace gptq {

// Looks up an environment variable; nullopt when it is unset. The pure core
// takes one of these instead of calling getenv, so tests can give it any
// environment without touching the process's own.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// Returns an Environment that reads the process environment.
Environment process_environment();

} // namespace gptq
