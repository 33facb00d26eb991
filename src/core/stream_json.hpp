#pragma once

#include "json_surrogates.hpp"
#include "response.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The JSON parser of a stream decoder (chat_stream, responses_stream). A
// stream has thousands of events: each is parsed by the same parser into
// memory that starts in a block of its own, so that an event of ordinary
// size costs no allocation at all. Lone surrogates are repaired first
// (repair_lone_surrogates), those at the edge of a string named by
// `edge_keys` kept in `edges` for the decoder to join across events.
class StreamJson {
public:
  explicit StreamJson(std::span<const std::string_view> edge_keys)
    : edge_keys_(edge_keys)
  {
  }
  StreamJson(const StreamJson&) = delete;
  StreamJson& operator=(const StreamJson&) = delete;

  // Returns the event's JSON, parsed in this object's memory: valid until
  // the next call, so that the text a delta views need not be copied. Sets
  // `ec` (and returns null) when `data` is not JSON or nests deeper than
  // max_json_depth.
  const boost::json::value& parse(std::string_view data, boost::system::error_code& ec)
  {
    edges.clear();
    if (auto repair = repair_lone_surrogates(data, edge_keys_)) {
      repaired_ = std::move(repair->text);
      edges = std::move(repair->edges);
      data = repaired_;
    }
    // A fresh resource, not release(): that keeps the size of the next block
    // to allocate, which doubles with every block, so that a run of large
    // events asked for ever larger blocks until memory ran out.
    value_.reset(); // while its memory lives
    memory_.emplace(first_block_, sizeof first_block_);
    parser_.reset(&*memory_);
    parser_.write(data, ec);
    if (ec) {
      parser_.reset(); // lets go of what the event left while its memory lives
      return value_.emplace(nullptr);
    }
    return value_.emplace(parser_.release());
  }

  std::vector<EdgeSurrogate> edges; // of the last event: see repair_lone_surrogates

private:
  static boost::json::parse_options options()
  {
    boost::json::parse_options o;
    o.max_depth = max_json_depth;
    return o;
  }

  std::span<const std::string_view> edge_keys_;
  unsigned char first_block_[16 * 1024];
  std::optional<boost::json::monotonic_resource> memory_;
  boost::json::parser parser_{ boost::json::storage_ptr(), options() };
  std::string repaired_;                    // the event's text when it had lone surrogates
  std::optional<boost::json::value> value_; // the last one parsed, in `memory_`
};

} // namespace gptq
