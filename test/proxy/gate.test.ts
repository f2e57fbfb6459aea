/**
 * A slow output (the Gate of proxy/gate.ts) holds every connection's relay back, each after
 * at most one read, instead of queueing events without bound; once it clears, every byte
 * arrives, unchanged.
 */
import { startProxy } from '../../src/proxy';
import type { Gate } from '../../src/proxy/gate';
import { prng, rawClient, rawServer, recordingSession, sha256, until, UPGRADE_RESPONSE, upgradeRequest, waitFor } from './helpers';

const HEAD_END = '\r\n\r\n';
const RESPONSE = UPGRADE_RESPONSE;
const REQUEST = upgradeRequest();

/** A gate the test opens by hand. */
class HandGate implements Gate {
  full = true;
  waiting: (() => void)[] = [];
  whenClear(cb: () => void): void {
    if (!this.full) return cb();
    this.waiting.push(cb);
  }
  open(): void {
    this.full = false;
    for (const cb of this.waiting.splice(0)) cb();
  }
}

test('a full output gate pauses every connection after one read; opened, every byte goes through', async () => {
  const N = 8;
  const SIZE = 1024 * 1024;
  const server = await rawServer((peer) => void until(peer.bytes, HEAD_END, 'head').then(() => peer.socket.write(RESPONSE)));
  const rec = recordingSession();
  const relayed = new Map<number, number>();
  rec.session.onData((conn, dir, _ts, chunk) => {
    if (dir === 'client') relayed.set(conn, (relayed.get(conn) ?? 0) + chunk.length);
  });
  const gate = new HandGate();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${server.port}/`, session: rec.session, gate, decode: false });
  try {
    const rand = prng(7);
    const base = Buffer.from(Array.from({ length: SIZE }, () => Math.floor(rand() * 256)));
    const bodies = Array.from({ length: N }, (_, i) => {
      const b = Buffer.from(base);
      b.writeUInt32BE(i, 0); // each connection its own bytes
      return b;
    });
    const clients = await Promise.all(Array.from({ length: N }, () => rawClient(proxy.port)));
    clients.forEach((c, i) => c.socket.write(Buffer.concat([Buffer.from(REQUEST), bodies[i]])));
    // Each connection's two directions stop at the gate: the client's after the bytes
    // that followed the head, the server's after the 101.
    await waitFor(() => gate.waiting.length === 2 * N, 'every direction held at the gate');
    expect(relayed.size).toBe(N);
    // The head with what came along, and at most one more read (64 KiB) each.
    for (const n of relayed.values()) expect(n).toBeLessThanOrEqual(REQUEST.length + 2 * 64 * 1024);
    gate.open();
    // The server gets the head with Host rewritten, then the bodies unchanged.
    const body = (p: { bytes(): Buffer }) => {
      const all = p.bytes();
      return all.subarray(all.indexOf(HEAD_END) + HEAD_END.length);
    };
    await waitFor(() => server.peers.length === N && server.peers.every((p) => body(p).length === SIZE), 'every byte at the server', 30000);
    const got = server.peers.map((p) => sha256(body(p))).sort();
    expect(got).toEqual(bodies.map(sha256).sort());
    await waitFor(() => clients.every((c) => c.bytes().toString() === RESPONSE), 'every 101 at its client');
    for (const c of clients) c.socket.destroy();
    await waitFor(() => rec.of('end').length === N, 'every end');
  } finally {
    await proxy.close();
    await server.close();
  }
}, 60000);
