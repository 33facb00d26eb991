#include "large_buffer.hpp"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace gptq {

void reserve_large(std::string& buffer, std::size_t size)
{
  const std::size_t before = buffer.capacity();
  buffer.reserve(size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::size_t threshold = std::size_t{ 8 } << 20;
  constexpr std::uintptr_t huge_page = std::uintptr_t{ 2 } << 20;
  if (buffer.capacity() == before || buffer.capacity() < threshold) {
    return;
  }
  // Only the whole huge pages inside the buffer.
  const auto start = reinterpret_cast<std::uintptr_t>(buffer.data());
  const std::uintptr_t first = (start + huge_page - 1) & ~(huge_page - 1);
  const std::uintptr_t last = (start + buffer.capacity()) & ~(huge_page - 1);
  if (last > first) {
    madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#else
  (void)before;
#endif
}

} // namespace gptq
