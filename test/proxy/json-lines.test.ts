/**
 * eventChunk (views/json.ts) writes the hex of large payloads straight from their bytes:
 * its output must be exactly JSON.stringify(event) + "\n", whatever the payload size, the
 * parity of the line's prefix (the digits are stored two at a time), masking, truncation
 * and fragmentation.
 */
import { PassThrough } from 'stream';
import { ConnectionDecoder } from '../../src/decoder';
import { buildFrame, type FrameSpec } from '../../src/decoder/build';
import type { WsEvent } from '../../src/decoder/events';
import { Session } from '../../src/session';
import { attachJsonView, eventChunk } from '../../src/views/json';
import { UPGRADE_RESPONSE, upgradeRequest } from './helpers';

const REQUEST = upgradeRequest();
const RESPONSE = UPGRADE_RESPONSE;
const MASK = Buffer.from('a1b2c3d4', 'hex');

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** The events of a connection whose client sends `client` and whose server sends `server`. */
function decode(conn: number, client: FrameSpec[], server: FrameSpec[], maxPayload?: number): WsEvent[] {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn, maxPayload, onEvent: (e) => events.push(e) });
  d.push('client', Buffer.from(REQUEST), 1);
  d.push('server', Buffer.from(RESPONSE), 2);
  d.push('client', Buffer.concat(client.map((s) => buildFrame({ mask: MASK, ...s }))), 3);
  d.push('server', Buffer.concat(server.map(buildFrame)), 4);
  d.finish(5);
  return events;
}

const text = (chunk: string | Buffer) => (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));

const CASES: [string, () => WsEvent[]][] = [
  ['binary, masked and not, every length form', () =>
    decode(1, [{ opcode: 2, payload: bytes(4096, 1) }, { opcode: 2, payload: bytes(4097, 2) }, { opcode: 2, payload: bytes(70001, 3) }],
      [{ opcode: 2, payload: bytes(65536, 4) }, { opcode: 2, payload: bytes(9999, 5) }])],
  ['a longer conn number shifts the prefix by one (the other parity)', () =>
    decode(10, [{ opcode: 2, payload: bytes(5000, 6) }], [{ opcode: 2, payload: bytes(5001, 7) }])],
  ['truncated previews and violations after the hex', () =>
    decode(123, [{ opcode: 2, rsv1: true, payload: bytes(20000, 8) }], [{ opcode: 2, payload: bytes(20000, 9) }], 5001)],
  ['fragmented messages and a large text frame', () =>
    decode(7, [{ opcode: 2, fin: false, payload: bytes(6000, 10) }, { opcode: 0, payload: bytes(6000, 11) }, { opcode: 1, payload: 'é"\\'.repeat(3000) }], [])],
];

describe.each(CASES)('eventChunk: %s', (_name, events) => {
  test('equals JSON.stringify(event) + "\\n", and large payloads take the byte path', () => {
    const list = events();
    // Before anything reads the hex strings (reading them makes the lazy hex a string).
    const chunks = list.map(eventChunk);
    expect(chunks.map(text)).toEqual(list.map((e) => JSON.stringify(e) + '\n'));
    const big = list.filter((e) => (e.event === 'frame' && e.payload.length >= 8192) || (e.event === 'message' && (e.data?.length ?? 0) >= 8192));
    expect(big.length).toBeGreaterThan(0);
    expect(chunks.filter(Buffer.isBuffer).length).toBe(big.length);
    // Once the strings exist, the string path gives the same lines.
    expect(list.map(eventChunk).map(text)).toEqual(list.map((e) => JSON.stringify(e) + '\n'));
  });
});

test('eventChunk: a reassigned payload is written as assigned', () => {
  const [frame] = decode(1, [{ opcode: 2, payload: bytes(8192, 1) }], []).filter((e) => e.event === 'frame');
  (frame as { payload: string }).payload = 'abcd';
  expect(eventChunk(frame)).toBe(JSON.stringify(frame) + '\n');
  expect(JSON.parse(text(eventChunk(frame))).payload).toBe('abcd');
});

test('the json view writes the byte lines in order with the batched ones', () => {
  const list = decode(3, [{ opcode: 1, payload: 'hi' }, { opcode: 2, payload: bytes(50000, 2) }, { opcode: 1, payload: 'there' }], []);
  const session = new Session();
  const out = new PassThrough();
  const got: Buffer[] = [];
  out.on('data', (c: Buffer) => got.push(c));
  const flush = attachJsonView(session, out);
  for (const e of list) session.publish(e);
  flush();
  expect(Buffer.concat(got).toString('utf8')).toBe(list.map((e) => JSON.stringify(e) + '\n').join(''));
});
