/**
 * Memory stays bounded on the one port (DESIGN.md, "One listening port for every kind of
 * client"; docs/design.md, "The proxy"): clients that send a partial TLS ClientHello, a
 * partial request head, a CONNECT and then nothing, garbage, or a header line that never
 * ends are answered or closed by the proxy itself within its bounds (the head limit, the
 * head timeout, the close timeout after its own answer), the tunnels they opened are closed
 * too, and the connection count goes back to 0, while a WebSocket session through the same
 * port keeps working. Leaf certificates for SNI names are kept up to the cache's size.
 * Timeouts are made short through ProxyOptions (headTimeout, closeTimeout, certCacheSize).
 * Real peers on 127.0.0.1 port 0 only.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { WebSocket, WebSocketServer } from 'ws';
import { LocalCa } from '../../src/ca';
import { startProxy } from '../../src/proxy';
import { MAX_HEAD_BYTES } from '../../src/proxy/head';
import { rawClient, rawServer, recordingSession, waitFor, type RawPeer } from './helpers';

let home: string;
let ca: LocalCa;
let echo: { port: number; server: http.Server; wss: WebSocketServer };

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-bounds-'));
  ca = (await LocalCa.open(home)).ca;
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  echo = { port: (server.address() as net.AddressInfo).port, server, wss };
});
afterAll(async () => {
  for (const c of echo.wss.clients) c.terminate();
  await new Promise((r) => echo.server.close(r));
  fs.rmSync(home, { recursive: true, force: true });
});

/** A real ClientHello: the first bytes Node's TLS client sends, caught by a server that never answers. */
async function clientHello(): Promise<Buffer> {
  const catcher = await rawServer();
  const client = tls.connect({ port: catcher.port, host: '127.0.0.1', servername: 'localhost' });
  client.on('error', () => undefined);
  try {
    await waitFor(() => catcher.peers[0]?.bytes().length > 0, 'the ClientHello');
    return catcher.peers[0].bytes();
  } finally {
    client.destroy();
    await catcher.close();
  }
}

/** Sends `text` on an open ws, resolves with the echo. */
function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(m.toString()));
    ws.send(text);
  });
}

const statusOf = (peer: { bytes(): Buffer }) => /^HTTP\/1\.1 (\d{3}) /.exec(peer.bytes().toString('latin1'))?.[1];

test('bad and idle clients are answered or closed by the proxy within its bounds; the count goes back to 0; a WebSocket session keeps working', async () => {
  const headTimeout = 600;
  const closeTimeout = 300;
  const rec = recordingSession();
  // Where the idle CONNECTs go: accepts and never answers (so only the proxy can close them).
  const sink = await rawServer();
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: `ws://127.0.0.1:${echo.port}/echo`,
    session: rec.session,
    home,
    headTimeout,
    closeTimeout,
    allowHosts: [`127.0.0.1:${sink.port}`],
  });
  const hello = await clientHello();
  const N = 8;
  const clients: Record<string, RawPeer[]> = {};
  const tlsIdle: { socket: tls.TLSSocket; received: Buffer[]; closed: boolean }[] = [];
  try {
    // wss://: its leaf (for 127.0.0.1) is made now, not while an idle TLS client's head timeout runs.
    const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/echo`, { ca: ca.certPem });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(await roundTrip(ws, 'before')).toBe('before');

    const open = async (kind: string, send: (peer: RawPeer) => void | Promise<void>, options: { allowHalfOpen?: boolean } = {}) => {
      const list: RawPeer[] = (clients[kind] = []);
      for (let i = 0; i < N; i++) {
        const peer = options.allowHalfOpen ? await halfOpenClient(proxy.port) : await rawClient(proxy.port);
        list.push(peer);
        await send(peer);
      }
    };
    await open('partial ClientHello', (p) => void p.socket.write(hello.subarray(0, Math.floor(hello.length / 2))));
    await open('partial head', (p) => void p.socket.write('GET /echo HTTP/1.1\r\nHost: x\r\n'));
    await open('CONNECT, then nothing', (p) => void p.socket.write(`CONNECT 127.0.0.1:${sink.port} HTTP/1.1\r\nHost: 127.0.0.1:${sink.port}\r\n\r\n`));
    await open('garbage', (p) => void p.socket.write(Buffer.from([0x01, 0xfe, 0x00, 0x7f, 0x20, 0x0d, 0x0a, 0x0d, 0x0a])));
    // A header line that never ends, in 1 KiB pieces: answered 431 once the head reaches the limit.
    await open('endless header line', async (p) => {
      p.socket.write('GET /echo HTTP/1.1\r\nX-Long: ');
      for (let sent = 0; sent < MAX_HEAD_BYTES && !p.closed; sent += 1024) p.socket.write('a'.repeat(1024));
    });
    // One byte under the limit: not too large, so it waits for the rest, until the head timeout.
    await open('head one byte under the limit', (p) => void p.socket.write('GET /echo HTTP/1.1\r\nX-Long: ' + 'a'.repeat(MAX_HEAD_BYTES - 1 - 'GET /echo HTTP/1.1\r\nX-Long: '.length)));
    // A client that never closes its side after the proxy's answer: the proxy closes it.
    await open('half-open after the answer', (p) => void p.socket.write('GET /echo HTTP/1.1\r\n'), { allowHalfOpen: true });
    for (let i = 0; i < N; i++) {
      const socket = tls.connect({ port: proxy.port, host: '127.0.0.1', ca: ca.certPem });
      const peer = { socket, received: [] as Buffer[], closed: false };
      socket.on('data', (c: Buffer) => peer.received.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => (peer.closed = true));
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      tlsIdle.push(peer);
    }
    const total = 1 + 7 * N + N;

    // The proxy's own answers come at once for what is not HTTP or too large...
    await waitFor(() => clients['garbage'].every((p) => p.closed) && clients['endless header line'].every((p) => p.closed), 'the 400s and 431s');
    for (const p of clients['garbage']) expect(statusOf(p)).toBe('400');
    for (const p of clients['endless header line']) expect(statusOf(p)).toBe('431');
    // ... and the session is not held up by any of them.
    expect(await roundTrip(ws, 'during')).toBe('during');

    // The idle ones: after the head timeout, each is answered 408 or (mid-TLS-handshake)
    // closed; nobody but the proxy closes them.
    const idle = ['partial ClientHello', 'partial head', 'CONNECT, then nothing', 'head one byte under the limit'];
    await waitFor(() => idle.every((k) => clients[k].every((p) => p.closed)) && tlsIdle.every((p) => p.closed), 'every idle client closed by the proxy');
    for (const p of clients['partial ClientHello']) expect(p.bytes().length).toBe(0);
    for (const k of ['partial head', 'head one byte under the limit']) for (const p of clients[k]) expect(statusOf(p)).toBe('408');
    for (const p of clients['CONNECT, then nothing']) expect(p.bytes().toString()).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 408 Request Timeout\r\n/);
    for (const p of tlsIdle) expect(Buffer.concat(p.received).toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    // The tunnels' TCP connections went with them.
    expect(sink.peers).toHaveLength(N);
    await waitFor(() => sink.peers.every((p) => p.closed), 'the idle tunnels closed upstream');

    await waitFor(() => rec.of('end').length === total - 1, 'an end for each bad client');
    // The half-open ones got their 408 and the proxy's FIN, and keep their side open; once
    // the close timeout is over the proxy has let go of the socket: what they send now is
    // answered with a reset (seen by the write after it: EPIPE or ECONNRESET).
    const halfOpen = clients['half-open after the answer'];
    for (const p of halfOpen) {
      expect(statusOf(p)).toBe('408');
      expect(p.closed).toBe(false);
    }
    await waitFor(() => {
      for (const p of halfOpen) if (!p.closed) p.socket.write('anyone there?');
      return halfOpen.every((p) => p.closed);
    }, 'the half-open clients reset');
    for (const p of halfOpen) expect((p.error as NodeJS.ErrnoException).code).toMatch(/^(EPIPE|ECONNRESET)$/);
    const reasons = rec.of('end').map((e) => e.reason.replace(/:.*/, ''));
    const count = (r: string) => reasons.filter((x) => x === r).length;
    expect(count('no TLS handshake completed in time')).toBe(N);
    expect(count('400 Bad Request')).toBe(N);
    expect(count('431 Request Header Fields Too Large')).toBe(N);
    expect(count('408 Request Timeout')).toBe(5 * N);
    expect((await proxy.stats()).connections).toBe(1);

    expect(await roundTrip(ws, 'after')).toBe('after');
    ws.close();
    await waitFor(() => rec.of('end').length === total, 'the session ended');
    expect((await proxy.stats()).connections).toBe(0);
    expect(rec.of('message').map((m) => (m as { text?: string }).text)).toEqual(['before', 'before', 'during', 'during', 'after', 'after']);
  } finally {
    for (const list of Object.values(clients)) for (const p of list) p.socket.destroy();
    for (const p of tlsIdle) p.socket.destroy();
    await proxy.close();
    await sink.close();
  }
}, 60000);

/** A raw client that keeps its side open after the server's FIN (it never ends or closes itself). */
async function halfOpenClient(port: number): Promise<RawPeer> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const peer: RawPeer = { socket, received: [], closed: false, error: null, bytes: () => Buffer.concat(peer.received) };
  socket.on('data', (c) => peer.received.push(c));
  socket.on('error', (e) => (peer.error = e));
  socket.on('close', () => (peer.closed = true));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return peer;
}

test('leaf certificates for SNI names: at most certCacheSize kept, the oldest goes first, an evicted name gets a new one', async () => {
  const cap = 4;
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${echo.port}/echo`, session: rec.session, home, certCacheSize: cap });
  /** A TLS handshake with SNI `name`, verified against the CA for that name (so the leaf is for it). */
  const handshake = async (name: string): Promise<string> => {
    const socket = tls.connect({ port: proxy.port, host: '127.0.0.1', servername: name, ca: ca.certPem });
    try {
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      return (socket.getPeerCertificate() as { subjectaltname?: string }).subjectaltname ?? '';
    } finally {
      socket.destroy();
    }
  };
  try {
    expect((await proxy.stats()).leafCerts).toBe(0); // none made before a TLS client comes
    const names = Array.from({ length: 3 * cap }, (_, i) => `n${i}.example.test`);
    for (const name of names) {
      expect(await handshake(name)).toBe(`DNS:${name}`);
      const stats = await proxy.stats();
      expect(stats.leafCerts).toBeLessThanOrEqual(cap);
      expect(stats.tlsContexts).toBeLessThanOrEqual(cap);
    }
    expect(await proxy.stats()).toMatchObject({ leafCerts: cap, tlsContexts: cap });
    // The first name's leaf was dropped long ago: made again, still valid for it.
    expect(await handshake(names[0])).toBe(`DNS:${names[0]}`);
    expect(await proxy.stats()).toMatchObject({ leafCerts: cap, tlsContexts: cap });
    await waitFor(() => rec.of('end').length === names.length + 1, 'every handshake connection ended');
    expect((await proxy.stats()).connections).toBe(0);
  } finally {
    await proxy.close();
  }
}, 60000);
