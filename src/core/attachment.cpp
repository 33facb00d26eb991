#include "attachment.hpp"

#include "error.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace gptq {

namespace {

[[noreturn]] void refuse(std::string_view name, const std::string& why)
{
  throw Error(ExitStatus::usage, "--file", quoted(std::string(name)) + " " + why);
}

void check_kind_taken(std::string_view name,
                      std::string_view what,
                      MediaKind kind,
                      const Options& options,
                      std::string_view kinds_origin)
{
  if (!options.attachment_kinds || options.attachment_kinds->count(std::string(kind_name(kind)))) {
    return;
  }
  std::string kinds;
  for (const auto& taken : *options.attachment_kinds) {
    kinds += (kinds.empty() ? "" : ",") + taken;
  }
  refuse(name,
         "is " + std::string(what) + ", which the server does not take: attachments = " +
           (kinds.empty() ? "none" : kinds) + " (" + std::string(kinds_origin) + ")");
}

// The path of `url` without its query and fragment, in lower case.
std::string lower_path(std::string_view url)
{
  const auto scheme_end = url.find("://");
  std::string_view rest = url.substr(scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  const auto slash = rest.find('/');
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  path = path.substr(0, path.find_first_of("?#"));
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

} // namespace

std::string_view kind_name(MediaKind kind)
{
  switch (kind) {
    case MediaKind::image:
      return "image";
    case MediaKind::pdf:
      return "pdf";
    case MediaKind::audio:
      return "audio";
    case MediaKind::text:
      return "text";
    case MediaKind::other:
      break;
  }
  return "other";
}

MediaType attachment_type(std::string_view bytes, const std::optional<std::string>& file_type)
{
  if (file_type) {
    if (auto type = media_type_of_mime(*file_type)) {
      return *type;
    }
  }
  return sniff_media(bytes);
}

ContentPart attachment_part(std::string_view name,
                            std::string_view bytes,
                            const MediaType& type,
                            const Options& options,
                            std::string_view kinds_origin)
{
  if (type.kind == MediaKind::other || type.kind == MediaKind::text) {
    refuse(name,
           "is " + type.name + ", not text, an image, a PDF or audio; -f sends text and " +
             std::string(supported_mimes()) + " (--file-type MIME when its content does not tell)");
  }
  check_kind_taken(name, type.name, type.kind, options, kinds_origin);
  check_attachment_size(name, bytes.size(), options);
  switch (type.kind) {
    case MediaKind::image:
      return ImagePart{ Base64Bytes{ "data:" + type.mime + ";base64,", bytes }, options.detail };
    case MediaKind::pdf: {
      // The server shows the model the file's name: its last component.
      const std::string base(name.substr(name.find_last_of('/') + 1));
      return FilePart{ base == "stdin" || base.empty() ? "stdin.pdf" : base,
                       Base64Bytes{ "data:" + type.mime + ";base64,", bytes } };
    }
    default:
      return AudioPart{ Base64Bytes{ "", bytes }, type.format };
  }
}

void check_attachment_size(std::string_view name, std::size_t size, const Options& options)
{
  if (size > options.max_attachment) {
    const std::string raise = size >= (std::size_t{ 1 } << 20) ? std::to_string((size >> 20) + 1) + "M"
                                                               : std::to_string((size >> 10) + 1) + "K";
    refuse(name,
           "is " + size_text(size) + ", more than --max-attachment (" + size_text(options.max_attachment) +
             "); raise it, e.g. --max-attachment " + raise);
  }
}

bool is_url_argument(std::string_view arg)
{
  std::string head(arg.substr(0, 8));
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
  return head.starts_with("http://") || head.starts_with("https://");
}

ContentPart url_part(std::string_view url, const Options& options, std::string_view kinds_origin)
{
  const std::string path = lower_path(url);
  constexpr std::string_view extensions[] = { ".png", ".jpg", ".jpeg", ".webp", ".gif" };
  const bool image = std::any_of(
    std::begin(extensions), std::end(extensions), [&](std::string_view ext) { return path.ends_with(ext); });
  if (!image) {
    refuse(url,
           "is a URL, and gptq downloads nothing: only an image's URL (.png, .jpg, .jpeg, .webp, .gif) goes to the "
           "server as it is; download it first (curl -O URL) and give the file");
  }
  check_kind_taken(url, "an image's URL", MediaKind::image, options, kinds_origin);
  return ImagePart{ std::string(url), options.detail };
}

} // namespace gptq
