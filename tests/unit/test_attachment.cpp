// Attachments: how -f's options are read, how a file becomes a part, and
// how a part goes into the body (encoded in place, shortened by --dry-run),
// in both wire formats and in a -C thread's line.
#include "attachment.hpp"

#include "chat_completions.hpp"
#include "fake_environment.hpp"
#include "media.hpp"
#include "options.hpp"
#include "responses_body.hpp"
#include "testkit.hpp"
#include "thread.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;
using gptq::test::env_of;

namespace {

namespace json = boost::json;

Options parsed(std::vector<const char*> args)
{
  return parse_command_line(args, env_of({})).options;
}

std::string usage_error(std::vector<const char*> args)
{
  return gptq::test::error_line([&] { parse_command_line(args, env_of({})); }, 2, "the arguments");
}

const std::string png = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(40, '\x01');

json::value chat_body(const Options& options, std::string_view text, const std::vector<ContentPart>& parts)
{
  return json::parse(chat_completions_body(chat_request(options, text, {}, parts), Url{}));
}

} // namespace

BOOST_AUTO_TEST_SUITE(attachment)

BOOST_AUTO_TEST_CASE(file_type_goes_with_the_next_file_only)
{
  const Options o = parsed({ "-f", "a", "--file-type", "image/png", "-f", "b", "-f", "c", "x" });
  BOOST_TEST(o.files.size() == 3u);
  BOOST_TEST_REQUIRE(o.file_types.size() == 3u);
  BOOST_TEST(!o.file_types[0].has_value());
  BOOST_TEST(o.file_types[1].value() == "image/png");
  BOOST_TEST(!o.file_types[2].has_value());
  BOOST_TEST(usage_error({ "-f", "a", "--file-type", "image/png", "x" }).starts_with("--file-type: no -f follows"));
  BOOST_TEST(usage_error({ "--file-type", "image/png", "--file-type", "image/gif", "-f", "a" })
               .starts_with("--file-type: two in a row"));
  BOOST_TEST(usage_error({ "--file-type", "image/tiff", "-f", "a" }).starts_with("--file-type: expected one of "));
}

BOOST_AUTO_TEST_CASE(the_attachment_options_are_checked)
{
  const Options o = parsed({ "--detail", "low", "--max-attachment", "5M", "--attachments", "pdf, image", "x" });
  BOOST_TEST(o.detail.value() == "low");
  BOOST_TEST(o.max_attachment == std::size_t{ 5 } << 20);
  BOOST_TEST((o.attachment_kinds.value() == std::set<std::string>{ "image", "pdf" }));
  BOOST_TEST(parsed({ "--attachments", "none", "x" }).attachment_kinds.value().empty());
  BOOST_TEST(parsed({ "x" }).max_attachment == default_max_attachment);
  for (const auto& [text, bytes] : std::vector<std::pair<const char*, std::size_t>>{
         { "300", 300 }, { "2K", 2048 }, { "2KiB", 2048 }, { "3mb", 3 << 20 }, { "1G", std::size_t{ 1 } << 30 } }) {
    BOOST_TEST(parsed({ "--max-attachment", text, "x" }).max_attachment == bytes, text);
  }
  for (const char* bad : { "0", "-1", "5X", "M", "5MM", "5G" }) {
    BOOST_TEST(usage_error({ "--max-attachment", bad, "x" }).starts_with("--max-attachment: expected a size"), bad);
  }
  BOOST_TEST(usage_error({ "--detail", "max", "x" }).starts_with("--detail: expected low, high or auto"));
  BOOST_TEST(usage_error({ "--attachments", "video", "x" }).starts_with("--attachments: expected a list"));
}

BOOST_AUTO_TEST_CASE(dry_run_full_is_read_from_the_command_line_only)
{
  BOOST_TEST(parsed({ "--dry-run=full", "x" }).dry_run);
  BOOST_TEST(parsed({ "--dry-run=full", "x" }).dry_run_full);
  const Options plain = parsed({ "--dry-run", "full" });
  BOOST_TEST(plain.dry_run);
  BOOST_TEST(!plain.dry_run_full);
  BOOST_TEST((plain.prompt_words == std::vector<std::string>{ "full" }));
  BOOST_TEST((parsed({ "--", "--dry-run=full" }).prompt_words == std::vector<std::string>{ "--dry-run=full" }));
  BOOST_TEST(usage_error({ "--dry-run=all", "x" }).starts_with("--dry-run: takes =full or nothing"));
}

BOOST_AUTO_TEST_CASE(a_file_becomes_the_part_of_its_type)
{
  Options o;
  o.detail = "high";
  const auto image = attachment_part("shot.png", png, sniff_media(png), o, "");
  const auto& url = std::get<Base64Bytes>(std::get<ImagePart>(image).url);
  BOOST_TEST(url.head == "data:image/png;base64,");
  BOOST_TEST(url.bytes.data() == png.data()); // viewed, not copied
  BOOST_TEST(std::get<ImagePart>(image).detail.value() == "high");

  const std::string pdf = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  const auto file = std::get<FilePart>(attachment_part("docs/paper.pdf", pdf, sniff_media(pdf), o, ""));
  BOOST_TEST(file.filename == "paper.pdf");
  BOOST_TEST(std::get<Base64Bytes>(file.data_url).head == "data:application/pdf;base64,");

  const auto audio = std::get<AudioPart>(attachment_part("memo", "ID3", *media_type_of_mime("audio/mpeg"), o, ""));
  BOOST_TEST(audio.format == "mp3");
  BOOST_TEST(std::get<Base64Bytes>(audio.data).head.empty());
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_go_is_refused_by_name)
{
  Options o;
  const std::string zip = std::string("PK\x03\x04", 4) + std::string(30, '\0');
  const auto refused = [&](std::string_view bytes, const Options& options) {
    return gptq::test::error_line(
      [&] { attachment_part("f.bin", bytes, sniff_media(bytes), options, "config c:3 [profile.local]"); }, 2);
  };
  BOOST_TEST(refused(zip, o).starts_with("--file: 'f.bin' is a ZIP archive, not text, an image, a PDF or audio"));
  o.max_attachment = 10;
  BOOST_TEST(refused(png, o).find("more than --max-attachment") != std::string::npos);
  o.max_attachment = default_max_attachment;
  o.attachment_kinds = std::set<std::string>{ "pdf" };
  BOOST_TEST(refused(png, o) == "--file: 'f.bin' is a PNG image, which the server does not take: attachments = pdf "
                                "(config c:3 [profile.local])");
  o.attachment_kinds = std::set<std::string>{};
  BOOST_TEST(refused(png, o).find("attachments = none") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(only_an_images_url_is_sent_as_it_is)
{
  Options o;
  for (const char* url : { "https://x.example/a.PNG", "http://x.example/p/b.jpeg?size=2#top", "https://x/c.webp" }) {
    BOOST_TEST(is_url_argument(url));
    BOOST_TEST(std::get<std::string>(std::get<ImagePart>(url_part(url, o, "")).url) == url);
  }
  BOOST_TEST(!is_url_argument("notes.txt"));
  BOOST_TEST(!is_url_argument("ftp://x/a.png"));
  for (const char* url : { "https://x.example/report.pdf", "https://x.example/", "https://x.example/a.png.html" }) {
    const std::string error = gptq::test::error_line([&] { url_part(url, o, ""); }, 2);
    BOOST_TEST(error.find("gptq downloads nothing") != std::string::npos, error);
  }
}

BOOST_AUTO_TEST_CASE(parts_follow_the_text_encoded_in_place)
{
  Options o;
  const std::string pdf = "%PDF-1.4\n\x80\x81\x82";
  const std::vector<ContentPart> parts{ attachment_part("a.png", png, sniff_media(png), o, ""),
                                        attachment_part("b.pdf", pdf, sniff_media(pdf), o, "") };
  const auto content = chat_body(o, "look", parts).at("messages").at(0).at("content").as_array();
  BOOST_TEST_REQUIRE(content.size() == 3u);
  BOOST_TEST(content[0].at("text") == "look");
  std::string encoded;
  append_base64(encoded, png);
  BOOST_TEST(content[1].at("image_url").at("url").as_string() == "data:image/png;base64," + encoded);
  BOOST_TEST(!content[1].at("image_url").as_object().contains("detail"));
  BOOST_TEST(content[2].at("file").at("filename") == "b.pdf");
  // No text at all: the parts alone.
  BOOST_TEST(chat_body(o, "", parts).at("messages").at(0).at("content").as_array().size() == 2u);
  // Without parts the content stays a string.
  BOOST_TEST(chat_body(o, "look", {}).at("messages").at(0).at("content") == "look");
}

BOOST_AUTO_TEST_CASE(dry_run_shortens_each_payload_and_full_does_not)
{
  Options o;
  o.dry_run = true;
  const std::string big(3 << 20, 'x');
  const std::vector<ContentPart> parts{ ImagePart{ Base64Bytes{ "data:image/png;base64,", big }, std::nullopt },
                                        AudioPart{ std::string(400, 'A'), "wav" },
                                        ImagePart{ std::string("https://x.example/a.png"), std::nullopt } };
  const auto content = chat_body(o, "q", parts).at("messages").at(0).at("content").as_array();
  BOOST_TEST(content[1].at("image_url").at("url") == "data:image/png;base64,eHh4eHh4eHh4eHh4...(3.0 MiB)");
  BOOST_TEST(content[2].at("input_audio").at("data").as_string() == std::string(16, 'A') + "...(300 bytes)");
  BOOST_TEST(content[3].at("image_url").at("url") == "https://x.example/a.png"); // a URL never
  o.dry_run_full = true;
  const auto whole = chat_body(o, "q", parts).at("messages").at(0).at("content").as_array();
  BOOST_TEST(whole[1].at("image_url").at("url").as_string().size() == 22 + base64_size(big.size()));
}

BOOST_AUTO_TEST_CASE(the_responses_api_gets_input_items_and_no_audio)
{
  Options o;
  o.api = Api::responses;
  const std::vector<ContentPart> image{ ImagePart{ Base64Bytes{ "data:image/png;base64,", png }, std::nullopt } };
  const auto input = json::parse(responses_body(chat_request(o, "q", {}, image))).at("input").as_array();
  const auto content = input.at(0).at("content").as_array();
  BOOST_TEST(content.at(1).at("type") == "input_image");
  BOOST_TEST(content.at(1).at("image_url").as_string().starts_with("data:image/png;base64,iVBORw0KGgo"));
  BOOST_TEST(content.at(1).at("detail") == "auto");
  const std::vector<ContentPart> audio{ AudioPart{ Base64Bytes{ "", "RIFF" }, "wav" } };
  BOOST_TEST(gptq::test::error_line([&] { responses_body(chat_request(o, "q", {}, audio)); }, 2)
               .starts_with("--api: the Responses API takes no audio input"));
}

BOOST_AUTO_TEST_CASE(a_thread_keeps_the_message_with_its_parts_and_reads_it_back)
{
  Options o;
  const std::vector<ContentPart> parts{ attachment_part("a.png", png, sniff_media(png), o, "") };
  const std::string line = chat_message_json(user_message("what is it?", parts));
  const Thread before = parse_thread("", "t");
  const std::string added = thread_addition(before, std::nullopt, line, "a dot", true);
  const Thread after = parse_thread(added, "t");
  BOOST_TEST_REQUIRE(after.messages().size() == 2u);
  const auto& kept = std::get<std::vector<ContentPart>>(after.messages()[0].content);
  BOOST_TEST_REQUIRE(kept.size() == 2u);
  std::string encoded;
  append_base64(encoded, png);
  BOOST_TEST(std::get<std::string>(std::get<ImagePart>(kept[1]).url) == "data:image/png;base64," + encoded);
  // Sent again as it was.
  const auto sent =
    json::parse(chat_completions_body(chat_request(o, "next", thread_messages(after, false, std::nullopt)), Url{}));
  BOOST_TEST(json::serialize(sent.at("messages").at(0)) == line);
}

BOOST_AUTO_TEST_SUITE_END()
