#include "net/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "gtest/gtest.h"

namespace herald::net {
namespace {

TEST(IpAddress, LiteralsOfEveryNonPublicRangeAreRefused) {
  for (const char* host : {"0.0.0.0",
                           "10.1.2.3",
                           "100.64.0.1",
                           "127.0.0.1",
                           "127.255.255.254",
                           "169.254.169.254",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.0.0.8",
                           "192.0.2.1",
                           "192.168.1.1",
                           "198.18.0.1",
                           "198.51.100.7",
                           "203.0.113.9",
                           "224.0.0.1",
                           "239.255.255.250",
                           "240.0.0.1",
                           "255.255.255.255",
                           "::",
                           "::1",
                           "[::1]",
                           "::ffff:127.0.0.1",
                           "::ffff:10.0.0.1",
                           "64:ff9b::a9fe:a9fe",
                           "::127.0.0.1",
                           "fc00::1",
                           "fd12:3456::1",
                           "fe80::1",
                           "fec0::1",
                           "ff02::1",
                           "2001:db8::1",
                           "100::1"}) {
    EXPECT_EQ(IsPublicIpLiteral(host), std::optional<bool>(false)) << host;
  }
}

TEST(IpAddress, PublicLiteralsPass) {
  for (const char* host : {"1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255",
                           "100.128.0.1", "169.253.1.1", "192.169.0.1", "2606:4700::1111",
                           "[2a00:1450:4007:80e::200e]", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_EQ(IsPublicIpLiteral(host), std::optional<bool>(true)) << host;
  }
}

TEST(IpAddress, NamesAreNotLiterals) {
  for (const char* host : {"example.com", "localhost", "", "1.2.3", "[example.com]", "0x7f.1"}) {
    EXPECT_EQ(IsPublicIpLiteral(host), std::nullopt) << host;
  }
}

TEST(IpAddress, UrlHost) {
  EXPECT_EQ(UrlHost("https://hooks.slack.com/services/T/B/X"), "hooks.slack.com");
  EXPECT_EQ(UrlHost("http://user:pw@10.0.0.1:8080/x?y#z"), "10.0.0.1");
  EXPECT_EQ(UrlHost("http://[::1]:80/x"), "[::1]");
  EXPECT_EQ(UrlHost("http://:80/x"), "");
  EXPECT_EQ(UrlHost("no-scheme.example.com"), "");
}

TEST(IpAddress, SocketAddresses) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<const sockaddr*>(&v4)));
  inet_pton(AF_INET, "93.184.216.34", &v4.sin_addr);
  EXPECT_TRUE(IsPublicAddress(reinterpret_cast<const sockaddr*>(&v4)));
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:192.168.0.1", &v6.sin6_addr);
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<const sockaddr*>(&v6)));
  inet_pton(AF_INET6, "2606:4700::1111", &v6.sin6_addr);
  EXPECT_TRUE(IsPublicAddress(reinterpret_cast<const sockaddr*>(&v6)));
  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_FALSE(IsPublicAddress(&other));
  EXPECT_FALSE(IsPublicAddress(nullptr));
}

}  // namespace
}  // namespace herald::net
