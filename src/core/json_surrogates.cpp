#include "json_surrogates.hpp"

#include <algorithm>

namespace gptq {

namespace {

int hex_digit(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Returns the code unit of the escape "\uXXXX" at `p` in `s`, or -1 when
// there is none.
long escape_at(std::string_view s, std::size_t p)
{
  if (p + 6 > s.size() || s[p] != '\\' || s[p + 1] != 'u') {
    return -1;
  }
  long unit = 0;
  for (std::size_t k = p + 2; k < p + 6; ++k) {
    const int digit = hex_digit(s[k]);
    if (digit < 0) {
      return -1;
    }
    unit = unit * 16 + digit;
  }
  return unit;
}

bool is_high(long unit)
{
  return unit >= 0xD800 && unit <= 0xDBFF;
}

bool is_low(long unit)
{
  return unit >= 0xDC00 && unit <= 0xDFFF;
}

// One walk over JSON text that knows, for each string, the member names and
// indexes above it. It trusts the text to be JSON: where it is not, the
// parser that reads the result fails anyway.
class Repair {
public:
  Repair(std::string_view in, std::span<const std::string_view> edge_keys)
    : in_(in)
    , edge_keys_(edge_keys)
  {
  }

  std::optional<SurrogateRepair> run()
  {
    std::size_t i = 0;
    bool expect_key = false;
    while (i < in_.size()) {
      switch (in_[i]) {
        case '"': {
          const std::size_t end = string_end(i + 1);
          if (expect_key && in_object()) {
            stack_.back().key = in_.substr(i + 1, end - i - 1);
            expect_key = false;
            repair_string(i + 1, end, false);
          } else {
            repair_string(i + 1, end, in_object() && is_edge_key(stack_.back().key));
          }
          i = end + 1;
          continue;
        }
        case '{':
          stack_.push_back({ true, {}, 0 });
          expect_key = true;
          break;
        case '[':
          stack_.push_back({ false, {}, 0 });
          break;
        case '}':
        case ']':
          if (!stack_.empty()) {
            stack_.pop_back();
          }
          expect_key = false;
          break;
        case ',':
          if (in_object()) {
            expect_key = true;
          } else if (!stack_.empty()) {
            ++stack_.back().index;
          }
          break;
        default:
          break;
      }
      ++i;
    }
    if (!changed_) {
      return std::nullopt;
    }
    result_.text.append(in_.substr(copied_));
    return std::move(result_);
  }

private:
  struct Frame {
    bool object;
    std::string_view key; // of an object: the member whose value comes next
    std::size_t index;    // of an array: the element's index
  };

  bool in_object() const { return !stack_.empty() && stack_.back().object; }

  bool is_edge_key(std::string_view key) const
  {
    return std::find(edge_keys_.begin(), edge_keys_.end(), key) != edge_keys_.end();
  }

  // Returns the offset of the quote that ends the string whose text starts
  // at `from`, or the end of the text.
  std::size_t string_end(std::size_t from) const
  {
    while (from < in_.size()) {
      const std::size_t q = in_.find_first_of("\"\\", from);
      if (q == std::string_view::npos) {
        break;
      }
      if (in_[q] == '"') {
        return q;
      }
      from = q + 2;
    }
    return in_.size();
  }

  // Deals with the lone surrogates of the string text in [begin, end).
  void repair_string(std::size_t begin, std::size_t end, bool edges)
  {
    const std::string_view s = in_.substr(0, end);
    for (std::size_t p = s.find('\\', begin); p < end; p = s.find('\\', p)) {
      const long unit = escape_at(s, p);
      if (unit < 0) {
        p += 2; // "\\" and the other short escapes
        continue;
      }
      if (is_high(unit) && is_low(escape_at(s, p + 6))) {
        p += 12;
        continue;
      }
      if (is_high(unit) || is_low(unit)) {
        const bool at_edge = is_high(unit) ? p + 6 == end : p == begin;
        result_.text.append(in_.substr(copied_, p - copied_));
        copied_ = p + 6;
        changed_ = true;
        if (edges && at_edge) {
          result_.edges.push_back({ path(), static_cast<std::uint16_t>(unit) });
        } else {
          result_.text += "\\ufffd";
        }
      }
      p += 6;
    }
  }

  std::string path() const
  {
    std::string out;
    for (const auto& frame : stack_) {
      if (!out.empty()) {
        out += '/';
      }
      out += frame.object ? std::string(frame.key) : std::to_string(frame.index);
    }
    return out;
  }

  std::string_view in_;
  std::span<const std::string_view> edge_keys_;
  std::vector<Frame> stack_;
  SurrogateRepair result_;
  std::size_t copied_ = 0; // the text before this offset is in result_.text
  bool changed_ = false;
};

} // namespace

bool has_surrogate_escape(std::string_view json)
{
  for (std::size_t p = json.find('\\'); p != std::string_view::npos; p = json.find('\\', p + 2)) {
    if (p + 3 < json.size() && json[p + 1] == 'u' && (json[p + 2] == 'd' || json[p + 2] == 'D')) {
      const int third = hex_digit(json[p + 3]);
      if (third >= 8) {
        return true;
      }
    }
  }
  return false;
}

std::optional<SurrogateRepair> repair_lone_surrogates(std::string_view json,
                                                      std::span<const std::string_view> edge_keys)
{
  if (!has_surrogate_escape(json)) {
    return std::nullopt;
  }
  return Repair(json, edge_keys).run();
}

void append_utf8(std::string& out, char32_t c)
{
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string_view join_edge_surrogates(std::string_view text,
                                      std::optional<std::uint16_t> low,
                                      std::optional<std::uint16_t> high,
                                      std::optional<std::uint16_t>& pending,
                                      std::string& scratch)
{
  if (!low && !high && (!pending || text.empty())) {
    return text;
  }
  scratch.clear();
  if (low) {
    if (pending) {
      append_utf8(scratch, 0x10000 + ((char32_t(*pending) - 0xD800) << 10) + (char32_t(*low) - 0xDC00));
    } else {
      scratch += replacement_character;
    }
    pending.reset();
  } else if (pending && !text.empty()) {
    scratch += replacement_character;
    pending.reset();
  }
  scratch += text;
  if (high) {
    if (pending) {
      scratch += replacement_character;
    }
    pending = *high;
  }
  return scratch;
}

} // namespace gptq
