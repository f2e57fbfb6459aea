/**
 * One port for every kind of client (DESIGN.md): TLS terminated with the local CA's leaf,
 * CONNECT tunnels (plain and TLS inside), absolute-form forward requests, --allow-host,
 * --passthrough, and bad input at each step. Real peers on 127.0.0.1 port 0.
 */
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { WebSocket, WebSocketServer } from 'ws';
import { LocalCa } from '../../src/ca';
import type { OpenEvent } from '../../src/decoder/events';
import { startProxy, type ProxyHandle } from '../../src/proxy';
import { prng, rawClient, recordingSession, sha256, until, waitFor, writeChunked } from './helpers';

const fixtureCert = fs.readFileSync(path.join(__dirname, 'fixtures/localhost-cert.pem'));
const fixtureKey = fs.readFileSync(path.join(__dirname, 'fixtures/localhost-key.pem'));

let home: string;
let ca: LocalCa;
/** A ws:// echo server and a wss:// one (the fixture certificate, trusted by the proxy as --upstream-ca). */
let plain: { port: number; close(): Promise<void> };
let secure: { port: number; close(): Promise<void> };

async function echoServer(server: net.Server & { closeAllConnections?: () => void }): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ server: server as never });
  wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
  server.on('request', (req: { url: string }, res: { end(s: string): void }) => res.end(`page ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-front-'));
  ca = (await LocalCa.open(home)).ca;
  plain = await echoServer(require('http').createServer());
  secure = await echoServer(https.createServer({ cert: fixtureCert, key: fixtureKey }));
});
afterAll(async () => {
  await plain.close();
  await secure.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function proxyWith(extra: Partial<Parameters<typeof startProxy>[0]> = {}) {
  const rec = recordingSession();
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: `ws://127.0.0.1:${plain.port}/echo`,
    session: rec.session,
    home,
    ca: fixtureCert,
    allowHosts: ['127.0.0.1', 'localhost'],
    ...extra,
  });
  return { ...rec, proxy };
}

/** Opens `ws`, sends `text`, resolves with the echo. */
async function echo(ws: WebSocket, text: string): Promise<string> {
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(text);
    return await new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
  } finally {
    ws.close();
  }
}

/** A CONNECT through the proxy; resolves with the socket and the proxy's answer head. */
async function connectTunnel(proxyPort: number, authority: string): Promise<{ socket: net.Socket; head: string }> {
  const socket = net.connect(proxyPort, '127.0.0.1');
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  let got = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0 || !got.subarray(0, 13).equals(Buffer.from('HTTP/1.1 200 '))) return; // others: all, at close
      socket.off('data', onData);
      const rest = got.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve({ socket, head: got.subarray(0, end).toString() });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('close', () => resolve({ socket, head: got.toString() }));
  });
}

function opens(of: ReturnType<typeof recordingSession>['of']): OpenEvent[] {
  return of('open');
}

test('wss:// straight to the listener: a CA leaf for 127.0.0.1 that verifies, http/1.1 only; open has the tls', async () => {
  const { proxy, of } = await proxyWith();
  try {
    expect(await echo(new WebSocket(`wss://127.0.0.1:${proxy.port}/echo`, { ca: ca.certPem }), 'hello')).toBe('hello');
    // SNI localhost too, and an h2-first ALPN list still gets http/1.1.
    const s = tls.connect({ port: proxy.port, host: '127.0.0.1', servername: 'localhost', ca: ca.certPem, ALPNProtocols: ['h2', 'http/1.1'] });
    await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
    expect(s.alpnProtocol).toBe('http/1.1');
    let page = '';
    s.on('data', (c) => (page += c));
    s.write('GET /page HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => page.endsWith('page /page'), 'the page over TLS');
    s.destroy();
    await waitFor(() => of('end').length === 2, 'both ends');
    const open = opens(of)[0];
    expect(open).toMatchObject({ mode: 'reverse', upstream: `ws://127.0.0.1:${plain.port}/echo`, upstreamTls: null });
    // ws offers no ALPN: none agreed.
    expect(open.tls).toMatchObject({ sni: null, alpn: null, version: expect.stringMatching(/^TLSv1\.[23]$/), cipher: expect.any(String) });
    expect(of('message').map((m) => (m as { text?: string }).text)).toEqual(['hello', 'hello']);
    expect(of('open')[1].tls).toMatchObject({ sni: 'localhost', alpn: 'http/1.1' });
  } finally {
    await proxy.close();
  }
});

test('a client that does not trust the CA fails its handshake; the proxy stays up', async () => {
  const { proxy, of } = await proxyWith();
  try {
    await expect(echo(new WebSocket(`wss://127.0.0.1:${proxy.port}/echo`), 'x')).rejects.toThrow();
    await waitFor(() => of('end').length === 1, 'end');
    expect(of('error')[0].message).toMatch(/^TLS handshake with the client failed: /);
    expect(of('end')[0].reason).toMatch(/^TLS handshake with the client failed: /);
    expect(await echo(new WebSocket(`ws://127.0.0.1:${proxy.port}/echo`), 'still')).toBe('still');
  } finally {
    await proxy.close();
  }
});

test('bad input at the front: garbage ClientHello, abort mid-handshake, silence after CONNECT, CONNECT to a refused port', async () => {
  const { proxy, of } = await proxyWith({ headTimeout: 300 });
  try {
    // The leaf for 127.0.0.1 made first: on a loaded machine making it can take longer than
    // the 300 ms head timeout, which would then end the garbage client before TLS fails.
    expect(await echo(new WebSocket(`wss://127.0.0.1:${proxy.port}/echo`, { ca: ca.certPem }), 'warm')).toBe('warm');
    const garbage = await rawClient(proxy.port);
    garbage.socket.write(Buffer.from('16030100ff0100' + 'ab'.repeat(300), 'hex'));
    await waitFor(() => garbage.closed, 'the garbage client closed');
    const aborted = tls.connect({ port: proxy.port, host: '127.0.0.1', ca: ca.certPem });
    aborted.on('error', () => undefined);
    await new Promise((r) => aborted.once('secureConnect', r).once('error', r));
    // (TLS 1.3: the client is done before the server; now it leaves before any request.)
    const half = await rawClient(proxy.port);
    half.socket.write(Buffer.from('160301', 'hex')); // the start of a record, then gone
    await new Promise((r) => setImmediate(r));
    half.socket.destroy();
    aborted.destroy();
    const silent = await connectTunnel(proxy.port, `127.0.0.1:${plain.port}`);
    expect(silent.head).toMatch(/^HTTP\/1\.1 200 /);
    const refused = await connectTunnel(proxy.port, `127.0.0.1:1`);
    expect(refused.head).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[^]*502 Bad Gateway: upstream 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\)/);
    await waitFor(() => of('end').length === 6, 'six ends');
    const byConn = (n: number) => of('end').find((e) => e.conn === n)!.reason;
    expect(byConn(2)).toMatch(/^TLS handshake with the client failed: /);
    expect(of('error').map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^upstream 127\.0\.0\.1:1: connection refused/)]));
    expect(of('end').map((e) => e.reason)).toEqual(expect.arrayContaining([expect.stringMatching(/^408 Request Timeout/), expect.stringMatching(/^502 Bad Gateway/)]));
    for (const o of opens(of)) expect(['reverse', 'tunnel']).toContain(o.mode);
    // Still serving.
    expect(await echo(new WebSocket(`ws://127.0.0.1:${proxy.port}/echo`), 'ok')).toBe('ok');
  } finally {
    await proxy.close();
  }
});

test('CONNECT carrying plain ws: decoded as is, sent to the CONNECT host', async () => {
  const { proxy, of } = await proxyWith();
  try {
    const { socket, head } = await connectTunnel(proxy.port, `127.0.0.1:${plain.port}`);
    expect(head).toBe('HTTP/1.1 200 Connection Established');
    const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/inside`, { createConnection: () => socket });
    expect(await echo(ws, 'tunnelled')).toBe('tunnelled');
    await waitFor(() => of('end').length === 1, 'end');
    expect(opens(of)[0]).toMatchObject({ mode: 'tunnel', tls: null, upstream: `ws://127.0.0.1:${plain.port}/inside`, target: `ws://127.0.0.1:${plain.port}/inside` });
    expect(of('handshake')[0].request.target).toBe('/inside');
  } finally {
    await proxy.close();
  }
});

test('CONNECT carrying TLS: intercepted with a leaf for the host, wss upstream verified; sha256 exact both ways under random chunking', async () => {
  const { proxy, of, data } = await proxyWith();
  try {
    const { socket } = await connectTunnel(proxy.port, `localhost:${secure.port}`);
    const inner = tls.connect({ socket, servername: 'localhost', ca: ca.certPem, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => inner.once('secureConnect', resolve).once('error', reject));
    expect((inner.getPeerCertificate() as { subjectaltname?: string }).subjectaltname).toBe('DNS:localhost');
    const rand = prng(9);
    const request = Buffer.from(`GET /big HTTP/1.1\r\nHost: localhost:${secure.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let received = Buffer.alloc(0);
    inner.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
    await writeChunked(inner as unknown as net.Socket, request, rand);
    await until(() => received, '\r\n\r\n', 'the 101');
    const payload = Buffer.from(Array.from({ length: 70000 }, () => Math.floor(rand() * 256)));
    const mask = Buffer.from([1, 2, 3, 4]);
    const frame = Buffer.concat([Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 1, 0x11, 0x70]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
    await writeChunked(inner as unknown as net.Socket, frame, rand);
    await waitFor(() => received.length >= received.indexOf('\r\n\r\n') + 4 + 10 + 70000, 'the echo');
    inner.end();
    await waitFor(() => of('end').length === 1, 'end');
    const sent = Buffer.concat([request, frame]);
    const teed = (dir: 'client' | 'server') => Buffer.concat(data.filter((d) => d.dir === dir).map((d) => d.chunk));
    // What the client sent is what the proxy saw and forwarded (the head as rewritten: Host is
    // the CONNECT authority, the same here); what the server sent is what the client got.
    expect(sha256(teed('client'))).toBe(sha256(sent));
    expect(sha256(teed('server'))).toBe(sha256(received));
    const open = opens(of)[0];
    expect(open).toMatchObject({ mode: 'tunnel', upstream: `wss://localhost:${secure.port}/big` });
    expect(open.tls).toMatchObject({ sni: 'localhost', alpn: 'http/1.1' });
    expect(open.upstreamTls).toMatchObject({ sni: 'localhost', alpn: 'http/1.1', version: expect.stringMatching(/^TLSv1\.[23]$/) });
    const frames = of('frame');
    expect(frames.map((f) => [f.dir, f.payloadLength])).toEqual([['client', 70000], ['server', 70000]]);
  } finally {
    await proxy.close();
  }
});

test('absolute-form GET ws:// and GET http://: forwarded to the host they name, in origin-form', async () => {
  const { proxy, of } = await proxyWith();
  try {
    const client = await rawClient(proxy.port);
    client.socket.write(`GET ws://127.0.0.1:${plain.port}/abs?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${plain.port}\r\nProxy-Connection: keep-alive\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await until(client.bytes, '\r\n\r\n', 'the 101');
    expect(client.bytes().toString()).toMatch(/^HTTP\/1\.1 101 /);
    client.socket.destroy();
    const page = await rawClient(proxy.port);
    page.socket.write(`GET http://127.0.0.1:${plain.port}/page HTTP/1.1\r\nHost: 127.0.0.1:${plain.port}\r\n\r\n`);
    await waitFor(() => page.closed, 'the page answered and closed');
    expect(page.bytes().toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\npage \/page$/);
    await waitFor(() => of('end').length === 2, 'ends');
    expect(opens(of).map((o) => [o.mode, o.upstream])).toEqual([
      ['forward', `ws://127.0.0.1:${plain.port}/abs?q=1`],
      ['forward', `ws://127.0.0.1:${plain.port}/page`],
    ]);
    const hs = of('handshake')[0];
    expect(hs.request.target).toBe('/abs?q=1');
    expect(hs.request.headers.map(([n]) => n.toLowerCase())).not.toContain('proxy-connection');
    expect(of('http')[0]).toMatchObject({ request: { method: 'GET', target: '/page' }, response: { status: 200 } });
  } finally {
    await proxy.close();
  }
});

test('--allow-host: anything else is answered 403 without being dialled; a non-loopback listen refuses forwarding without a flag', async () => {
  const { proxy, of } = await proxyWith({ allowHosts: [`127.0.0.1:${plain.port}`] });
  const dialled: net.Socket[] = [];
  const trap = net.createServer((s) => dialled.push(s.destroy()));
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  const trapPort = (trap.address() as net.AddressInfo).port;
  try {
    const tunnel = await connectTunnel(proxy.port, `127.0.0.1:${trapPort}`);
    expect(tunnel.head).toMatch(new RegExp(`^HTTP/1\\.1 403 Forbidden\\r\\n[^]*403 Forbidden: 127\\.0\\.0\\.1:${trapPort} is not in --allow-host`));
    const forward = await rawClient(proxy.port);
    forward.socket.write(`GET http://update.example.invalid/ HTTP/1.1\r\nHost: update.example.invalid\r\n\r\n`);
    await waitFor(() => forward.closed, 'the 403');
    expect(forward.bytes().toString()).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    const allowed = await connectTunnel(proxy.port, `127.0.0.1:${plain.port}`);
    expect(allowed.head).toMatch(/^HTTP\/1\.1 200 /);
    allowed.socket.destroy();
    await waitFor(() => of('end').length === 3, 'ends');
    expect(dialled).toHaveLength(0);
    expect(of('http').map((h) => [h.request.method, h.response?.status])).toEqual([['CONNECT', 403], ['GET', 403]]);
    // A refused one's open names where it asked to go (nothing was dialled), not the --target.
    expect(opens(of).map((o) => [o.mode, o.target, o.upstream])).toEqual([
      ['tunnel', `tcp://127.0.0.1:${trapPort}`, null],
      ['forward', 'ws://update.example.invalid/', null],
      ['tunnel', `tcp://127.0.0.1:${plain.port}`, null],
    ]);
  } finally {
    await proxy.close();
    await new Promise((r) => trap.close(r));
  }
  const { ForwardPolicy } = await import('../../src/proxy/policy');
  const open = new ForwardPolicy({ listenHost: '0.0.0.0' });
  expect(open.refuse('127.0.0.1', 80)).toMatch(/forward proxying is off on a non-loopback listen address/);
  expect(new ForwardPolicy({ listenHost: '0.0.0.0', allowForward: true }).refuse('example.test', 443)).toBeNull();
  const wild = new ForwardPolicy({ listenHost: '::1', allowHosts: ['*.example.test:443', '[::1]'] });
  expect(wild.refuse('a.b.example.test', 443)).toBeNull();
  expect(wild.refuse('example.test', 443)).not.toBeNull();
  expect(wild.refuse('a.example.test', 80)).not.toBeNull();
  expect(wild.refuse('::1', 1234)).toBeNull();
});

test('--passthrough: a tunnel relayed blind (the TLS inside is the real server\'s), counted, not decoded', async () => {
  const { proxy, of, data } = await proxyWith({ passthrough: ['localhost'] });
  try {
    const { socket } = await connectTunnel(proxy.port, `localhost:${secure.port}`);
    // The fixture's own certificate reaches the client: no interception.
    const ws = new WebSocket(`wss://localhost:${secure.port}/`, { createConnection: () => tls.connect({ socket, servername: 'localhost', ca: fixtureCert }) });
    expect(await echo(ws, 'blind')).toBe('blind');
    await waitFor(() => of('end').length === 1, 'end');
    expect(opens(of)[0]).toMatchObject({ mode: 'tunnel', passthrough: true, upstream: `tcp://localhost:${secure.port}`, tls: null });
    expect(of('frame')).toHaveLength(0);
    expect(data).toHaveLength(0);
    expect(of('end')[0].bytes.client).toBeGreaterThan(100);
  } finally {
    await proxy.close();
  }
});

test('--cert/--key: one\'s own certificate served instead of the CA\'s', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-own-'));
  fs.writeFileSync(path.join(dir, 'c.pem'), fixtureCert);
  fs.writeFileSync(path.join(dir, 'k.pem'), fixtureKey);
  const { proxy } = await proxyWith({ cert: path.join(dir, 'c.pem'), key: path.join(dir, 'k.pem'), home: path.join(dir, 'no-ca') });
  try {
    expect(await echo(new WebSocket(`wss://localhost:${proxy.port}/echo`, { ca: fixtureCert }), 'own')).toBe('own');
    expect(fs.existsSync(path.join(dir, 'no-ca'))).toBe(false);
  } finally {
    await proxy.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await expect(proxyWith({ cert: fixturePath('localhost-cert.pem'), key: fixturePath('localhost-cert.pem') })).rejects.toThrow(/^bad --cert\/--key/);
});

function fixturePath(name: string): string {
  return path.join(__dirname, 'fixtures', name);
}

export type { ProxyHandle };
