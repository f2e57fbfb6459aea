import { buildFrame } from '../../src/decoder/build';
import type { WsEvent } from '../../src/decoder/events';
import { createDecoder, MODULES, SNIFF_MESSAGES, type AppPacket } from '../../src/protocols';
import { PacketStream } from '../../src/protocols/packets';
import { apps, handshake, MASK, messages, run } from './helpers';

const rpc = (id: number, method: string) => JSON.stringify({ jsonrpc: '2.0', id, method, params: [1] });
const rpcResult = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, result: 7 });

describe('detection', () => {
  test('Sec-WebSocket-Protocol decides, and the handshake event and a protocol event say why', () => {
    const events = run('/', 'v12.stomp', [['client', 'CONNECT\naccept-version:1.2\nhost:/\n\n\0']]);
    const hs = events.find((e) => e.event === 'handshake')!;
    expect(hs.event === 'handshake' && hs.app).toEqual({ protocol: 'stomp', reason: 'Sec-WebSocket-Protocol: v12.stomp' });
    const i = events.indexOf(hs);
    expect(events[i + 1]).toEqual({ event: 'protocol', ts: 0, conn: 1, protocol: 'stomp', reason: 'Sec-WebSocket-Protocol: v12.stomp' });
    expect((apps(events)[0] as AppPacket).type).toBe('CONNECT');
  });

  test('the path and query decide: /socket.io/?EIO=4', () => {
    const events = run('/socket.io/?EIO=4&transport=websocket', undefined, [['server', '0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}']]);
    const p = events.find((e) => e.event === 'protocol');
    expect(p).toMatchObject({ protocol: 'socket.io', reason: 'path /socket.io/ with EIO=4 (Socket.IO v5 over Engine.IO v4)' });
    expect(apps(events)[0]).toMatchObject({ protocol: 'engine.io', type: 'open', sid: 'a' });
  });

  test('a strict check of the first messages decides, and the deciding message is decoded', () => {
    const events = run('/rpc', undefined, [['client', 'hello'], ['client', rpc(1, 'sum')]]);
    const p = events.findIndex((e) => e.event === 'protocol');
    expect(events[p]).toMatchObject({ protocol: 'json-rpc', ts: 1 });
    // The protocol event comes right before the message that decided.
    expect(events[p + 1]).toMatchObject({ event: 'message', app: { protocol: 'json-rpc', type: 'request', event: 'sum', id: 1 } });
    expect(apps(events)[0]).toBeUndefined();
  });

  test('weak evidence is nobody\'s: a lone "2", "o", "40" on an unknown connection', () => {
    for (const text of ['2', '3', 'o', '40', 'h', 'a["x"]', '{"type":"ping"}', '{"type":"connection_init"}', '\n', '[]', '{}']) {
      for (const dir of ['client', 'server'] as const) {
        const events = run('/chat', undefined, [[dir, text]]);
        expect(events.filter((e) => e.event === 'protocol')).toEqual([]);
        expect(apps(events)).toEqual([undefined]);
      }
    }
  });

  test('--protocol forces one on every connection, even without a handshake', () => {
    const events = run(null, undefined, [['client', '42["chat","hi"]']], { force: 'socket.io' });
    expect(events[0]).toEqual({ event: 'protocol', ts: 0, conn: 1, protocol: 'socket.io', reason: 'forced by --protocol socket.io' });
    expect(apps(events)[0]).toMatchObject({ protocol: 'socket.io', type: 'EVENT', event: 'chat', args: ['hi'] });
  });

  test('an unknown --protocol is a clear error', () => {
    expect(() => createDecoder({ conn: 1, protocol: 'nope', onEvent: () => undefined })).toThrow(/^unknown protocol "nope" \(known: .*stomp.*\)$/);
  });

  test(`after ${SNIFF_MESSAGES} unrecognised messages the layer detaches: nothing more is decoded`, () => {
    const noise: [('client' | 'server'), string][] = Array.from({ length: SNIFF_MESSAGES }, (_, i) => ['client', `noise ${i}`]);
    const events = run('/x', undefined, [...noise, ['client', rpc(1, 'late')]]);
    expect(events.some((e) => e.event === 'protocol')).toBe(false);
    expect(apps(events).every((a) => a === undefined)).toBe(true);
    expect(messages(events)).toHaveLength(SNIFF_MESSAGES + 1);
  });

  test('every registered module has a distinct name and opens a session', () => {
    const names = MODULES.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('whole messages', () => {
  test('a message longer than --max-payload is decoded from all its bytes (the event text stays capped)', () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'put', params: ['x'.repeat(5000)] });
    const events = run(null, undefined, [['client', big]], { force: 'json-rpc', maxPayload: 100 });
    const m = messages(events)[0];
    expect(m.text).toHaveLength(100);
    expect(m.truncated).toBe(true);
    expect(m.app).toMatchObject({ type: 'request', event: 'put', id: 9 });
    expect(((m.app as AppPacket).params as string[])[0]).toHaveLength(5000);
  });

  test('a fragmented message is decoded once, whole, at its last frame, in any chunking', () => {
    const text = rpc(3, 'frag');
    const bytes = Buffer.concat([
      buildFrame({ opcode: 1, fin: false, payload: text.slice(0, 10), mask: MASK }),
      buildFrame({ opcode: 9, payload: 'p', mask: MASK }),
      buildFrame({ opcode: 0, fin: false, payload: text.slice(10, 20), mask: MASK }),
      buildFrame({ opcode: 0, payload: text.slice(20), mask: MASK }),
    ]);
    for (const step of [1, 3, bytes.length]) {
      const events: WsEvent[] = [];
      const d = createDecoder({ conn: 1, protocol: 'json-rpc', maxPayload: 8, start: 'frames', onEvent: (e) => events.push(e) });
      for (let i = 0; i < bytes.length; i += step) d.push('client', bytes.subarray(i, i + step), 0);
      expect(apps(events)).toEqual([expect.objectContaining({ type: 'request', event: 'frag', id: 3 })]);
    }
  });

  test('binary messages larger than the preview are whole too', () => {
    const events: WsEvent[] = [];
    const d = createDecoder({ conn: 1, protocol: 'socket.io', maxPayload: 4, start: 'frames', onEvent: (e) => events.push(e) });
    d.push('client', buildFrame({ opcode: 1, payload: '451-["up",{"_placeholder":true,"num":0}]', mask: MASK }), 0);
    d.push('client', buildFrame({ opcode: 2, payload: Buffer.alloc(300, 7), mask: MASK }), 0);
    const a = apps(events);
    expect(a[0]).toEqual({ protocol: 'socket.io', partial: true });
    expect(a[1]).toMatchObject({ type: 'BINARY_EVENT', event: 'up', fromMessages: 2, args: [{ attachment: 0, length: 300 }] });
  });
});

describe('request/response links', () => {
  test('an answer points at its request (replyTo), the request at its answer (answeredBy)', () => {
    const events = run('/', 'jsonrpc', [
      ['client', rpc(1, 'a')],
      ['client', rpc(2, 'b')],
      ['server', rpcResult(2)],
      ['server', rpcResult(1)],
    ]);
    const a = apps(events) as AppPacket[];
    expect(a[2].replyTo).toEqual({ dir: 'client', message: 1 });
    expect(a[3].replyTo).toEqual({ dir: 'client', message: 0 });
    expect(a[0].answeredBy).toEqual({ dir: 'server', message: 1 });
    expect(a[1].answeredBy).toEqual({ dir: 'server', message: 0 });
  });

  test('a stream (GraphQL next) links every item and ends with complete', () => {
    const events = run('/graphql', 'graphql-transport-ws', [
      ['client', '{"type":"connection_init"}'],
      ['server', '{"type":"connection_ack"}'],
      ['client', '{"id":"1","type":"subscribe","payload":{"query":"subscription { greetings }"}}'],
      ['server', '{"id":"1","type":"next","payload":{"data":{"greetings":"Hi"}}}'],
      ['server', '{"id":"1","type":"next","payload":{"data":{"greetings":"Bonjour"}}}'],
      ['server', '{"id":"1","type":"complete"}'],
      ['server', '{"id":"1","type":"next","payload":{"data":{}}}'],
    ]);
    const a = apps(events) as AppPacket[];
    expect(a[3].replyTo).toEqual({ dir: 'client', message: 1 });
    expect(a[4].replyTo).toEqual({ dir: 'client', message: 1 });
    expect(a[5].replyTo).toEqual({ dir: 'client', message: 1 });
    expect(a[6].replyTo).toBeUndefined();
    expect(a[2].answeredBy).toEqual({ dir: 'server', message: 1 });
  });
});

describe('packet reassembly (packets.ts)', () => {
  // A toy packet protocol: one length byte, then that many bytes.
  const stream = () => new PacketStream('mqtt', (b) => (b.length < 1 ? 0 : b[0] === 0xff ? 'bad length byte ff' : 1 + b[0]), (b) => ({ protocol: 'mqtt', type: 'T', summary: b.subarray(1).toString() }), 64);

  test('split across messages, several in one, partial ones, per direction', () => {
    const s = stream();
    expect(s.push('client', Buffer.from([5, 0x61]))).toEqual({ protocol: 'mqtt', partial: true });
    expect(s.push('server', Buffer.from([1, 0x7a]))).toMatchObject({ summary: 'z' });
    expect(s.push('client', Buffer.from('bc'))).toEqual({ protocol: 'mqtt', partial: true });
    expect(s.push('client', Buffer.from([0x64, 0x65, 2, 0x78, 0x79, 1]))).toEqual([
      { protocol: 'mqtt', type: 'T', summary: 'abcde', fromMessages: 3 },
      { protocol: 'mqtt', type: 'T', summary: 'xy' },
    ]);
    expect(s.push('client', Buffer.from('q'))).toEqual({ protocol: 'mqtt', type: 'T', summary: 'q', fromMessages: 2 });
  });

  test('unframeable bytes become one invalid packet and reassembly starts over', () => {
    const s = stream();
    expect(s.push('client', Buffer.from([1, 0x61, 0xff, 9, 9]))).toEqual([
      { protocol: 'mqtt', type: 'T', summary: 'a' },
      { protocol: 'mqtt', type: 'invalid', summary: 'invalid: bad length byte ff', length: 3, violations: [{ rule: 'mqtt-bad-packet', message: 'bad length byte ff' }] },
    ]);
    expect(s.push('client', Buffer.from([1, 0x62]))).toMatchObject({ summary: 'b' });
  });

  test('memory is bounded: an unfinished packet beyond the limit is dropped', () => {
    const s = new PacketStream('mqtt', () => 0, () => ({ protocol: 'mqtt', type: 'T', summary: '' }), 64);
    expect(s.push('client', Buffer.alloc(40))).toEqual({ protocol: 'mqtt', partial: true });
    expect(s.push('client', Buffer.alloc(40))).toMatchObject({ type: 'invalid', violations: [{ rule: 'mqtt-too-large' }] });
    expect(s.push('client', Buffer.alloc(10))).toEqual({ protocol: 'mqtt', partial: true });
  });
});

test('a handshake helper sanity check: the decoder accepts it', () => {
  const hs = handshake('/', 'x');
  const events: WsEvent[] = [];
  const d = createDecoder({ conn: 1, onEvent: (e) => events.push(e) });
  d.push('client', hs.request, 0);
  d.push('server', hs.response, 0);
  expect(events.map((e) => e.event)).toEqual(['handshake']);
});
