/**
 * The proxy end to end, in process: raw TCP peers of the test's own on both sides, so every
 * byte is under control (valid and invalid frames, random chunking, resets).
 */
import { buildFrame } from '../../src/decoder/build';
import { startProxy, type ProxyHandle } from '../../src/proxy';
import { Session } from '../../src/session';
import { rawClient, rawServer, recordingSession, sha256, waitFor, writeChunked, prng, until, UPGRADE_RESPONSE, upgradeRequest } from './helpers';

const MASK = Buffer.from('37fa213d', 'hex');
const HEAD_END = '\r\n\r\n';

function clientFrames(): Buffer[] {
  const big = Buffer.alloc(70000, 0x61);
  return [
    buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' }),
    buildFrame({ opcode: 2, mask: MASK, payload: Buffer.from([0, 1, 2, 255]) }),
    buildFrame({ opcode: 1, fin: false, mask: MASK, payload: 'frag' }),
    buildFrame({ opcode: 9, mask: MASK, payload: 'ping in between' }),
    buildFrame({ opcode: 0, mask: MASK, payload: 'mented' }),
    buildFrame({ opcode: 2, mask: MASK, payload: Buffer.alloc(300, 7) }), // 16-bit length
    buildFrame({ opcode: 2, mask: MASK, payload: big }), // 64-bit length
    // Invalid on purpose: forwarded unchanged all the same.
    buildFrame({ opcode: 1, payload: 'not masked' }),
    buildFrame({ opcode: 3, mask: MASK, payload: 'reserved opcode' }),
    buildFrame({ opcode: 1, rsv2: true, mask: MASK, payload: 'rsv2' }),
    buildFrame({ opcode: 1, mask: MASK, payload: 'x', lengthForm: 16 }),
    buildFrame({ opcode: 1, mask: MASK, payload: Buffer.from([0xc3, 0x28]) }),
    buildFrame({ opcode: 8, mask: MASK, payload: Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]) }),
  ];
}

function serverFrames(): Buffer[] {
  return [
    buildFrame({ opcode: 1, payload: '{"name":"Hello"}\n' }),
    buildFrame({ opcode: 10, payload: 'ping in between' }),
    buildFrame({ opcode: 2, payload: Buffer.alloc(66000, 0xee) }),
    buildFrame({ opcode: 1, mask: MASK, payload: 'masked server frame' }),
    buildFrame({ opcode: 9, payload: Buffer.alloc(126, 1) }), // control frame too long
    buildFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) }),
  ];
}

const RESPONSE = UPGRADE_RESPONSE;

const request = (host: string, path = '/chat'): string => upgradeRequest({ path, host });

describe('byte-exact relay under random chunking, valid and invalid frames', () => {
  for (const seed of [1, 2, 3]) {
    test(`seed ${seed}: each side receives exactly what the other sent, and the tee saw the same bytes`, async () => {
      const rand = prng(seed);
      const fromServer = Buffer.concat([Buffer.from(RESPONSE), ...serverFrames()]);
      const server = await rawServer((peer) => {
        void until(peer.bytes, HEAD_END, 'the request head').then(async () => {
          await writeChunked(peer.socket, fromServer, rand, 2000);
          // Close after the client's close frame arrived (as a server would).
          await waitFor(() => peer.bytes().includes(Buffer.from([0x88, 0x85])), 'the client close frame');
          peer.socket.end();
        });
      });
      const rec = recordingSession();
      const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/ignored`, session: rec.session });
      try {
        // The Host header already names the target, so the rewritten head is identical.
        const fromClient = Buffer.concat([Buffer.from(request(`127.0.0.1:${server.port}`)), ...clientFrames()]);
        const client = await rawClient(proxy.port);
        await writeChunked(client.socket, fromClient, rand, 1500);
        // The server closes first (after the client's close frame); the client follows.
        await waitFor(() => client.closed, 'the server to close');
        await waitFor(() => rec.of('end').length === 1, 'the end event');
        await waitFor(() => client.closed && server.peers[0]?.closed, 'both sockets closed');

        expect(sha256(server.peers[0].bytes())).toBe(sha256(fromClient));
        expect(sha256(client.bytes())).toBe(sha256(fromServer));
        const teed = (dir: string) => Buffer.concat(rec.data.filter((d) => d.dir === dir).map((d) => d.chunk));
        expect(sha256(teed('client'))).toBe(sha256(fromClient));
        expect(sha256(teed('server'))).toBe(sha256(fromServer));
        const end = rec.of('end')[0];
        expect(end.bytes).toEqual({ client: fromClient.length, server: fromServer.length });
        expect(end.reason).toBe('server closed');
        expect(rec.events[0]).toMatchObject({ event: 'listening', proxy: `127.0.0.1:${proxy.port}` });
        expect(rec.of('open')).toHaveLength(1);
      } finally {
        await proxy.close();
        await server.close();
      }
    });
  }

  test('the decoder sees every frame of both directions, in order, with the violations', async () => {
    const server = await rawServer((peer) => {
      void until(peer.bytes, HEAD_END, 'head').then(() => peer.socket.end(Buffer.concat([Buffer.from(RESPONSE), ...serverFrames()])));
    });
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write(Buffer.concat([Buffer.from(request('x')), ...clientFrames()]));
      await waitFor(() => rec.of('end').length === 1, 'the end event');
      const frames = rec.of('frame');
      const client_ = frames.filter((f) => f.dir === 'client');
      const server_ = frames.filter((f) => f.dir === 'server');
      expect(client_.map((f) => f.opcode)).toEqual([1, 2, 1, 9, 0, 2, 2, 1, 3, 1, 1, 1, 8]);
      expect(server_.map((f) => f.opcode)).toEqual([1, 10, 2, 1, 9, 8]);
      expect(client_.map((f) => f.index)).toEqual(client_.map((_, i) => i));
      expect(client_[6]).toMatchObject({ payloadLength: 70000, lengthForm: 64 });
      const rules = (f: { violations: { rule: string }[] }) => f.violations.map((v) => v.rule);
      expect(rules(client_[7])).toContain('unmasked-client-frame');
      expect(rules(client_[8])).toContain('reserved-opcode');
      expect(rules(server_[3])).toContain('masked-server-frame');
      expect(rules(server_[4])).toContain('control-frame-too-long');
      expect(rec.of('handshake')).toHaveLength(1);
      expect(rec.of('handshake')[0].acceptValid).toBe(true);
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});

describe('the first request head', () => {
  let proxy: ProxyHandle;
  let server: Awaited<ReturnType<typeof rawServer>>;
  const rec = recordingSession();
  beforeAll(async () => {
    server = await rawServer((peer) => {
      void until(peer.bytes, HEAD_END, 'head').then(() => peer.socket.write(RESPONSE));
    });
    proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/json?x=1`, session: rec.session });
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  async function forwardedHead(head: string): Promise<string> {
    const before = server.peers.length;
    const client = await rawClient(proxy.port);
    client.socket.write(head);
    await waitFor(() => server.peers.length > before && server.peers[before].bytes().includes(HEAD_END), 'the forwarded head');
    client.socket.destroy();
    return server.peers[before].bytes().toString('latin1');
  }

  test('an upgrade: Host is rewritten to the target, `/` becomes the target path, the rest is kept', async () => {
    const head = request('127.0.0.1:9000', '/').replace('Host:', 'hOsT:');
    expect(await forwardedHead(head)).toBe(request(`127.0.0.1:${server.port}`, '/json?x=1').replace('Host:', 'hOsT:'));
  });

  test('an upgrade to another path keeps it', async () => {
    expect(await forwardedHead(request('a', '/other'))).toBe(request(`127.0.0.1:${server.port}`, '/other'));
  });

  test('plain HTTP: Host rewritten, Connection: close (one request per connection), path kept', async () => {
    const forwarded = await forwardedHead('GET / HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n');
    expect(forwarded).toBe(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\nAccept: */*\r\n\r\n`);
  });

  test('a head without Host gets one', async () => {
    expect(await forwardedHead('GET /a HTTP/1.0\r\n\r\n')).toBe(`GET /a HTTP/1.0\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
  });

  test('a head trickled in one byte at a time (its end split across reads) is found and forwarded', async () => {
    const before = server.peers.length;
    const client = await rawClient(proxy.port);
    const head = Buffer.from(request('a', '/other'));
    for (const byte of head) {
      client.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => server.peers.length > before && server.peers[before].bytes().includes(HEAD_END), 'the forwarded head');
    client.socket.destroy();
    expect(server.peers[before].bytes().toString('latin1')).toBe(request(`127.0.0.1:${server.port}`, '/other'));
  });
});

describe('failures are answered, never crashed on', () => {
  test('not HTTP: 400, and the connection ends with the reason', async () => {
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: 'ws://127.0.0.1:1/', session: rec.session });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write('SSH-2.0-OpenSSH_9.2\r\n'); // (a TLS ClientHello is TLS: test/proxy/front.test.ts)
      await waitFor(() => client.closed, 'the client closed');
      const text = client.bytes().toString();
      expect(text.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
      expect(text).toMatch(/\r\n\r\n400 Bad Request: not an HTTP request: .*\n$/);
      await waitFor(() => rec.of('end').length === 1, 'end');
      expect(rec.of('end')[0].reason).toMatch(/^400 Bad Request/);
    } finally {
      await proxy.close();
    }
  });

  test('not HTTP, trickled in byte by byte after a valid start: 400 as soon as the bad byte is in', async () => {
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: 'ws://127.0.0.1:1/', session: rec.session });
    try {
      const client = await rawClient(proxy.port);
      for (const byte of Buffer.from('GET /chat\x01')) {
        client.socket.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => client.closed, 'the client closed');
      expect(client.bytes().toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    } finally {
      await proxy.close();
    }
  });

  test('a head over 64 KiB: 431', async () => {
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: 'ws://127.0.0.1:1/', session: rec.session });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write('GET / HTTP/1.1\r\n');
      for (let i = 0; i < 700; i++) client.socket.write(`X-Filler-${i}: ${'a'.repeat(100)}\r\n`);
      await waitFor(() => client.closed, 'the client closed');
      expect(client.bytes().toString()).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*larger than 65536 bytes\n$/);
    } finally {
      await proxy.close();
    }
  });

  test('no complete head in time: 408', async () => {
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: 'ws://127.0.0.1:1/', session: rec.session, headTimeout: 200 });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and nothing more
      await waitFor(() => client.closed, 'the client closed');
      expect(client.bytes().toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[^]*\r\n\r\n408 Request Timeout: no complete request head received in time\n$/);
      await waitFor(() => rec.of('end').length === 1, 'end');
    } finally {
      await proxy.close();
    }
  });

  test('upstream refused: 502 naming the target and the cause', async () => {
    const { deadPort } = await import('./helpers');
    const port = await deadPort();
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${port}/json`, session: rec.session });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write(request('x'));
      await waitFor(() => client.closed, 'the client closed');
      const text = client.bytes().toString();
      expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(text.split('\r\n\r\n')[1]).toBe(`502 Bad Gateway: upstream ws://127.0.0.1:${port}/json: connection refused (ECONNREFUSED)\n`);
      await waitFor(() => rec.of('end').length === 1, 'end');
      expect(rec.of('error')[0].message).toBe(`upstream ws://127.0.0.1:${port}/json: connection refused (ECONNREFUSED)`);
      // The request that never went out is shown with the proxy's answer to it.
      expect(rec.of('http')).toEqual([expect.objectContaining({ request: expect.objectContaining({ target: '/chat' }), response: expect.objectContaining({ status: 502 }) })]);
      expect(rec.of('error')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  test('upstream accepts and never answers: 502 after the upstream timeout', async () => {
    const server = await rawServer(); // accepts, reads, never writes
    const rec = recordingSession();
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${server.port}/`,
      session: rec.session,
      upstreamTimeout: 1000, // long enough that connecting never hits it, even on a loaded machine
    });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write(request('x'));
      await waitFor(() => client.closed, 'the client closed');
      expect(client.bytes().toString().split('\r\n\r\n')[1]).toBe(
        `502 Bad Gateway: upstream ws://127.0.0.1:${server.port}/: timed out after 1000 ms waiting for the response\n`,
      );
      await waitFor(() => server.peers[0]?.closed === true, 'the upstream socket closed');
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  test('upstream closes without answering: 502', async () => {
    const server = await rawServer((peer) => void until(peer.bytes, HEAD_END, 'head').then(() => peer.socket.end()));
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
    try {
      const client = await rawClient(proxy.port);
      client.socket.write(request('x'));
      await waitFor(() => client.closed, 'the client closed');
      expect(client.bytes().toString()).toMatch(/\r\n\r\n502 Bad Gateway: upstream .*: closed the connection without answering\n$/);
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  for (const side of ['server', 'client'] as const) {
    test(`the ${side} resets mid-frame: end with the reason, the other side closed`, async () => {
      const partial = buildFrame({ opcode: 2, mask: side === 'client' ? MASK : null, payload: Buffer.alloc(100, 1) }).subarray(0, 30);
      const server = await rawServer((peer) => {
        void until(peer.bytes, HEAD_END, 'head').then(() => {
          peer.socket.write(RESPONSE);
          if (side === 'server') peer.socket.write(partial, () => setImmediate(() => peer.socket.resetAndDestroy()));
        });
      });
      const rec = recordingSession();
      const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
      try {
        const client = await rawClient(proxy.port);
        client.socket.write(request('x'));
        await until(client.bytes, HEAD_END, 'the 101');
        if (side === 'client') {
          client.socket.write(partial);
          await waitFor(() => server.peers[0].bytes().includes(partial), 'the partial frame upstream');
          client.socket.resetAndDestroy();
          await waitFor(() => server.peers[0].closed, 'the server side closed');
        } else {
          await waitFor(() => client.closed, 'the client side closed');
        }
        await waitFor(() => rec.of('end').length === 1, 'end');
        expect(rec.of('end')[0].reason).toBe(`${side} reset the connection (ECONNRESET)`);
      } finally {
        await proxy.close();
        await server.close();
      }
    });
  }
});

test('1,000 concurrent connections, some of them faulty, each gets exactly its own bytes back', async () => {
  const server = await rawServer((peer) => {
    // An echo server behind a 101.
    let upgraded = false;
    peer.socket.on('data', () => {
      if (!upgraded && peer.bytes().includes(HEAD_END)) {
        upgraded = true;
        const rest = peer.bytes().subarray(peer.bytes().indexOf(HEAD_END) + 4);
        peer.socket.write(RESPONSE);
        peer.socket.write(rest);
        peer.socket.on('data', (c: Buffer) => peer.socket.write(c));
      }
    });
    peer.socket.on('end', () => peer.socket.end());
  });
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
  const N = 1000;
  try {
    const clients = await Promise.all(Array.from({ length: N }, () => rawClient(proxy.port)));
    const payloads = clients.map((_, i) => buildFrame({ opcode: 1, mask: MASK, payload: `message number ${i}` }));
    clients.forEach((c, i) => {
      // Every 10th connection is faulty: garbage instead of HTTP.
      c.socket.write(i % 10 === 9 ? Buffer.from('\x00\x01garbage\r\n\r\n') : Buffer.concat([Buffer.from(request('x')), payloads[i]]));
    });
    await waitFor(
      () => clients.every((c, i) => (i % 10 === 9 ? c.closed : c.bytes().length >= RESPONSE.length + payloads[i].length)),
      'every answer',
      60000,
    );
    clients.forEach((c, i) => {
      if (i % 10 === 9) expect(c.bytes().toString()).toMatch(/^HTTP\/1\.1 400 /);
      else expect(c.bytes().equals(Buffer.concat([Buffer.from(RESPONSE), payloads[i]]))).toBe(true);
    });
    for (const c of clients) c.socket.end();
    await waitFor(() => rec.of('end').length === N, 'all end events', 60000);
    expect(new Set(rec.of('open').map((e) => e.conn)).size).toBe(N);
  } finally {
    await proxy.close();
    await server.close();
  }
}, 120000);

test('backpressure: a slow client holds the server back instead of growing the proxy', async () => {
  const TOTAL = 64 * 1024 * 1024;
  const block = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  let blocked = false;
  const server = await rawServer((peer) => {
    void until(peer.bytes, HEAD_END, 'head').then(() => {
      peer.socket.write(RESPONSE);
      const pump = () => {
        while (written < TOTAL) {
          written += block.length;
          if (!peer.socket.write(block)) {
            blocked = true;
            return void peer.socket.once('drain', () => ((blocked = false), pump()));
          }
        }
        peer.socket.end();
      };
      pump();
    });
  });
  const session = new Session();
  let relayed = 0;
  session.onData((_conn, dir, _ts, chunk) => (relayed += dir === 'server' ? chunk.length : 0));
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session });
  try {
    const client = await rawClient(proxy.port);
    client.socket.write(request('x'));
    await until(client.bytes, HEAD_END, 'the 101');
    client.socket.pause(); // a receiver that does not read
    // The server ends up blocked: the proxy stopped reading because the client does not.
    let last = -1;
    let stable = 0;
    await waitFor(() => {
      stable = relayed === last && blocked ? stable + 1 : 0;
      last = relayed;
      return stable >= 40;
    }, 'the relay to stall');
    expect(written).toBeLessThan(TOTAL);
    expect(relayed).toBeLessThan(24 * 1024 * 1024); // kernel socket buffers, not the whole 64 MiB
    let received = client.bytes().length - RESPONSE.length;
    client.received.length = 0;
    client.socket.on('data', (c: Buffer) => {
      received += c.length;
      client.received.length = 0; // don't keep 64 MiB in the test either
    });
    client.socket.resume();
    await waitFor(() => client.closed, 'the whole stream', 60000);
    expect(received).toBe(TOTAL);
  } finally {
    await proxy.close();
    await server.close();
  }
}, 90000);

test('close() ends open connections: each publishes its end before close() resolves', async () => {
  // The server answers the first connection only: the second waits for its answer.
  let peers = 0;
  const server = await rawServer((peer) => void (peers++ === 0 && until(peer.bytes, HEAD_END, 'head').then(() => peer.socket.write(RESPONSE))));
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
  try {
    const a = await rawClient(proxy.port);
    const b = await rawClient(proxy.port);
    a.socket.write(request('x'));
    await until(a.bytes, HEAD_END, 'the 101');
    b.socket.write(request('x'));
    await waitFor(() => rec.of('open').length === 2, 'both open'); // (open: once the upstream is connected)
  } finally {
    await proxy.close();
    await server.close();
  }
  expect(rec.of('end').map((e) => e.reason)).toEqual(['proxy shut down', 'proxy shut down']);
});

test('random bytes after the handshake, both ways: forwarded exactly, nothing crashes', async () => {
  const rand = prng(42);
  const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const fromServer = Buffer.concat([Buffer.from(RESPONSE), noise(20000)]);
  const fromClient = Buffer.concat([Buffer.from(request('127.0.0.1:1')), noise(20000)]);
  const server = await rawServer((peer) => {
    void until(peer.bytes, HEAD_END, 'head').then(() => writeChunked(peer.socket, fromServer, rand, 700));
  });
  const rec = recordingSession();
  const target = `ws://127.0.0.1:${server.port}/`;
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target, session: rec.session });
  try {
    const client = await rawClient(proxy.port);
    const head = Buffer.from(request(`127.0.0.1:${server.port}`));
    await writeChunked(client.socket, Buffer.concat([head, fromClient.subarray(Buffer.byteLength(request('127.0.0.1:1')))]), rand, 700);
    await waitFor(() => client.bytes().length === fromServer.length && server.peers[0]?.bytes().length === head.length + 20000, 'all bytes');
    expect(client.bytes().equals(fromServer)).toBe(true);
    expect(server.peers[0].bytes().subarray(head.length).equals(fromClient.subarray(fromClient.length - 20000))).toBe(true);
    client.socket.end();
    await waitFor(() => rec.of('end').length === 1, 'end');
    expect(rec.of('frame').length).toBeGreaterThan(0); // the decoder kept going over garbage
  } finally {
    await proxy.close();
    await server.close();
  }
});

test('a client that half-closes right after its request still gets the answer', async () => {
  const server = await rawServer(
    (peer) => peer.socket.on('end', () => peer.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')),
    { allowHalfOpen: true },
  );
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
  try {
    const client = await rawClient(proxy.port);
    client.socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => client.closed, 'the client closed');
    expect(client.bytes().toString()).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    await waitFor(() => rec.of('end').length === 1, 'end');
    expect(rec.of('end')[0].reason).toBe('client closed');
    expect(rec.of('http')[0]).toMatchObject({ request: { method: 'GET', target: '/' }, response: { status: 200 } });
  } finally {
    await proxy.close();
    await server.close();
  }
});

test('a decoder that throws, or a view that throws, never breaks forwarding', async () => {
  const { ConnectionDecoder } = await import('../../src/decoder');
  const spy = jest.spyOn(ConnectionDecoder.prototype, 'push').mockImplementation(() => {
    throw new Error('boom');
  });
  const server = await rawServer((peer) => void until(peer.bytes, HEAD_END, 'head').then(() => peer.socket.write(RESPONSE + 'tail')));
  const rec = recordingSession();
  rec.session.onData(() => {
    throw new Error('a broken capture writer');
  });
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session });
  try {
    const client = await rawClient(proxy.port);
    client.socket.write(request(`127.0.0.1:${server.port}`) + 'more');
    await waitFor(() => client.bytes().toString() === RESPONSE + 'tail', 'the answer');
    await waitFor(() => server.peers[0].bytes().toString() === request(`127.0.0.1:${server.port}`) + 'more', 'the request');
    client.socket.write('and more');
    await waitFor(() => server.peers[0].bytes().toString().endsWith('moreand more'), 'later bytes');
    expect(rec.of('error').map((e) => e.message)).toEqual(['decoder failed, decoding stopped for this connection: boom']);
  } finally {
    spy.mockRestore();
    await proxy.close();
    await server.close();
  }
});
