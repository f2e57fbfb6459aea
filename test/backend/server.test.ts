/**
 * The backend over real TCP on 127.0.0.1, port 0: exact handshake and frame bytes, HTTP
 * answers, and robustness against bad clients.
 */
import { get } from 'http';
import WebSocket from 'ws';
import { BackendHandle, startBackend } from '../../src/backend';
import { ACCEPT, clientFrame, handshakeRequest, openWebSocket, RawClient } from './helpers';

let backend: BackendHandle;
const clients: RawClient[] = [];
const logs: string[] = [];

beforeAll(async () => {
  backend = await startBackend({ port: 0, log: (line) => logs.push(line) });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await backend.close();
});

async function ws(): Promise<RawClient> {
  const { client, head } = await openWebSocket(backend.port);
  clients.push(client);
  expect(head).toBe(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`);
  return client;
}

function httpGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: backend.port, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    }).on('error', reject);
  });
}

test('announces 127.0.0.1 and the real port', () => {
  expect(backend.address).toBe(`127.0.0.1:${backend.port}`);
  expect(backend.port).toBeGreaterThan(0);
});

test('a text message: the exact reply frame, whatever the Origin', async () => {
  const c = await ws();
  c.write(clientFrame(0x1, 'Tom'));
  const json = '{"name":"Tom","age":18,"description":"Tom很厉害!!!!"}\n';
  const bytes = Buffer.from(json, 'utf8');
  expect(bytes.length).toBe(57);
  expect((await c.read(2 + 57)).toString('hex')).toBe('8139' + bytes.toString('hex'));
});

test('invalid UTF-8 in a text frame gets a reply (no 1007: gorilla does not validate)', async () => {
  const c = await ws();
  c.write(clientFrame(0x1, Buffer.from([0xff])));
  const { header, payload } = await c.readFrame();
  expect(header.toString('hex')).toBe('813f'); // 63 bytes
  expect(payload.toString('utf8')).toBe('{"name":"\\ufffd","age":18,"description":"\\ufffd很厉害!!!!"}\n');
});

test('a 2,051-byte reply is cut like gorilla cuts it: 1024 + 1024 + 3, first opcode text, then continuations', async () => {
  const c = await ws();
  c.write(clientFrame(0x1, 'x'.repeat(1000))); // 9 + 1000 + 26 + 1013 + 3 = 2051 bytes of JSON
  const frames = [await c.readFrame(), await c.readFrame(), await c.readFrame()];
  expect(frames.map((f) => f.header.toString('hex'))).toEqual(['017e0400', '007e0400', '8003']);
  const json = Buffer.concat(frames.map((f) => f.payload)).toString('utf8');
  expect(json).toBe('{"name":"' + 'x'.repeat(1000) + '","age":18,"description":"' + 'x'.repeat(1000) + '很厉害!!!!"}\n');
});

test('a 70 KiB message: one big non-final frame with the whole reply, then an empty final continuation', async () => {
  const c = await ws();
  const input = 'a'.repeat(70 * 1024);
  c.write(clientFrame(0x1, input));
  const reply = '{"name":"' + input + '","age":18,"description":"' + input + '很厉害!!!!"}\n';
  const length = Buffer.byteLength(reply); // 9 + 71680 + 26 + 71693 + 3 = 143,411 = 0x23033
  expect(length).toBe(143411);
  const first = await c.readFrame();
  expect(first.header.toString('hex')).toBe('017f0000000000023033');
  expect(first.payload.toString('utf8')).toBe(reply);
  expect((await c.read(2)).toString('hex')).toBe('8000');
});

test('binary messages get no answer; ping gets a pong with the same payload; pong is ignored', async () => {
  const c = await ws();
  c.write(Buffer.concat([clientFrame(0x2, Buffer.from([1, 2, 3])), clientFrame(0xa, 'unsolicited'), clientFrame(0x9, 'hi')]));
  // The first bytes back are the pong: nothing was sent for the binary message or the pong.
  expect((await c.read(4)).toString('hex')).toBe('8a026869');
});

test('close handshake: the close code is echoed without reason, then the server closes TCP', async () => {
  const c = await ws();
  c.write(clientFrame(0x8, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]))); // 1000 "bye"
  expect((await c.read(4)).toString('hex')).toBe('880203e8');
  await c.waitEnd();
});

test('a protocol error (unmasked frame) is answered with close 1002 and gorilla\'s reason', async () => {
  const c = await ws();
  c.write(Buffer.from('8102686a', 'hex'));
  const { header, payload } = await c.readFrame();
  expect(header.toString('hex')).toBe('8815');
  expect(payload.toString('latin1')).toBe('\x03\xeaincorrect mask flag');
  await c.waitEnd();
});

test('a frame claiming 1 GiB: close 1009 at once, nothing buffered; the server keeps serving', async () => {
  const c = await ws();
  c.write(clientFrame(0x2, '', { declaredLength: 1 << 30 }));
  c.write(Buffer.alloc(64 * 1024, 0x41)); // the start of the claimed payload
  expect((await c.read(4)).toString('hex')).toBe('880203f1');
  await c.waitEnd();
  const again = await ws();
  again.write(clientFrame(0x1, 'ok'));
  expect((await again.readFrame()).payload.toString()).toBe('{"name":"ok","age":18,"description":"ok很厉害!!!!"}\n');
});

test('garbage after the handshake, garbage instead of HTTP, and a disconnect mid-frame do not take the server down', async () => {
  const a = await ws();
  a.write(Buffer.from('this is not a websocket frame at all\r\n'));
  await a.waitEnd();

  const b = await RawClient.open(backend.port);
  clients.push(b);
  b.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x00, 0x01, 0x02, 0x0d, 0x0a, 0x0d, 0x0a]));
  const head = await b.readHead();
  expect(head.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);

  const c = await ws();
  c.write(clientFrame(0x1, 'x'.repeat(5000)).subarray(0, 3000)); // half a frame
  c.destroy();

  const d = await ws();
  d.write(clientFrame(0x1, 'still here'));
  expect((await d.readFrame()).payload.toString()).toContain('"name":"still here"');
});

test('handshake bytes and the first frame in one TCP write are both handled', async () => {
  const c = await RawClient.open(backend.port);
  clients.push(c);
  c.write(Buffer.concat([Buffer.from(handshakeRequest(backend.port)), clientFrame(0x9, 'early')]));
  await c.readHead();
  expect((await c.read(7)).toString('hex')).toBe('8a056561726c79');
});

test('GET /json without upgrade: 400 as gorilla answers it (http.Error with the status text)', async () => {
  const res = await httpGet('/json');
  expect(res.status).toBe(400);
  expect(res.body).toBe('Bad Request\n');
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(res.headers['sec-websocket-version']).toBe('13');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(logs).toContain(
    "[Error] failed to get a connection! websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header",
  );
});

test('an upgrade without Sec-WebSocket-Version: 13 gets gorilla\'s 400, byte-exact but for the date', async () => {
  const c = await RawClient.open(backend.port);
  clients.push(c);
  c.write(`GET /json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${'a'.repeat(24)}\r\n\r\n`);
  const head = await c.readHead();
  expect(head.replace(/Date: [^\r]+/, 'Date: X')).toBe(
    'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\n' +
      'X-Content-Type-Options: nosniff\r\nDate: X\r\nContent-Length: 12\r\n\r\n',
  );
  expect(head).toMatch(/Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT/);
  expect((await c.read(12)).toString()).toBe('Bad Request\n');
});

test('unknown paths and other methods: gin\'s 404', async () => {
  const res = await httpGet('/nope');
  expect(res.status).toBe(404);
  expect(res.body).toBe('404 page not found');
  expect(res.headers['content-type']).toBe('text/plain');
  const post = await new Promise<number>((resolve, reject) => {
    const { request } = require('http') as typeof import('http');
    request({ host: '127.0.0.1', port: backend.port, path: '/json', method: 'POST', agent: false }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
  expect(post).toBe(404);
});

test('GET / serves the self-contained demo page', async () => {
  const res = await httpGet('/');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.body).toContain("location.host + '/json'");
  expect(res.body).toContain('id="send-65536"');
  // Nothing external (a data: URI is inline: the empty icon that spares a /favicon.ico request).
  expect(res.body).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)|@import|url\(/i);
});

test('a standard client (ws) talks to it', async () => {
  const client = new WebSocket(`ws://${backend.address}/json`);
  const reply = await new Promise<string>((resolve, reject) => {
    client.on('open', () => client.send('张三'));
    client.on('message', (data) => resolve(String(data)));
    client.on('error', reject);
  });
  expect(reply).toBe('{"name":"张三","age":18,"description":"张三很厉害!!!!"}\n');
  await new Promise<void>((resolve) => {
    client.on('close', () => resolve());
    client.close(1000);
  });
});

test('listening on a port in use rejects with a clear error', async () => {
  await expect(startBackend({ port: backend.port })).rejects.toThrow(`127.0.0.1:${backend.port} is already in use`);
});

test("GET /json/ is redirected to /json as gin's RedirectTrailingSlash does", async () => {
  const res = await httpGet('/json/?a=1');
  expect(res.status).toBe(301);
  expect(res.headers['location']).toBe('/json?a=1');
  expect(res.body).toBe('<a href="/json?a=1">Moved Permanently</a>.\n\n');
});

test('maxMessageSize: a message of exactly the limit is answered, one byte more gets close 1009', async () => {
  const small = await startBackend({ port: 0, maxMessageSize: 1000 });
  try {
    const { client: a } = await openWebSocket(small.port);
    clients.push(a);
    a.write(clientFrame(0x1, 'y'.repeat(1000)));
    expect((await a.readFrame()).header.toString('hex')).toBe('017e0400'); // 2051-byte reply, first of 3 frames
    const { client: b } = await openWebSocket(small.port);
    clients.push(b);
    b.write(Buffer.concat([clientFrame(0x1, 'y'.repeat(600), { fin: false }), clientFrame(0x0, 'y'.repeat(401))]));
    expect((await b.read(4)).toString('hex')).toBe('880203f1');
    await b.waitEnd();
  } finally {
    await small.close();
  }
});
