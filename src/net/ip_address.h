#pragma once
// Which IP addresses are public: the SSRF guard of outbound requests to URLs that users
// supply (webhook endpoints). Not public: unspecified, loopback, private (RFC 1918), shared
// CGNAT (RFC 6598), link-local (cloud metadata services live at 169.254.169.254), the IETF
// protocol-assignment, documentation and benchmarking ranges, multicast, reserved and
// broadcast (IANA IPv4/IPv6 special-purpose address registries); for IPv6 also unique-local
// (fc00::/7), site-local (fec0::/10), discard (100::/64), and IPv4-mapped or NAT64 addresses
// whose IPv4 address is not public.

#include <sys/socket.h>

#include <optional>
#include <string_view>

namespace herald::net {

// The host of a URL ("scheme://[userinfo@]host[:port]/..."): a name, an IPv4 literal, or an
// IPv6 literal with its brackets; "" when there is no "://" or no host.
std::string_view UrlHost(std::string_view url);

// Whether an IPv4 or IPv6 socket address is public; false for any other family.
bool IsPublicAddress(const sockaddr* address);

// For a URL host that is an IP literal ("203.0.113.5", "[2001:db8::1]" or without brackets):
// whether it is public. nullopt when `host` is not an IP literal (a name: resolve it first).
std::optional<bool> IsPublicIpLiteral(std::string_view host);

}  // namespace herald::net
