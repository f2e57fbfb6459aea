/**
 * The terminal UI's intercept stage on demand (intercept.onDemand): no stage, so the plain
 * relay, until an intercept filter is set; then open connections get it at their next frame
 * boundary outside a fragmented message (found by the tee's decoder), and new ones from the
 * start. Real peers on 127.0.0.1: `ws` clients or a raw socket, the built-in backend.
 * And a peer that leaves while a hook holds its frames.
 */
import * as net from 'net';
import WebSocket from 'ws';
import { startBackend } from '../../src/backend';
import { computeAccept } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import { HOLD_LIMIT, type Interceptor } from '../../src/intercept/engine';
import type { FrameEvent, InterceptEvent } from '../../src/decoder/events';
import { startProxy, type ProxyHandle } from '../../src/proxy';
import { HoldQueue } from '../../src/tui/hold';
import { parseFilter, type FrameFilter } from '../../src/tui/store';
import { recordingSession, waitFor } from '../proxy/helpers';

const UPGRADE = 'GET /json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const KEY = Buffer.from('37fa213d', 'hex');

function filter(words: string): FrameFilter {
  const f = parseFilter(words);
  if ('error' in f) throw new Error(f.error);
  return f;
}

describe('the terminal UI intercept stage, on demand', () => {
  let backend: { port: number; close(): Promise<void> };
  let proxy: ProxyHandle;
  let hold: HoldQueue;
  let rec: ReturnType<typeof recordingSession>;

  beforeEach(async () => {
    backend = await startBackend({ host: '127.0.0.1', port: 0 });
    rec = recordingSession();
    hold = new HoldQueue();
    proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${backend.port}/json`,
      session: rec.session,
      intercept: { deciders: [hold.decider], onDemand: true, onConnection: (c, s) => hold.register(c, s), onConnectionEnd: (c) => hold.unregister(c) },
    });
    hold.onIntercept = () => proxy.intercept();
  });
  afterEach(async () => {
    await proxy.close();
    await backend.close();
  });

  it('no filter, no stage; a filter set later holds the next matching frame of an open connection, and new connections get the stage', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/json`);
    const answers: string[] = [];
    ws.on('message', (d) => answers.push(JSON.parse(d.toString()).name));
    await new Promise((r) => ws.once('open', r));
    try {
      ws.send('Alice');
      await waitFor(() => answers.length === 1, 'the first answer');
      expect(proxy.intercepting()).toBe(0);
      expect(hold.stage(1)).toBeUndefined();

      hold.setFilter(filter('client text'));
      expect(proxy.intercepting()).toBe(1);
      ws.send('Bob');
      await waitFor(() => hold.size === 1, 'the frame to be held');
      const [held] = hold.held();
      expect(held.frame.payloadBytes.toString()).toBe('Bob');
      // Its index and offset count from the connection's start, as the frames pane's do.
      const first = rec.of('frame', 1).find((f) => f.dir === 'client') as FrameEvent;
      expect({ index: held.frame.index, offset: held.frame.offset }).toEqual({ index: 1, offset: first.header.length / 2 + first.payloadLength });
      // Held: the server has not seen it, so it has not answered it.
      expect(answers).toEqual(['Alice']);
      hold.replace(held.id, [{ opcode: 'text', payload: 'Mallory' }]);
      await waitFor(() => answers.length === 2, 'the answer to the edited frame');
      expect(answers).toEqual(['Alice', 'Mallory']);
      const [event] = rec.of('intercept', 1) as InterceptEvent[];
      expect(event).toMatchObject({ dir: 'client', index: 1, action: 'replace', by: 'tui' });
      expect(event.sent[0]).toMatchObject({ index: 1, masked: true, maskKey: held.frame.maskKey });

      // A connection opened after the filter was set has the stage from its start.
      const later = new WebSocket(`ws://127.0.0.1:${proxy.port}/json`);
      await new Promise((r) => later.once('open', r));
      expect(proxy.intercepting()).toBe(2);
      later.send('Carol');
      await waitFor(() => hold.held(2).length === 1, 'the new connection frame to be held');
      hold.forwardAll();
      later.close();
    } finally {
      ws.terminate();
    }
  });

  /** A raw WebSocket client past its handshake; `clientFrames` are the frames the server got. */
  async function rawClient(): Promise<net.Socket> {
    const socket = net.connect(proxy.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(UPGRADE);
    await waitFor(() => answer.includes('101 Switching Protocols'), 'the 101');
    return socket;
  }
  const clientFrames = () => rec.of('frame', 1).filter((f) => f.dir === 'client') as FrameEvent[];

  it('asked for in the middle of a payload, it joins at the next frame (here a fragmented message, held from its first frame)', async () => {
    const socket = await rawClient();
    try {
      const whole = buildFrame({ opcode: 1, mask: KEY, payload: 'x'.repeat(300) });
      const fragment = buildFrame({ opcode: 1, fin: false, mask: KEY, payload: 'frag-' });
      const ending = buildFrame({ opcode: 0, mask: KEY, payload: 'ment' });
      socket.write(whole.subarray(0, 100));
      await waitFor(() => rec.data.some((d) => d.dir === 'client' && d.chunk.length === 100), 'the first bytes to go through');
      hold.setFilter(filter('client'));
      // The rest of the frame and the next frame's first byte, in one chunk.
      socket.write(Buffer.concat([whole.subarray(100), fragment.subarray(0, 1)]));
      await waitFor(() => clientFrames().length === 1, 'the first frame to reach the server');
      socket.write(Buffer.concat([fragment.subarray(1), ending]));
      await waitFor(() => hold.size === 1, 'a frame to be held');
      expect(hold.held()[0].frame).toMatchObject({ index: 1, fin: false, payloadLength: 5, violations: [] });
      hold.forwardAll();
      await waitFor(() => hold.size === 1 && hold.held()[0].frame.opcode === 0, 'the continuation to be held');
      hold.forwardAll();
      await waitFor(() => clientFrames().length === 3, 'the held frames to go on');
      expect(clientFrames().map((f) => [f.payloadLength, f.violations])).toEqual([
        [300, []],
        [5, []],
        [4, []],
      ]);
      expect(rec.of('error')).toEqual([]);
    } finally {
      socket.destroy();
    }
  });

  it('frames held by the UI count against the stage bound: past 1 MiB behind a held frame the client is not read', async () => {
    const socket = await rawClient();
    try {
      socket.write(buildFrame({ opcode: 1, mask: KEY, payload: 'before' }));
      await waitFor(() => clientFrames().length === 1, 'a frame before intercepting');
      hold.setFilter(filter('client text'));
      socket.write(buildFrame({ opcode: 1, mask: KEY, payload: 'held' }));
      await waitFor(() => hold.size === 1, 'the frame to be held');
      // 32 MiB of binary frames (not matching) behind it: they wait in order, bounded.
      const frame = buildFrame({ opcode: 2, mask: KEY, payload: Buffer.alloc(60000, 1) });
      for (let written = 0; written < 32 * 1024 * 1024; written += frame.length) socket.write(frame);
      const stage = hold.stage(1)!;
      await waitFor(() => stage.full('client'), 'the proxy to stop reading the client');
      const heldThen = stage.held('client');
      expect(heldThen).toBeGreaterThan(HOLD_LIMIT);
      expect(heldThen).toBeLessThan(HOLD_LIMIT + 4 * 1024 * 1024);
      // Another connection's whole handshake goes through meanwhile (time for more to arrive).
      const other = await rawClient();
      other.destroy();
      expect(socket.writableLength).toBeGreaterThan(16 * 1024 * 1024);
      expect(stage.held('client')).toBe(heldThen);
      expect(hold.size).toBe(1);
      // Forwarded: everything behind it flows again, in order.
      hold.forwardAll();
      await waitFor(() => clientFrames().length >= 3 && stage.held('client') < HOLD_LIMIT, 'the client to be read again');
      expect(clientFrames()[1].payloadLength).toBe(4);
    } finally {
      socket.destroy();
    }
  });

  it('asked for inside a fragmented message (and half a header), it joins after the message', async () => {
    const socket = await rawClient();
    try {
      const fragment = buildFrame({ opcode: 1, fin: false, mask: KEY, payload: 'frag-' });
      const ping = buildFrame({ opcode: 9, mask: KEY, payload: 'p' });
      const ending = buildFrame({ opcode: 0, mask: KEY, payload: 'ment' });
      const after = buildFrame({ opcode: 1, mask: KEY, payload: 'after' });
      socket.write(Buffer.concat([fragment, ping.subarray(0, 1)]));
      await waitFor(() => clientFrames().length === 1, 'the first fragment to go through');
      hold.setFilter(filter('client'));
      socket.write(Buffer.concat([ping.subarray(1), ending, after]));
      await waitFor(() => hold.size === 1, 'a frame to be held');
      // The ping and the continuation went by: joining inside the message would have cut it.
      expect(hold.held()[0].frame).toMatchObject({ index: 3, opcode: 1, violations: [] });
      expect(hold.held()[0].frame.payloadBytes.toString()).toBe('after');
      expect(clientFrames().map((f) => f.opcode)).toEqual([1, 9, 0]);
      hold.forwardAll();
      await waitFor(() => clientFrames().length === 4, 'the held frame to go on');
      expect(clientFrames().flatMap((f) => f.violations)).toEqual([]);
      expect(rec.of('error')).toEqual([]);
    } finally {
      socket.destroy();
    }
  });
});

describe('a peer that leaves while its frames wait on a hook that never answers', () => {
  it('the connection closes both sides at once (the upstream would stay), is reported, and what was held is freed', async () => {
    // An upstream that answers the upgrade and then never closes, not even after a FIN.
    const upstreamEnded: boolean[] = [];
    const upstreamSockets: net.Socket[] = [];
    const upstream = net.createServer({ allowHalfOpen: true }, (s) => {
      upstreamSockets.push(s);
      s.once('data', (head) => {
        const key = /Sec-WebSocket-Key: (\S+)/i.exec(head.toString('latin1'))![1];
        s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(key)}\r\n\r\n`);
        s.on('data', () => undefined);
      });
      s.on('end', () => upstreamEnded.push(true));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const rec = recordingSession();
    let stage: Interceptor | undefined;
    let asked = 0;
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${(upstream.address() as net.AddressInfo).port}/`,
      session: rec.session,
      intercept: { deciders: [{ by: 'script', onFrame: (f) => (f.dir === 'client' ? (asked++, new Promise(() => undefined)) : undefined) }], onConnection: (_c, s) => (stage = s) },
    });
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('latin1')));
      await new Promise((r) => socket.once('connect', r));
      socket.write(UPGRADE);
      await waitFor(() => answer.includes('101 Switching Protocols'), 'the 101');
      socket.write(Buffer.concat([buildFrame({ opcode: 1, mask: KEY, payload: 'held forever' }), buildFrame({ opcode: 1, mask: KEY, payload: 'behind it' })]));
      await waitFor(() => asked === 1 && stage!.held('client') > 0, 'the hook to hold the frames');
      socket.end(); // the client leaves: a FIN, its frames still held
      await waitFor(() => rec.of('end', 1).length === 1, 'the end of the connection');
      expect(rec.of('end', 1)[0]).toMatchObject({ reason: 'client closed while its frames waited for script onFrame for client frame #0' });
      expect(rec.of('error').map((e) => e.message)).toEqual(['script onFrame for client frame #0 had not answered when the connection ended; 2 held client frames were never sent']);
      expect(stage!.held('client')).toBe(0);
      await waitFor(() => upstreamEnded.length === 1, 'the proxy to close its upstream side too');
      // Nothing of the held frames reached the upstream.
      expect(rec.of('frame', 1).filter((f) => f.dir === 'client')).toEqual([]);
    } finally {
      socket.destroy();
      await proxy.close();
      for (const s of upstreamSockets) s.destroy();
      await new Promise((r) => upstream.close(r));
    }
  });
});
