#pragma once

#include "environment.hpp"

#include <map>
#include <string>

namespace gptq::test {

// An Environment holding exactly `vars`.
inline Environment env_of(std::map<std::string, std::string> vars)
{
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

} // namespace gptq::test
