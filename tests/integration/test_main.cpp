// The integration tests run the built gptq binary as a user would, against
// one gptq_test_server for the whole run (see harness.hpp).
#define BOOST_TEST_MODULE gptq_integration
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using gptq::it::Suite;
BOOST_TEST_GLOBAL_FIXTURE(Suite);
