#include "util/address_class.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(AddressClassTest, InsideAddressesAreInternal) {
  for (const char* ip : {"127.0.0.1",   "127.1.2.3",        "0.0.0.0",
                         "10.1.2.3",    "172.16.0.1",       "172.31.255.255",
                         "192.168.1.1", "169.254.169.254",  "100.64.0.1",
                         "224.0.0.1",   "255.255.255.255",  "::1",
                         "::",          "fd00::1",          "fe80::1",
                         "ff02::1",     "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                         "::127.0.0.1", "not an address",   "",
                         "127.0.0.1 ",  "localhost"}) {
    EXPECT_TRUE(IsInternalAddress(ip)) << ip;
  }
}

TEST(AddressClassTest, InternetAddressesAreNot) {
  for (const char* ip : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "100.128.0.1",
                         "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "223.255.255.255"}) {
    EXPECT_FALSE(IsInternalAddress(ip)) << ip;
  }
}

TEST(AddressClassTest, NetworksMatchByPrefix) {
  EXPECT_TRUE(AddressInNetwork("127.0.0.1", "127.0.0.0/8"));
  EXPECT_TRUE(AddressInNetwork("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(AddressInNetwork("127.0.0.2", "127.0.0.1"));
  EXPECT_TRUE(AddressInNetwork("10.1.2.3", "10.0.0.0/8"));
  EXPECT_FALSE(AddressInNetwork("11.1.2.3", "10.0.0.0/8"));
  EXPECT_TRUE(AddressInNetwork("172.20.1.1", "172.16.0.0/12"));
  EXPECT_FALSE(AddressInNetwork("172.32.1.1", "172.16.0.0/12"));
  EXPECT_TRUE(AddressInNetwork("fd00::5", "fd00::/8"));
  EXPECT_TRUE(AddressInNetwork("1.2.3.4", "0.0.0.0/0"));
  EXPECT_FALSE(AddressInNetwork("::1", "127.0.0.0/8"));  // Families differ.
  EXPECT_FALSE(AddressInNetwork("1.2.3.4", "1.2.3.0/33"));
  EXPECT_FALSE(AddressInNetwork("1.2.3.4", "1.2.3.0/"));
  EXPECT_FALSE(AddressInNetwork("1.2.3.4", "1.2.3.0/x"));
  EXPECT_FALSE(AddressInNetwork("1.2.3.4", "garbage/8"));
}

}  // namespace
}  // namespace slipway
