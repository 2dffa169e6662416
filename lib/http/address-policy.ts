import { BlockList, isIP } from 'node:net'

// Which addresses an outbound request may reach. A URL a client registers (its `jwks_uri`, and
// later metadata documents and logout endpoints) makes this server send a request on the
// client's behalf: without this check any client could make the server probe its own network
// (RFC 9700 §4.15 on SSRF, OWASP's SSRF prevention). Only global unicast addresses pass; every
// IANA special-purpose range (RFC 6890 and its updates) is refused.

function ipv4Blocked (): BlockList {
  const list = new BlockList()
  for (const [network, prefix] of [
    ['0.0.0.0', 8], // "this network" (RFC 791)
    ['10.0.0.0', 8], // private (RFC 1918)
    ['100.64.0.0', 10], // shared address space, carrier-grade NAT (RFC 6598)
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local, cloud metadata services (RFC 3927)
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments (RFC 6890)
    ['192.0.2.0', 24], // documentation (RFC 5737)
    ['192.88.99.0', 24], // 6to4 relay anycast (RFC 7526)
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking (RFC 2544)
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, and the limited broadcast address
  ] as const) list.addSubnet(network, prefix, 'ipv4')
  return list
}

/** Only 2000::/3 (global unicast) is routable on the internet; within it, these are not. */
function ipv6Blocked (): BlockList {
  const list = new BlockList()
  for (const [network, prefix] of [
    ['2001::', 23], // IETF protocol assignments, Teredo (which embeds an IPv4 address), ORCHID
    ['2001:db8::', 32], // documentation (RFC 3849)
    ['2002::', 16], // 6to4: embeds any IPv4 address, private ones included (RFC 3056)
    ['3fff::', 20], // documentation (RFC 9637)
  ] as const) list.addSubnet(network, prefix, 'ipv6')
  return list
}

function ipv6Global (): BlockList {
  const list = new BlockList()
  list.addSubnet('2000::', 3, 'ipv6')
  return list
}

const IPV4_BLOCKED = ipv4Blocked()
const IPV6_BLOCKED = ipv6Blocked()
const IPV6_GLOBAL = ipv6Global()

/**
 * True when `address` (an IP literal, as DNS or the WHATWG URL parser gives it) is a public
 * unicast address. Everything outside 2000::/3 is refused for IPv6, which covers loopback,
 * unspecified, unique-local, link-local, multicast, IPv4-mapped (`::ffff:a.b.c.d`, however it is
 * spelt) and NAT64 (`64:ff9b::/96`) addresses without parsing them. Not an IP literal: false.
 */
export function isPublicAddress (address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  switch (isIP(bare)) {
    case 4: return !IPV4_BLOCKED.check(bare, 'ipv4')
    case 6: return IPV6_GLOBAL.check(bare, 'ipv6') && !IPV6_BLOCKED.check(bare, 'ipv6')
    default: return false
  }
}
