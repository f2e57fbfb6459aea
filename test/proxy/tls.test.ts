/**
 * wss:// upstreams: TLS with SNI, certificate failures named in the 502, --insecure.
 * The fixture is a self-signed certificate for localhost/127.0.0.1 made for these tests only.
 */
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';
import type { TLSSocket } from 'tls';
import { WebSocket, WebSocketServer } from 'ws';
import { startProxy } from '../../src/proxy';
import { rawClient, rawServer, recordingSession, waitFor } from './helpers';

const cert = fs.readFileSync(path.join(__dirname, 'fixtures/localhost-cert.pem'));
const key = fs.readFileSync(path.join(__dirname, 'fixtures/localhost-key.pem'));

let server: https.Server;
let port: number;
const servernames: (string | false | null)[] = [];

beforeAll(async () => {
  server = https.createServer({ cert, key });
  server.on('secureConnection', (s: TLSSocket) => servernames.push(s.servername));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function echoThrough(proxyPort: number): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/echo`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send('over TLS');
    return await new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
  } finally {
    ws.close();
  }
}

test('wss:// upstream: TLS with SNI, trusted CA, the client speaks plain ws to the proxy', async () => {
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `wss://localhost:${port}/`, session: rec.session, ca: cert });
  try {
    const before = servernames.length;
    expect(await echoThrough(proxy.port)).toBe('over TLS');
    expect(servernames[before]).toBe('localhost');
    await waitFor(() => rec.of('end').length === 1, 'end');
    const hs = rec.of('handshake')[0];
    expect(hs.request.headers).toContainEqual(['Host', `localhost:${port}`]);
  } finally {
    await proxy.close();
  }
});

test('a self-signed upstream certificate: 502 naming the TLS failure, unless --insecure', async () => {
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `wss://127.0.0.1:${port}/`, session: rec.session });
  try {
    const client = await rawClient(proxy.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => client.closed, 'the client closed');
    expect(client.bytes().toString().split('\r\n\r\n')[1]).toBe(
      `502 Bad Gateway: upstream wss://127.0.0.1:${port}/: TLS certificate error: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); --insecure accepts it\n`,
    );
  } finally {
    await proxy.close();
  }
  const insecure = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `wss://127.0.0.1:${port}/`, session: recordingSession().session, insecure: true });
  try {
    expect(await echoThrough(insecure.port)).toBe('over TLS');
  } finally {
    await insecure.close();
  }
});

test('a wss:// target that does not speak TLS: 502 naming the handshake failure', async () => {
  const plain = await rawServer((peer) => void peer.socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `wss://127.0.0.1:${plain.port}/`, session: recordingSession().session });
  try {
    const client = await rawClient(proxy.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => client.closed, 'the client closed');
    // Our words, then OpenSSL's reason on the same line (its wording varies with the Node
    // version: asserted only to be one line and not OpenSSL's dump).
    const body = client.bytes().toString().split('\r\n\r\n')[1];
    expect(body).toMatch(/^502 Bad Gateway: upstream wss:\/\/127\.0\.0\.1:\d+\/: TLS handshake error: [^\n]+\n$/);
    expect(body).not.toMatch(/SSL routines|:error:/);
  } finally {
    await proxy.close();
    await plain.close();
  }
});

test('a wss:// upstream that half-closes first still gets what the client sends after its FIN', async () => {
  // A raw TLS server: answers the head and ends its side at once, then reads on.
  let received = '';
  let serverDone = false;
  const raw = tls.createServer({ cert, key, allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (received.includes('\r\n\r\n') && s.writable && !s.writableEnded) s.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    s.on('end', () => {
      serverDone = true;
      s.end();
    });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const rec = recordingSession();
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: `wss://localhost:${(raw.address() as { port: number }).port}/`,
    session: rec.session,
    ca: cert,
  });
  try {
    // A client that keeps its side open after the FIN it receives.
    const client = net.connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    let ended = false;
    client.on('data', () => undefined);
    client.on('end', () => (ended = true));
    client.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await waitFor(() => ended, 'the server FIN at the client');
    client.end('after the FIN');
    await waitFor(() => serverDone, 'the client FIN at the server');
    expect(received.endsWith('\r\n\r\nafter the FIN')).toBe(true);
    await waitFor(() => rec.of('end').length === 1, 'end');
    expect(rec.of('end')[0].reason).toBe('server closed');
  } finally {
    await proxy.close();
    await new Promise((r) => raw.close(r));
  }
});
