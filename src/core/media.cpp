#include "media.hpp"

#include "text.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gptq {

namespace {

using namespace std::string_view_literals;

// A type as constants, made a MediaType where it is returned.
struct Type {
  MediaKind kind;
  std::string_view mime;
  std::string_view format;
  std::string_view name;

  operator MediaType() const { return { kind, std::string(mime), std::string(format), std::string(name) }; }
};

constexpr Type other(std::string_view mime, std::string_view name)
{
  return { MediaKind::other, mime, {}, name };
}

constexpr Type png{ MediaKind::image, "image/png", {}, "a PNG image" };
constexpr Type jpeg{ MediaKind::image, "image/jpeg", {}, "a JPEG image" };
constexpr Type webp{ MediaKind::image, "image/webp", {}, "a WebP image" };
constexpr Type gif{ MediaKind::image, "image/gif", {}, "a GIF image" };
constexpr Type pdf{ MediaKind::pdf, "application/pdf", {}, "a PDF document" };
constexpr Type wav{ MediaKind::audio, "audio/wav", "wav", "a WAV audio file" };
constexpr Type mp3{ MediaKind::audio, "audio/mpeg", "mp3", "an MP3 audio file" };
constexpr Type text{ MediaKind::text, "text/plain", {}, "text" };
constexpr Type zip = other("application/zip", "a ZIP archive");
constexpr Type mach_o = other("application/x-mach-binary", "a Mach-O executable");
constexpr Type tiff = other("image/tiff", "a TIFF image");

unsigned char byte_at(std::string_view s, std::size_t i)
{
  return static_cast<unsigned char>(s[i]);
}

bool has_at(std::string_view s, std::size_t offset, std::string_view magic)
{
  return s.size() >= offset + magic.size() && s.substr(offset, magic.size()) == magic;
}

// A magic that is a fixed string at a fixed offset.
struct Magic {
  std::size_t offset;
  std::string_view bytes;
  Type type;
};

// The fixed magics, tried in order. The "other" ones are here to name what
// is refused; the list is not exhaustive.
constexpr Magic fixed_magics[] = {
  { 0, "\x89PNG\r\n\x1A\n"sv, png },
  { 0, "\xFF\xD8\xFF"sv, jpeg },
  { 0, "GIF87a"sv, gif },
  { 0, "GIF89a"sv, gif },
  { 0, "%PDF-"sv, pdf },
  { 0, "PK\x03\x04"sv, zip },
  { 0, "PK\x05\x06"sv, zip }, // an empty archive
  { 0, "\x1F\x8B\x08"sv, other("application/gzip", "a gzip archive") },
  { 0, "\xFD\x37zXZ\x00"sv, other("application/x-xz", "an xz archive") },
  { 0, "\x28\xB5\x2F\xFD"sv, other("application/zstd", "a zstd archive") },
  { 0, "7z\xBC\xAF\x27\x1C"sv, other("application/x-7z-compressed", "a 7z archive") },
  { 0, "\x7F\x45LF"sv, other("application/x-executable", "an ELF executable") },
  { 0, "\xFE\xED\xFA\xCE"sv, mach_o },
  { 0, "\xFE\xED\xFA\xCF"sv, mach_o },
  { 0, "\xCE\xFA\xED\xFE"sv, mach_o },
  { 0, "\xCF\xFA\xED\xFE"sv, mach_o },
  { 0, "\xCA\xFE\xBA\xBE"sv, other("application/octet-stream", "a Java class file or Mach-O universal binary") },
  { 0, "MZ"sv, other("application/vnd.microsoft.portable-executable", "a Windows executable") },
  { 257, "ustar"sv, other("application/x-tar", "a tar archive") },
  { 0, "SQLite format 3\x00"sv, other("application/vnd.sqlite3", "an SQLite database") },
  { 0, "OggS"sv, other("audio/ogg", "an Ogg file") },
  { 0, "fLaC"sv, other("audio/flac", "a FLAC audio file") },
  { 0, "II*\x00"sv, tiff },
  { 0, "MM\x00*"sv, tiff },
};

// bzip2: "BZh" and the block size, '1' to '9'.
std::optional<Type> bzip2(std::string_view s)
{
  if (s.size() >= 4 && s.starts_with("BZh") && s[3] >= '1' && s[3] <= '9') {
    return other("application/x-bzip2", "a bzip2 archive");
  }
  return std::nullopt;
}

// RIFF containers: the form type is at offset 8.
std::optional<Type> riff(std::string_view s)
{
  if (!has_at(s, 0, "RIFF")) {
    return std::nullopt;
  }
  if (has_at(s, 8, "WEBP")) {
    return webp;
  }
  if (has_at(s, 8, "WAVE")) {
    return wav;
  }
  if (has_at(s, 8, "AVI ")) {
    return other("video/x-msvideo", "an AVI video");
  }
  return std::nullopt;
}

// ISO base media files (MP4, QuickTime, HEIF): an "ftyp" box first, whose
// major brand tells them apart.
std::optional<Type> iso_media(std::string_view s)
{
  if (!has_at(s, 4, "ftyp") || s.size() < 12) {
    return std::nullopt;
  }
  const std::string_view brand = s.substr(8, 4);
  constexpr std::string_view heic_brands[] = { "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1" };
  if (std::find(std::begin(heic_brands), std::end(heic_brands), brand) != std::end(heic_brands)) {
    return other("image/heic", "a HEIC image");
  }
  if (brand == "avif" || brand == "avis") {
    return other("image/avif", "an AVIF image");
  }
  if (brand == "qt  ") {
    return other("video/quicktime", "a QuickTime video");
  }
  if (brand == "M4A " || brand == "M4B ") {
    return other("audio/mp4", "an M4A audio file");
  }
  return other("video/mp4", "an MP4 video");
}

// BMP: "BM", the file size, then two reserved 16-bit fields that are zero.
// ICO: reserved 0, type 1, and a non-zero image count.
std::optional<Type> bmp_or_ico(std::string_view s)
{
  if (s.size() >= 14 && s.starts_with("BM") && s.substr(6, 4) == "\0\0\0\0"sv) {
    return other("image/bmp", "a BMP image");
  }
  if (s.size() >= 6 && s.starts_with("\0\0\x01\0"sv) && (s[4] != 0 || s[5] != 0)) {
    return other("image/vnd.microsoft.icon", "a Windows icon");
  }
  return std::nullopt;
}

// An ID3v2 tag header: "ID3", major version 2 to 4, a revision, flags, and
// a size of four 7-bit bytes.
bool id3_tag(std::string_view s)
{
  if (s.size() < 10 || !s.starts_with("ID3")) {
    return false;
  }
  const unsigned version = byte_at(s, 3);
  if (version < 2 || version > 4 || byte_at(s, 4) == 0xFF) {
    return false;
  }
  for (std::size_t i = 6; i < 10; ++i) {
    if (byte_at(s, i) >= 0x80) {
      return false;
    }
  }
  return true;
}

// An MPEG-1, 2 or 2.5 layer III frame header: an 11-bit sync, a version that
// is not the reserved one, layer III, and bitrate, sample rate and emphasis
// fields that are not reserved, so that few random bytes pass.
bool mpeg_layer3_frame(std::string_view s)
{
  if (s.size() < 4 || byte_at(s, 0) != 0xFF) {
    return false;
  }
  const unsigned b1 = byte_at(s, 1);
  const unsigned b2 = byte_at(s, 2);
  const unsigned b3 = byte_at(s, 3);
  const bool sync = (b1 & 0xE0) == 0xE0;
  const bool version_ok = ((b1 >> 3) & 3) != 1;
  const bool layer3 = ((b1 >> 1) & 3) == 1;
  const bool bitrate_ok = (b2 >> 4) != 0xF;
  const bool sample_rate_ok = ((b2 >> 2) & 3) != 3;
  const bool emphasis_ok = (b3 & 3) != 2;
  return sync && version_ok && layer3 && bitrate_ok && sample_rate_ok && emphasis_ok;
}

// The type the leading bytes of `s` name, or nullopt when no known magic
// matches.
std::optional<Type> by_magic(std::string_view s)
{
  for (const Magic& m : fixed_magics) {
    if (has_at(s, m.offset, m.bytes)) {
      return m.type;
    }
  }
  if (id3_tag(s) || mpeg_layer3_frame(s)) {
    return mp3;
  }
  for (auto* check : { riff, iso_media, bzip2, bmp_or_ico }) {
    if (auto type = check(s)) {
      return type;
    }
  }
  return std::nullopt;
}

// Control characters that text does not hold: C0 but tab, line feed, form
// feed and carriage return, DEL, and C1 (U+0080 to U+009F, in UTF-8 0xC2
// then 0x80 to 0x9F), as escape_controls counts them. NUL is one.
constexpr bool is_binary_control(unsigned char c)
{
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') || c == 0x7F;
}

bool has_binary_control_bytewise(const unsigned char* p, const unsigned char* end)
{
  for (; p != end; ++p) {
    if (is_binary_control(*p) || (*p == 0xC2 && end - p >= 2 && p[1] >= 0x80 && p[1] <= 0x9F)) {
      return true;
    }
  }
  return false;
}

// Returns whether `s` holds a control character text does not hold. Runs
// over whole files that begin like a binary type yet may be text: 16 bytes
// at a time with SSE2 (always there on x86-64), stopping at the first one,
// which for a binary file is most often in its first bytes.
bool has_binary_control(std::string_view s)
{
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
#if defined(__SSE2__)
  const __m128i below = _mm_set1_epi8(0x1F);
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i c2 = _mm_set1_epi8(static_cast<char>(0xC2));
  const __m128i top3 = _mm_set1_epi8(static_cast<char>(0xE0));
  const __m128i c1_second = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i ff = _mm_set1_epi8('\f');
  const __m128i cr = _mm_set1_epi8('\r');
  // 17 bytes: each block's bytes and the byte after each of them, for the
  // second byte of a C1 control.
  for (; end - p >= 17; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    // Unsigned v < 0x20: min(v, 0x1F) is v.
    const __m128i below_space = _mm_cmpeq_epi8(_mm_min_epu8(v, below), v);
    const __m128i allowed = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, lf)),
                                         _mm_or_si128(_mm_cmpeq_epi8(v, ff), _mm_cmpeq_epi8(v, cr)));
    const __m128i c0 = _mm_andnot_si128(allowed, below_space);
    const __m128i c1 = _mm_and_si128(_mm_cmpeq_epi8(v, c2), _mm_cmpeq_epi8(_mm_and_si128(next, top3), c1_second));
    const __m128i bad = _mm_or_si128(_mm_or_si128(c0, c1), _mm_cmpeq_epi8(v, del));
    if (_mm_movemask_epi8(bad) != 0) {
      return true;
    }
  }
#endif
  return has_binary_control_bytewise(p, end);
}

// Returns whether `s` is malformed UTF-8 within its first bytes, a quick
// answer for most binary files before a check of the whole of them.
bool invalid_utf8_early(std::string_view s)
{
  constexpr std::size_t prefix = 64;
  if (s.size() <= prefix) {
    return false;
  }
  // A sequence is at most 4 bytes: one that fits in the prefix is judged
  // the same as in the whole.
  const auto bad = find_invalid_utf8(s.substr(0, prefix));
  return bad && *bad + 4 <= prefix;
}

} // namespace

MediaType sniff_media(std::string_view content)
{
  if (content.empty()) {
    return text;
  }
  if (auto type = by_magic(content)) {
    if (!has_binary_control(content) && !find_invalid_utf8(content)) {
      return text;
    }
    return *type;
  }
  if (!invalid_utf8_early(content) && !find_invalid_utf8(content)) {
    return text;
  }
  return other("application/octet-stream", "binary data");
}

namespace {

// Returns `mime` without parameters and surrounding white space, in lower
// case.
std::string bare_mime(std::string_view mime)
{
  mime = trim(mime.substr(0, mime.find(';')));
  std::string out(mime);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

} // namespace

std::optional<MediaType> media_type_of_mime(std::string_view mime)
{
  const std::string m = bare_mime(mime);
  struct Known {
    std::string_view mime;
    Type type;
  };
  static constexpr Known known[] = {
    { "image/png", png },       { "image/jpeg", jpeg }, { "image/webp", webp }, { "image/gif", gif },
    { "application/pdf", pdf }, { "audio/wav", wav },   { "audio/x-wav", wav }, { "audio/wave", wav },
    { "audio/mpeg", mp3 },      { "audio/mp3", mp3 },   { "text/plain", text },
  };
  for (const Known& k : known) {
    if (m == k.mime) {
      return k.type;
    }
  }
  if (m.starts_with("text/") && m.size() > 5) {
    return text;
  }
  return std::nullopt;
}

std::string_view supported_mimes()
{
  return "image/png, image/jpeg, image/webp, image/gif, application/pdf, audio/wav, audio/mpeg, text/plain";
}

namespace {

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The two characters of every 12-bit value, so that 3 bytes take two
// lookups and no per-byte work.
constexpr auto base64_pairs = [] {
  std::array<std::array<char, 2>, 4096> pairs{};
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    pairs[i] = { base64_alphabet[i >> 6], base64_alphabet[i & 63] };
  }
  return pairs;
}();

char* put_pair(char* out, std::uint64_t twelve_bits)
{
  std::memcpy(out, base64_pairs[twelve_bits & 0xFFF].data(), 2);
  return out + 2;
}

// Reads 8 bytes as a big-endian number: the first byte in the top bits.
std::uint64_t load_be64(const char* p)
{
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) {
    v = __builtin_bswap64(v);
  }
  return v;
}

} // namespace

char* write_base64(char* out, std::string_view bytes)
{
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  // 6 bytes (8 characters) per step from one 8-byte load, the 2 extra bytes
  // unused: the loop stops while 8 bytes are still there to read.
  while (left >= 8) {
    const std::uint64_t v = load_be64(p);
    out = put_pair(out, v >> 52);
    out = put_pair(out, v >> 40);
    out = put_pair(out, v >> 28);
    out = put_pair(out, v >> 16);
    p += 6;
    left -= 6;
  }
  for (; left >= 3; p += 3, left -= 3) {
    const std::uint32_t v = (std::uint32_t{ static_cast<unsigned char>(p[0]) } << 16) |
                            (std::uint32_t{ static_cast<unsigned char>(p[1]) } << 8) | static_cast<unsigned char>(p[2]);
    out = put_pair(out, v >> 12);
    out = put_pair(out, v);
  }
  if (left > 0) {
    const std::uint32_t b0 = static_cast<unsigned char>(p[0]);
    const std::uint32_t b1 = left == 2 ? static_cast<unsigned char>(p[1]) : 0;
    const std::uint32_t v = (b0 << 16) | (b1 << 8);
    *out++ = base64_alphabet[v >> 18];
    *out++ = base64_alphabet[(v >> 12) & 63];
    *out++ = left == 2 ? base64_alphabet[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  return out;
}

void append_base64(std::string& out, std::string_view bytes)
{
  // Grown once, then filled through a block that stays in the cache:
  // resizing first would write every byte of a large encoding twice (zeros,
  // then the encoding), and a new body's memory costs most where it is
  // first touched.
  out.reserve(out.size() + base64_size(bytes.size()));
  constexpr std::size_t block = 3 * 4096; // whole groups of three: no padding inside
  char encoded[base64_size(block)];
  while (bytes.size() > block) {
    out.append(encoded, write_base64(encoded, bytes.substr(0, block)));
    bytes.remove_prefix(block);
  }
  out.append(encoded, write_base64(encoded, bytes));
}

} // namespace gptq
