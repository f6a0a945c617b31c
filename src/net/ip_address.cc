#include "net/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace herald::net {
namespace {

struct Range4 {
  uint32_t base;
  int prefix;
};

constexpr uint32_t Ip4(int a, int b, int c, int d) {
  return (static_cast<uint32_t>(a) << 24) | (static_cast<uint32_t>(b) << 16) |
         (static_cast<uint32_t>(c) << 8) | static_cast<uint32_t>(d);
}

// IANA IPv4 Special-Purpose Address Registry, plus multicast and reserved.
constexpr Range4 kNotPublic4[] = {
    {Ip4(0, 0, 0, 0), 8},      {Ip4(10, 0, 0, 0), 8},     {Ip4(100, 64, 0, 0), 10},
    {Ip4(127, 0, 0, 0), 8},    {Ip4(169, 254, 0, 0), 16}, {Ip4(172, 16, 0, 0), 12},
    {Ip4(192, 0, 0, 0), 24},   {Ip4(192, 0, 2, 0), 24},   {Ip4(192, 88, 99, 0), 24},
    {Ip4(192, 168, 0, 0), 16}, {Ip4(198, 18, 0, 0), 15},  {Ip4(198, 51, 100, 0), 24},
    {Ip4(203, 0, 113, 0), 24}, {Ip4(224, 0, 0, 0), 4},    {Ip4(240, 0, 0, 0), 4},
};

bool IsPublic4(uint32_t ip) {
  for (const Range4& r : kNotPublic4) {
    const uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix);
    if ((ip & mask) == r.base) return false;
  }
  return true;
}

bool HasPrefix(const uint8_t* a, const uint8_t* prefix, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(a, prefix, bytes) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[bytes] & mask) == (prefix[bytes] & mask);
}

uint32_t Embedded4(const uint8_t* a) { return Ip4(a[12], a[13], a[14], a[15]); }

bool IsPublic6(const uint8_t* a) {
  static constexpr uint8_t kZero[16] = {};
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr uint8_t kDiscard[8] = {0x01, 0, 0, 0, 0, 0, 0, 0};
  static constexpr uint8_t kUniqueLocal[1] = {0xfc};
  static constexpr uint8_t kLinkLocal[2] = {0xfe, 0x80};
  static constexpr uint8_t kSiteLocal[2] = {0xfe, 0xc0};
  static constexpr uint8_t kMulticast[1] = {0xff};
  static constexpr uint8_t kDocumentation[4] = {0x20, 0x01, 0x0d, 0xb8};
  if (std::memcmp(a, kZero, 16) == 0 || std::memcmp(a, kLoopback, 16) == 0) return false;
  if (HasPrefix(a, kMapped, 96) || HasPrefix(a, kNat64, 96)) return IsPublic4(Embedded4(a));
  // IPv4-compatible (::a.b.c.d, deprecated): judged by its IPv4 address.
  if (HasPrefix(a, kZero, 96)) return IsPublic4(Embedded4(a));
  return !HasPrefix(a, kDiscard, 64) && !HasPrefix(a, kUniqueLocal, 7) &&
         !HasPrefix(a, kLinkLocal, 10) && !HasPrefix(a, kSiteLocal, 10) &&
         !HasPrefix(a, kMulticast, 8) && !HasPrefix(a, kDocumentation, 32);
}

}  // namespace

std::string_view UrlHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

bool IsPublicAddress(const sockaddr* address) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    return IsPublic4(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    return IsPublic6(in6.sin6_addr.s6_addr);
  }
  return false;
}

std::optional<bool> IsPublicIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > 64) return std::nullopt;
  const std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return IsPublic4(ntohl(v4.s_addr));
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IsPublic6(v6.s6_addr);
  return std::nullopt;
}

}  // namespace herald::net
