// Fuzzes media.hpp: sniff_media never crashes and keeps its promises (text
// only for valid UTF-8; UTF-8 without control characters, C0 but tab, LF,
// FF and CR, DEL and C1, always text; an image, PDF or audio type only when
// its magic is there), base64 of the input decodes back to it with a decoder
// written here, and media_type_of_mime takes any bytes.
//
// Input: the whole of it is the file content, and the MIME for
// media_type_of_mime.
#include "media.hpp"

#include "fuzz_check.hpp"
#include "text.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

// Decodes padded standard base64; returns false on anything else.
bool decode_base64(std::string_view in, std::string& out)
{
  if (in.size() % 4 != 0) {
    return false;
  }
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t group = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      std::size_t v = 0;
      if (c == '=') {
        // Only at the end, and never more than two.
        if (i + 4 != in.size() || k < 2) {
          return false;
        }
        ++pad;
      } else if (pad > 0 || (v = alphabet.find(c)) == std::string_view::npos) {
        return false;
      }
      group = (group << 6) | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>(group >> 16);
    if (pad < 2) {
      out += static_cast<char>(group >> 8);
    }
    if (pad < 1) {
      out += static_cast<char>(group);
    }
  }
  return true;
}

bool is_text_without_controls(std::string_view s)
{
  if (gptq::find_invalid_utf8(s)) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool c0 = c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r';
    // Valid UTF-8: a 0xC2 has a byte after it.
    const bool c1 = c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (c0 || c == 0x7F || c1) {
      return false;
    }
  }
  return true;
}

bool at(std::string_view s, std::size_t offset, std::string_view magic)
{
  return s.size() >= offset + magic.size() && s.substr(offset, magic.size()) == magic;
}

bool image_magic(std::string_view s)
{
  return at(s, 0, "\x89PNG\r\n\x1A\n") || at(s, 0, "\xFF\xD8\xFF") || at(s, 0, "GIF87a") || at(s, 0, "GIF89a") ||
         (at(s, 0, "RIFF") && at(s, 8, "WEBP"));
}

bool audio_magic(std::string_view s, const std::string& format)
{
  if (format == "wav") {
    return at(s, 0, "RIFF") && at(s, 8, "WAVE");
  }
  // An ID3 tag, or a frame sync with layer III.
  return format == "mp3" && (at(s, 0, "ID3") || (s.size() >= 4 && static_cast<unsigned char>(s[0]) == 0xFF &&
                                                 (static_cast<unsigned char>(s[1]) & 0xE6) == 0xE2));
}

void check_sniff(std::string_view input)
{
  const gptq::MediaType type = gptq::sniff_media(input);
  check(!type.mime.empty() && !type.name.empty(), "sniff_media returned an empty mime or name");
  check((type.kind == gptq::MediaKind::audio) == !type.format.empty(), "a format without audio, or audio without");
  switch (type.kind) {
    case gptq::MediaKind::text:
      check(!gptq::find_invalid_utf8(input), "text that is not UTF-8");
      check(type.mime == "text/plain", "text that is not text/plain");
      break;
    case gptq::MediaKind::image:
      check(image_magic(input), "an image without an image magic");
      break;
    case gptq::MediaKind::pdf:
      check(at(input, 0, "%PDF-"), "a PDF without %PDF-");
      break;
    case gptq::MediaKind::audio:
      check(audio_magic(input, type.format), "audio without its magic");
      break;
    case gptq::MediaKind::other:
      break;
  }
  // The text rule, both ways, where the magic is plain to see here.
  if (is_text_without_controls(input)) {
    check(type.kind == gptq::MediaKind::text, "UTF-8 text without control characters is not text");
  } else if (image_magic(input) || at(input, 0, "%PDF-") || (at(input, 0, "RIFF") && at(input, 8, "WAVE"))) {
    check(type.kind != gptq::MediaKind::text, "a magic with a control character or malformed UTF-8 is text");
  }
}

void check_base64(std::string_view input)
{
  std::string encoded = "prefix";
  gptq::append_base64(encoded, input);
  check(encoded.size() == 6 + gptq::base64_size(input.size()), "append_base64 size is not base64_size");
  std::string decoded;
  check(decode_base64(std::string_view(encoded).substr(6), decoded), "append_base64 wrote malformed base64");
  check(decoded == input, "base64 does not decode back to the input");

  std::string buffer(gptq::base64_size(input.size()) + 1, '#');
  const char* end = gptq::write_base64(buffer.data(), input);
  check(end == buffer.data() + gptq::base64_size(input.size()), "write_base64 returned the wrong end");
  check(buffer.back() == '#', "write_base64 wrote past its room");
  check(std::string_view(buffer).substr(0, buffer.size() - 1) == std::string_view(encoded).substr(6),
        "write_base64 and append_base64 differ");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_sniff(input);
  check_base64(input);
  if (const auto type = gptq::media_type_of_mime(input)) {
    check(!type->mime.empty() && !type->name.empty(), "media_type_of_mime returned an empty mime or name");
    check(type->kind != gptq::MediaKind::other, "media_type_of_mime returned an unsupported kind");
  }
  return 0;
}
