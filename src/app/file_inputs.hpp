#pragma once

#include "chat_request.hpp"
#include "input.hpp"
#include "options.hpp"
#include "prompt.hpp"

#include <deque>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The -f files of a run, read: text goes into the message's framing
// (prompt.hpp), images, PDFs and audio become parts after it (attachment.hpp),
// which view the bytes this holds (a long file mapped, never copied).
class FileInputs {
public:
  // Reads `files` (each with its --file-type in `types`) in order: "-" is
  // `stdin_input` (read already; taken over, so that it is not the prompt
  // text too), an image's http(s) URL becomes a part as it is. A binary
  // file is refused by its size before it is read when its first bytes tell
  // what it is. An empty file adds nothing, with a warning on `err`.
  // `kinds_origin` is where --attachments was set, for messages. Throws
  // gptq::Error (usage) naming the file as read_user_input and
  // attachment_part do.
  FileInputs(const std::vector<std::string>& files,
             const std::vector<std::optional<std::string>>& types,
             const Options& options,
             std::optional<InputText>* stdin_input,
             std::string_view kinds_origin,
             std::ostream& err);
  FileInputs(const FileInputs&) = delete;
  FileInputs& operator=(const FileInputs&) = delete;

  std::vector<Attachment> texts;
  std::vector<ContentPart> parts;

private:
  void add(std::string name, InputText input, const std::optional<std::string>& type, bool is_stdin);

  const Options& options_;
  std::string_view kinds_origin_;
  std::ostream& err_;
  std::deque<InputText> kept_; // a deque: the parts' views stay valid as it grows
};

} // namespace gptq
