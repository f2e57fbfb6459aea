/**
 * Packet capture files, sans-IO: bytes in (any chunking), packets out.
 *
 * - pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html): a 24-byte
 *   file header whose magic gives the byte order and the timestamp unit (0xa1b2c3d4:
 *   microseconds, 0xa1b23c4d: nanoseconds), then records of a 16-byte header and the
 *   packet bytes.
 * - pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html): blocks of
 *   type, total length, body, total length again. A Section Header Block (its byte-order
 *   magic sets the byte order of the section) starts each section and forgets the
 *   interfaces before it; Interface Description Blocks give each interface's link type and
 *   timestamp resolution (if_tsresol) and offset (if_tsoffset); Enhanced, Simple and the
 *   obsolete Packet Blocks carry packets. Other blocks are skipped.
 *
 * Memory: only the current record or block is held, up to MAX_BLOCK bytes (a larger stated
 * length is a corrupt file).
 */
import { CaptureFormatError } from '../capture';

/** One captured packet. */
export interface CapturedPacket {
  /** 1-based position in the file (as Wireshark numbers packets). */
  number: number;
  /** Milliseconds since the epoch (fractional). */
  ts: number;
  linkType: number;
  data: Buffer;
  /** The packet's length on the wire (data may be shorter: the snap length cut it). */
  originalLength: number;
}

/** A corrupt or unreadable packet capture: one line, "SOURCE: what is wrong". */
export class ImportFormatError extends CaptureFormatError {
  constructor(source: string, reason: string) {
    super(source, 0, reason);
    this.message = `${source}: ${reason}`;
    this.name = 'ImportFormatError';
  }
}

/**
 * A capture file that is read to its end (or its cut) but holds no WebSocket connection:
 * nothing to decode, an error of the command (DESIGN.md "Bring your own capture", docs/design.md:
 * exit 2 for decode, 1 for replay) rather than an empty success.
 */
export class NoConnectionError extends ImportFormatError {
  constructor(source: string, why: string) {
    super(source, why);
    this.message = `no WebSocket connection found in ${source} (${why})`;
    this.name = 'NoConnectionError';
  }
}

/** The largest record or block accepted (a real one is at most a jumbo packet or so). */
export const MAX_BLOCK = 16 * 1024 * 1024;

export type PacketFileKind = 'pcap' | 'pcapng';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;

/** pcap or pcapng from the first 4 (pcapng: 12) bytes, or null. */
export function sniffPacketFile(head: Buffer): PacketFileKind | null {
  if (head.length < 4) return null;
  const be = head.readUInt32BE(0);
  const le = head.readUInt32LE(0);
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return 'pcap';
  if (be === PCAPNG_SHB && head.length >= 12) {
    const bom = head.readUInt32BE(8);
    if (bom === PCAPNG_BYTE_ORDER || head.readUInt32LE(8) === PCAPNG_BYTE_ORDER) return 'pcapng';
  }
  return null;
}

/** A byte buffer fed in chunks, read from the front. */
class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  /** Bytes consumed before the front: the file offset of the front. */
  consumed = 0;

  push(chunk: Buffer): void {
    if (chunk.length) {
      this.parts.push(chunk);
      this.length += chunk.length;
    }
  }

  /** The first n bytes (n <= length), without consuming them. */
  peek(n: number): Buffer {
    if (this.parts[0].length < n) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0].subarray(0, n);
  }

  take(n: number): Buffer {
    const b = this.peek(n);
    this.parts[0] = this.parts[0].subarray(n);
    if (this.parts[0].length === 0) this.parts.shift();
    this.length -= n;
    this.consumed += n;
    return b;
  }
}

export interface PacketReader {
  /** Feeds bytes; returns the packets completed by them. Throws ImportFormatError when corrupt. */
  push(chunk: Buffer): CapturedPacket[];
  /** The input ended: a description of the cut-off last record, or null when it ended cleanly. */
  end(): string | null;
}

export function packetReader(kind: PacketFileKind, source: string): PacketReader {
  return kind === 'pcap' ? new PcapReader(source) : new PcapngReader(source);
}

/** Milliseconds from a timestamp in `unitsPerSecond` (a BigInt: nanosecond clocks pass 2^53). */
function tsMillis(units: bigint, unitsPerSecond: bigint, offsetSeconds: bigint): number {
  const seconds = units / unitsPerSecond + offsetSeconds;
  const rest = units % unitsPerSecond;
  return Number(seconds) * 1000 + (Number(rest) * 1000) / Number(unitsPerSecond);
}

/** What both readers keep: the bytes not yet read, the byte order, the packets counted. */
abstract class FileReader {
  protected readonly buf = new Bytes();
  protected little = true;
  protected count = 0;

  constructor(protected readonly source: string) {}

  protected fail(reason: string): never {
    throw new ImportFormatError(this.source, reason);
  }
}

class PcapReader extends FileReader implements PacketReader {
  private nanos = false;
  private linkType = 0;
  private started = false;

  push(chunk: Buffer): CapturedPacket[] {
    this.buf.push(chunk);
    const out: CapturedPacket[] = [];
    if (!this.started) {
      if (this.buf.length < 24) return out;
      const h = this.buf.take(24);
      const magic = h.readUInt32LE(0);
      this.little = magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS;
      const m = this.little ? magic : h.readUInt32BE(0);
      if (m !== PCAP_MAGIC_US && m !== PCAP_MAGIC_NS) this.fail('not a pcap file (bad magic number)');
      this.nanos = m === PCAP_MAGIC_NS;
      const major = this.little ? h.readUInt16LE(4) : h.readUInt16BE(4);
      if (major !== 2) this.fail(`pcap version ${major} is not supported (only 2.x exists)`);
      // The link type is the low 16 bits; the high bits may carry FCS length flags.
      this.linkType = (this.little ? h.readUInt32LE(20) : h.readUInt32BE(20)) & 0xffff;
      this.started = true;
    }
    while (this.buf.length >= 16) {
      const r = this.buf.peek(16);
      const u32 = (at: number) => (this.little ? r.readUInt32LE(at) : r.readUInt32BE(at));
      const caplen = u32(8);
      if (caplen > MAX_BLOCK) this.fail(`packet ${this.count + 1} at byte ${this.buf.consumed} claims ${caplen} bytes: a corrupt file`);
      if (this.buf.length < 16 + caplen) break;
      const sec = u32(0);
      const frac = u32(4);
      const originalLength = u32(12);
      this.buf.take(16);
      const data = this.buf.take(caplen);
      const ts = sec * 1000 + (this.nanos ? frac / 1e6 : frac / 1e3);
      out.push({ number: ++this.count, ts, linkType: this.linkType, data, originalLength });
    }
    return out;
  }

  end(): string | null {
    if (!this.started) return this.buf.length ? 'the file ends inside the pcap file header' : 'the file is empty';
    if (this.buf.length) return `the file ends inside packet ${this.count + 1} (${this.buf.length} bytes of it)`;
    return null;
  }
}

interface Interface {
  linkType: number;
  snapLength: number;
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

const BT_IDB = 1;
const BT_OPB = 2; // obsolete Packet Block
const BT_SPB = 3;
const BT_EPB = 6;

class PcapngReader extends FileReader implements PacketReader {
  private interfaces: Interface[] = [];
  private sawSection = false;
  private lastTs = 0;

  push(chunk: Buffer): CapturedPacket[] {
    this.buf.push(chunk);
    const out: CapturedPacket[] = [];
    while (this.buf.length >= 12) {
      const h = this.buf.peek(12);
      let type = this.little ? h.readUInt32LE(0) : h.readUInt32BE(0);
      if (h.readUInt32BE(0) === PCAPNG_SHB) {
        // A new section: its byte-order magic says how to read it (and its length).
        const bom = h.readUInt32LE(8);
        if (bom === PCAPNG_BYTE_ORDER) this.little = true;
        else if (h.readUInt32BE(8) === PCAPNG_BYTE_ORDER) this.little = false;
        else this.fail(`a section header at byte ${this.buf.consumed} with a bad byte-order magic`);
        type = PCAPNG_SHB;
      } else if (!this.sawSection) {
        this.fail('not a pcapng file (no section header block first)');
      }
      const length = this.little ? h.readUInt32LE(4) : h.readUInt32BE(4);
      if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK) this.fail(`a block at byte ${this.buf.consumed} with a bad length ${length}: a corrupt file`);
      if (this.buf.length < length) break;
      const at = this.buf.consumed;
      const block = this.buf.take(length);
      const trailer = this.little ? block.readUInt32LE(length - 4) : block.readUInt32BE(length - 4);
      if (trailer !== length) this.fail(`the block at byte ${at} ends with length ${trailer}, not ${length}: a corrupt file`);
      const body = block.subarray(8, length - 4);
      const packet = this.block(type, body, at);
      if (packet) out.push(packet);
    }
    return out;
  }

  private u16(b: Buffer, at: number): number {
    return this.little ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  private u32(b: Buffer, at: number): number {
    return this.little ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  private block(type: number, body: Buffer, at: number): CapturedPacket | null {
    const short = (what: string): never => this.fail(`${what} at byte ${at} is too short: a corrupt file`);
    switch (type) {
      case PCAPNG_SHB:
        this.sawSection = true;
        this.interfaces = [];
        if (body.length < 16) short('a section header block');
        return null;
      case BT_IDB: {
        if (body.length < 8) short('an interface description block');
        const iface: Interface = { linkType: this.u16(body, 0), snapLength: this.u32(body, 4), unitsPerSecond: 1000000n, offsetSeconds: 0n };
        this.options(body, 8, (code, value) => {
          if (code === 9 && value.length >= 1) {
            // if_tsresol: the MSB says base 2 or 10, the rest the negative exponent.
            const v = value[0];
            const exp = BigInt(v & 0x7f);
            if (exp > 30n) this.fail(`interface ${this.interfaces.length} has an impossible timestamp resolution ${v}`);
            iface.unitsPerSecond = v & 0x80 ? 2n ** exp : 10n ** exp;
          } else if (code === 14 && value.length >= 8) {
            iface.offsetSeconds = this.little ? value.readBigInt64LE(0) : value.readBigInt64BE(0);
          }
        });
        this.interfaces.push(iface);
        return null;
      }
      case BT_EPB:
      case BT_OPB: {
        if (body.length < 20) short('a packet block');
        const id = type === BT_EPB ? this.u32(body, 0) : this.u16(body, 0);
        const iface = this.interfaces[id];
        if (!iface) this.fail(`packet ${this.count + 1} at byte ${at} names interface ${id}, which no interface block described`);
        const units = (BigInt(this.u32(body, 4)) << 32n) | BigInt(this.u32(body, 8));
        const caplen = this.u32(body, 12);
        const originalLength = this.u32(body, 16);
        if (20 + caplen > body.length) this.fail(`packet ${this.count + 1} at byte ${at} claims ${caplen} bytes, more than its block holds: a corrupt file`);
        const ts = tsMillis(units, iface.unitsPerSecond, iface.offsetSeconds);
        this.lastTs = ts;
        return { number: ++this.count, ts, linkType: iface.linkType, data: body.subarray(20, 20 + caplen), originalLength };
      }
      case BT_SPB: {
        // No timestamp and no interface id: interface 0; the captured length is what the
        // block holds, at most the snap length (the rest of the block is padding).
        if (body.length < 4) short('a simple packet block');
        const iface = this.interfaces[0];
        if (!iface) this.fail(`a simple packet block at byte ${at} before any interface block`);
        const originalLength = this.u32(body, 0);
        let caplen = Math.min(originalLength, body.length - 4);
        if (iface.snapLength > 0) caplen = Math.min(caplen, iface.snapLength);
        // Packets without a time of their own take the last one seen.
        return { number: ++this.count, ts: this.lastTs, linkType: iface.linkType, data: body.subarray(4, 4 + caplen), originalLength };
      }
      default:
        return null;
    }
  }

  /** Walks a block's options (code, length, value padded to 4), stopping at opt_endofopt. */
  private options(body: Buffer, at: number, each: (code: number, value: Buffer) => void): void {
    while (at + 4 <= body.length) {
      const code = this.u16(body, at);
      const len = this.u16(body, at + 2);
      if (code === 0) return;
      if (at + 4 + len > body.length) return; // a cut option: ignore the rest, keep the block
      each(code, body.subarray(at + 4, at + 4 + len));
      at += 4 + Math.ceil(len / 4) * 4;
    }
  }

  end(): string | null {
    if (!this.sawSection && this.buf.length === 0) return 'the file is empty';
    if (this.buf.length) return `the file ends inside a block at byte ${this.buf.consumed} (${this.buf.length} bytes of it)`;
    return null;
  }
}
