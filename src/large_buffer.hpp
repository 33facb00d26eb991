#pragma once

#include <cstddef>
#include <string>

namespace gptq {

// Reserves room for at least `size` bytes in `buffer` (as reserve does) and,
// when that makes it large (8 MiB or more) on Linux, asks the kernel to back
// it with transparent huge pages. A large prompt is written into fresh
// memory twice (the input, then the request body): in 4 KiB pages the page
// faults alone cost about 0.5 ms per MiB, more than the JSON escaping.
// Only a hint: without huge pages everything works as before. Never throws
// but for the allocation itself (std::bad_alloc, std::length_error).
void reserve_large(std::string& buffer, std::size_t size);

} // namespace gptq
