/**
 * Per-direction reassembly for packet protocols (MQTT over WebSocket, SignalR records):
 * packets need not line up with messages (DESIGN.md: mqtt.js and aedes write one MQTT
 * packet as several messages; SignalR and MQTT put several packets in one). Each packet
 * is reported once, on the message that completes it, with `fromMessages` when it took
 * more than one; a message completing none gives `{protocol, partial: true}`.
 */
import type { Direction } from '../decoder/events';
import { appViolation } from './json';
import { MAX_PENDING, type AppPacket, type AppResult, type ProtocolName } from './types';

/**
 * How long the packet at the start of `buf` is: its byte count when it is all there,
 * 0 when more bytes are needed to tell or to complete it, or a string (why) when the
 * bytes cannot be a packet's start: what is pending is then reported as one invalid
 * packet and dropped, and reassembly starts again with the next message.
 */
export type PacketLength = (buf: Buffer) => number | string;

/** Decodes one whole packet (the bytes are valid only during the call). */
export type PacketDecode = (packet: Buffer, dir: Direction) => AppPacket;

export class PacketStream {
  /** Bytes of an unfinished packet, per direction, and how many messages they came in. */
  private readonly pending = { client: [] as Buffer[], server: [] as Buffer[] };
  private readonly pendingBytes = { client: 0, server: 0 };
  private readonly messages = { client: 0, server: 0 };
  /** The pending packet's whole length once known (0: not known yet). */
  private readonly needed = { client: 0, server: 0 };

  constructor(
    private readonly protocol: ProtocolName,
    private readonly length: PacketLength,
    private readonly decode: PacketDecode,
    private readonly maxPending = MAX_PENDING,
  ) {}

  /** One message's payload: the packets it completes. */
  push(dir: Direction, payload: Buffer): AppResult {
    const out: AppPacket[] = [];
    let buf = payload;
    const held = this.pending[dir];
    if (held.length) {
      // A long packet in many messages: gather its parts, join them once it is all there.
      if (this.pendingBytes[dir] + payload.length < this.needed[dir] && this.pendingBytes[dir] + payload.length <= this.maxPending) {
        held.push(Buffer.from(payload));
        this.pendingBytes[dir] += payload.length;
        this.messages[dir]++;
        return { protocol: this.protocol, partial: true };
      }
      held.push(payload);
      buf = Buffer.concat(held, this.pendingBytes[dir] + payload.length);
    }
    let messages = this.messages[dir] + 1;
    let at = 0;
    this.needed[dir] = 0;
    while (at < buf.length) {
      const rest = buf.subarray(at);
      const n = this.length(rest);
      if (typeof n === 'string') {
        out.push(this.invalid(rest, n, messages));
        at = buf.length;
        break;
      }
      if (n === 0 || n > rest.length) {
        this.needed[dir] = n;
        break;
      }
      const packet = this.decode(rest.subarray(0, n), dir);
      if (messages > 1) packet.fromMessages = messages;
      out.push(packet);
      at += n;
      // Later packets in this message started in it.
      messages = 1;
    }
    const left = buf.length - at;
    if (left === 0) {
      this.reset(dir);
    } else if (left > this.maxPending) {
      out.push(this.invalid(buf.subarray(at), `more than ${this.maxPending} bytes of one unfinished packet; dropped`, messages, 'too-large'));
      this.reset(dir);
    } else {
      // Keep a copy: the payload is only valid during this call.
      this.pending[dir] = [Buffer.from(buf.subarray(at))];
      this.pendingBytes[dir] = left;
      this.messages[dir] = messages;
    }
    if (out.length === 0) return { protocol: this.protocol, partial: true };
    return out.length === 1 ? out[0] : out;
  }

  private reset(dir: Direction): void {
    this.pending[dir] = [];
    this.pendingBytes[dir] = 0;
    this.messages[dir] = 0;
    this.needed[dir] = 0;
  }

  private invalid(bytes: Buffer, why: string, messages: number, rule = 'bad-packet'): AppPacket {
    const p: AppPacket = {
      protocol: this.protocol,
      type: 'invalid',
      summary: `invalid: ${why}`,
      length: bytes.length,
      violations: [appViolation(this.protocol, rule, why)],
    };
    if (messages > 1) p.fromMessages = messages;
    return p;
  }
}
