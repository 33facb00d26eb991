#include "large_buffer.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(large_buffer)

// The huge-page hint changes speed only (tests/bench): the buffer reserves
// and keeps its text like std::string::reserve, above and below the size
// where the hint is given.
BOOST_AUTO_TEST_CASE(reserve_large_reserves_and_keeps_the_text)
{
  for (const std::size_t size :
       { std::size_t{ 0 }, std::size_t{ 100 }, std::size_t{ 9 } << 20, std::size_t{ 40 } << 20 }) {
    std::string buffer = "kept";
    reserve_large(buffer, size);
    BOOST_TEST(buffer == "kept");
    BOOST_TEST(buffer.capacity() >= size);
    buffer.append(size, 'x'); // every page of it is writable
    BOOST_TEST(buffer.size() == size + 4);
    BOOST_TEST(buffer.back() == (size ? 'x' : 't'));
  }
}

BOOST_AUTO_TEST_SUITE_END()
