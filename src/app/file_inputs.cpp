#include "file_inputs.hpp"

#include "attachment.hpp"
#include "error.hpp"
#include "text.hpp"

#include <algorithm>
#include <unistd.h>

namespace gptq {

namespace {

// What -f reads at most: text as a prompt is bounded, a binary file by
// --max-attachment (checked once its type is known), whichever is larger.
struct FileLimit {
  std::string text;
  InputLimit limit;
};

FileLimit file_limit(const Options& options)
{
  if (options.max_attachment <= prompt_limit.bytes) {
    return { prompt_limit.text, prompt_limit };
  }
  FileLimit limit{ std::to_string(options.max_attachment >> 20) + " MiB (--max-attachment)", {} };
  limit.limit = InputLimit{ options.max_attachment, limit.text.c_str() };
  return limit;
}

} // namespace

FileInputs::FileInputs(const std::vector<std::string>& files,
                       const std::vector<std::optional<std::string>>& types,
                       const Options& options,
                       std::optional<InputText>* stdin_input,
                       std::string_view kinds_origin,
                       std::ostream& err)
  : options_(options)
  , kinds_origin_(kinds_origin)
  , err_(err)
{
  const FileLimit limit = file_limit(options);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& path = files[i];
    const std::optional<std::string> type = i < types.size() ? types[i] : std::nullopt;
    if (path == "-") {
      if (!stdin_input) {
        // -L's stdin holds the prompts; a line's "files" may not name it.
        throw Error(ExitStatus::usage, "--file", "'-' (stdin) does not work with -L: stdin holds the prompts");
      }
      add("stdin", stdin_input && *stdin_input ? std::move(**stdin_input) : InputText(), type, true);
      if (stdin_input) {
        stdin_input->reset();
      }
    } else if (is_url_argument(path)) {
      if (type) {
        throw Error(
          ExitStatus::usage, "--file-type", "does not apply to a URL (" + quoted(path) + "): it is sent as an image's");
      }
      parts.push_back(url_part(path, options, kinds_origin));
    } else {
      // A large file whose first bytes say it is an image, a PDF or audio
      // is refused by its size, before it is read (or mapped). Bytes of no
      // known type are read and judged whole: text in any encoding may be
      // cut mid-character at the end of the first bytes.
      auto check_size = [&](int fd, const struct stat& st) {
        if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) <= options.max_attachment) {
          return;
        }
        char head[4096];
        const ssize_t got = ::pread(fd, head, sizeof head, 0);
        const MediaKind kind =
          got > 0 ? attachment_type(std::string_view(head, static_cast<std::size_t>(got)), type).kind : MediaKind::text;
        if (kind == MediaKind::image || kind == MediaKind::pdf || kind == MediaKind::audio) {
          check_attachment_size(path, static_cast<std::size_t>(st.st_size), options);
        }
      };
      add(path, read_user_input(path, "--file", limit.limit, check_size), type, false);
    }
  }
}

void FileInputs::add(std::string name, InputText input, const std::optional<std::string>& type, bool is_stdin)
{
  const std::string_view bytes = input.view();
  if (bytes.empty()) {
    if (!is_stdin) { // an empty stdin has its own warning
      err_ << "gptq: warning: --file " << quoted(name) << " is empty; it adds nothing to the prompt\n" << std::flush;
    }
    return;
  }
  const MediaType media = attachment_type(bytes, type);
  // Bytes of no known type without a NUL in their first 4 KiB are text in
  // another encoding (Latin-1): framed, the check of the message names the
  // byte and says to convert it.
  const bool other_text = media.kind == MediaKind::other && media.mime == "application/octet-stream" && !type &&
                          bytes.substr(0, 4096).find('\0') == std::string_view::npos;
  if (media.kind == MediaKind::text || other_text) {
    // Framed into the message, which copies it: not kept.
    texts.push_back({ std::move(name), std::string(bytes) });
    return;
  }
  kept_.push_back(std::move(input));
  parts.push_back(attachment_part(name, kept_.back().view(), media, options_, kinds_origin_));
}

} // namespace gptq
