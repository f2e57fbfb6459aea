/** --deflate: permessage-deflate as gorilla's EnableCompression negotiates and uses it. */
import { constants as zlibConstants, inflateRawSync } from 'zlib';
import WebSocket from 'ws';
import { BackendHandle, startBackend } from '../../src/backend';
import { clientFrame, handshakeRequest, RawClient } from './helpers';

let backend: BackendHandle;
let plain: BackendHandle;
const clients: RawClient[] = [];

beforeAll(async () => {
  backend = await startBackend({ port: 0, deflate: true });
  plain = await startBackend({ port: 0 });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await backend.close();
  await plain.close();
});

const OFFER = 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n';
const inflate = (payload: Buffer): Buffer =>
  inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlibConstants.Z_SYNC_FLUSH });

test('the offer is accepted with both no_context_takeover parameters; the reply has RSV1 and inflates to the Go JSON', async () => {
  const c = await RawClient.open(backend.port);
  clients.push(c);
  c.write(handshakeRequest(backend.port, OFFER));
  const head = await c.readHead();
  expect(head).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n');
  c.write(clientFrame(0x1, 'Tom'));
  const { header, payload } = await c.readFrame();
  expect(header[0]).toBe(0xc1); // FIN + RSV1 + text
  expect(inflate(payload).toString()).toBe('{"name":"Tom","age":18,"description":"Tom很厉害!!!!"}\n');
});

test('a long compressed reply: RSV1 only on the first frame, 1024-byte frames, no context carried over', async () => {
  const c = await RawClient.open(backend.port);
  clients.push(c);
  c.write(handshakeRequest(backend.port, OFFER));
  await c.readHead();
  // Pseudo-random letters hardly compress: the deflated reply is longer than 1024 bytes.
  let text = '';
  let seed = 12345;
  for (let i = 0; i < 3000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    text += String.fromCharCode(97 + (seed >> 16) % 26);
  }
  for (let round = 0; round < 2; round++) {
    c.write(clientFrame(0x1, text));
    const frames = [await c.readFrame()];
    while ((frames[frames.length - 1].header[0] & 0x80) === 0) frames.push(await c.readFrame());
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[0].header[0]).toBe(0x41); // RSV1 + text, not final
    for (const f of frames.slice(1)) expect(f.header[0] & 0x7f).toBe(0x00); // continuation, no RSV1
    for (const f of frames.slice(0, -1)) expect(f.payload.length).toBe(1024);
    const json = inflate(Buffer.concat(frames.map((f) => f.payload))).toString();
    expect(json).toBe(`{"name":"${text}","age":18,"description":"${text}很厉害!!!!"}\n`);
  }
});

test('ws with compression on both sides', async () => {
  const client = new WebSocket(`ws://${backend.address}/json`, { perMessageDeflate: { threshold: 0 } });
  const big = '长'.repeat(2000);
  const replies: string[] = [];
  await new Promise<void>((resolve, reject) => {
    client.on('open', () => {
      expect(client.extensions).toContain('permessage-deflate');
      client.send('Tom');
      client.send(big);
    });
    client.on('message', (data) => {
      replies.push(String(data));
      if (replies.length === 2) resolve();
    });
    client.on('error', reject);
  });
  expect(replies[0]).toBe('{"name":"Tom","age":18,"description":"Tom很厉害!!!!"}\n');
  expect(replies[1]).toBe(`{"name":"${big}","age":18,"description":"${big}很厉害!!!!"}\n`);
  await new Promise<void>((resolve) => {
    client.on('close', () => resolve());
    client.close();
  });
});

test('without --deflate the offer is ignored (off by default, as in the seed)', async () => {
  const c = await RawClient.open(plain.port);
  clients.push(c);
  c.write(handshakeRequest(plain.port, OFFER));
  expect(await c.readHead()).not.toContain('Sec-WebSocket-Extensions');
  c.write(clientFrame(0x1, 'Tom'));
  expect((await c.read(1))[0]).toBe(0x81);
});
