/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) headers, as far as finding a TCP segment needs:
 * addresses, the upper-layer protocol and its bytes. Sans-IO, never throws.
 */

export const IPPROTO_TCP = 6;

export interface IpPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  /** The upper-layer protocol (6: TCP) after any IPv6 extension headers. */
  protocol: number;
  /** The upper-layer bytes, trimmed to the packet's stated length (link padding dropped). */
  payload: Buffer;
  /** Bytes the header says follow but the capture cut off (snap length). */
  missing: number;
  /** A fragment (RFC 791 §2.3, RFC 8200 §4.5): not reassembled, so not TCP we can read. */
  fragment: boolean;
}

/** Why a packet is not an IP packet we can read (for the one report per kind). */
export type IpProblem = { problem: string };

function ipv4Address(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lowercase, leading zeros dropped, the longest run of zero groups as "::". */
export function ipv6Address(b: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2));
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not shortened (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** IPv6 extension headers that are skipped to reach the upper layer (RFC 8200 §4). */
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DESTINATION = 60;
const AUTH = 51; // RFC 4302 §2.2: its length counts 4-byte units, minus 2
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;

export function parseIp(bytes: Buffer): IpPacket | IpProblem {
  if (bytes.length < 1) return { problem: 'an empty IP packet' };
  const version = bytes[0] >> 4;
  if (version === 4) return parseIpv4(bytes);
  if (version === 6) return parseIpv6(bytes);
  return { problem: `IP version ${version}` };
}

function parseIpv4(b: Buffer): IpPacket | IpProblem {
  if (b.length < 20) return { problem: 'an IPv4 header cut short' };
  const ihl = (b[0] & 0x0f) * 4;
  const total = b.readUInt16BE(2);
  if (ihl < 20 || b.length < ihl) return { problem: 'a bad IPv4 header length' };
  // Total length 0: TCP segmentation offload on the capturing host (the length is filled
  // in later by the NIC); take what was captured.
  const end = total === 0 ? b.length : total;
  if (end < ihl) return { problem: 'a bad IPv4 total length' };
  const flagsFrag = b.readUInt16BE(6);
  const fragment = (flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0;
  return {
    version: 4,
    src: ipv4Address(b, 12),
    dst: ipv4Address(b, 16),
    protocol: b[9],
    payload: b.subarray(ihl, Math.min(end, b.length)),
    missing: Math.max(0, end - b.length),
    fragment,
  };
}

function parseIpv6(b: Buffer): IpPacket | IpProblem {
  if (b.length < 40) return { problem: 'an IPv6 header cut short' };
  const payloadLength = b.readUInt16BE(4);
  // Payload length 0 with a hop-by-hop jumbo option (RFC 2675), or offload: to the end.
  const end = payloadLength === 0 ? b.length : 40 + payloadLength;
  let next = b[6];
  let at = 40;
  let fragment = false;
  for (let hops = 0; hops < 16; hops++) {
    if (next === HOP_BY_HOP || next === ROUTING || next === DESTINATION || next === MOBILITY || next === HIP || next === SHIM6) {
      if (at + 2 > b.length) return { problem: 'an IPv6 extension header cut short' };
      const len = (b[at + 1] + 1) * 8;
      next = b[at];
      at += len;
    } else if (next === FRAGMENT) {
      if (at + 8 > b.length) return { problem: 'an IPv6 extension header cut short' };
      const offsetFlags = b.readUInt16BE(at + 2);
      if ((offsetFlags & 0xfff9) !== 0) fragment = true; // offset or M flag: part of a whole
      next = b[at];
      at += 8;
    } else if (next === AUTH) {
      if (at + 2 > b.length) return { problem: 'an IPv6 extension header cut short' };
      const len = (b[at + 1] + 2) * 4;
      next = b[at];
      at += len;
    } else {
      break;
    }
  }
  if (at > Math.min(end, b.length)) return { problem: 'IPv6 extension headers longer than the packet' };
  return {
    version: 6,
    src: ipv6Address(b, 8),
    dst: ipv6Address(b, 24),
    protocol: next,
    payload: b.subarray(at, Math.min(end, b.length)),
    missing: Math.max(0, end - b.length),
    fragment,
  };
}
