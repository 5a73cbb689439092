#include <gtest/gtest.h>

#include "kyso/cli/commands.h"

namespace kyso::cli {
namespace {

TEST(SerialTest, NormalizesCommonSpellings) {
  EXPECT_EQ(*NormalizeSerial("0A:BC"), "0abc");
  EXPECT_EQ(*NormalizeSerial("0x00ff"), "ff");
  EXPECT_EQ(*NormalizeSerial("abc"), "0abc");
  EXPECT_FALSE(NormalizeSerial("").ok());
  EXPECT_FALSE(NormalizeSerial("xyz").ok());
  EXPECT_FALSE(NormalizeSerial(std::string(60, 'a')).ok());
}

}  // namespace
}  // namespace kyso::cli
