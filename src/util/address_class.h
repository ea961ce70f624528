// Which IP addresses are the inside of a network rather than the internet:
// what a server that fetches URLs its users name (remote includes) must not
// be led to reach (server-side request forgery), unless its operator allows
// a network by name.
#ifndef SLIPWAY_UTIL_ADDRESS_CLASS_H_
#define SLIPWAY_UTIL_ADDRESS_CLASS_H_

#include <string_view>

namespace slipway {

// True for addresses that are not on the public internet: loopback
// (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::/96), private (10/8,
// 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), link-local
// (169.254/16, fe80::/10, where cloud metadata services answer), multicast
// and reserved (224/3, ff00::/8), and IPv4 written as IPv6 (::ffff:a.b.c.d)
// when its IPv4 address is one of those. Also true for text that is not an
// address, so that a caller that checks before connecting fails closed.
bool IsInternalAddress(std::string_view ip);

// Whether ip lies in network, written "a.b.c.d/len", "x::y/len", or a
// single address (a /32 or /128). False when either does not parse or the
// families differ.
bool AddressInNetwork(std::string_view ip, std::string_view network);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_ADDRESS_CLASS_H_
