#define BOOST_TEST_MODULE gptq unit tests
#include <boost/test/unit_test.hpp>
