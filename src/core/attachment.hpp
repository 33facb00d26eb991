#pragma once

#include "chat_request.hpp"
#include "media.hpp"
#include "options.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// What -f sends that is not text: images, PDFs and audio become parts of
// the user message, after its text, in the order given. gptq downloads
// nothing: an image's http(s) URL goes to the server as it is.

// The type of a -f's content: the --file-type given for it, else what its
// bytes say (sniff_media).
MediaType attachment_type(std::string_view bytes, const std::optional<std::string>& file_type);

// Returns the part that sends the -f named `name` (as the user wrote it;
// "stdin" for -f -), whose content is `bytes` of type `type`, viewing the
// bytes. Throws gptq::Error (usage, "--file") naming the file when `type`
// is no kind a model takes (an executable, a ZIP: naming it and the kinds
// that are), when `options.attachment_kinds` excludes its kind (naming
// `kinds_origin`, where that was set: a profile that says what its server
// takes), or when it is larger than `options.max_attachment`.
ContentPart attachment_part(std::string_view name,
                            std::string_view bytes,
                            const MediaType& type,
                            const Options& options,
                            std::string_view kinds_origin);

// Throws gptq::Error (usage, "--file") naming the file when `size` bytes
// are more than `options.max_attachment`: checked by a file's size before
// it is read, when its first bytes say it is no text.
void check_attachment_size(std::string_view name, std::size_t size, const Options& options);

// True when `arg` given to -f is an http(s) URL rather than a path.
bool is_url_argument(std::string_view arg);

// Returns the part for the URL `url` given to -f: an image part when its
// path ends in .png, .jpg, .jpeg, .webp or .gif (the server fetches it).
// Throws gptq::Error (usage, "--file") for any other URL, saying to
// download it first, and when `options.attachment_kinds` excludes images.
ContentPart url_part(std::string_view url, const Options& options, std::string_view kinds_origin);

// The kind's name as --attachments spells it ("image", "pdf", "audio").
std::string_view kind_name(MediaKind kind);

} // namespace gptq
