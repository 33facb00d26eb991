#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// What a -f file holds, told by its leading bytes (never by its name): the
// kinds of attachment a model takes, and the binary kinds gptq can name when
// refusing one.
enum class MediaKind { text, image, pdf, audio, other };

struct MediaType {
  MediaKind kind = MediaKind::text;
  std::string mime;   // "image/png", "application/pdf", "audio/wav"...; "text/plain" for text
  std::string format; // audio: "wav" or "mp3" (Chat Completions' input_audio format); else empty
  std::string name;   // for messages: "a PNG image", "a ZIP archive", "an ELF executable", "binary data"
};

// Returns the type of `content`, a whole file. PNG, JPEG, WebP and GIF are
// images; PDF is pdf; WAV (RIFF/WAVE) and MP3 (an ID3 tag or an MPEG audio
// frame header) are audio. Valid UTF-8 is text, even when it begins like a
// binary type ("GIF89a is a format", "%PDF-1.7 was released"): a file of a
// binary type whose whole content is UTF-8 text without control characters
// other than tab, newline, carriage return and form feed is text. Anything
// else is `other`, named when its magic is known (ZIP, gzip, ELF, ...).
MediaType sniff_media(std::string_view content);

// Returns the type that --file-type MIME names: image/png, image/jpeg,
// image/webp, image/gif, application/pdf, audio/wav (audio/x-wav,
// audio/wave), audio/mpeg (audio/mp3), text/plain (and any text/*);
// nullopt for any other.
std::optional<MediaType> media_type_of_mime(std::string_view mime);

// The --file-type values gptq knows, for messages: "image/png, image/jpeg, ...".
std::string_view supported_mimes();

// The number of bytes the base64 encoding of `size` bytes takes (with '='
// padding).
constexpr std::size_t base64_size(std::size_t size)
{
  return (size + 2) / 3 * 4;
}

// Appends the standard base64 encoding of `bytes` (RFC 4648 section 4,
// alphabet A-Z a-z 0-9 + /, '=' padding, no line breaks) to `out`, growing
// it once. Fast: at least 1 GB/s of input on an ordinary x86-64 core.
void append_base64(std::string& out, std::string_view bytes);

// Writes the encoding of `bytes` to `out`, which has room for
// base64_size(bytes.size()) chars; returns the end of what was written.
char* write_base64(char* out, std::string_view bytes);

} // namespace gptq
