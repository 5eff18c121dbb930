import { isIPv4, isIPv6 } from 'node:net'

/** Why an address is not one the server may fetch from on a user's behalf. */
export type AddressRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'

type Ipv4Rule = [base: number, prefix: number, range: AddressRange]

const ipv4 = (dotted: string): number => dotted.split('.').reduce((value, part) => value * 256 + Number(part), 0)

// Everything outside the public unicast space. Documentation, benchmarking and "future use"
// blocks are not routable either, so fetching them can only reach something internal.
const IPV4_RULES: Ipv4Rule[] = [
  [ipv4('0.0.0.0'), 8, 'unspecified'],
  [ipv4('10.0.0.0'), 8, 'private'],
  [ipv4('100.64.0.0'), 10, 'cgnat'],
  [ipv4('127.0.0.0'), 8, 'loopback'],
  [ipv4('169.254.0.0'), 16, 'link-local'],
  [ipv4('172.16.0.0'), 12, 'private'],
  [ipv4('192.0.0.0'), 24, 'reserved'],
  [ipv4('192.0.2.0'), 24, 'reserved'],
  [ipv4('192.168.0.0'), 16, 'private'],
  [ipv4('198.18.0.0'), 15, 'reserved'],
  [ipv4('198.51.100.0'), 24, 'reserved'],
  [ipv4('203.0.113.0'), 24, 'reserved'],
  [ipv4('224.0.0.0'), 4, 'multicast'],
  [ipv4('240.0.0.0'), 4, 'reserved'],
]

function ipv4Range(value: number): AddressRange | undefined {
  for (const [base, prefix, range] of IPV4_RULES) {
    const size = 2 ** (32 - prefix)
    if (value >= base && value < base + size) return range
  }
  return undefined
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted?.[1]) {
    const value = ipv4(dotted[1])
    text = `${text.slice(0, dotted.index)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : [])
  const front = parse(head)
  const back = tail === undefined ? [] : parse(tail)
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
}

const embeddedIpv4 = (groups: number[], at: number) => (groups[at] ?? 0) * 65536 + (groups[at + 1] ?? 0)

function ipv6Range(groups: number[]): AddressRange | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified'
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback'
  // Forms that carry an IPv4 address inside: mapped (::ffff:a.b.c.d), the deprecated
  // compatible form (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
  // Each one reaches the embedded IPv4 host, so that host decides.
  if (upperZero && (g5 === 0xffff || g5 === 0)) return ipv4Range(embeddedIpv4(groups, 6))
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return ipv4Range(embeddedIpv4(groups, 6))
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'
  if (g0 === 0x2002) return ipv4Range(embeddedIpv4(groups, 1))
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'
  if (g0 === 0x2001 && g1 === 0xdb8) return 'reserved'
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local'
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local'
  if ((g0 & 0xffc0) === 0xfec0) return 'private'
  if ((g0 & 0xff00) === 0xff00) return 'multicast'
  return undefined
}

/**
 * Which non-public range an IP address is in, or `undefined` for a public unicast address
 * (and for anything that is not an IP address). Brackets and an IPv6 zone (`%eth0`) are ignored.
 *
 * @example
 * ```ts
 * addressRange('169.254.169.254') // 'link-local'
 * addressRange('::ffff:10.1.2.3') // 'private'
 * addressRange('142.250.74.46')   // undefined
 * ```
 */
export function addressRange(address: string): AddressRange | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (isIPv4(bare)) return ipv4Range(ipv4(bare))
  if (isIPv6(bare)) return ipv6Range(ipv6Groups(bare.toLowerCase()))
  return undefined
}

/**
 * Whether a host (as `URL.hostname` gives it: IPv6 in brackets) is an IP literal.
 *
 * @example
 * ```ts
 * isIpLiteral('[::1]')     // true
 * isIpLiteral('127.0.0.1') // true
 * isIpLiteral('localhost') // false
 * ```
 */
export function isIpLiteral(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  return isIPv4(bare) || isIPv6(bare)
}
