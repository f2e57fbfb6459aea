/**
 * Hand-built packet captures for the importer's tests: TCP segments of a conversation
 * (with sequence numbers under the test's control, so retransmissions, reordering,
 * overlaps and gaps can be written down exactly), wrapped in every link type, in pcap
 * (both byte orders, micro- and nanoseconds) and pcapng files.
 */
import { computeAccept } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';

export type Side = 'client' | 'server';

export interface Endpoint {
  ip: string;
  port: number;
}

function ipBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
    const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
    return b;
  }
  return Buffer.from(ip.split('.').map(Number));
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** An IP packet carrying one TCP segment (checksums left 0: readers do not check them). */
export function ipTcp(src: Endpoint, dst: Endpoint, seq: number, ack: number, flags: number, payload: Buffer, options: { ipv6Ext?: Buffer; ipv6ExtNext?: number } = {}): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(src.port, 0);
  tcp.writeUInt16BE(dst.port, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  const segment = Buffer.concat([tcp, payload]);
  if (src.ip.includes(':')) {
    const ext = options.ipv6Ext ?? Buffer.alloc(0);
    const h = Buffer.alloc(40);
    h[0] = 0x60;
    h.writeUInt16BE(ext.length + segment.length, 4);
    h[6] = ext.length ? (options.ipv6ExtNext ?? 0) : 6;
    h[7] = 64;
    ipBytes(src.ip).copy(h, 8);
    ipBytes(dst.ip).copy(h, 24);
    return Buffer.concat([h, ext, segment]);
  }
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + segment.length, 2);
  h.writeUInt16BE(0x4000, 6); // don't fragment
  h[8] = 64;
  h[9] = 6;
  ipBytes(src.ip).copy(h, 12);
  ipBytes(dst.ip).copy(h, 16);
  return Buffer.concat([h, segment]);
}

/** One captured packet: when, and its IP bytes. */
export interface Pkt {
  ts: number;
  ip: Buffer;
}

/**
 * A TCP conversation with explicit sequence numbers: `at(side, offset, bytes)` makes the
 * segment carrying `bytes` at stream offset `offset` of that side (acknowledging all the
 * peer sent so far unless told otherwise).
 */
export class Conversation {
  readonly packets: Pkt[] = [];
  private ts = 1_700_000_000_000;
  /** Bytes each side has sent (the highest stream offset used). */
  private sent: Record<Side, number> = { client: 0, server: 0 };

  constructor(
    readonly client: Endpoint = { ip: '127.0.0.1', port: 40000 },
    readonly server: Endpoint = { ip: '127.0.0.1', port: 8080 },
    readonly isn: Record<Side, number> = { client: 1000, server: 5000 },
    private readonly ipOptions: { ipv6Ext?: Buffer; ipv6ExtNext?: number } = {},
  ) {}

  private ends(side: Side): [Endpoint, Endpoint] {
    return side === 'client' ? [this.client, this.server] : [this.server, this.client];
  }

  private other(side: Side): Side {
    return side === 'client' ? 'server' : 'client';
  }

  /** The sequence number of a stream offset (offset 0 is the first byte after the SYN). */
  seq(side: Side, offset: number): number {
    return (this.isn[side] + 1 + offset) >>> 0;
  }

  raw(side: Side, seq: number, ack: number, flags: number, payload: Buffer = Buffer.alloc(0)): this {
    const [src, dst] = this.ends(side);
    this.ts += 1;
    this.packets.push({ ts: this.ts, ip: ipTcp(src, dst, seq, ack, flags, payload, this.ipOptions) });
    return this;
  }

  handshake(): this {
    this.raw('client', this.isn.client, 0, SYN);
    this.raw('server', this.isn.server, this.seq('client', 0), SYN | ACK);
    return this.raw('client', this.seq('client', 0), this.seq('server', 0), ACK);
  }

  /** A segment at `offset` of `side`'s stream; `ack` defaults to all of the peer's bytes. */
  at(side: Side, offset: number, bytes: Buffer, options: { ack?: number; flags?: number } = {}): this {
    this.sent[side] = Math.max(this.sent[side], offset + bytes.length);
    const peer = this.other(side);
    const ack = options.ack ?? this.seq(peer, this.sent[peer]);
    return this.raw(side, this.seq(side, offset), ack, options.flags ?? ACK | PSH, bytes);
  }

  /** The next bytes of `side`, in order. */
  send(side: Side, bytes: Buffer, options: { ack?: number } = {}): this {
    return this.at(side, this.sent[side], bytes, options);
  }

  /** FIN from `side` after all it sent. */
  fin(side: Side): this {
    const peer = this.other(side);
    return this.raw(side, this.seq(side, this.sent[side]), this.seq(peer, this.sent[peer]), FIN | ACK);
  }

  /** Both FINs and their ACKs. */
  close(): this {
    this.fin('client').fin('server');
    return this.raw('client', this.seq('client', this.sent.client + 1), this.seq('server', this.sent.server + 1), ACK);
  }

  rst(side: Side): this {
    return this.raw(side, this.seq(side, this.sent[side]), 0, RST);
  }
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function upgradeRequest(path = '/chat', host = '127.0.0.1:8080'): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
}

export function upgradeResponse(): Buffer {
  return Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(KEY)}\r\n\r\n`);
}

export const clientText = (text: string, maskKey = '01020304'): Buffer => buildFrame({ opcode: 1, payload: text, mask: Buffer.from(maskKey, 'hex') });
export const serverText = (text: string): Buffer => buildFrame({ opcode: 1, payload: text });

// ---------------------------------------------------------------------------------------
// Link layers

export const LINK = { NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, SLL: 113, IPV4: 228, IPV6: 229, SLL2: 276 } as const;

const isV6 = (ip: Buffer) => ip[0] >> 4 === 6;

/** The packet as `linkType` frames it; `options.vlan` adds 802.1Q tags (Ethernet). */
export function linkFrame(linkType: number, ip: Buffer, options: { vlan?: number[]; bigEndianNull?: boolean; nullFamily6?: number } = {}): Buffer {
  const etherType = isV6(ip) ? 0x86dd : 0x0800;
  switch (linkType) {
    case LINK.ETHERNET: {
      const tags = (options.vlan ?? []).map((id, i, all) => {
        const t = Buffer.alloc(4);
        t.writeUInt16BE(id, 0);
        t.writeUInt16BE(i + 1 < all.length ? 0x8100 : etherType, 2);
        return t;
      });
      const h = Buffer.alloc(14);
      Buffer.from('020000000002020000000001', 'hex').copy(h, 0);
      h.writeUInt16BE(tags.length ? 0x8100 : etherType, 12);
      return Buffer.concat([h, ...tags, ip]);
    }
    case LINK.SLL: {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0); // to us
      h.writeUInt16BE(772, 2); // ARPHRD_LOOPBACK
      h.writeUInt16BE(6, 4);
      h.writeUInt16BE(etherType, 14);
      return Buffer.concat([h, ip]);
    }
    case LINK.SLL2: {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(etherType, 0);
      h.writeUInt32BE(1, 4); // interface index
      h.writeUInt16BE(772, 8);
      h[10] = 0;
      h[11] = 6;
      return Buffer.concat([h, ip]);
    }
    case LINK.NULL:
    case LINK.LOOP: {
      const h = Buffer.alloc(4);
      const family = isV6(ip) ? (options.nullFamily6 ?? 30) : 2;
      if (linkType === LINK.LOOP || options.bigEndianNull) h.writeUInt32BE(family, 0);
      else h.writeUInt32LE(family, 0);
      return Buffer.concat([h, ip]);
    }
    default:
      return ip;
  }
}

// ---------------------------------------------------------------------------------------
// Files

export interface PcapOptions {
  linkType?: number;
  bigEndian?: boolean;
  nanos?: boolean;
  frame?: (ip: Buffer) => Buffer;
}

export function pcapFile(packets: Pkt[], options: PcapOptions = {}): Buffer {
  const linkType = options.linkType ?? LINK.ETHERNET;
  const frame = options.frame ?? ((ip: Buffer) => linkFrame(linkType, ip));
  const be = options.bigEndian === true;
  const u32 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
  const u16 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  const h = Buffer.alloc(24);
  u32(h, options.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(h, 2, 4);
  u16(h, 4, 6);
  u32(h, 262144, 16);
  u32(h, linkType, 20);
  const parts: Buffer[] = [h];
  for (const p of packets) {
    const data = frame(p.ip);
    const r = Buffer.alloc(16);
    const sec = Math.floor(p.ts / 1000);
    const msRest = p.ts - sec * 1000;
    u32(r, sec, 0);
    u32(r, Math.round(options.nanos ? msRest * 1e6 : msRest * 1e3), 4);
    u32(r, data.length, 8);
    u32(r, data.length, 12);
    parts.push(r, data);
  }
  return Buffer.concat(parts);
}

export interface NgInterface {
  linkType: number;
  /** if_tsresol's byte (default: none, i.e. microseconds). */
  tsresol?: number;
  snapLength?: number;
  /** Ethernet: 802.1Q tags on every packet of the interface. */
  vlan?: number[];
}

/** A pcapng block: type, total length, body padded to 4, total length. */
function block(type: number, body: Buffer, be: boolean): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const length = 12 + body.length + pad;
  const b = Buffer.alloc(length);
  const u32 = (v: number, at: number) => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
  u32(type, 0);
  u32(length, 4);
  body.copy(b, 8);
  u32(length, length - 4);
  return b;
}

export interface NgSection {
  bigEndian?: boolean;
  interfaces: NgInterface[];
  /** Packets, each on an interface; `simple` writes a Simple Packet Block (interface 0). */
  packets: (Pkt & { iface?: number; simple?: boolean })[];
  /** Blocks of a type readers skip, to be skipped (e.g. a Name Resolution Block). */
  extraBlocks?: boolean;
}

export function pcapngFile(sections: NgSection[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of sections) {
    const be = s.bigEndian === true;
    const u32 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
    const u16 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
    const shb = Buffer.alloc(16);
    u32(shb, 0x1a2b3c4d, 0);
    u16(shb, 1, 4);
    u16(shb, 0, 6);
    shb.fill(0xff, 8, 16); // section length: unknown
    parts.push(block(0x0a0d0d0a, shb, be));
    for (const i of s.interfaces) {
      const opts: Buffer[] = [];
      if (i.tsresol !== undefined) {
        const o = Buffer.alloc(8);
        u16(o, 9, 0);
        u16(o, 1, 2);
        o[4] = i.tsresol;
        opts.push(o);
      }
      if (opts.length) opts.push(Buffer.alloc(4)); // opt_endofopt
      const idb = Buffer.alloc(8);
      u16(idb, i.linkType, 0);
      u32(idb, i.snapLength ?? 262144, 4);
      parts.push(block(1, Buffer.concat([idb, ...opts]), be));
    }
    if (s.extraBlocks) parts.push(block(4, Buffer.alloc(4), be)); // an empty Name Resolution Block
    for (const p of s.packets) {
      const iface = s.interfaces[p.iface ?? 0];
      const data = linkFrame(iface.linkType, p.ip, { vlan: iface.vlan });
      if (p.simple) {
        const spb = Buffer.alloc(4);
        u32(spb, data.length, 0);
        parts.push(block(3, Buffer.concat([spb, data]), be));
        continue;
      }
      const r = iface.tsresol ?? 6;
      const perSecond = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
      // ts in ms → units: exact for whole milliseconds
      const units = (BigInt(Math.round(p.ts)) * perSecond) / 1000n;
      const epb = Buffer.alloc(20);
      u32(epb, p.iface ?? 0, 0);
      u32(epb, Number(units >> 32n), 4);
      u32(epb, Number(units & 0xffffffffn), 8);
      u32(epb, data.length, 12);
      u32(epb, data.length, 16);
      parts.push(block(6, Buffer.concat([epb, data]), be));
    }
    if (s.extraBlocks) parts.push(block(5, Buffer.alloc(8), be)); // an Interface Statistics Block
  }
  return Buffer.concat(parts);
}
