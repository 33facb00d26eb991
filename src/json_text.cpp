#include "json_text.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace gptq {

namespace {

void write(const boost::json::value& value, std::string& out)
{
  switch (value.kind()) {
  case boost::json::kind::object: {
    out += '{';
    bool first = true;
    for (const auto& member : value.get_object()) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += boost::json::serialize(boost::json::string_view(member.key()));
      out += ':';
      write(member.value(), out);
    }
    out += '}';
    break;
  }
  case boost::json::kind::array: {
    out += '[';
    bool first = true;
    for (const auto& element : value.get_array()) {
      if (!first) {
        out += ',';
      }
      first = false;
      write(element, out);
    }
    out += ']';
    break;
  }
  case boost::json::kind::double_: {
    const double d = value.get_double();
    if (!std::isfinite(d)) {
      out += "null";
      break;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
    out.append(buffer, result.ptr);
    break;
  }
  default:
    out += boost::json::serialize(value);
    break;
  }
}

} // namespace

std::string to_json_text(const boost::json::value& value)
{
  std::string out;
  write(value, out);
  return out;
}

} // namespace gptq
