/** MQTT, WAMP, SignalR, MessagePack, CBOR and unwrapping through createDecoder (the layer every view uses). */
import { encode as msgpack } from '@msgpack/msgpack';
import { encode as cbor } from 'cbor-x';
import * as zlib from 'zlib';
import type { AppPacket } from '../../src/protocols';
import { UNWRAP_MAX, UNWRAP_TRIES, Unwrapper } from '../../src/protocols/unwrap';
import { apps, run } from './helpers';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const protocolOf = (events: ReturnType<typeof run>) => events.find((e) => e.event === 'protocol');
const CONNECT_V4 = hex('10 1c 0004 4d515454 04 ce 000a 0002 6331 0001 77 0003 627965 0001 75 0001 70');

describe('detection of MQTT, WAMP, SignalR, MessagePack and CBOR', () => {
  test('Sec-WebSocket-Protocol: mqtt; a CONNECT in nine messages, reported on the ninth', () => {
    const cuts = [0, 1, 2, 8, 9, 10, 12, 16, 22, CONNECT_V4.length];
    const msgs = cuts.slice(1).map((end, k) => ['client', CONNECT_V4.subarray(cuts[k], end)] as ['client', Buffer]);
    const events = run('/mqtt', 'mqtt', [...msgs, ['server', hex('20 02 00 00')], ['client', hex('33 0c 0003 742f31 0007 68656c6c6f')], ['server', hex('40 02 0007')]]);
    expect(protocolOf(events)).toMatchObject({ protocol: 'mqtt', reason: 'Sec-WebSocket-Protocol: mqtt' });
    const a = apps(events) as AppPacket[];
    expect(a.slice(0, 8)).toEqual(Array(8).fill({ protocol: 'mqtt', partial: true }));
    expect(a[8]).toMatchObject({ type: 'CONNECT', fromMessages: 9, clientId: 'c1' });
    expect(a[9].summary).toBe('CONNACK Connection Accepted');
    expect(a[10]).toMatchObject({ summary: 'PUBLISH t/1 qos 1 id 7 retain "hello"', topic: 't/1', id: 7, pair: 'request', answeredBy: { dir: 'server', message: 1 } });
    expect(a[11]).toMatchObject({ type: 'PUBACK', replyTo: { dir: 'client', message: 9 } });
  });

  test('a whole CONNECT as the first message is sniffed; a lone 0x10 is not', () => {
    expect(protocolOf(run('/', undefined, [['client', CONNECT_V4]]))).toMatchObject({ protocol: 'mqtt' });
    expect(protocolOf(run('/', undefined, [['client', hex('10')], ['client', hex('c000')]]))).toBeUndefined();
  });

  test('wamp.2.json, wamp.2.msgpack, wamp.2.cbor; a JSON HELLO is sniffed', () => {
    const call = [48, 1, {}, 'com.add', [2, 3]];
    expect(apps(run('/ws', 'wamp.2.json', [['client', JSON.stringify(call)]]))[0]).toMatchObject({ type: 'CALL', serialization: 'json', event: 'com.add' });
    expect(apps(run('/ws', 'wamp.2.msgpack', [['client', Buffer.from(msgpack(call))]]))[0]).toMatchObject({ type: 'CALL', serialization: 'msgpack' });
    expect(apps(run('/ws', 'wamp.2.cbor', [['client', Buffer.from(cbor(call))]]))[0]).toMatchObject({ type: 'CALL', serialization: 'cbor' });
    const hello = run('/ws', undefined, [['client', JSON.stringify([1, 'realm1', { roles: { caller: {} } }])]]);
    expect(protocolOf(hello)).toMatchObject({ protocol: 'wamp' });
  });

  test('SignalR by its handshake request, or by a connection token in ?id=', () => {
    const events = run('/chathub', undefined, [['client', '{"protocol":"json","version":1}\x1e'], ['server', '{}\x1e'],
      ['client', '{"type":1,"invocationId":"0","target":"Send","arguments":["hi"]}\x1e'], ['server', '{"type":3,"invocationId":"0","result":null}\x1e']]);
    expect(protocolOf(events)).toMatchObject({ protocol: 'signalr' });
    const a = apps(events) as AppPacket[];
    expect(a.map((p) => p.type)).toEqual(['Handshake', 'HandshakeResponse', 'Invocation', 'Completion']);
    expect(a[2]).toMatchObject({ event: 'Send', answeredBy: { dir: 'server', message: 1 } });
    expect(protocolOf(run('/chathub?id=Q2v5JRUK3s_9QmUflR2ZVA', undefined, []))).toMatchObject({ protocol: 'signalr', reason: 'query id=Q2v5JRUK3s_9QmUflR2ZVA (a SignalR connection token)' });
    expect(protocolOf(run('/item?id=42', undefined, []))).toBeUndefined();
  });

  test('MessagePack and CBOR only when negotiated or forced, never guessed from binary', () => {
    const value = { a: [1, 'x'] };
    expect(apps(run('/', 'msgpack', [['server', Buffer.from(msgpack(value))]]))[0]).toMatchObject({ protocol: 'msgpack', type: 'map', value });
    expect(apps(run('/', 'v1.cbor', [['server', Buffer.from(cbor(value))]]))[0]).toMatchObject({ protocol: 'cbor', type: 'map', value });
    expect(apps(run(null, undefined, [['server', Buffer.from(cbor(value))]], { force: 'cbor' }))[0]).toMatchObject({ protocol: 'cbor', value });
    for (const b of [Buffer.from(msgpack(value)), Buffer.from(cbor(value)), Buffer.from(msgpack([1, 2, 3])), hex('93010203')]) {
      const events = run('/', undefined, [['server', b], ['client', b]]);
      expect(protocolOf(events)).toBeUndefined();
      expect(apps(events)).toEqual([undefined, undefined]);
    }
  });
});

describe('compressed and base64-wrapped payloads', () => {
  const rpc = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sum', params: [1, 2] });

  test('gzip, zlib, raw deflate, brotli and base64(gzip) JSON-RPC: unwrapped, recognised, the wrapping in the description', () => {
    const cases: [string, Buffer | string][] = [
      ['gzip', zlib.gzipSync(rpc)], ['zlib', zlib.deflateSync(rpc)], ['deflate', zlib.deflateRawSync(rpc)],
      ['brotli', zlib.brotliCompressSync(rpc)], ['base64+gzip', zlib.gzipSync(rpc).toString('base64')], ['base64', Buffer.from(rpc).toString('base64')],
    ];
    for (const [w, payload] of cases) {
      const events = run('/rpc', undefined, [['client', payload]]);
      expect({ w, app: apps(events)[0] }).toMatchObject({ w, app: { protocol: 'json-rpc', event: 'sum', wrapping: w, summary: expect.stringMatching(new RegExp(`^\\[${w.replace('+', '\\+')}\\] `)) } });
    }
  });

  test('the unwrapped payload feeds the connection\'s protocol after detection too (WAMP JSON, gzip per message)', () => {
    const events = run('/ws', 'wamp.2.json', [['client', zlib.gzipSync(JSON.stringify([48, 1, {}, 'com.add', []]))]]);
    expect(apps(events)[0]).toMatchObject({ type: 'CALL', wrapping: 'gzip' });
  });

  test('a decompression bomb stops at UNWRAP_MAX: reported, memory bounded', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KiB
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const u = new Unwrapper().unwrap(2, bomb);
    expect(u).toEqual({ wrapping: ['gzip'], error: `inflates past ${UNWRAP_MAX} bytes (not unwrapped)` });
    expect(process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    const events = run('/ws', 'wamp.2.json', [['client', bomb]]);
    expect(apps(events)[0]).toMatchObject({ protocol: 'wamp', type: 'wrapped', wrapping: 'gzip', summary: `[gzip] inflates past ${UNWRAP_MAX} bytes (not unwrapped)` });
  });

  test('strict: plain words, random binary and MQTT packets are not unwrapped; headerless tries stop after UNWRAP_TRIES binary messages', () => {
    const u = new Unwrapper();
    for (const text of ['test', 'abcdefgh', 'SGVsbG8gd29ybGQ=', '{"a":1}']) expect(u.unwrap(1, Buffer.from(text))).toBeNull();
    expect(u.unwrap(2, CONNECT_V4)).toBeNull();
    for (let i = 0; i < UNWRAP_TRIES; i++) u.unwrap(2, Buffer.from([i, 1, 2, 3]));
    expect(new Unwrapper().unwrap(2, zlib.deflateRawSync('hello there'))).toMatchObject({ wrapping: ['deflate'], opcode: 1 });
    expect(u.unwrap(2, zlib.deflateRawSync('hello there'))).toBeNull();
    expect(u.unwrap(2, zlib.gzipSync('hello there'))).toMatchObject({ wrapping: ['gzip'] });
  });
});
