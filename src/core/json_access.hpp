#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// Small lookups into JSON from servers, which may omit anything or send a
// different type than documented: each returns null/nullopt instead of
// throwing.

// Returns the member `key` of `v` when `v` is an object that has it.
inline const boost::json::value* json_member(const boost::json::value& v, std::string_view key)
{
  const auto* object = v.if_object();
  return object ? object->if_contains(key) : nullptr;
}

// Returns the member `key` of `v` when it is a string.
inline std::optional<std::string> json_string(const boost::json::value& v, std::string_view key)
{
  const auto* m = json_member(v, key);
  if (m && m->is_string()) {
    return std::string(m->get_string());
  }
  return std::nullopt;
}

// Returns the member `key` of `v` when it is a whole number that fits in a
// long long.
inline std::optional<long long> json_integer(const boost::json::value& v, std::string_view key)
{
  const auto* m = json_member(v, key);
  if (m && m->is_int64()) {
    return m->get_int64();
  }
  return std::nullopt;
}

} // namespace gptq
