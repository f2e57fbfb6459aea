import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import WebSocket, { WebSocketServer } from 'ws';
import { buildFrame } from '../../src/decoder/build';
import { ConnectionDecoder, type MessageEvent, type WsEvent } from '../../src/decoder';
import { decodeChunks } from './helpers';

// ws's package.json exports only its entry point: reach lib/ by file path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PerMessageDeflate = require(join(dirname(require.resolve('ws')), 'lib', 'permessage-deflate.js'));

const REQUEST =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n';
const response = (ext: string) =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: ${ext}\r\n\r\n`;

function compress(pmd: { compress: (d: Buffer, fin: boolean, cb: (err: Error | null, out: Buffer) => void) => void }, data: Buffer, fin: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => pmd.compress(data, fin, (err, out) => (err ? reject(err) : resolve(out))));
}

const texts = Array.from({ length: 12 }, (_, i) => JSON.stringify({ name: `user ${i % 3}`, age: 18, description: `user ${i % 3}很厉害!!!!`, padding: 'x'.repeat(i >= 6 ? i * 400 : 0) }));
const messagesOf = (events: WsEvent[]) => events.filter((e): e is MessageEvent => e.event === 'message');

describe('permessage-deflate: messages compressed by ws inflate to the originals', () => {
  const configs = [
    { takeover: true, bits: 15 },
    { takeover: false, bits: 15 },
    { takeover: true, bits: 9 },
    { takeover: false, bits: 9 },
  ];
  it.each(configs)('server to client, context takeover $takeover, window bits $bits', async ({ takeover, bits }) => {
    const pmd = new PerMessageDeflate({ threshold: 0, serverNoContextTakeover: !takeover, serverMaxWindowBits: bits, isServer: true });
    const params = pmd.accept([{}]);
    expect(params.server_max_window_bits).toBe(bits);
    const wire: Buffer[] = [];
    const sizes: number[] = [];
    for (const text of texts) {
      const c = await compress(pmd, Buffer.from(text), true);
      sizes.push(c.length);
      wire.push(buildFrame({ opcode: 1, rsv1: true, payload: c }));
    }
    const ext = `permessage-deflate; server_max_window_bits=${bits}${takeover ? '' : '; server_no_context_takeover'}`;
    const events = decodeChunks([['client', Buffer.from(REQUEST)], ['server', Buffer.from(response(ext))], ['server', Buffer.concat(wire)]]);
    expect(events[0]).toMatchObject({ event: 'handshake', permessageDeflate: { serverMaxWindowBits: bits, serverNoContextTakeover: !takeover }, violations: [] });
    expect(messagesOf(events).map((m) => [m.text, m.compressed, m.length, m.violations])).toEqual(texts.map((t) => [t, true, Buffer.byteLength(t), []]));
    // With context takeover, repeating a message costs a few bytes: the test really uses the window.
    if (takeover) expect(sizes[3]).toBeLessThan(sizes[0] / 2);
  });
  it.each(configs)('client to server (masked, fragmented), context takeover $takeover, window bits $bits', async ({ takeover, bits }) => {
    const pmd = new PerMessageDeflate({ threshold: 0, isServer: false });
    pmd.accept([{ client_max_window_bits: [String(bits)], ...(takeover ? {} : { client_no_context_takeover: [true] }) }]);
    const wire: Buffer[] = [];
    const mask = Buffer.from('5a6b7c8d', 'hex');
    for (const text of texts) {
      // Each message in two compressed fragments: RSV1 on the first only (RFC 7692 §6.1).
      const half = Math.floor(text.length / 2);
      const a = await compress(pmd, Buffer.from(text.slice(0, half)), false);
      const b = await compress(pmd, Buffer.from(text.slice(half)), true);
      wire.push(buildFrame({ opcode: 1, fin: false, rsv1: true, payload: a, mask }), buildFrame({ opcode: 0, payload: b, mask }));
    }
    const ext = `permessage-deflate; client_max_window_bits=${bits}${takeover ? '' : '; client_no_context_takeover'}`;
    const events = decodeChunks([['client', Buffer.from(REQUEST)], ['server', Buffer.from(response(ext))], ['client', Buffer.concat(wire)]]);
    expect(messagesOf(events).map((m) => [m.text, m.frames, m.compressed, m.violations])).toEqual(texts.map((t) => [t, 2, true, []]));
    expect(events.filter((e) => 'violations' in e && e.violations!.length > 0)).toEqual([]);
  });
  it('a stream that uses the window, decoded as if no_context_takeover were negotiated, fails to inflate', async () => {
    const pmd = new PerMessageDeflate({ threshold: 0, isServer: true });
    pmd.accept([{}]);
    const wire: Buffer[] = [];
    for (const text of [texts[0], texts[0]]) wire.push(buildFrame({ opcode: 1, rsv1: true, payload: await compress(pmd, Buffer.from(text), true) }));
    const events = decodeChunks([['client', Buffer.from(REQUEST)], ['server', Buffer.from(response('permessage-deflate; server_no_context_takeover'))], ['server', Buffer.concat(wire)]]);
    const [first, second] = messagesOf(events);
    expect(first.violations).toEqual([]);
    expect(second.violations.map((v) => v.rule)).toEqual(['inflate-failed']);
  });
  it('an inflate bomb stops at the limit without inflating it all', () => {
    const bomb = deflateRawSync(Buffer.alloc(32 * 1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH });
    const frame = buildFrame({ opcode: 2, rsv1: true, payload: bomb.subarray(0, bomb.length - 4) });
    const events = decodeChunks([['server', frame], ['server', buildFrame({ opcode: 1, payload: 'after' })]], {
      start: 'frames',
      extensions: 'permessage-deflate',
      maxInflate: 1024 * 1024,
    });
    expect(events.map((e) => e.event)).toEqual(['frame', 'error', 'message', 'frame', 'message']);
    expect(events[1]).toMatchObject({ message: expect.stringContaining('larger than 1048576 bytes') });
    expect(messagesOf(events)[1]).toMatchObject({ text: 'after' });
  });
  it('a compressed message over the limit is not inflated; with context takeover the window is lost for the next one', () => {
    const big = deflateRawSync(Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 97 + 13) & 0xff)), { finishFlush: constants.Z_SYNC_FLUSH });
    const wire = [buildFrame({ opcode: 2, rsv1: true, payload: big.subarray(0, big.length - 4) }), Buffer.from('c107f248cdc9c90700', 'hex')]; // then "Hello" (RFC 7692 §7.2.3.1)
    const decode = (extensions: string) => decodeChunks(wire.map((b): ['server', Buffer] => ['server', b]), { start: 'frames', extensions, maxInflate: 16 });
    const takeover = decode('permessage-deflate');
    expect(takeover.filter((e) => e.event === 'error')).toEqual([expect.objectContaining({ message: expect.stringContaining('exceeds the 16-byte inflate limit') })]);
    expect(messagesOf(takeover)[1].violations).toEqual([expect.objectContaining({ rule: 'inflate-failed', message: expect.stringContaining('context was lost') })]);
    const reset = decode('permessage-deflate; server_no_context_takeover');
    expect(messagesOf(reset)[1]).toMatchObject({ text: 'Hello', violations: [] });
  });
});

describe('a real ws client and server on 127.0.0.1, through a tee', () => {
  let wss: WebSocketServer;
  let tee: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => tee?.close(() => r()));
    await new Promise<void>((r) => wss?.close(() => r()));
  });
  it('decodes the handshake, compressed messages both ways with context takeover, and the close', async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
    await new Promise<void>((r) => wss.on('listening', () => r()));
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const events: WsEvent[] = [];
    const decoder = new ConnectionDecoder({ conn: 7, onEvent: (e) => events.push(e) });
    tee = createServer((down) => {
      const up = connect((wss.address() as AddressInfo).port, '127.0.0.1');
      sockets.push(down, up);
      down.on('data', (c) => {
        decoder.push('client', c, Date.now());
        up.write(c);
      });
      up.on('data', (c) => {
        decoder.push('server', c, Date.now());
        down.write(c);
      });
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((r) => tee.listen(0, '127.0.0.1', () => r()));
    const ws = new WebSocket(`ws://127.0.0.1:${(tee.address() as AddressInfo).port}/`, { perMessageDeflate: { threshold: 0 } });
    const echoes: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () => texts.slice(0, 6).forEach((t) => ws.send(t)));
      ws.on('message', (d) => {
        echoes.push(d.toString());
        if (echoes.length === 6) ws.close(1000, 'done');
      });
      ws.on('close', () => resolve());
    });
    const hs = events.find((e) => e.event === 'handshake');
    expect(hs).toMatchObject({ acceptValid: true, violations: [], permessageDeflate: expect.objectContaining({ serverNoContextTakeover: false, clientNoContextTakeover: false }) });
    const msgs = messagesOf(events);
    expect(msgs.filter((m) => m.dir === 'client').map((m) => [m.text, m.compressed])).toEqual(texts.slice(0, 6).map((t) => [t, true]));
    expect(msgs.filter((m) => m.dir === 'server').map((m) => m.text)).toEqual(texts.slice(0, 6));
    const closes = events.filter((e) => e.event === 'frame' && e.opcode === 8);
    expect(closes[0]).toMatchObject({ dir: 'client', closeCode: 1000, closeReason: 'done', masked: true, violations: [] });
    expect(events.filter((e) => e.event === 'error' || ('violations' in e && e.violations!.length > 0))).toEqual([]);
  });
});
