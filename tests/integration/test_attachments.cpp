// Attachments from the outside (-f with images, PDFs and audio; issue 18):
// the parts the server receives, decoded here and compared byte for byte
// with the files; every input gptq refuses, with its exit code and message
// and nothing sent; --dry-run's shortened and full payloads; a thread that
// keeps them; batch mode and the Batch API carrying them. The files are made
// at test time: a minimal valid header of each type, then random bytes.

#include "batch_helpers.hpp"
#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <fstream>
#include <ostream>
#include <random>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

namespace data = boost::unit_test::data;
namespace json = boost::json;
using namespace gptq::it;

namespace {

// --- Files made at test time ---------------------------------------------

// `size` bytes of a fixed pseudo-random sequence of its own (`seed`): the
// same every run and with every library (mt19937's output is specified, a
// distribution's is not), and almost surely no UTF-8.
std::string random_bytes(std::size_t size, unsigned seed)
{
  std::mt19937 engine(seed);
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(engine() & 0xFF);
  }
  return out;
}

// Bytes of no known type that are no text in another encoding either: a
// NUL among them (without one, gptq frames them as text and names the
// first byte that is not UTF-8).
std::string binary_bytes(std::size_t size, unsigned seed)
{
  std::string out = random_bytes(size, seed);
  out[1] = '\0';
  return out;
}

std::string le32(std::uint32_t value)
{
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xFF);
  }
  return out;
}

using namespace std::string_literals;

// A sample of each type gptq sends: the header its bytes are told by, and
// what the server must receive for it.
struct Kind {
  std::string label;  // for test names and messages: "png"
  std::string header; // the file's first bytes
  std::string mime;   // in the data: URL (images, PDF)
  std::string part;   // the Chat Completions part type
  std::string format; // audio only: "wav" or "mp3"
};

std::ostream& operator<<(std::ostream& os, const Kind& k)
{
  return os << k.label;
}

const std::vector<Kind> kinds{
  { "png", "\x89PNG\r\n\x1A\n\0\0\0\rIHDR"s, "image/png", "image_url", "" },
  { "jpeg", "\xFF\xD8\xFF\xE0\0\x10JFIF\0"s, "image/jpeg", "image_url", "" },
  { "gif", "GIF89a\x01\0\x01\0\0\0\0"s, "image/gif", "image_url", "" },
  { "webp", "RIFF" + le32(1000) + "WEBPVP8 ", "image/webp", "image_url", "" },
  { "pdf", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n\0"s, "application/pdf", "file", "" },
  { "wav", "RIFF" + le32(1000) + "WAVEfmt \x10\0\0\0\x01\0\x01\0"s, "audio/wav", "input_audio", "wav" },
  { "mp3", "ID3\x03\0\0\0\0\0\0"s, "audio/mpeg", "input_audio", "mp3" },
  // Told apart by other first bytes: GIF's older version, and MP3 without
  // an ID3 tag (an MPEG-1 layer III frame header first).
  { "gif87a", "GIF87a\x01\0\x01\0\0\0\0"s, "image/gif", "image_url", "" },
  { "mp3frame", "\xFF\xFB\x90\x64\0"s, "audio/mpeg", "input_audio", "mp3" },
};

const Kind& kind(const std::string& label)
{
  for (const auto& k : kinds) {
    if (k.label == label) {
      return k;
    }
  }
  throw std::logic_error("no sample kind " + label);
}

// The bytes of a file of kind `k`, `size` bytes long in all.
std::string sample_bytes(const Kind& k, std::size_t size, unsigned seed = 1)
{
  return k.header + random_bytes(size - k.header.size(), seed);
}

// A file of kind `label` in the scratch directory named `name`; returns its
// path and leaves its bytes in `bytes`.
std::string sample(const std::string& name, const std::string& label, std::size_t size, std::string* bytes)
{
  *bytes = sample_bytes(kind(label), size, static_cast<unsigned>(size));
  return scratch_file(name, *bytes);
}

// --- Reading what the server got -----------------------------------------

// Decodes standard base64 with '=' padding and nothing else in it (RFC 4648
// section 4): written here on its own, not gptq's encoder read backwards.
// Throws when `text` is not that.
std::string base64_decode(std::string_view text)
{
  if (text.size() % 4 != 0) {
    throw std::runtime_error("base64 of " + std::to_string(text.size()) + " characters, not a multiple of 4");
  }
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
      return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const int v = j >= 4 - static_cast<std::size_t>(pad) ? 0 : value(text[i + j]);
      if (v < 0) {
        throw std::runtime_error("not base64 at " + std::to_string(i + j) + ": '" + text[i + j] + "'");
      }
      group = group << 6 | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>(group >> 16);
    if (pad < 2) {
      out += static_cast<char>((group >> 8) & 0xFF);
    }
    if (pad < 1) {
      out += static_cast<char>(group & 0xFF);
    }
  }
  return out;
}

std::string str(const json::value& v)
{
  return std::string(v.as_string());
}

// The bytes of the data: URL `url`, which must be of type `mime`.
std::string data_url_bytes(const std::string& url, const std::string& mime)
{
  const std::string head = "data:" + mime + ";base64,";
  BOOST_TEST_REQUIRE(starts_with(url, head), "'" << url.substr(0, 60) << "' starts with " << head);
  return base64_decode(std::string_view(url).substr(head.size()));
}

// The names of an object's members, in order: that a part has those and
// no other.
std::vector<std::string> keys(const json::value& v)
{
  std::vector<std::string> out;
  for (const auto& member : v.as_object()) {
    out.emplace_back(member.key());
  }
  return out;
}

using Keys = std::vector<std::string>;

// Checks that `part` is the Chat Completions part of a file of kind `k`
// holding `bytes`: its type, its members and no others, its payload
// decoded. `detail` is what an image part says; `filename` a PDF's.
void check_part(const json::value& part,
                const Kind& k,
                const std::string& bytes,
                const std::string& filename = "",
                const std::string& detail = "")
{
  BOOST_TEST_CONTEXT(k.label << " part " << json::serialize(part).substr(0, 200))
  {
    BOOST_TEST_REQUIRE(part.is_object());
    BOOST_TEST((keys(part) == Keys{ "type", k.part }));
    BOOST_TEST(str(part.at("type")) == k.part);
    const json::value& inner = part.at(k.part);
    if (k.part == "image_url") {
      BOOST_TEST((keys(inner) == (detail.empty() ? Keys{ "url" } : Keys{ "url", "detail" })));
      BOOST_TEST((data_url_bytes(str(inner.at("url")), k.mime) == bytes));
      if (!detail.empty()) {
        BOOST_TEST(str(inner.at("detail")) == detail);
      }
    } else if (k.part == "file") {
      BOOST_TEST((keys(inner) == Keys{ "filename", "file_data" }));
      BOOST_TEST(str(inner.at("filename")) == filename);
      BOOST_TEST((data_url_bytes(str(inner.at("file_data")), k.mime) == bytes));
    } else {
      BOOST_TEST((keys(inner) == Keys{ "data", "format" }));
      BOOST_TEST((base64_decode(str(inner.at("data"))) == bytes));
      BOOST_TEST(str(inner.at("format")) == k.format);
    }
  }
}

// Checks that `part` is {"type":"text","text":`text`}.
void check_text_part(const json::value& part, const std::string& text)
{
  BOOST_TEST(json::serialize(part) == json::serialize(json::value{ { "type", "text" }, { "text", text } }));
}

// The content of the last message the server got.
json::value last_content(const SeenRequest& seen)
{
  return seen.body.at("messages").as_array().back().at("content");
}

// The parts of the last message the server got; fails the test when its
// content is no list.
json::array sent_parts(const RunResult& r)
{
  const json::value content = last_content(seen_request(r));
  BOOST_TEST_REQUIRE(content.is_array(), json::serialize(content).substr(0, 200));
  return content.as_array();
}

// The base URL mode that serves as `request` does and counts what it gets
// under `key`: for the runs that must send nothing.
std::string counted_request(const std::string& key)
{
  return "counted/" + key + "/request";
}

// Checks that gptq refused the run before sending anything: exit 2, the
// one error line mentioning each of `mentions`, nothing counted under
// `key`.
void check_refused(const RunResult& r, const std::string& key, const std::vector<std::string>& mentions)
{
  check_failure(r, 2, mentions);
  BOOST_TEST(stats(key).requests == 0, r.describe());
}

} // namespace

BOOST_AUTO_TEST_SUITE(attachments)

// --- What the server receives ------------------------------------------------

BOOST_DATA_TEST_CASE(each_kind_reaches_the_server_byte_for_byte_after_the_text, data::make(kinds), k)
{
  // Three sizes: every length mod 3, so every padding of the base64.
  for (const std::size_t size : { 3000u, 3001u, 3002u }) {
    std::string bytes;
    const std::string path = sample("sent." + k.label, k.label, size, &bytes);
    const std::string prompt = "what is \"this\"?\n\xF0\x9F\x98\x80";
    const RunResult r = run_gptq_https("request", { "-f", path, prompt });
    const json::array parts = sent_parts(r);
    BOOST_TEST_REQUIRE(parts.size() == 2u, r.describe());
    check_text_part(parts[0], prompt);
    check_part(parts[1], k, bytes, "sent." + k.label);
    BOOST_TEST(!contains(r.err, fake_key));
  }
}

BOOST_AUTO_TEST_CASE(several_files_keep_their_order_after_the_texts)
{
  std::string png, pdf, gif, mp3;
  const std::string notes = scratch_file("order-notes.txt", "first notes\n");
  const std::string more = scratch_file("order-more.md", "more notes\n");
  const std::vector<std::string> args{
    "-f",     sample("order.png", "png", 700, &png), "-f", notes, "-f", sample("order.pdf", "pdf", 800, &pdf),
    "-f",     sample("order.mp3", "mp3", 900, &mp3), "-f", more,  "-f", sample("order.gif", "gif", 1000, &gif),
    "compare"
  };
  const json::array parts = sent_parts(run_gptq_https("request", args));
  BOOST_TEST_REQUIRE(parts.size() == 5u);
  // Text files keep their framing, in the one text part.
  check_text_part(parts[0],
                  "compare\n\nFile: " + notes + "\n```\nfirst notes\n```\n\nFile: " + more + "\n```\nmore notes\n```");
  check_part(parts[1], kind("png"), png);
  check_part(parts[2], kind("pdf"), pdf, "order.pdf");
  check_part(parts[3], kind("mp3"), mp3);
  check_part(parts[4], kind("gif"), gif);
}

BOOST_AUTO_TEST_CASE(an_image_alone_is_the_whole_message)
{
  std::string png;
  const std::string path = sample("alone.png", "png", 1234, &png);
  const RunResult r = run_gptq_https("request", { "-f", path });
  const json::array parts = sent_parts(r);
  BOOST_TEST_REQUIRE(parts.size() == 1u, r.describe());
  check_part(parts[0], kind("png"), png);
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(text_only_files_leave_the_content_a_string)
{
  // Text that begins like a GIF or a PDF is still text.
  const std::string gif_like = scratch_file("gif-like.txt", "GIF89a is a format\n");
  const std::string pdf_like = scratch_file("pdf-like.txt", "%PDF-1.7 was released in 2008\n");
  const RunResult r = run_gptq_https("request", { "-f", gif_like, "-f", pdf_like, "x" });
  const json::value content = last_content(seen_request(r));
  BOOST_TEST_REQUIRE(content.is_string(), json::serialize(content));
  BOOST_TEST(str(content) == "x\n\nFile: " + gif_like + "\n```\nGIF89a is a format\n```\n\nFile: " + pdf_like +
                               "\n```\n%PDF-1.7 was released in 2008\n```");
}

BOOST_AUTO_TEST_CASE(prompt_text_like_a_payload_placeholder_goes_as_it_is)
{
  // gptq places payloads into the body by placeholders: a prompt that
  // looks like one must neither take a payload's place nor lose its own.
  std::string png;
  const std::string path = sample("placeholder.png", "png", 500, &png);
  for (const std::string text : { "<gptq text 0:0>", "<gptq text 0:1> and <gptq text 1:0>" }) {
    const json::array parts = sent_parts(run_gptq_https("request", { "-f", path, text }));
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    check_text_part(parts[0], text);
    check_part(parts[1], kind("png"), png);
  }
}

BOOST_AUTO_TEST_CASE(a_pdfs_name_is_its_last_component_escaped)
{
  std::string pdf;
  const std::string name = "r\xC3\xA9 \"sum\\\xC3\xA9\".pdf";
  const std::string path = sample("named/" + name, "pdf", 1000, &pdf);
  const json::array parts = sent_parts(run_gptq_https("request", { "-f", path, "x" }));
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  check_part(parts[1], kind("pdf"), pdf, name);
}

BOOST_AUTO_TEST_CASE(a_large_image_reaches_the_server_whole)
{
  // Over 9 MiB: the body goes out in many writes.
  std::string png;
  const std::string path = sample("nine-mib.png", "png", 9 * 1024 * 1024 + 1, &png);
  const json::array parts = sent_parts(run_gptq_https("request", { "-f", path, "x" }));
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  check_part(parts[1], kind("png"), png);
}

BOOST_AUTO_TEST_CASE(stdin_is_a_file_too_told_by_its_bytes)
{
  const std::string png = sample_bytes(kind("png"), 2048);
  const json::array parts = sent_parts(run_gptq_https("request", { "-f", "-", "what plant?" }, StdinSpec::of(png)));
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  check_text_part(parts[0], "what plant?");
  check_part(parts[1], kind("png"), png);

  // A PDF on stdin is named stdin.pdf; stdin as a regular file works alike.
  std::string pdf;
  const std::string path = sample("on-stdin.pdf", "pdf", 4321, &pdf);
  const json::array from_file = sent_parts(run_gptq_https("request", { "-f", "-", "sum up" }, StdinSpec::file(path)));
  BOOST_TEST_REQUIRE(from_file.size() == 2u);
  check_part(from_file[1], kind("pdf"), pdf, "stdin.pdf");
}

BOOST_AUTO_TEST_CASE(file_type_overrides_what_the_bytes_say_for_the_next_file_only)
{
  // Random bytes say nothing; a PNG is sent as the JPEG it is said to be.
  const std::string raw = binary_bytes(999, 7);
  const std::string raw_path = scratch_file("raw.bin", raw);
  std::string png;
  const std::string png_path = sample("typed.png", "png", 600, &png);
  const std::string wav = binary_bytes(512, 8);
  const std::string wav_path = scratch_file("raw.audio", wav);
  const json::array parts = sent_parts(run_gptq_https("request",
                                                      { "--file-type",
                                                        "image/png",
                                                        "-f",
                                                        raw_path,
                                                        "--file-type",
                                                        "IMAGE/JPEG; q=1",
                                                        "-f",
                                                        png_path,
                                                        "--file-type",
                                                        "audio/x-wav",
                                                        "-f",
                                                        wav_path,
                                                        "x" }));
  BOOST_TEST_REQUIRE(parts.size() == 4u);
  check_part(parts[1], kind("png"), raw);
  check_part(parts[2], kind("jpeg"), png);
  check_part(parts[3], kind("wav"), wav);
  // The type is for the one -f after it: the second file is sniffed.
  const RunResult r = run_gptq_https("request", { "--file-type", "image/png", "-f", raw_path, "-f", raw_path, "x" });
  check_failure(r, 2, { "'" + raw_path + "' is binary data", "--file-type MIME" });
}

BOOST_AUTO_TEST_CASE(file_type_text_frames_the_file_as_text)
{
  // Any text/* says text: framed as a text file is, or refused as one that
  // is not UTF-8.
  const std::string notes = scratch_file("typed-notes.bin", "plain words\n");
  const RunResult r = run_gptq_https("request", { "--file-type", "text/markdown", "-f", notes, "x" });
  BOOST_TEST(json::serialize(last_content(seen_request(r))) ==
             json::serialize(json::value("x\n\nFile: " + notes + "\n```\nplain words\n```")));
  std::string png;
  const std::string path = sample("typed-text.png", "png", 300, &png);
  const std::string key = fresh_key("typed-text");
  check_refused(run_gptq_https(counted_request(key), { "--file-type", "text/plain", "-f", path, "x" }),
                key,
                { "typed-text.png", "invalid UTF-8 at byte 0" });
}

BOOST_AUTO_TEST_CASE(detail_goes_on_every_image_and_nothing_else)
{
  std::string png, jpeg, pdf;
  const std::vector<std::string> files{ "-f", sample("detail.png", "png", 300, &png),
                                        "-f", sample("detail.pdf", "pdf", 400, &pdf),
                                        "-f", sample("detail.jpg", "jpeg", 500, &jpeg),
                                        "-f", "https://img.example/detail.png" };
  for (const std::string detail : { "low", "high", "auto" }) {
    std::vector<std::string> args{ "--detail", detail };
    args.insert(args.end(), files.begin(), files.end());
    args.push_back("x");
    const json::array parts = sent_parts(run_gptq_https("request", args));
    BOOST_TEST_REQUIRE(parts.size() == 5u);
    check_part(parts[1], kind("png"), png, "", detail);
    check_part(parts[2], kind("pdf"), pdf, "detail.pdf");
    check_part(parts[3], kind("jpeg"), jpeg, "", detail);
    BOOST_TEST(json::serialize(parts[4]) ==
               R"({"type":"image_url","image_url":{"url":"https://img.example/detail.png","detail":")" + detail +
                 R"("}})");
  }
  // The config's key, and a value gptq does not know.
  const std::string config = scratch_file("detail.conf", "detail = high\n");
  const json::array parts = sent_parts(run_gptq_https("request", { "--config", config, "-f", files[1], "x" }));
  check_part(parts.at(1), kind("png"), png, "", "high");
  check_failure(run_gptq_https("request", { "--detail", "medium", "-f", files[1], "x" }),
                2,
                { "--detail", "medium", "low, high or auto" });
}

BOOST_AUTO_TEST_CASE(an_image_url_goes_as_it_is_and_nothing_is_downloaded)
{
  // The host does not exist: were it fetched, the run would fail.
  const std::vector<std::string> urls{ "https://nowhere.invalid/charts/Trend.PNG",
                                       "http://nowhere.invalid/a.jpeg?size=large#top",
                                       "HTTPS://nowhere.invalid/x.webp",
                                       "https://nowhere.invalid/y.Gif",
                                       "https://nowhere.invalid/z.jpg" };
  std::vector<std::string> args;
  for (const auto& url : urls) {
    args.insert(args.end(), { "-f", url });
  }
  args.push_back("describe");
  const json::array parts = sent_parts(run_gptq_https("request", args));
  BOOST_TEST_REQUIRE(parts.size() == urls.size() + 1);
  check_text_part(parts[0], "describe");
  for (std::size_t i = 0; i < urls.size(); ++i) {
    BOOST_TEST(json::serialize(parts[i + 1]) ==
               json::serialize(json::value{ { "type", "image_url" }, { "image_url", { { "url", urls[i] } } } }));
  }
}

BOOST_AUTO_TEST_CASE(the_responses_api_gets_input_image_and_input_file_items)
{
  std::string png, pdf;
  const std::string png_path = sample("resp.png", "png", 777, &png);
  const std::string pdf_path = sample("dir/resp.pdf", "pdf", 888, &pdf);
  const RunResult r = run_gptq_https(
    "request", { "--api", "responses", "-f", png_path, "-f", pdf_path, "-f", "https://nowhere.invalid/r.png", "look" });
  const SeenRequest seen = seen_request(r);
  BOOST_TEST(seen.target == "/request/v1/responses");
  const json::array& input = seen.body.at("input").as_array();
  BOOST_TEST_REQUIRE(input.size() == 1u);
  BOOST_TEST(str(input[0].at("role")) == "user");
  const json::array& content = input[0].at("content").as_array();
  BOOST_TEST_REQUIRE(content.size() == 4u);
  BOOST_TEST(json::serialize(content[0]) == R"({"type":"input_text","text":"look"})");
  BOOST_TEST((keys(content[1]) == Keys{ "type", "image_url", "detail" }));
  BOOST_TEST(str(content[1].at("type")) == "input_image");
  BOOST_TEST((data_url_bytes(str(content[1].at("image_url")), "image/png") == png));
  BOOST_TEST(str(content[1].at("detail")) == "auto");
  BOOST_TEST((keys(content[2]) == Keys{ "type", "filename", "file_data" }));
  BOOST_TEST(str(content[2].at("type")) == "input_file");
  BOOST_TEST(str(content[2].at("filename")) == "resp.pdf");
  BOOST_TEST((data_url_bytes(str(content[2].at("file_data")), "application/pdf") == pdf));
  BOOST_TEST(json::serialize(content[3]) ==
             R"({"type":"input_image","image_url":"https://nowhere.invalid/r.png","detail":"auto"})");
  // --detail there too.
  const json::array low =
    seen_request(run_gptq_https("request", { "--api", "responses", "--detail", "low", "-f", png_path, "x" }))
      .body.at("input")
      .at(0)
      .at("content")
      .as_array();
  BOOST_TEST(str(low.at(1).at("detail")) == "low");
}

BOOST_AUTO_TEST_CASE(the_responses_api_refuses_audio_and_sends_nothing)
{
  for (const std::string label : { "wav", "mp3" }) {
    std::string bytes;
    const std::string path = sample("resp." + label, label, 1000, &bytes);
    const std::string key = fresh_key("resp-audio");
    check_refused(run_gptq_https(counted_request(key), { "--api", "responses", "-f", path, "transcribe" }),
                  key,
                  { "--api", "audio", "--api chat" });
  }
}

// --- What gptq refuses ---------------------------------------------------------

namespace {

struct Refused {
  std::string label;
  std::string bytes;
  std::string named; // what the message calls it
};

std::ostream& operator<<(std::ostream& os, const Refused& r)
{
  return os << r.label;
}

const std::vector<Refused> other_binaries{
  { "zip", "PK\x03\x04\x14\0\0\0\x08\0"s + random_bytes(300, 11), "a ZIP archive" },
  { "elf", "\x7F\x45LF\x02\x01\x01\0"s + random_bytes(300, 12), "an ELF executable" }, // \x45 is 'E'
  { "gzip", "\x1F\x8B\x08\0"s + random_bytes(300, 13), "a gzip archive" },
  { "random", binary_bytes(300, 14), "binary data" },
};

} // namespace

BOOST_DATA_TEST_CASE(other_binary_files_are_refused_naming_what_they_are, data::make(other_binaries), b)
{
  const std::string path = scratch_file("refused." + b.label, b.bytes);
  const std::string key = fresh_key("other-binary");
  check_refused(run_gptq_https(counted_request(key), { "-f", path, "x" }),
                key,
                { "gptq: --file: '" + path + "' is " + b.named +
                    ", not text, an image, a PDF or audio; -f sends text and "
                    "image/png, image/jpeg, image/webp, image/gif, "
                    "application/pdf, audio/wav, audio/mpeg",
                  "(--file-type MIME when its content does not tell)" });
  // The same bytes on stdin.
  check_refused(
    run_gptq_https(counted_request(key), { "-f", "-", "x" }, StdinSpec::of(b.bytes)), key, { "'stdin' is " + b.named });
}

BOOST_AUTO_TEST_CASE(a_refused_name_with_a_line_break_stays_on_one_line)
{
  const std::string path = scratch_file("two\nlines.zip", "PK\x03\x04"s + random_bytes(100, 15));
  const std::string key = fresh_key("line-break");
  check_refused(run_gptq_https(counted_request(key), { "-f", path, "x" }, StdinSpec::dev_null()),
                key,
                { "two\\nlines.zip' is a ZIP archive" });
  check_refused(run_gptq_https(counted_request(key), { "-f", "https://nowhere.invalid/a\nb.pdf", "x" }),
                key,
                { "a\\nb.pdf' is a URL" });
}

BOOST_AUTO_TEST_CASE(a_url_that_is_no_image_is_refused_saying_to_download_it)
{
  for (const std::string url : { "https://nowhere.invalid/paper.pdf",
                                 "http://nowhere.invalid/",
                                 "https://nowhere.invalid",
                                 "https://nowhere.invalid/photo.png.html",
                                 "https://nowhere.invalid/get?file=a.png" }) {
    const std::string key = fresh_key("url");
    check_refused(run_gptq_https(counted_request(key), { "-f", url, "x" }),
                  key,
                  { "gptq: --file: '" + url + "' is a URL, and gptq downloads nothing",
                    "download it first (curl -O URL) and give the file" });
  }
}

BOOST_AUTO_TEST_CASE(an_attachment_over_max_attachment_is_refused)
{
  std::string png;
  const std::string path = sample("large.png", "png", 2000, &png);
  const std::string key = fresh_key("too-large");
  check_refused(
    run_gptq_https(counted_request(key), { "--max-attachment", "1K", "-f", path, "x" }),
    key,
    { "gptq: --file: '" + path + "' is ", "more than --max-attachment", "raise it, e.g. --max-attachment" });
  // On stdin, where its size is known only once read.
  check_refused(run_gptq_https(counted_request(key), { "--max-attachment", "1K", "-f", "-", "x" }, StdinSpec::of(png)),
                key,
                { "'stdin' is ", "more than --max-attachment" });
  // At the limit it goes; the config's key sets it too.
  const std::string config = scratch_file("max.conf", "max_attachment = 1999\n");
  check_refused(run_gptq_https(counted_request(key), { "--config", config, "-f", path, "x" }),
                key,
                { "more than --max-attachment" });
  BOOST_TEST(sent_parts(run_gptq_https("request", { "--max-attachment", "2000B", "-f", path, "x" })).size() == 2u);
}

namespace {

// A sparse file of `mib` MiB at `name` in the scratch directory whose first
// bytes are a PNG's header; returns its path.
std::string sparse_png(const std::string& name, long long mib)
{
  const std::string path = scratch_dir() + "/" + name;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << kind("png").header;
  }
  BOOST_TEST_REQUIRE(truncate(path.c_str(), mib << 20) == 0);
  return path;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_large_file_is_refused_by_its_size)
{
  // That it is not read first cannot be seen from here (it is sparse, and
  // reading it would end in the same refusal): the message is checked.
  const std::string path = sparse_png("sparse.png", 200);
  const std::string key = fresh_key("sparse");
  check_refused(run_gptq_https(counted_request(key), { "-f", path, "x" }),
                key,
                { "gptq: --file: '" + path +
                  "' is 200.0 MiB, more than --max-attachment (20.0 MiB); raise it, e.g. --max-attachment 201M" });
  std::remove(path.c_str());
}

// BUG (for the lead): a binary file over the prompt's 256 MiB limit is
// refused by that limit's message, "'x.png' is larger than the limit of 256
// MiB", which does not say that --max-attachment is the limit to raise: the
// reader's own size check (read_user_input, limit file_limit()) runs before
// FileInputs' check_size. The spec's message is the --max-attachment one.
// Marked as an expected failure until it says that.
BOOST_AUTO_TEST_CASE(a_file_over_the_prompt_limit_is_refused_naming_max_attachment)
{
  const std::string path = sparse_png("sparse-huge.png", 300);
  const RunResult r = run_gptq_https("request", { "-f", path, "x" });
  BOOST_TEST(r.exit_code == 2, r.describe());
  BOOST_TEST(contains(r.err, "is 300.0 MiB, more than --max-attachment (20.0 MiB); raise it"), r.describe());
  std::remove(path.c_str());
}

// BUG (for the lead): below 1 MiB the sizes read "0.0 MiB", which tells the
// user nothing: "'x.png' is 0.0 MiB, more than --max-attachment (0.0
// MiB); raise it, e.g. --max-attachment 1M" for a 2000-byte file over 1K
// (attachment.cpp's size_text always prints MiB). Marked as an expected
// failure until it says the sizes (as --dry-run's "N bytes", "N KiB").
BOOST_AUTO_TEST_CASE(the_size_message_says_sizes_below_a_mib)
{
  std::string png;
  const std::string path = sample("small-limit.png", "png", 2000, &png);
  const RunResult r = run_gptq_https("request", { "--max-attachment", "1K", "-f", path, "x" });
  BOOST_TEST(r.exit_code == 2, r.describe());
  BOOST_TEST(!contains(r.err, "0.0 MiB"), r.describe());
}

BOOST_AUTO_TEST_CASE(a_text_file_keeps_the_prompts_limit_not_max_attachment)
{
  const std::string text(5000, 'a');
  const std::string path = scratch_file("long.txt", text);
  const RunResult r = run_gptq_https("request", { "--max-attachment", "1K", "-f", path, "x" });
  const json::value content = last_content(seen_request(r));
  BOOST_TEST_REQUIRE(content.is_string());
  BOOST_TEST(str(content) == "x\n\nFile: " + path + "\n```\n" + text + "\n```");
}

// BUG (for the lead): a text file larger than --max-attachment is refused
// for its size when its first 4 KiB are not UTF-8 as a whole: the size
// check before reading (file_inputs.cpp, check_size) sniffs them alone.
// - UTF-8 text whose 4096th byte falls inside a character: the cut last
//   character makes the 4 KiB invalid, "binary data". With the default
//   limit any UTF-8 text over 20 MiB (a log with accents, CJK) is refused as
//   "more than --max-attachment (20.0 MiB)" most of the time.
// - Text in another encoding (Latin-1), which FileInputs::add frames as
//   text so that the message names its bad byte and says to convert it, is
//   refused for its size instead.
// Marked as expected failures until fixed.
BOOST_AUTO_TEST_CASE(a_large_text_file_is_judged_as_text_not_by_its_size)
{
  // "a", then 3000 two-byte characters: byte 4096 is the first of one.
  std::string text = "a";
  for (int i = 0; i < 3000; ++i) {
    text += "\xC3\xA9";
  }
  const std::string path = scratch_file("accents.txt", text);
  const RunResult r = run_gptq_https("request", { "--max-attachment", "1K", "-f", path, "x" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  if (r.exit_code == 0) {
    BOOST_TEST(str(last_content(seen_request(r))) == "x\n\nFile: " + path + "\n```\n" + text + "\n```");
  }
  std::string latin1;
  for (int i = 0; i < 1000; ++i) {
    latin1 += "caf\xE9 ";
  }
  const std::string latin1_path = scratch_file("latin1-large.txt", latin1);
  const RunResult refused = run_gptq_https("request", { "--max-attachment", "1K", "-f", latin1_path, "x" });
  BOOST_TEST(contains(refused.err, "invalid UTF-8 at byte 3 (0xE9); convert the text to UTF-8 first"),
             refused.describe());
}

BOOST_AUTO_TEST_CASE(directories_devices_and_missing_files_are_refused)
{
  const std::string key = fresh_key("not-a-file");
  check_refused(run_gptq_https(counted_request(key), { "-f", scratch_dir(), "x" }),
                key,
                { "gptq: --file: '" + scratch_dir() + "' is a directory, not a file" });
  check_refused(run_gptq_https(counted_request(key), { "-f", "/dev/zero", "x" }),
                key,
                { "gptq: --file: '/dev/zero' is a device that never ends" });
  check_refused(run_gptq_https(counted_request(key), { "--max-attachment", "4G", "-f", "/dev/zero", "x" }),
                key,
                { "'/dev/zero' is a device that never ends" });
  check_refused(run_gptq_https(counted_request(key), { "-f", scratch_dir() + "/no-such.png", "x" }),
                key,
                { "no-such.png", "No such file or directory" });
}

BOOST_AUTO_TEST_CASE(an_empty_file_adds_nothing_with_a_warning)
{
  const std::string empty = scratch_file("empty.png", "");
  std::string png;
  const std::string path = sample("beside-empty.png", "png", 400, &png);
  const std::string warning = "gptq: warning: --file '" + empty + "' is empty; it adds nothing to the prompt\n";
  const RunResult r = run_gptq_https("request", { "-f", empty, "-f", path, "-f", empty, "x" });
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
  BOOST_TEST(r.err == warning + warning, r.describe());
  const json::array parts = last_content(parse_seen_request(r.out)).as_array();
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  check_text_part(parts[0], "x");
  check_part(parts[1], kind("png"), png);
  // With words only, the content stays a string.
  const RunResult words = run_gptq_https("request", { "-f", empty, "x" });
  BOOST_TEST_REQUIRE(words.exit_code == 0, words.describe());
  BOOST_TEST(words.err == warning, words.describe());
  BOOST_TEST(json::serialize(last_content(parse_seen_request(words.out))) == R"("x")");
  // Alone it leaves the prompt empty: the usual error, after the warning.
  const std::string key = fresh_key("empty");
  const RunResult alone = run_gptq_https(counted_request(key), { "-f", empty });
  BOOST_TEST(alone.exit_code == 2, alone.describe());
  BOOST_TEST(alone.out == "", alone.describe());
  BOOST_TEST(alone.err == warning + "gptq: the prompt is empty: give PROMPT words or pipe text to stdin (see 'gptq "
                                    "--help')\n",
             alone.describe());
  BOOST_TEST(stats(key).requests == 0);
}

BOOST_AUTO_TEST_CASE(an_empty_stdin_as_a_file_has_the_stdin_warning)
{
  const RunResult r = run_gptq_https("request", { "-f", "-", "x" }, StdinSpec::of(""));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
  BOOST_TEST(r.err == "gptq: warning: stdin (-f -) was empty; it adds nothing to the prompt\n", r.describe());
  BOOST_TEST(json::serialize(last_content(parse_seen_request(r.out))) == R"("x")");
}

BOOST_AUTO_TEST_CASE(a_profile_that_excludes_a_kind_refuses_it_naming_the_profile)
{
  const std::string config = scratch_file("attachments.conf",
                                          "model = m\n"
                                          "[profile.pics]\n"
                                          "attachments = image\n"
                                          "[profile.plain]\n"
                                          "attachments = none\n"
                                          "[profile.docs]\n"
                                          "attachments = pdf, audio\n");
  std::string pdf, png, wav;
  const std::string pdf_path = sample("excluded.pdf", "pdf", 500, &pdf);
  const std::string png_path = sample("excluded.png", "png", 500, &png);
  const std::string wav_path = sample("excluded.wav", "wav", 500, &wav);
  const std::string key = fresh_key("profile-kinds");
  const auto refused = [&](const std::string& profile, const std::string& file) {
    return run_gptq_https(counted_request(key), { "--config", config, "-P", profile, "-f", file, "x" });
  };
  check_refused(refused("pics", pdf_path),
                key,
                { "gptq: --file: '" + pdf_path +
                  "' is a PDF document, which the server does not take: attachments = image (config " + config +
                  ":3 [profile.pics])" });
  check_refused(refused("pics", wav_path), key, { "is a WAV audio file", "attachments = image", "[profile.pics]" });
  check_refused(refused("plain", png_path),
                key,
                { "'" + png_path + "' is a PNG image, which the server does not take: attachments = none (config " +
                  config + ":5 [profile.plain])" });
  check_refused(
    refused("plain", "https://nowhere.invalid/a.png"),
    key,
    { "'https://nowhere.invalid/a.png' is an image's URL, which the server does not take", "[profile.plain]" });
  check_refused(refused("docs", png_path), key, { "attachments = audio,pdf", "[profile.docs]" });
  // What the profile takes goes; text always does.
  BOOST_TEST(sent_parts(run_gptq_https("request", { "--config", config, "-P", "pics", "-f", png_path, "x" })).size() ==
             2u);
  const std::string notes = scratch_file("plain-notes.txt", "notes\n");
  BOOST_TEST(
    last_content(seen_request(run_gptq_https("request", { "--config", config, "-P", "plain", "-f", notes, "x" })))
      .is_string());
  // The command line's --attachments says so too, and says where.
  check_refused(run_gptq_https(counted_request(key), { "--attachments", "pdf", "-f", png_path, "x" }),
                key,
                { "is a PNG image, which the server does not take: attachments = pdf" });
  check_failure(run_gptq_https("request", { "--attachments", "image,video", "-f", png_path, "x" }),
                2,
                { "--attachments", "image,video", "image, pdf and audio, or none" });
}

BOOST_AUTO_TEST_CASE(show_config_shows_the_attachment_settings)
{
  const std::string config = scratch_file("shown-attachments.conf", "[profile.p]\nattachments = image,pdf\n");
  const RunResult r =
    run_gptq({ "--config", config, "-P", "p", "--max-attachment", "1K", "--detail", "low", "--show-config" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  bool kinds = false, size = false, detail = false;
  for (const auto& line : split_lines(r.out)) {
    kinds =
      kinds || (starts_with(line, "attachments ") && contains(line, "image,pdf") && contains(line, "[profile.p]"));
    size = size || (starts_with(line, "max_attachment ") && contains(line, "1024 bytes"));
    detail = detail || (starts_with(line, "detail ") && contains(line, "low"));
  }
  BOOST_TEST(kinds, r.out);
  BOOST_TEST(size, r.out);
  BOOST_TEST(detail, r.out);
}

BOOST_AUTO_TEST_CASE(bad_file_types_and_sizes_are_usage_errors)
{
  std::string png;
  const std::string path = sample("typed-badly.png", "png", 300, &png);
  const std::string key = fresh_key("bad-options");
  check_refused(run_gptq_https(counted_request(key), { "--file-type", "image/bmp", "-f", path, "x" }),
                key,
                { "--file-type",
                  "image/bmp",
                  "image/png, image/jpeg, image/webp, image/gif, application/pdf, audio/wav, audio/mpeg, text/plain" });
  check_refused(run_gptq_https(counted_request(key), { "-f", path, "--file-type", "image/png", "x" }),
                key,
                { "--file-type", "no -f follows it" });
  check_refused(
    run_gptq_https(counted_request(key), { "--file-type", "image/png", "--file-type", "image/gif", "-f", path, "x" }),
    key,
    { "--file-type", "two in a row" });
  for (const std::string size : { "0", "5G", "4097M", "1X", "K", "-1K", "1.5M", "1KiBs", "" }) {
    check_refused(run_gptq_https(counted_request(key), { "--max-attachment", size, "-f", path, "x" }),
                  key,
                  { "--max-attachment", "a size such as 20M" });
  }
}

BOOST_AUTO_TEST_CASE(max_attachment_takes_binary_suffixes)
{
  const std::vector<std::pair<std::string, std::string>> sizes{
    { "7", "7 bytes" },      { "7B", "7 bytes" },         { "1k", "1024 bytes" },       { "1KiB", "1024 bytes" },
    { "1KB", "1024 bytes" }, { "2mib", "2097152 bytes" }, { "1G", "1073741824 bytes" }, { "4G", "4294967296 bytes" },
  };
  for (const auto& [size, shown] : sizes) {
    const RunResult r = run_gptq({ "--show-config", "--max-attachment", size });
    BOOST_TEST(r.exit_code == 0, r.describe());
    bool found = false;
    for (const auto& line : split_lines(r.out)) {
      found = found || (starts_with(line, "max_attachment ") && contains(line, " " + shown + " "));
    }
    BOOST_TEST(found, size << " shows as " << shown << ": " << r.out);
  }
}

// --- --dry-run -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dry_run_shortens_each_payload_and_sends_nothing)
{
  std::string png, pdf, wav;
  const std::string png_path = sample("dry.png", "png", 1536 * 1024 + 5, &png);
  const std::string pdf_path = sample("dry.pdf", "pdf", 100 * 1024, &pdf);
  const std::string wav_path = sample("dry.wav", "wav", 100, &wav);
  const std::string key = fresh_key("dry");
  const std::string url = "https://nowhere.invalid/" + std::string(200, 'u') + ".png";
  const RunResult r = run_gptq_https(counted_request(key),
                                     { "--dry-run", "-f", png_path, "-f", pdf_path, "-f", wav_path, "-f", url, "x" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out.size() < 2000u, r.describe());
  BOOST_TEST(stats(key).requests == 0);
  const json::array parts = json::parse(r.out).at("messages").at(0).at("content").as_array();
  BOOST_TEST_REQUIRE(parts.size() == 5u);
  // The head, the first 12 bytes' 16 base64 characters, then the size.
  const auto check_short =
    [&](const std::string& shown, const std::string& head, const std::string& bytes, const std::string& size) {
      BOOST_TEST_CONTEXT(shown)
      {
        BOOST_TEST_REQUIRE(starts_with(shown, head));
        const std::string rest = shown.substr(head.size());
        BOOST_TEST_REQUIRE(rest.size() == 16 + size.size() + 5);
        BOOST_TEST((base64_decode(rest.substr(0, 16)) == bytes.substr(0, 12)));
        BOOST_TEST(rest.substr(16) == "...(" + size + ")");
      }
    };
  check_short(str(parts[1].at("image_url").at("url")), "data:image/png;base64,", png, "1.5 MiB");
  check_short(str(parts[2].at("file").at("file_data")), "data:application/pdf;base64,", pdf, "100 KiB");
  check_short(str(parts[3].at("input_audio").at("data")), "", wav, "100 bytes");
  BOOST_TEST(str(parts[2].at("file").at("filename")) == "dry.pdf");
  // An image's URL is never shortened.
  BOOST_TEST(str(parts[4].at("image_url").at("url")) == url);
}

BOOST_AUTO_TEST_CASE(dry_run_full_prints_every_payload_whole_and_sends_nothing)
{
  std::string png, mp3;
  const std::string png_path = sample("full.png", "png", 300000, &png);
  const std::string mp3_path = sample("full.mp3", "mp3", 3001, &mp3);
  const std::string key = fresh_key("dry-full");
  const RunResult r = run_gptq_https(counted_request(key), { "--dry-run=full", "-f", png_path, "-f", mp3_path, "x" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.err == "");
  BOOST_TEST(stats(key).requests == 0);
  const json::array parts = json::parse(r.out).at("messages").at(0).at("content").as_array();
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  check_part(parts[1], kind("png"), png);
  check_part(parts[2], kind("mp3"), mp3);
  // Only "=full" is its value: "full" after a space is a PROMPT word.
  const RunResult word = run_gptq({ "--dry-run", "full", "-f", png_path });
  BOOST_TEST(word.exit_code == 0, word.describe());
  const json::array word_parts = json::parse(word.out).at("messages").at(0).at("content").as_array();
  check_text_part(word_parts.at(0), "full");
  BOOST_TEST(contains(str(word_parts.at(1).at("image_url").at("url")), "...("));
  check_failure(run_gptq({ "--dry-run=short", "-f", png_path, "x" }), 2, { "--dry-run", "=full", "short" });
}

// --- -C: a thread keeps its parts ----------------------------------------------

namespace {

std::string fresh_thread(const std::string& name)
{
  const std::string path = scratch_dir() + "/" + name;
  std::remove(path.c_str());
  return path;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_thread_keeps_a_turns_parts_whole_and_sends_them_again)
{
  std::string png, pdf;
  const std::string png_path = sample("kept.png", "png", 5000, &png);
  const std::string pdf_path = sample("kept.pdf", "pdf", 6001, &pdf);
  const std::string path = fresh_thread("parts.thread");
  const RunResult first = run_gptq_https("request", { "-C", path, "-f", png_path, "-f", pdf_path, "look" });
  BOOST_TEST_REQUIRE(first.exit_code == 0, first.describe());
  const auto lines = split_lines(read_file(path));
  BOOST_TEST_REQUIRE(lines.size() == 2u);
  // The user's line: the message as sent, payloads whole.
  const json::value user = json::parse(lines[0]);
  BOOST_TEST(str(user.at("role")) == "user");
  const json::array& kept = user.at("content").as_array();
  BOOST_TEST_REQUIRE(kept.size() == 3u);
  check_text_part(kept[0], "look");
  check_part(kept[1], kind("png"), png);
  check_part(kept[2], kind("pdf"), pdf, "kept.pdf");
  BOOST_TEST(str(json::parse(lines[1]).at("role")) == "assistant");

  // The next run sends it again; a text-only turn stays a string.
  const SeenRequest second = seen_request(run_gptq_https("request", { "-C", path, "next" }));
  const json::array& messages = second.body.at("messages").as_array();
  BOOST_TEST_REQUIRE(messages.size() == 3u);
  const json::array& again = messages[0].at("content").as_array();
  BOOST_TEST_REQUIRE(again.size() == 3u);
  check_text_part(again[0], "look");
  check_part(again[1], kind("png"), png);
  check_part(again[2], kind("pdf"), pdf, "kept.pdf");
  BOOST_TEST(json::serialize(messages[2]) == R"({"role":"user","content":"next"})");
  const auto after = split_lines(read_file(path));
  BOOST_TEST_REQUIRE(after.size() == 4u);
  BOOST_TEST(after[2] == R"({"role":"user","content":"next"})");

  // The Responses API gets the kept parts as its own items.
  const SeenRequest responses = seen_request(run_gptq_https("request", { "--api", "responses", "-C", path, "more" }));
  const json::array& items = responses.body.at("input").at(0).at("content").as_array();
  BOOST_TEST_REQUIRE(items.size() == 3u);
  BOOST_TEST(str(items[1].at("type")) == "input_image");
  BOOST_TEST((data_url_bytes(str(items[1].at("image_url")), "image/png") == png));
  BOOST_TEST(str(items[2].at("type")) == "input_file");
  BOOST_TEST((data_url_bytes(str(items[2].at("file_data")), "application/pdf") == pdf));

  // --dry-run=full shows the kept payloads whole, and changes nothing.
  const std::string kept_text = read_file(path);
  const RunResult full = run_gptq({ "--dry-run=full", "-C", path, "again" });
  BOOST_TEST_REQUIRE(full.exit_code == 0, full.describe());
  const json::value shown = json::parse(full.out).at("messages").at(0).at("content");
  check_part(shown.at(1), kind("png"), png);
  check_part(shown.at(2), kind("pdf"), pdf, "kept.pdf");
  BOOST_TEST(read_file(path) == kept_text);
}

BOOST_AUTO_TEST_CASE(a_thread_keeps_an_image_url_and_a_refused_file_adds_nothing)
{
  const std::string path = fresh_thread("url.thread");
  const std::string url = "https://nowhere.invalid/kept.png";
  BOOST_TEST_REQUIRE(run_gptq_https("request", { "-C", path, "-f", url, "look" }).exit_code == 0);
  const std::string text = read_file(path);
  BOOST_TEST(split_lines(text).at(0) ==
             R"({"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":")" +
               url + R"("}}]})");
  const std::string zip = scratch_file("thread.zip", "PK\x03\x04"s + random_bytes(100, 21));
  check_failure(run_gptq_https("request", { "-C", path, "-f", zip, "next" }), 2, { "is a ZIP archive" });
  BOOST_TEST(read_file(path) == text);
  // A new thread gets no turn either (the lock taken before the prompt is
  // read may leave it empty).
  const std::string fresh = fresh_thread("refused.thread");
  check_failure(run_gptq_https("request", { "-C", fresh, "-f", zip, "next" }), 2, { "is a ZIP archive" });
  BOOST_TEST((!std::ifstream(fresh).good() || read_file(fresh).empty()));
}

BOOST_AUTO_TEST_CASE(a_turn_sent_to_the_responses_api_is_kept_as_chat_completions_parts)
{
  std::string png;
  const std::string png_path = sample("kept-responses.png", "png", 3000, &png);
  const std::string path = fresh_thread("responses-parts.thread");
  const RunResult first = run_gptq_https("request", { "--api", "responses", "-C", path, "-f", png_path, "look" });
  BOOST_TEST_REQUIRE(first.exit_code == 0, first.describe());
  const json::value user = json::parse(split_lines(read_file(path)).at(0));
  const json::array& kept = user.at("content").as_array();
  BOOST_TEST_REQUIRE(kept.size() == 2u);
  check_text_part(kept[0], "look");
  check_part(kept[1], kind("png"), png);
  // And goes to Chat Completions as such.
  const SeenRequest chat = seen_request(run_gptq_https("request", { "-C", path, "next" }));
  check_part(chat.body.at("messages").at(0).at("content").at(1), kind("png"), png);
}

BOOST_AUTO_TEST_CASE(a_thread_line_with_a_part_of_unknown_shape_stops_gptq_before_sending)
{
  const std::string key = fresh_key("thread-parts");
  for (const std::string line : { R"({"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]})",
                                  R"({"role":"user","content":[{"type":"video","video":{}}]})",
                                  R"({"role":"user","content":[{"type":"text"}]})",
                                  R"({"role":"user","content":["just a string"]})" }) {
    const std::string path = scratch_file("odd-part.thread", line + "\n");
    check_refused(run_gptq_https(counted_request(key), { "-C", path, "next" }),
                  key,
                  { "--thread", "odd-part.thread:1: a content part of unknown type or shape" });
    BOOST_TEST(read_file(path) == line + "\n");
  }
}

BOOST_AUTO_TEST_CASE(an_audio_turn_in_a_thread_is_sent_again_whole)
{
  std::string wav;
  const std::string wav_path = sample("kept.wav", "wav", 2222, &wav);
  const std::string path = fresh_thread("audio.thread");
  BOOST_TEST_REQUIRE(run_gptq_https("request", { "-C", path, "-f", wav_path }).exit_code == 0);
  const SeenRequest second = seen_request(run_gptq_https("request", { "-C", path, "next" }));
  const json::array& messages = second.body.at("messages").as_array();
  BOOST_TEST_REQUIRE(messages.size() == 3u);
  const json::array& kept = messages[0].at("content").as_array();
  BOOST_TEST_REQUIRE(kept.size() == 1u);
  check_part(kept[0], kind("wav"), wav);
}

// BUG (for the lead): --dry-run shortens a payload a thread holds unlike a
// new one: 24 base64 characters instead of 16, and the size reckoned from
// the base64 length ("102 bytes" for a 100-byte file whose new payload says
// "100 bytes"; text_slots.cpp, Kind::payload). The spec: head + first 16
// base64 characters + "...(SIZE)". Marked as an expected failure until the
// two agree.
BOOST_AUTO_TEST_CASE(dry_run_shortens_a_threads_payload_as_a_new_one)
{
  std::string png;
  const std::string png_path = sample("dry-kept.png", "png", 100, &png);
  const std::string path = fresh_thread("dry.thread");
  BOOST_TEST_REQUIRE(run_gptq_https("request", { "-C", path, "-f", png_path, "look" }).exit_code == 0);
  const RunResult fresh = run_gptq({ "--dry-run", "-f", png_path, "look" });
  const RunResult kept = run_gptq({ "--dry-run", "-C", path, "next" });
  BOOST_TEST_REQUIRE(fresh.exit_code == 0, fresh.describe());
  BOOST_TEST_REQUIRE(kept.exit_code == 0, kept.describe());
  const std::string fresh_url =
    str(json::parse(fresh.out).at("messages").at(0).at("content").at(1).at("image_url").at("url"));
  const std::string kept_url =
    str(json::parse(kept.out).at("messages").at(0).at("content").at(1).at("image_url").at("url"));
  BOOST_TEST(contains(kept_url, "...("), kept_url);
  BOOST_TEST(kept_url == fresh_url);
}

// --- -L: batch mode ---------------------------------------------------------------

namespace {

// Runs a --jsonl batch of `input` against `mode` (request, or a counted
// request), which replies with the request it received; returns the
// records in input order. Not check_ran: the Authorization header is in the
// output.
std::vector<json::object> batch_records(const std::string& mode,
                                        const std::vector<std::string>& args,
                                        const std::string& input)
{
  std::vector<std::string> all{ "--jsonl" };
  all.insert(all.end(), args.begin(), args.end());
  const RunResult r = run_gptq_https(mode, all, StdinSpec::of(input));
  BOOST_REQUIRE_MESSAGE(!r.killed, r.describe());
  BOOST_TEST(r.exit_code == 0, r.describe());
  return jsonl_records(r.out);
}

json::array parts_of(const json::object& record)
{
  const SeenRequest seen = parse_seen_request(string_at(record, "output"));
  const json::value content = last_content(seen);
  BOOST_TEST_REQUIRE(content.is_array(), json::serialize(content).substr(0, 200));
  return content.as_array();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_command_line_image_goes_with_every_line)
{
  std::string png;
  const std::string path = sample("every-line.png", "png", 3333, &png);
  const std::string key = fresh_key("every-line");
  const auto records = batch_records(counted_request(key), { "-L", "-f", path, "Q:" }, "one\ntwo\n");
  BOOST_TEST_REQUIRE(records.size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const json::array parts = parts_of(records[i]);
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    check_text_part(parts[0], i == 0 ? "Q:\n\none" : "Q:\n\ntwo");
    check_part(parts[1], kind("png"), png);
  }
  BOOST_TEST(stats(key).requests == 2);
  // Many lines at once share the one file's bytes.
  std::string lines;
  for (int i = 1; i <= 12; ++i) {
    lines += "line " + std::to_string(i) + "\n";
  }
  const auto many = batch_records("request", { "-L", "-j", "4", "-f", path, "Q:" }, lines);
  BOOST_TEST_REQUIRE(many.size() == 12u);
  for (std::size_t i = 0; i < many.size(); ++i) {
    const json::array parts = parts_of(many[i]);
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    check_text_part(parts[0], "Q:\n\nline " + std::to_string(i + 1));
    check_part(parts[1], kind("png"), png);
  }
  // stdin holds the lines: it cannot be a file too.
  const std::string refused_key = fresh_key("every-line-stdin");
  check_refused(run_gptq_https(counted_request(refused_key), { "-L", "-f", "-", "Q:" }, StdinSpec::of("one\n")),
                refused_key,
                { "--file", "'-' (stdin) does not work with -L" });
}

BOOST_AUTO_TEST_CASE(command_line_files_are_read_once_for_all_lines)
{
  // A FIFO gives its bytes once: read again for a later line, gptq would
  // wait for a writer that never comes (and the run's limit kill it).
  const std::string png = sample_bytes(kind("png"), 1500);
  const std::string png_path = scratch_file("fifo-source.png", png);
  const std::string fifo = scratch_dir() + "/once.fifo";
  std::remove(fifo.c_str());
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const std::string command = "cat '" + png_path + "' > '" + fifo + "' & exec '" GPTQ_BIN "' --base-url '" +
                              https_url("request") + "' --cacert '" + cert("ca.pem") + "' --jsonl -L -j 1 -f '" + fifo +
                              "' Q:";
  const RunResult r =
    run({ "/bin/bash", "-c", command }, key_env(), StdinSpec::of("one\ntwo\nthree\n"), std::chrono::seconds(15));
  BOOST_REQUIRE_MESSAGE(!r.killed, r.describe());
  BOOST_TEST(r.exit_code == 0, r.describe());
  const auto records = jsonl_records(r.out);
  BOOST_TEST_REQUIRE(records.size() == 3u, r.describe());
  for (const auto& record : records) {
    const json::array parts = parts_of(record);
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    check_part(parts[1], kind("png"), png);
  }
  std::remove(fifo.c_str());
}

BOOST_AUTO_TEST_CASE(a_bad_command_line_file_stops_the_batch_before_any_line)
{
  const std::string zip = scratch_file("batch.zip", "PK\x03\x04"s + random_bytes(100, 22));
  const std::string key = fresh_key("batch-bad-file");
  check_refused(run_gptq_https(counted_request(key), { "-L", "-f", zip, "Q:" }, StdinSpec::of("one\ntwo\n")),
                key,
                { "is a ZIP archive" });
  std::string png;
  const std::string path = sample("batch-large.png", "png", 2000, &png);
  check_refused(
    run_gptq_https(counted_request(key), { "-L", "--max-attachment", "1K", "-f", path, "Q:" }, StdinSpec::of("one\n")),
    key,
    { "more than --max-attachment" });
}

BOOST_AUTO_TEST_CASE(input_jsonl_files_go_with_their_line_after_the_command_lines)
{
  std::string gif, png;
  const std::string gif_path = sample("cmd.gif", "gif", 600, &gif);
  const std::string png_path = sample("line.png", "png", 700, &png);
  const std::string notes = scratch_file("line-notes.txt", "line notes\n");
  const json::value files{ png_path, notes, "https://nowhere.invalid/line.png" };
  const std::string input = R"({"prompt":"first"})"
                            "\n"
                            R"({"prompt":"second","files":)" +
                            json::serialize(files) +
                            "}\n"
                            R"({"prompt":"third","files":[")" +
                            scratch_dir() +
                            R"(/missing-line.png"]})"
                            "\n"
                            R"({"prompt":"fourth","files":[1]})"
                            "\n"
                            R"({"prompt":"fifth"})"
                            "\n";
  const std::string key = fresh_key("jsonl-files");
  const RunResult r = run_gptq_https(
    counted_request(key), { "--jsonl", "-L", "--input-jsonl", "-f", gif_path, "Q:" }, StdinSpec::of(input));
  // Not check_ran: the request mode's replies hold the Authorization header.
  BOOST_REQUIRE_MESSAGE(!r.killed, r.describe());
  BOOST_TEST(r.exit_code == 2, r.describe());
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 2u, r.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 3: --file: cannot read '" + scratch_dir() + "/missing-line.png'"),
             errors[0]);
  BOOST_TEST(starts_with(errors[1], "gptq: line 4: \"files\" must be a list of file names"), errors[1]);
  const auto records = jsonl_records(r.out);
  BOOST_TEST_REQUIRE(records.size() == 5u, r.describe());
  for (const std::size_t i : { 0u, 4u }) {
    const json::array parts = parts_of(records[i]);
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    check_text_part(parts[0], i == 0 ? "Q:\n\nfirst" : "Q:\n\nfifth");
    check_part(parts[1], kind("gif"), gif);
  }
  const json::array second = parts_of(records[1]);
  BOOST_TEST_REQUIRE(second.size() == 4u);
  check_text_part(second[0], "Q:\n\nsecond\n\nFile: " + notes + "\n```\nline notes\n```");
  check_part(second[1], kind("gif"), gif);
  check_part(second[2], kind("png"), png);
  BOOST_TEST(json::serialize(second[3]) ==
             R"({"type":"image_url","image_url":{"url":"https://nowhere.invalid/line.png"}})");
  // The lines whose files are bad fail alone, unsent.
  for (const std::size_t i : { 2u, 3u }) {
    BOOST_TEST_CONTEXT("line " << i + 1 << ": " << json::serialize(records[i]))
    {
      BOOST_TEST(records[i].contains("error"));
      BOOST_TEST(!records[i].contains("output"));
    }
  }
  BOOST_TEST(contains(json::serialize(records[2]), "missing-line.png"));
  BOOST_TEST(stats(key).requests == 3);
}

// BUG (for the lead): an --input-jsonl line whose "files" name "-" adds
// nothing, without a word: FileInputs gets no stdin there (stdin holds the
// lines) and takes "-" as an empty stdin, whose warning is left to the
// caller. -f - on the command line is refused with -L; the line should fail
// alone saying the same. Marked as an expected failure until it does.
BOOST_AUTO_TEST_CASE(a_line_naming_stdin_among_its_files_fails_alone)
{
  const std::string input = R"({"prompt":"first","files":["-"]})"
                            "\n"
                            R"({"prompt":"second"})"
                            "\n";
  const RunResult r = run_gptq_https("request", { "--jsonl", "-L", "--input-jsonl", "Q:" }, StdinSpec::of(input));
  BOOST_TEST(starts_with(r.err, "gptq: line 1: --file: '-' (stdin) does not work with -L"), r.describe());
}

// --- The Batch API -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(emit_batch_writes_each_payload_whole_and_sends_nothing)
{
  std::string png, pdf;
  const std::string png_path = sample("emit.png", "png", 4000, &png);
  const std::string pdf_path = sample("emit.pdf", "pdf", 4001, &pdf);
  const std::string requests = scratch_dir() + "/emit-attachments.jsonl";
  const std::string key = fresh_key("emit");
  const RunResult r = run_gptq_https(counted_request(key),
                                     { "-L", "--emit-batch", requests, "-f", png_path, "-f", pdf_path, "Q:" },
                                     StdinSpec::of("one\ntwo\n"));
  check_success(r, "");
  BOOST_TEST(stats(key).requests == 0);
  const auto records = jsonl_records(read_file(requests));
  BOOST_TEST_REQUIRE(records.size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const json::array& parts = records[i].at("body").at("messages").as_array().back().at("content").as_array();
    BOOST_TEST_REQUIRE(parts.size() == 3u);
    check_text_part(parts[0], i == 0 ? "Q:\n\none" : "Q:\n\ntwo");
    check_part(parts[1], kind("png"), png);
    check_part(parts[2], kind("pdf"), pdf, "emit.pdf");
  }
  // The Responses API's items, whole too.
  const RunResult responses =
    run_gptq_https(counted_request(key),
                   { "-L", "--api", "responses", "--emit-batch", requests, "-f", png_path, "Q:" },
                   StdinSpec::of("one\n"));
  check_success(responses, "");
  BOOST_TEST(stats(key).requests == 0);
  const auto items = jsonl_records(read_file(requests));
  BOOST_TEST_REQUIRE(items.size() == 1u);
  BOOST_TEST(string_at(items[0], "url") == "/v1/responses");
  const json::value& image = items[0].at("body").at("input").at(0).at("content").at(1);
  BOOST_TEST(str(image.at("type")) == "input_image");
  BOOST_TEST((data_url_bytes(str(image.at("image_url")), "image/png") == png));
}

BOOST_AUTO_TEST_SUITE_END()
