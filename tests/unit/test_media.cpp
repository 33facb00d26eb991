#include "media.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;
using namespace std::string_literals;

namespace {

struct Sample {
  std::size_t magic_size; // how many leading bytes tell the type
  std::string bytes;      // a minimal header
  MediaKind kind;
  std::string mime;
  std::string format;
  std::string name;
};

std::string tar_header()
{
  std::string h(257, '\0');
  h += "ustar";
  return h;
}

// Real minimal headers of each type, each with a byte that is not text
// (a NUL, or a byte that is not UTF-8), as real files have.
const std::vector<Sample>& samples()
{
  static const std::vector<Sample> all = {
    { 8, "\x89PNG\r\n\x1A\n"s, MediaKind::image, "image/png", "", "a PNG image" },
    { 3, "\xFF\xD8\xFF"s, MediaKind::image, "image/jpeg", "", "a JPEG image" },
    { 6, "GIF87a\x01\x00"s, MediaKind::image, "image/gif", "", "a GIF image" },
    { 6, "GIF89a\x01\x00"s, MediaKind::image, "image/gif", "", "a GIF image" },
    { 12, "RIFF\x1A\x00\x00\x00WEBP"s, MediaKind::image, "image/webp", "", "a WebP image" },
    { 5, "%PDF-1.7\n%\xE2\xE3\xCF\xD3"s, MediaKind::pdf, "application/pdf", "", "a PDF document" },
    { 12, "RIFF\x24\x00\x00\x00WAVE"s, MediaKind::audio, "audio/wav", "wav", "a WAV audio file" },
    { 10, "ID3\x04\x00\x00\x00\x00\x01\x7F"s, MediaKind::audio, "audio/mpeg", "mp3", "an MP3 audio file" },
    { 4, "\xFF\xFB\x90\x64"s, MediaKind::audio, "audio/mpeg", "mp3", "an MP3 audio file" }, // MPEG-1
    { 4, "\xFF\xF3\x48\xC4"s, MediaKind::audio, "audio/mpeg", "mp3", "an MP3 audio file" }, // MPEG-2
    { 4, "\xFF\xE3\x18\xC4"s, MediaKind::audio, "audio/mpeg", "mp3", "an MP3 audio file" }, // MPEG-2.5
    { 4, "PK\x03\x04"s, MediaKind::other, "application/zip", "", "a ZIP archive" },
    { 3, "\x1F\x8B\x08"s, MediaKind::other, "application/gzip", "", "a gzip archive" },
    { 4, "BZh9\x31\x41\x59\x26\x53\x59\xFF"s, MediaKind::other, "application/x-bzip2", "", "a bzip2 archive" },
    { 6,
      "\xFD"
      "7zXZ\x00"s,
      MediaKind::other,
      "application/x-xz",
      "",
      "an xz archive" },
    { 4, "\x28\xB5\x2F\xFD"s, MediaKind::other, "application/zstd", "", "a zstd archive" },
    { 6, "7z\xBC\xAF\x27\x1C"s, MediaKind::other, "application/x-7z-compressed", "", "a 7z archive" },
    { 4,
      "\x7F"
      "ELF"s,
      MediaKind::other,
      "application/x-executable",
      "",
      "an ELF executable" },
    { 4, "\xCF\xFA\xED\xFE"s, MediaKind::other, "application/x-mach-binary", "", "a Mach-O executable" },
    { 2, "MZ\x90\x00"s, MediaKind::other, "application/vnd.microsoft.portable-executable", "", "a Windows executable" },
    { 262, tar_header(), MediaKind::other, "application/x-tar", "", "a tar archive" },
    { 16, "SQLite format 3\x00"s, MediaKind::other, "application/vnd.sqlite3", "", "an SQLite database" },
    { 4, "OggS\x00"s, MediaKind::other, "audio/ogg", "", "an Ogg file" },
    { 4, "fLaC\x00"s, MediaKind::other, "audio/flac", "", "a FLAC audio file" },
    { 12,
      "\x00\x00\x00\x18"
      "ftypisom"s,
      MediaKind::other,
      "video/mp4",
      "",
      "an MP4 video" },
    { 12,
      "\x00\x00\x00\x14"
      "ftypqt  "s,
      MediaKind::other,
      "video/quicktime",
      "",
      "a QuickTime video" },
    { 12,
      "\x00\x00\x00\x18"
      "ftypheic"s,
      MediaKind::other,
      "image/heic",
      "",
      "a HEIC image" },
    { 12,
      "\x00\x00\x00\x1C"
      "ftypavif"s,
      MediaKind::other,
      "image/avif",
      "",
      "an AVIF image" },
    { 12,
      "RIFF\x24\x00\x00\x00"
      "AVI "s,
      MediaKind::other,
      "video/x-msvideo",
      "",
      "an AVI video" },
    { 12,
      "\x00\x00\x00\x1C"
      "ftypM4A "s,
      MediaKind::other,
      "audio/mp4",
      "",
      "an M4A audio file" },
    { 4, "PK\x05\x06"s, MediaKind::other, "application/zip", "", "a ZIP archive" },
    { 4, "\xFE\xED\xFA\xCE"s, MediaKind::other, "application/x-mach-binary", "", "a Mach-O executable" },
    { 4,
      "\xCA\xFE\xBA\xBE"s,
      MediaKind::other,
      "application/octet-stream",
      "",
      "a Java class file or Mach-O universal binary" },
    { 4, "II*\x00"s, MediaKind::other, "image/tiff", "", "a TIFF image" },
    { 4, "MM\x00*"s, MediaKind::other, "image/tiff", "", "a TIFF image" },
    { 14, "BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"s, MediaKind::other, "image/bmp", "", "a BMP image" },
    { 6, "\x00\x00\x01\x00\x01\x00"s, MediaKind::other, "image/vnd.microsoft.icon", "", "a Windows icon" },
  };
  return all;
}

// A simple encoder, bit by bit, to hold the fast one against.
std::string reference_base64(const std::string& bytes)
{
  constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (std::size_t i = 0; i < bytes.size() * 8; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i / 8]);
    value = (value << 1) | ((byte >> (7 - i % 8)) & 1);
    if (++bits == 6) {
      out += alphabet[value];
      value = 0;
      bits = 0;
    }
  }
  if (bits > 0) {
    out += alphabet[value << (6 - bits)];
  }
  while (out.size() % 4 != 0) {
    out += '=';
  }
  return out;
}

std::string base64(std::string_view bytes)
{
  std::string out;
  append_base64(out, bytes);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(media)

BOOST_AUTO_TEST_CASE(sniff_media_names_each_type_from_its_header)
{
  for (const Sample& s : samples()) {
    const MediaType type = sniff_media(s.bytes);
    BOOST_TEST_CONTEXT("sample " << s.name << " " << s.mime)
    {
      BOOST_TEST((type.kind == s.kind));
      BOOST_TEST(type.mime == s.mime);
      BOOST_TEST(type.format == s.format);
      BOOST_TEST(type.name == s.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_names_a_type_followed_by_content)
{
  for (const Sample& s : samples()) {
    BOOST_TEST(sniff_media(s.bytes + std::string(1000, '\xAB')).mime == s.mime, "sample " << s.name);
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_does_not_name_a_truncated_header)
{
  for (const Sample& s : samples()) {
    for (std::size_t n = 0; n < s.magic_size; ++n) {
      BOOST_TEST(sniff_media(s.bytes.substr(0, n)).name != s.name, "sample " << s.name << " cut to " << n);
    }
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_takes_empty_content_as_text)
{
  const MediaType type = sniff_media("");
  BOOST_TEST((type.kind == MediaKind::text));
  BOOST_TEST(type.mime == "text/plain");
  BOOST_TEST(!type.name.empty());
}

BOOST_AUTO_TEST_CASE(sniff_media_takes_text_that_begins_like_a_binary_type_as_text)
{
  for (const char* s : { "GIF89a is a format",
                         "%PDF-1.7 was released in 2008\n",
                         "RIFF notes\r\n\tand more\f",
                         "ID3 tags",
                         "ID3\x7F",
                         "MZ is a prefix",
                         "BZh9 looks like bzip2",
                         "fLaC caf\xC3\xA9",
                         "OggS\tcolumns",
                         "SQLite format 3 files",
                         "\xEF\xBB\xBF%PDF-",
                         "%PDF-\xE2\x82\xAC" }) {
    BOOST_TEST((sniff_media(s).kind == MediaKind::text), "not text: " << s);
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_takes_a_control_character_after_a_magic_as_binary)
{
  BOOST_TEST(sniff_media("GIF89a is a format\0"s).mime == "image/gif");
  BOOST_TEST(sniff_media("%PDF-1.7 was \x01 released"s).mime == "application/pdf");
  BOOST_TEST(sniff_media("%PDF-1.7 " + std::string(100, 'x') + "\x1B").mime == "application/pdf");
  BOOST_TEST(sniff_media("%PDF-1.7 " + std::string(100, 'x') + "\x7F").mime == "application/pdf");
  BOOST_TEST(sniff_media("RIFF\0\0\0\0WAVE notes"s).mime == "audio/wav");
  BOOST_TEST(sniff_media("PK\x03\x04 zipped " + std::string(1000, 'y') + '\0').mime == "application/zip");
}

// The control scan goes 16 bytes at a time, then byte by byte: a control
// character anywhere, in a block or in the tail, is found.
BOOST_AUTO_TEST_CASE(sniff_media_finds_a_control_character_at_every_offset)
{
  const std::string text = "%PDF-1.7 " + std::string(60, 'x');
  for (std::size_t i = 5; i < text.size(); ++i) {
    for (const char c : { '\0', '\x01', '\x1B', '\x1F', '\x7F' }) {
      std::string s = text;
      s[i] = c;
      BOOST_TEST(sniff_media(s).mime == "application/pdf", "control " << int(c) << " at " << i);
    }
    // C1 controls, two bytes in UTF-8, and other characters that begin
    // with 0xC2.
    BOOST_TEST(sniff_media(text.substr(0, i) + "\xC2\x80" + text.substr(i)).mime == "application/pdf",
               "U+0080 at " << i);
    BOOST_TEST(sniff_media(text.substr(0, i) + "\xC2\x9F" + text.substr(i)).mime == "application/pdf",
               "U+009F at " << i);
    BOOST_TEST((sniff_media(text.substr(0, i) + "\xC2\xA0" + text.substr(i)).kind == MediaKind::text),
               "U+00A0 at " << i);
    BOOST_TEST((sniff_media(text.substr(0, i) + "\xC2\xBF" + text.substr(i)).kind == MediaKind::text),
               "U+00BF at " << i);
    for (const char c : { '\t', '\n', '\f', '\r', ' ', '~' }) {
      std::string s = text;
      s[i] = c;
      BOOST_TEST((sniff_media(s).kind == MediaKind::text), "character " << int(c) << " at " << i);
    }
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_takes_utf8_without_magic_as_text)
{
  for (const std::string& s :
       { "hello\n"s, "caf\xC3\xA9"s, "nul\0inside"s, std::string(10000, 'a') + "\xE2\x82\xAC" }) {
    BOOST_TEST((sniff_media(s).kind == MediaKind::text));
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_names_unknown_binary_data)
{
  for (const std::string& s : { "\xFE\xFE\xFE"s,
                                "plain then \xFF"s,
                                std::string(100, 'a') + "\xC3",
                                std::string(10000, 'a') + "\x80" + std::string(10000, 'b') }) {
    const MediaType type = sniff_media(s);
    BOOST_TEST((type.kind == MediaKind::other));
    BOOST_TEST(type.name == "binary data");
    BOOST_TEST(type.mime == "application/octet-stream");
  }
}

BOOST_AUTO_TEST_CASE(sniff_media_does_not_take_other_mpeg_frames_as_mp3)
{
  for (const std::string& s : {
         "\xFF\xF1\x50\x80"s,                // AAC in ADTS: layer bits 00
         "\xFF\xFD\x90\x64"s,                // layer II
         "\xFF\xEB\x90\x64"s,                // reserved version
         "\xFF\xFB\xF0\x64"s,                // reserved bitrate
         "\xFF\xFB\x9C\x64"s,                // reserved sample rate
         "\xFF\xFB\x90\x66"s,                // reserved emphasis
         "ID3\x05\x00\x00\x00\x00\x00\x00"s, // unknown tag version
         "ID3\x04\x00\x00\x80\x00\x00\x00"s, // size byte with its top bit set
       }) {
    BOOST_TEST(sniff_media(s).mime != "audio/mpeg", "taken as mp3: " << s);
  }
}

BOOST_AUTO_TEST_CASE(media_type_of_mime_maps_the_supported_types)
{
  struct Case {
    std::string mime;
    MediaKind kind;
    std::string canonical;
    std::string format;
  };
  const Case cases[] = {
    { "image/png", MediaKind::image, "image/png", "" },
    { "image/jpeg", MediaKind::image, "image/jpeg", "" },
    { "image/webp", MediaKind::image, "image/webp", "" },
    { "image/gif", MediaKind::image, "image/gif", "" },
    { "application/pdf", MediaKind::pdf, "application/pdf", "" },
    { "audio/wav", MediaKind::audio, "audio/wav", "wav" },
    { "audio/x-wav", MediaKind::audio, "audio/wav", "wav" },
    { "audio/wave", MediaKind::audio, "audio/wav", "wav" },
    { "audio/mpeg", MediaKind::audio, "audio/mpeg", "mp3" },
    { "audio/mp3", MediaKind::audio, "audio/mpeg", "mp3" },
    { "text/plain", MediaKind::text, "text/plain", "" },
    { "text/markdown", MediaKind::text, "text/plain", "" },
    { "IMAGE/PNG", MediaKind::image, "image/png", "" },
    { "Audio/X-WAV", MediaKind::audio, "audio/wav", "wav" },
    { "image/png; q=1", MediaKind::image, "image/png", "" },
    { " text/plain;charset=utf-8", MediaKind::text, "text/plain", "" },
  };
  for (const Case& c : cases) {
    const auto type = media_type_of_mime(c.mime);
    BOOST_TEST_REQUIRE(type.has_value(), "not known: " << c.mime);
    BOOST_TEST((type->kind == c.kind), c.mime);
    BOOST_TEST(type->mime == c.canonical);
    BOOST_TEST(type->format == c.format);
    BOOST_TEST(!type->name.empty());
  }
}

BOOST_AUTO_TEST_CASE(media_type_of_mime_refuses_other_types)
{
  for (const std::string mime :
       { "", "image/tiff", "application/zip", "image", "text/", "video/mp4", "image/png2", "pdf", ";image/png" }) {
    BOOST_TEST(!media_type_of_mime(mime).has_value(), "known: " << mime);
  }
}

BOOST_AUTO_TEST_CASE(supported_mimes_lists_each_supported_type)
{
  const std::string_view list = supported_mimes();
  for (const char* mime :
       { "image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf", "audio/wav", "audio/mpeg" }) {
    BOOST_TEST(list.find(mime) != std::string_view::npos, mime);
    BOOST_TEST(media_type_of_mime(mime).has_value());
  }
}

BOOST_AUTO_TEST_CASE(base64_encodes_the_rfc4648_vectors)
{
  BOOST_TEST(base64("") == "");
  BOOST_TEST(base64("f") == "Zg==");
  BOOST_TEST(base64("fo") == "Zm8=");
  BOOST_TEST(base64("foo") == "Zm9v");
  BOOST_TEST(base64("foob") == "Zm9vYg==");
  BOOST_TEST(base64("fooba") == "Zm9vYmE=");
  BOOST_TEST(base64("foobar") == "Zm9vYmFy");
}

BOOST_AUTO_TEST_CASE(base64_matches_a_reference_at_every_length)
{
  std::string bytes;
  for (std::size_t n = 0; n <= 100; ++n) {
    BOOST_TEST(base64(bytes) == reference_base64(bytes), "length " << n);
    BOOST_TEST(base64(bytes).size() == base64_size(n));
    bytes += static_cast<char>(n * 37 + 11);
  }
}

BOOST_AUTO_TEST_CASE(base64_encodes_every_byte_value)
{
  std::string bytes;
  for (int b = 0; b < 256; ++b) {
    bytes += static_cast<char>(b);
  }
  for (std::size_t shift = 0; shift < 3; ++shift) {
    const std::string s = bytes.substr(shift) + bytes.substr(0, shift);
    BOOST_TEST(base64(s) == reference_base64(s));
  }
}

BOOST_AUTO_TEST_CASE(append_base64_appends_to_what_is_there)
{
  std::string out = "data:image/png;base64,";
  append_base64(out, "foobar");
  BOOST_TEST(out == "data:image/png;base64,Zm9vYmFy");
}

BOOST_AUTO_TEST_CASE(write_base64_returns_the_end_of_what_it_wrote)
{
  for (std::size_t n = 0; n <= 20; ++n) {
    const std::string bytes(n, '\xA5');
    std::string buffer(base64_size(n) + 4, '#');
    char* end = write_base64(buffer.data(), bytes);
    BOOST_TEST(end == buffer.data() + base64_size(n));
    BOOST_TEST(buffer.substr(base64_size(n)) == "####", "wrote past the end at length " << n);
    BOOST_TEST(buffer.substr(0, base64_size(n)) == reference_base64(bytes));
  }
}

BOOST_AUTO_TEST_SUITE_END()
