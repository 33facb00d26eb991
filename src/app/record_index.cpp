#include "record_index.hpp"

#include "error.hpp"
#include "exit_status.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace gptq {

namespace {

// Reads up to `size` bytes of `fd` at `offset`: fewer only at its end.
std::size_t read_at(int fd, char* buffer, std::size_t size, std::uint64_t offset, const std::string& name)
{
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, buffer + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      throw Error(ExitStatus::usage, name, std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return got;
}

} // namespace

void RecordIndex::add(int fd, std::string name, const Keyer& keyer, const Duplicate& duplicate)
{
  const std::size_t file = files_.size();
  files_.push_back({ fd, std::move(name) });
  const std::string& called = files_.back().name;
  // A piece big enough that reading costs few calls, small beside the
  // files it is for; a record longer than it grows it as needed.
  constexpr std::size_t piece = std::size_t{ 1 } << 20;
  std::string pending;          // bytes read and not yet ended by "\n"
  std::uint64_t pending_at = 0; // the file's offset of pending[0]
  std::size_t number = 0;
  const auto record = [&](std::uint64_t offset, std::string_view text) {
    ++number;
    if (!text.empty() && text.back() == '\r') {
      text.remove_suffix(1);
    }
    const auto key = keyer(text, number);
    if (!key) {
      return;
    }
    const Where where{ file, offset, text.size(), number };
    const auto [at, added] = entries_.try_emplace(*key, where);
    if (!added && duplicate) {
      duplicate(*key, at->second, where);
    }
  };
  for (std::uint64_t offset = 0;;) {
    const std::size_t kept = pending.size();
    pending.resize(kept + piece);
    const std::size_t got = read_at(fd, pending.data() + kept, piece, offset, called);
    pending.resize(kept + got);
    offset += got;
    if (got == 0) {
      break;
    }
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', std::max(start, kept))) != std::string::npos; start = end + 1) {
      record(pending_at + start, std::string_view(pending).substr(start, end - start));
    }
    pending.erase(0, start);
    pending_at += start;
  }
  if (!pending.empty()) {
    record(pending_at, pending);
  }
}

std::vector<std::size_t> RecordIndex::keys() const
{
  std::vector<std::size_t> keys;
  keys.reserve(entries_.size());
  for (const auto& entry : entries_) {
    keys.push_back(entry.first);
  }
  return keys;
}

std::string RecordIndex::read(const Where& where) const
{
  const File& file = files_.at(where.file);
  std::string text(where.size, '\0');
  if (read_at(file.fd, text.data(), text.size(), where.offset, file.name) != text.size()) {
    throw Error(ExitStatus::usage, file.name, "changed while it was read (line " + std::to_string(where.number) + ")");
  }
  return text;
}

} // namespace gptq
