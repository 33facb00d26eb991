#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace gptq {

// Returns `value` as compact JSON text. Unlike boost::json::serialize,
// doubles are written in their shortest plain form ("0.7", not "7E-1"), so
// that --dry-run shows what a person typed and strict servers see ordinary
// numbers. Non-finite doubles are written as null.
std::string to_json_text(const boost::json::value& value);

// Appends `text` to `out` as a JSON string, quotes included, escaped
// exactly as boost::json::serialize escapes strings. Bytes pass unchanged
// otherwise (the caller checks UTF-8). Writes straight into `out`, without
// the temporary copy serialize makes: a piped prompt can be most of a
// request.
void append_json_string(std::string& out, std::string_view text);

} // namespace gptq
