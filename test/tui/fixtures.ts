/**
 * Test helpers: FrameEvents from real frame bytes (built with src/decoder/build.ts), so
 * the UI's tests do not depend on the decoder's parsing (only on its builder and tables).
 */
import { buildFrame, type FrameSpec } from '../../src/decoder/build';
import { opcodeName } from '../../src/decoder/constants';
import type { FrameEvent, HandshakeEvent, MessageEvent, OpenEvent, Violation } from '../../src/decoder/events';

/** A fixed local time, so that clock columns read 12:00:00.000 + ms in any time zone. */
export const T0 = new Date(2026, 0, 2, 12, 0, 0, 0).getTime();

export interface FrameOpts {
  conn?: number;
  dir?: 'client' | 'server';
  index?: number;
  offset?: number;
  ts?: number;
  violations?: Violation[];
  maxPayload?: number;
}

/** Parses the bytes of one whole frame into the event the decoder would publish. */
export function frameEventFromBytes(buf: Buffer, o: FrameOpts = {}): FrameEvent {
  const len7 = buf[1] & 0x7f;
  const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const masked = (buf[1] & 0x80) !== 0;
  const headerLength = 2 + ext + (masked ? 4 : 0);
  const key = masked ? buf.subarray(2 + ext, headerLength) : null;
  const payload = Buffer.from(buf.subarray(headerLength));
  if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
  const payloadLength = len7 < 126 ? len7 : len7 === 126 ? buf.readUInt16BE(2) : Number(buf.readBigUInt64BE(2));
  const opcode = buf[0] & 0x0f;
  const kept = payload.subarray(0, o.maxPayload ?? 65536);
  const ev: FrameEvent = {
    event: 'frame',
    ts: o.ts ?? T0,
    conn: o.conn ?? 1,
    dir: o.dir ?? (masked ? 'client' : 'server'),
    index: o.index ?? 0,
    offset: o.offset ?? 0,
    header: buf.subarray(0, headerLength).toString('hex'),
    fin: (buf[0] & 0x80) !== 0,
    rsv1: (buf[0] & 0x40) !== 0,
    rsv2: (buf[0] & 0x20) !== 0,
    rsv3: (buf[0] & 0x10) !== 0,
    opcode,
    opcodeName: opcodeName(opcode),
    masked,
    maskKey: key ? key.toString('hex') : null,
    payloadLength,
    lengthForm: len7 < 126 ? 7 : len7 === 126 ? 16 : 64,
    payload: kept.toString('hex'),
    payloadTruncated: kept.length < payload.length,
    violations: o.violations ?? [],
  };
  if (opcode === 8 && payload.length >= 2) {
    ev.closeCode = payload.readUInt16BE(0);
    ev.closeReason = payload.subarray(2).toString('utf8');
  }
  return ev;
}

export const KEY = Buffer.from('37fa213d', 'hex');

/** A frame event from a spec (masked with KEY when dir is client, unless mask is given). */
export function frame(spec: FrameSpec, o: FrameOpts = {}): FrameEvent {
  const dir = o.dir ?? 'client';
  const mask = spec.mask !== undefined ? spec.mask : dir === 'client' ? KEY : null;
  return frameEventFromBytes(buildFrame({ ...spec, mask }), { ...o, dir });
}

export function open(conn = 1, ts = T0): OpenEvent {
  return { event: 'open', ts, conn, client: `127.0.0.1:${50000 + conn}`, target: 'ws://127.0.0.1:8080/json' };
}

/** The handshake of RFC 6455 §1.3's example key. */
export function handshake(conn = 1, ts = T0, accept = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='): HandshakeEvent {
  return {
    event: 'handshake',
    ts,
    conn,
    request: {
      method: 'GET',
      target: '/json',
      version: 'HTTP/1.1',
      headers: [
        ['Host', '127.0.0.1:9000'],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Sec-WebSocket-Version', '13'],
      ],
    },
    response: {
      version: 'HTTP/1.1',
      status: 101,
      reason: 'Switching Protocols',
      headers: [
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Accept', accept],
      ],
    },
    key: 'dGhlIHNhbXBsZSBub25jZQ==',
    accept,
    expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    acceptValid: accept === 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    protocol: null,
    extensions: null,
    violations: [],
  };
}

export function message(conn: number, dir: 'client' | 'server', text: string, frames = 1, ts = T0, compressed = false): MessageEvent {
  return { event: 'message', ts, conn, dir, opcode: 1, opcodeName: 'text', frames, length: Buffer.byteLength(text), compressed, text, violations: [] };
}
