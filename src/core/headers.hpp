#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptq {

// HTTP header fields in order, as (name, value) pairs.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first field named `name` (case-insensitive), or
// nullopt when there is none.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

} // namespace gptq
