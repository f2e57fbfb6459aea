import { PassThrough } from 'stream';
import { ConnectionDecoder } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import type { FrameEvent, WsEvent } from '../../src/decoder/events';
import { lazyHexBytes } from '../../src/decoder/strings';
import { explainFrame } from '../../src/explain';
import { Session } from '../../src/session';
import { attachJsonView } from '../../src/views/json';
import { attachTextView, formatEvent } from '../../src/views/text';
import { UPGRADE_RESPONSE, upgradeRequest } from './helpers';

const MASK = Buffer.from('37fa213d', 'hex');
const REQUEST = upgradeRequest({ path: '/chat', extra: 'X-Evil: a\x1b]0;pwned\x07b\r\n' });
const RESPONSE = UPGRADE_RESPONSE;

function decode(client: Buffer[]): WsEvent[] {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 7, onEvent: (e) => events.push(e) });
  d.push('client', Buffer.concat([Buffer.from(REQUEST, 'latin1'), ...client]), 1);
  d.push('server', Buffer.from(RESPONSE), 2);
  d.finish(3);
  return events;
}

const time = () => 'T';
const lines = (events: WsEvent[], verbose = false) => events.flatMap((e) => formatEvent(e, { time, verbose }));

test('one line per frame: time, connection, arrow, opcode, FIN, length, mask, escaped preview', () => {
  const events = decode([
    buildFrame({ opcode: 1, mask: MASK, payload: 'Hel\x1b[2Jlo\u202e\n' }),
    buildFrame({ opcode: 1, fin: false, mask: MASK, payload: 'ab' }),
    buildFrame({ opcode: 0, mask: MASK, payload: 'cd' }),
    buildFrame({ opcode: 2, payload: Buffer.alloc(30, 0xab) }),
    buildFrame({ opcode: 8, mask: MASK, payload: Buffer.from([3, 232, 0x62, 0x79, 0x65]) }),
  ]);
  expect(lines(events)).toEqual([
    'T #7 handshake  GET /chat → 101 Switching Protocols  accept ok',
    'T #7 C→S text         FIN  len 13     mask 37fa213d "Hel\\x1b[2Jlo\\u202e\\n"',
    'T #7 C→S text         ---  len 2      mask 37fa213d "ab"',
    'T #7 C→S continuation FIN  len 2      mask 37fa213d "cd"',
    'T #7 C→S message text  2 frames  4 bytes  "abcd"',
    'T #7 C→S binary       FIN  len 30     unmasked      ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab …  !! unmasked-client-frame',
    'T #7 C→S close        FIN  len 5      mask 37fa213d 1000 (Normal Closure) "bye"',
  ]);
  for (const line of lines(events, true)) expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
});

test('a compressed frame (RSV1) previews as hex, not as garbled text; its message line has the inflated text', () => {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 7, start: 'frames', extensions: 'permessage-deflate', onEvent: (e) => events.push(e) });
  d.push('server', Buffer.from('c107f248cdc9c90700', 'hex'), 1); // RFC 7692 §7.2.3.1: "Hello" compressed
  d.finish(2);
  expect(lines(events)).toEqual([
    'T #7 S→C text         FIN RSV1  len 7      unmasked      f2 48 cd c9 c9 07 00',
    'T #7 S→C message text  1 frame  5 bytes  deflated  "Hello"',
  ]);
});

test('-v adds the explanation of each frame (src/explain: RFC 6455 §5.2 bits, length form, unmasking) and the handshake headers', () => {
  const events = decode([buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' })]);
  const out = lines(events.filter((e) => e.event !== 'message'), true);
  expect(out).toContain('    > X-Evil: a\\x1b]0;pwned\\x07b');
  expect(out).toContain('    < Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  const frame = out.indexOf('T #7 C→S text         FIN  len 5      mask 37fa213d "Hello"');
  // The block under the frame line is src/explain's explanation (its exact text is tested in
  // test/explain), indented under the log line, down to the unmasking and the payload.
  const explained = explainFrame(events.find((e): e is FrameEvent => e.event === 'frame')!).split('\n').slice(1);
  expect(explained.length).toBeGreaterThan(15);
  expect(out.slice(frame + 1, frame + 1 + explained.length)).toEqual(explained.map((l) => `    ${l}`));
  expect(out).toContain("        [0] 7f ^ 37 = 48  'H'");
});

test('a large payload is previewed from its bytes: the decoder\'s lazy hex string is never made', () => {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 7, start: 'frames', onEvent: (e) => events.push(e) });
  d.push('server', buildFrame({ opcode: 2, fin: false, payload: Buffer.alloc(40000, 0xab) }), 1);
  d.push('server', buildFrame({ opcode: 0, payload: Buffer.alloc(30000, 0xcd) }), 1);
  expect(lines(events)).toEqual([
    'T #7 S→C binary       ---  len 40000  unmasked      ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab …',
    'T #7 S→C continuation FIN  len 30000  unmasked      cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd …',
    'T #7 S→C message binary  2 frames  70000 bytes  ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab …',
  ]);
  expect(lazyHexBytes(events[0], 'payload')).not.toBeNull();
  expect(lazyHexBytes(events[1], 'payload')).not.toBeNull();
  expect(lazyHexBytes(events[2], 'data')).not.toBeNull();
});

test('open, end, error and http lines', () => {
  expect(formatEvent({ event: 'open', ts: 0, conn: 2, client: '127.0.0.1:5000', target: 'ws://h:1/json' }, { time })).toEqual([
    'T #2 open  127.0.0.1:5000 → ws://h:1/json',
  ]);
  expect(formatEvent({ event: 'end', ts: 0, conn: 2, reason: 'server closed', bytes: { client: 10, server: 20 } }, { time })).toEqual([
    'T #2 end   server closed (client sent 10 bytes, server 20)',
  ]);
  expect(formatEvent({ event: 'error', ts: 0, conn: 2, message: 'upstream x: refused\r\n' }, { time })).toEqual(['T #2 error upstream x: refused\\r\\n']);
  expect(
    formatEvent(
      { event: 'http', ts: 0, conn: 3, request: { method: 'GET', target: '/', version: 'HTTP/1.1', headers: [] }, response: { status: 200, reason: 'OK', headers: [] } },
      { time },
    ),
  ).toEqual(['T #3 http  GET / → 200 OK']);
});

test('the json view writes exactly one JSON line per event, nothing else', () => {
  const session = new Session();
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => (text += c));
  const flush = attachJsonView(session, out);
  const events = decode([
    buildFrame({ opcode: 1, mask: MASK, payload: 'Hello "quoted" \u2028' }),
    buildFrame({ opcode: 2, mask: MASK, payload: Buffer.alloc(5000, 0x0f) }),
    buildFrame({ opcode: 8, mask: MASK, payload: Buffer.from([3, 232, 0x22, 0x5c]) }),
  ]);
  for (const e of events) session.publish(e);
  flush();
  expect(text).toBe(events.map((e) => JSON.stringify(e) + '\n').join(''));
  const text2 = new PassThrough();
  let t2 = '';
  text2.on('data', (c) => (t2 += c));
  const off = attachTextView(session, text2, { time });
  session.publish(events[0]);
  off();
  session.publish(events[0]);
  expect(t2).toBe('T #7 handshake  GET /chat → 101 Switching Protocols  accept ok\n');
});
