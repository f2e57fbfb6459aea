/**
 * eventChunk (views/json.ts) writes the hex of large payloads straight from their bytes:
 * its output must be exactly JSON.stringify(event) + "\n", whatever the payload size, the
 * parity of the line's prefix (the digits are stored two at a time), masking, truncation
 * and fragmentation.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough } from 'stream';
import { ConnectionDecoder } from '../../src/decoder';
import { buildFrame, type FrameSpec } from '../../src/decoder/build';
import type { WsEvent } from '../../src/decoder/events';
import { Session } from '../../src/session';
import { attachJsonView, eventChunk, eventLine } from '../../src/views/json';
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

describe('eventLine: the template of small frame and message events is exactly JSON.stringify', () => {
  const line = (e: unknown) => eventLine(e as WsEvent);
  const json = (e: unknown) => JSON.stringify(e) + '\n';

  test('every event of the sample library (close frames, violations, text with escapes, fragments, deflate)', () => {
    const dir = path.join(__dirname, '..', '..', 'samples');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.golden.ndjson'));
    expect(files.length).toBeGreaterThan(5);
    let frames = 0;
    for (const f of files) {
      for (const l of fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)) {
        const e = JSON.parse(l);
        if (e.event === 'frame' || e.event === 'message') frames++;
        expect(line(e)).toBe(json(e));
      }
    }
    expect(frames).toBeGreaterThan(50);
  });

  test('events straight from the decoder: small text, binary, ping, close, masked and not', () => {
    const events = decode(
      3,
      [{ opcode: 1, payload: 'hi "there" \\ \u0001 ✓' }, { opcode: 2, payload: bytes(64, 1) }, { opcode: 9, payload: 'p' }, { opcode: 1, fin: false, payload: 'a' }, { opcode: 0, payload: 'b' }],
      [{ opcode: 1, payload: '{"a":1}' }, { opcode: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye "now"')]) }],
    );
    expect(events.filter((e) => e.event === 'frame').length).toBe(7);
    for (const e of events) expect(line(e)).toBe(json(e));
  });

  test('an unusual shape or value falls back to JSON.stringify', () => {
    const [frame] = decode(4, [{ opcode: 1, payload: 'hello' }], []).filter((e) => e.event === 'frame');
    const message = decode(4, [{ opcode: 2, payload: bytes(3, 2) }], []).find((e) => e.event === 'message')!;
    const variants: unknown[] = [
      { ...frame, extra: 1 }, // a field another stage added
      { ...frame, payload: 'a"b' }, // not hex
      { ...frame, ts: NaN }, // JSON writes null
      { ...frame, fin: 1 },
      { ...frame, maskKey: undefined },
      { ...frame, violations: [{ rule: 'x', message: 'q"uote' }] },
      Object.assign({ ts: 0 }, frame), // another key order (ts first)
      { ...message, app: { protocol: 'json-rpc', type: 'x', summary: 's' } },
      { ...message, data: 'a\\b' },
      { ...message, data: undefined, text: 'x' }, // text, at data's place
      { ...message, truncated: undefined },
    ];
    for (const v of variants) expect(line(v)).toBe(json(v));
  });
});
