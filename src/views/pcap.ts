/**
 * `--pcap FILE`: the proxied traffic as a classic pcap file (LINKTYPE_ETHERNET) that
 * Wireshark and tshark open and dissect as WebSocket.
 *
 * The proxy sees two TCP connections (client↔proxy, proxy↔upstream) but no packets; so each
 * proxied connection is written as ONE synthesized TCP connection carrying the bytes as they
 * crossed the proxy: a three-way handshake (RFC 9293 §3.5) when it opens, one segment per
 * relayed chunk (split to at most 65495 bytes, the most an IPv4 packet carries) with correct
 * sequence and acknowledgement numbers, and FINs when it ends.
 *
 * Addresses are synthesized so that every connection is distinct: the client of connection N
 * is 10.a.b.c (N = a·65536 + b·256 + c) on its real source port, the server is 10.255.255.254
 * on port 80, where tshark's HTTP dissector finds the Upgrade and then decodes WebSocket.
 */
import * as fs from 'fs';
import type { Direction } from '../decoder/events';
import type { Session } from '../session';

const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262144;
/** 65535 (largest IPv4 total length) - 20 (IPv4 header) - 20 (TCP header). */
export const MAX_SEGMENT = 65495;
const SERVER_IP = [10, 255, 255, 254];
export const PCAP_SERVER_PORT = 80;
const CLIENT_MAC = Buffer.from('020000000001', 'hex');
const SERVER_MAC = Buffer.from('020000000002', 'hex');

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

interface TcpState {
  clientIp: number[];
  clientPort: number;
  /** Next sequence number each side sends. */
  seq: Record<Direction, number>;
  ended: boolean;
}

/** The ones' complement sum of RFC 1071, folded to 16 bits, over several buffers. */
function checksum(parts: Buffer[]): number {
  let sum = 0;
  let odd: number | null = null;
  for (const b of parts) {
    let i = 0;
    if (odd !== null && b.length > 0) {
      sum += (odd << 8) | b[0];
      odd = null;
      i = 1;
    }
    for (; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (i < b.length) odd = b[i];
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (odd !== null) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The pcap global header (microsecond timestamps, little-endian). */
export function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8);
  h.writeUInt32LE(0, 12);
  h.writeUInt32LE(SNAPLEN, 16);
  h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return h;
}

/** Builds pcap records for synthesized TCP connections; pure (no I/O). */
export class PcapBuilder {
  private readonly conns = new Map<number, TcpState>();
  private ipId = 0;

  /** The SYN, SYN-ACK, ACK of a new connection. */
  open(conn: number, ts: number, clientPort?: number): Buffer[] {
    const state: TcpState = {
      clientIp: [10, (conn >>> 16) & 0xff, (conn >>> 8) & 0xff, conn & 0xff],
      clientPort: clientPort && clientPort !== PCAP_SERVER_PORT ? clientPort : 1024 + (conn % 60000),
      // Fixed initial sequence numbers keep files reproducible (any ISN is valid).
      seq: { client: 1000, server: 5000 },
      ended: false,
    };
    this.conns.set(conn, state);
    const out = [this.segment(state, 'client', ts, SYN, Buffer.alloc(0), false)];
    state.seq.client++;
    out.push(this.segment(state, 'server', ts, SYN | ACK, Buffer.alloc(0)));
    state.seq.server++;
    out.push(this.segment(state, 'client', ts, ACK, Buffer.alloc(0)));
    return out;
  }

  /** One data segment per ≤ 65495 bytes of a chunk. */
  data(conn: number, dir: Direction, ts: number, chunk: Buffer): Buffer[] {
    const state = this.conns.get(conn) ?? (this.open(conn, ts), this.conns.get(conn)!);
    const out: Buffer[] = [];
    for (let at = 0; at < chunk.length; at += MAX_SEGMENT) {
      const payload = chunk.subarray(at, at + MAX_SEGMENT);
      out.push(this.segment(state, dir, ts, PSH | ACK, payload));
      state.seq[dir] = (state.seq[dir] + payload.length) >>> 0;
    }
    return out;
  }

  /** FIN from each side and the last ACK (or an RST when the connection was reset). */
  end(conn: number, ts: number, reset = false): Buffer[] {
    const state = this.conns.get(conn);
    if (!state || state.ended) return [];
    state.ended = true;
    this.conns.delete(conn);
    if (reset) return [this.segment(state, 'server', ts, RST | ACK, Buffer.alloc(0))];
    const out = [this.segment(state, 'client', ts, FIN | ACK, Buffer.alloc(0))];
    state.seq.client++;
    out.push(this.segment(state, 'server', ts, FIN | ACK, Buffer.alloc(0)));
    state.seq.server++;
    out.push(this.segment(state, 'client', ts, ACK, Buffer.alloc(0)));
    return out;
  }

  /**
   * One pcap record: record header, Ethernet, IPv4, TCP, payload, written in place into the
   * record's one buffer (this runs for every relayed chunk when --pcap is on).
   */
  private segment(state: TcpState, dir: Direction, ts: number, flags: number, payload: Buffer, withAck = true): Buffer {
    const other: Direction = dir === 'client' ? 'server' : 'client';
    const srcIp = dir === 'client' ? state.clientIp : SERVER_IP;
    const dstIp = dir === 'client' ? SERVER_IP : state.clientIp;
    const srcPort = dir === 'client' ? state.clientPort : PCAP_SERVER_PORT;
    const dstPort = dir === 'client' ? PCAP_SERVER_PORT : state.clientPort;
    const length = 14 + 20 + 20 + payload.length;
    const out = Buffer.alloc(16 + length);

    const sec = Math.floor(ts / 1000);
    const usec = Math.min(999999, Math.floor((ts - sec * 1000) * 1000));
    out.writeUInt32LE(sec >>> 0, 0);
    out.writeUInt32LE(usec, 4);
    out.writeUInt32LE(Math.min(length, SNAPLEN), 8);
    out.writeUInt32LE(length, 12);

    (dir === 'client' ? SERVER_MAC : CLIENT_MAC).copy(out, 16);
    (dir === 'client' ? CLIENT_MAC : SERVER_MAC).copy(out, 22);
    out.writeUInt16BE(0x0800, 28);

    const ip = out.subarray(30, 50);
    ip[0] = 0x45; // IPv4, 5-word header
    ip.writeUInt16BE(20 + 20 + payload.length, 2);
    ip.writeUInt16BE(this.ipId++ & 0xffff, 4);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = 64; // TTL
    ip[9] = 6; // TCP
    ip.set(srcIp, 12);
    ip.set(dstIp, 16);
    ip.writeUInt16BE(checksum([ip]), 10);

    const tcp = out.subarray(50, 70);
    tcp.writeUInt16BE(srcPort, 0);
    tcp.writeUInt16BE(dstPort, 2);
    tcp.writeUInt32BE(state.seq[dir] >>> 0, 4);
    tcp.writeUInt32BE(withAck ? state.seq[other] >>> 0 : 0, 8);
    tcp[12] = 5 << 4; // data offset: 5 words, no options
    tcp[13] = flags;
    tcp.writeUInt16BE(65535, 14); // window
    payload.copy(out, 70);
    // The pseudo-header: both addresses (in the IPv4 header), zero, protocol, TCP length.
    const pseudoTail = Buffer.from([0, 6, (20 + payload.length) >>> 8, (20 + payload.length) & 0xff]);
    tcp.writeUInt16BE(checksum([ip.subarray(12, 20), pseudoTail, out.subarray(50)]), 16);
    return out;
  }
}

/** Streams a session's traffic into a pcap file. */
export class PcapWriter {
  readonly stream: fs.WriteStream;
  private readonly builder = new PcapBuilder();
  private detach: (() => void)[] = [];

  /** Opens the file synchronously so that an unwritable path fails at once. */
  constructor(readonly path: string) {
    const fd = fs.openSync(path, 'w');
    this.stream = fs.createWriteStream(path, { fd, autoClose: true });
    this.stream.on('error', () => {
      /* reported by close() */
    });
    this.write([pcapHeader()]);
  }

  attach(session: Session): this {
    this.detach.push(
      session.onEvent((event) => {
        if (event.event === 'open') {
          const port = Number(/:(\d+)$/.exec(event.client)?.[1]);
          this.write(this.builder.open(event.conn, event.ts, Number.isInteger(port) ? port : undefined));
        } else if (event.event === 'end') {
          this.write(this.builder.end(event.conn, event.ts, /reset/i.test(event.reason)));
        }
      }),
      session.onData((conn, dir, ts, chunk) => this.write(this.builder.data(conn, dir, ts, chunk))),
    );
    return this;
  }

  private write(records: Buffer[]): void {
    if (records.length && !this.stream.destroyed) this.stream.write(records.length === 1 ? records[0] : Buffer.concat(records));
  }

  close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    return new Promise((resolve, reject) => {
      if (this.stream.destroyed) return resolve();
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
