// Fuzzes gptq::repair_lone_surrogates against Boost.JSON itself: text that
// Boost.JSON reads has no lone surrogate to repair, and repaired text never
// fails to parse for a surrogate (it may fail for anything else).
//
// Input: byte 0 picks the member names whose edges are kept apart (bit 0:
// "content" and "reasoning"); the rest is the JSON text.
#include "json_surrogates.hpp"

#include "fuzz_check.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using gptq::fuzz::check;

namespace {

boost::system::error_code parse_error(std::string_view text)
{
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return ec;
}

bool is_surrogate_error(const boost::system::error_code& ec)
{
  return ec == boost::json::error::illegal_leading_surrogate || ec == boost::json::error::illegal_trailing_surrogate;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return 0;
  }
  constexpr std::string_view keys[] = { "content", "reasoning" };
  const std::span<const std::string_view> edge_keys =
    (data[0] & 1) ? std::span(keys) : std::span<const std::string_view>();
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto repair = gptq::repair_lone_surrogates(json, edge_keys);
  check(repair || !is_surrogate_error(parse_error(json)), "a lone surrogate was not found");
  if (!gptq::has_surrogate_escape(json)) {
    check(!repair, "a repair without a surrogate escape");
  }
  if (!repair) {
    return 0;
  }
  check(parse_error(json).failed(), "text Boost.JSON reads was repaired");
  check(!is_surrogate_error(parse_error(repair->text)), "a lone surrogate is left after the repair");
  if (edge_keys.empty()) {
    check(repair->edges.empty(), "edges without edge keys");
    check(repair->text.size() == json.size(), "the repair changed the length");
  }
  for (const auto& edge : repair->edges) {
    check(edge.unit >= 0xD800 && edge.unit <= 0xDFFF, "an edge that is not a surrogate");
  }
  return 0;
}
