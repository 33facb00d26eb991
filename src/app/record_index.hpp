#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// Where the records (lines) of files on disk are, by a key: each file is
// read once, a piece at a time, and a record is read again when it is
// asked for. A file of any size is never held whole in memory: a batch's
// 200 MB output is printed in input order in a few MiB (issue 19).
class RecordIndex {
public:
  struct Where {
    std::size_t file = 0;     // which file, in the order added
    std::uint64_t offset = 0; // of the record's first byte
    std::size_t size = 0;     // without its "\r\n" or "\n"
    std::size_t number = 0;   // the record's line in its file, from 1
  };
  // Returns the key of `text`, line `number` of the file being added, or
  // nullopt to leave the line out. May throw to refuse the file.
  using Keyer = std::function<std::optional<std::size_t>(std::string_view text, std::size_t number)>;
  // Called for a record whose key an earlier one has (`first`): may throw
  // to refuse the file; else the first one is kept.
  using Duplicate = std::function<void(std::size_t key, const Where& first, const Where& again)>;

  // Indexes every line of `fd`, read from offset 0 with pread (a regular
  // file the caller keeps open while the index is used), called `name` in
  // messages. Throws gptq::Error (usage, phase `name`) when it cannot be
  // read, and whatever `keyer` and `duplicate` throw.
  void add(int fd, std::string name, const Keyer& keyer, const Duplicate& duplicate = {});

  const std::map<std::size_t, Where>& entries() const { return entries_; }
  // The keys, in order.
  std::vector<std::size_t> keys() const;
  const std::string& name(std::size_t file) const { return files_.at(file).name; }
  // The text of the record at `where` (as the keyer saw it). Throws as add()
  // does when it cannot be read again in full.
  std::string read(const Where& where) const;

private:
  struct File {
    int fd;
    std::string name;
  };
  std::vector<File> files_;
  std::map<std::size_t, Where> entries_;
};

} // namespace gptq
