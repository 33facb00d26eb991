// Boost.JSON's sources, compiled with the harnesses' instrumentation instead
// of linking the prebuilt library: coverage inside the parser guides the
// fuzzer through JSON syntax. Nothing may link libboost_json as well.
#include <boost/json/src.hpp>
