/**
 * Link layers of captured packets: from a packet's bytes to the IP packet inside it, for
 * the link types tcpdump, dumpcap and Wireshark write on Linux, macOS and the BSDs
 * (https://www.tcpdump.org/linktypes.html). Sans-IO, never throws.
 */

export const LINKTYPE_NULL = 0; // BSD loopback: 4-byte address family in the writer's byte order
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101; // raw IPv4 or IPv6, told apart by the version nibble
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: the family in network byte order
export const LINKTYPE_LINUX_SLL = 113; // Linux cooked capture v1 (tcpdump -i any)
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276; // Linux cooked capture v2 (libpcap ≥ 1.10 -i any)
/** DLT_RAW as some systems number it in files (12 on most BSDs, 14 on OpenBSD). */
const DLT_RAW_ALIASES = [12, 14];

export const LINK_TYPE_NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: 'BSD loopback',
  [LINKTYPE_ETHERNET]: 'Ethernet',
  [LINKTYPE_RAW]: 'raw IP',
  [LINKTYPE_LOOP]: 'OpenBSD loopback',
  [LINKTYPE_LINUX_SLL]: 'Linux cooked v1',
  [LINKTYPE_IPV4]: 'raw IPv4',
  [LINKTYPE_IPV6]: 'raw IPv6',
  [LINKTYPE_LINUX_SLL2]: 'Linux cooked v2',
};

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q VLAN, 802.1ad QinQ, and the pre-standard QinQ tag: 4 bytes each, then the type. */
const VLAN_TYPES = new Set([0x8100, 0x88a8, 0x9100]);
/** BSD AF_INET6 differs per system: NetBSD/OpenBSD 24, FreeBSD 28, macOS 30. */
const AF_INET = 2;
const AF_INET6 = new Set([24, 28, 30, 10]);

export type LinkResult = { ip: Buffer } | { skip: string } | { unsupported: string };

/** The IP packet inside a captured packet of `linkType`. */
export function linkToIp(linkType: number, b: Buffer): LinkResult {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return b.length < 14 ? { skip: 'an Ethernet header cut short' } : byEtherType(b.readUInt16BE(12), b, 14);
    case LINKTYPE_LINUX_SLL:
      // packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
      return b.length < 16 ? { skip: 'a Linux cooked header cut short' } : byEtherType(b.readUInt16BE(14), b, 16);
    case LINKTYPE_LINUX_SLL2:
      // protocol (2), reserved (2), interface index (4), ARPHRD (2), packet type (1), address length (1), address (8)
      return b.length < 20 ? { skip: 'a Linux cooked v2 header cut short' } : byEtherType(b.readUInt16BE(0), b, 20);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (b.length < 4) return { skip: 'a loopback header cut short' };
      // NULL: host byte order of the machine that wrote it, unknown here; the family is
      // small, so the byte order whose value fits in 16 bits is the right one.
      const le = b.readUInt32LE(0);
      const family = linkType === LINKTYPE_LOOP ? b.readUInt32BE(0) : le <= 0xffff ? le : b.readUInt32BE(0);
      if (family === AF_INET || AF_INET6.has(family)) return { ip: b.subarray(4) };
      return { skip: `loopback address family ${family}` };
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return { ip: b };
    default:
      if (DLT_RAW_ALIASES.includes(linkType)) return { ip: b };
      return { unsupported: `link type ${linkType}` };
  }
}

function byEtherType(type: number, b: Buffer, at: number): LinkResult {
  while (VLAN_TYPES.has(type)) {
    if (at + 4 > b.length) return { skip: 'a VLAN tag cut short' };
    type = b.readUInt16BE(at + 2);
    at += 4;
  }
  if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return { ip: b.subarray(at) };
  return { skip: `EtherType 0x${type.toString(16).padStart(4, '0')}` };
}
