#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace gptq {

// Returns `value` as compact JSON text. Unlike boost::json::serialize,
// doubles are written in their shortest plain form ("0.7", not "7E-1"), so
// that --dry-run shows what a person typed and strict servers see ordinary
// numbers. Non-finite doubles are written as null.
std::string to_json_text(const boost::json::value& value);

} // namespace gptq
