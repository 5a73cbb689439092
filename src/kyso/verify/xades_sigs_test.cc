#include "kyso/verify/xades_sigs.h"
#include <gtest/gtest.h>
namespace kyso::verify { namespace { TEST(XadesSigs, Placeholder) {} } }
