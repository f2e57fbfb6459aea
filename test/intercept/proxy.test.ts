/**
 * Script hooks in the live proxy, against real peers on 127.0.0.1: Python's websockets as
 * the client, the built-in backend (gorilla's behaviour) or a `ws` server.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { WebSocketServer } from 'ws';
import { startBackend } from '../../src/backend';
import type { InterceptEvent, MessageEvent } from '../../src/decoder/events';
import * as net from 'net';
import { buildFrame } from '../../src/decoder/build';
import { HOLD_LIMIT, type Decider, type Interceptor } from '../../src/intercept/engine';
import { startProxy, type ProxyHandle } from '../../src/proxy';
import { recordingSession, runCli, requireBuilt, spawnCli, waitFor } from '../proxy/helpers';
import { killChildren, runCommand } from '../teach/helpers';

const CLIENT = path.join(__dirname, 'client.py');

type Result = { recv?: string; closed?: number; reason?: string; pong?: boolean; extensions?: string | null };

async function python(url: string, steps: unknown[], deflate = false): Promise<Result[]> {
  const r = await runCommand('/usr/bin/python3', [CLIENT, url, JSON.stringify(steps), ...(deflate ? ['--deflate'] : [])], { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`client.py failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('script hooks against the built-in backend', () => {
  let backend: { port: number; close(): Promise<void> };
  let proxy: ProxyHandle;
  const rec = recordingSession();
  let hooks: Decider = { by: 'script' };

  beforeAll(async () => {
    backend = await startBackend({ host: '127.0.0.1', port: 0 });
    proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${backend.port}/json`,
      session: rec.session,
      // The deciders are read per connection: each test sets its own hooks.
      intercept: { deciders: [{ by: 'script', onFrame: (f, api) => hooks.onFrame?.(f, api), onMessage: (m, api) => hooks.onMessage?.(m, api) }] },
    });
  });
  afterAll(async () => {
    killChildren();
    await proxy?.close();
    await backend?.close();
  });
  const url = () => `ws://127.0.0.1:${proxy.port}/json`;

  it('rewrites a text: the server answers for the edited name, and the capture shows what it received', async () => {
    hooks = { by: 'script', onFrame: (f) => (f.dir === 'client' && f.opcode === 1 ? { opcode: 'text', payload: f.payloadBytes.toString().replace('Alice', 'Mallory') } : undefined) };
    const out = await python(url(), [['send', 'Alice'], ['recv']]);
    expect(JSON.parse(out[0].recv!)).toEqual({ name: 'Mallory', age: 18, description: 'Mallory很厉害!!!!' });
    const conn = rec.of('intercept').at(-1)!.conn;
    const [event] = rec.of('intercept', conn) as InterceptEvent[];
    expect(event).toMatchObject({ dir: 'client', index: 0, action: 'replace', by: 'script', hook: 'onFrame', original: { payload: Buffer.from('Alice').toString('hex') } });
    expect(event.sent[0]).toMatchObject({ masked: true, maskKey: event.original!.maskKey, payload: Buffer.from('Mallory').toString('hex') });
    // The decoder (and the capture's data) see what the server really got.
    const frames = rec.of('frame', conn).filter((f) => f.dir === 'client' && f.opcode === 1);
    expect(frames.map((f) => f.payload)).toEqual([Buffer.from('Mallory').toString('hex')]);
  });

  it('sets RSV1 with no extension negotiated: the server closes with 1002', async () => {
    hooks = { by: 'script', onFrame: (f) => (f.dir === 'client' && f.opcode === 1 ? { opcode: 'text', rsv1: true, payload: f.payloadBytes } : undefined) };
    const out = await python(url(), [['send', 'hello'], ['recv']]);
    expect(out).toEqual([{ closed: 1002, reason: 'unexpected reserved bits 0x40' }]);
  });

  it('drops pings: no pong comes back, while the text after it is answered', async () => {
    hooks = { by: 'script', onFrame: (f) => (f.opcode === 9 ? 'drop' : undefined) };
    const out = await python(url(), [['ping', 'p1'], ['send', 'after'], ['recv'], ['pong?']]);
    expect(JSON.parse(out[0].recv!).name).toBe('after');
    expect(out[1]).toEqual({ pong: false });
    // Without the hook the same steps see the pong (the check above can fail).
    hooks = { by: 'script' };
    const again = await python(url(), [['ping', 'p1'], ['send', 'after'], ['recv'], ['pong?']]);
    expect(again[1]).toEqual({ pong: true });
  });

  it('injects a server frame the client receives', async () => {
    hooks = { by: 'script', onFrame: (f, api) => void (f.dir === 'client' && f.opcode === 1 && api.send('server', { opcode: 'text', payload: 'injected by the proxy' })) };
    const out = await python(url(), [['send', 'Bob'], ['recv'], ['recv']]);
    expect(out[0]).toEqual({ recv: 'injected by the proxy' });
    expect(JSON.parse(out[1].recv!).name).toBe('Bob');
  });

  it('bad hooks are reported, the proxy stays up and other connections go on', async () => {
    let held = 0;
    hooks = {
      by: 'script',
      onFrame: (f) => {
        if (f.dir !== 'client' || f.opcode !== 1) return undefined;
        const text = f.payloadBytes.toString();
        if (text === 'throw') throw new Error('hook failed on purpose');
        if (text === 'garbage') return 12345;
        if (text === 'hang') {
          held++;
          return new Promise(() => undefined);
        }
        return undefined;
      },
    };
    const errorsBefore = rec.of('error').length;
    expect(JSON.parse((await python(url(), [['send', 'throw'], ['recv']]))[0].recv!).name).toBe('throw');
    expect(JSON.parse((await python(url(), [['send', 'garbage'], ['recv']]))[0].recv!).name).toBe('garbage');
    // A hook that never answers: its connection waits; closing it frees what was held.
    const hanging = python(url(), [['send', 'hang'], ['send', 'more'], ['recv']]);
    await waitFor(() => held === 1, 'the hanging hook to be called');
    const other = await python(url(), [['send', 'unaffected'], ['recv']]);
    expect(JSON.parse(other[0].recv!).name).toBe('unaffected');
    killChildren(); // the hanging client goes away with its frames held
    await hanging.catch(() => undefined);
    await waitFor(() => rec.of('error').slice(errorsBefore).some((e) => /had not answered when the connection ended/.test(e.message)), 'the report of the hook that never answered');
    const messages = rec.of('error').slice(errorsBefore).map((e) => e.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'script onFrame threw for client frame #0: hook failed on purpose; it went on unchanged',
        expect.stringMatching(/^script onFrame returned number 12345: expected undefined, "drop", a frame spec or an array of frame specs for client frame #0; it went on unchanged$/),
        'script onFrame for client frame #0 had not answered when the connection ended; 2 held client frames were never sent',
      ]),
    );
  });
});

describe('memory while a hook holds frames', () => {
  it('a hook that never answers: the proxy stops reading that client (bounded), other connections go on, the end frees it', async () => {
    const backend = await startBackend({ host: '127.0.0.1', port: 0 });
    const rec = recordingSession();
    let stage: Interceptor | undefined;
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${backend.port}/json`,
      session: rec.session,
      decode: false,
      intercept: { deciders: [{ by: 'script', onFrame: (f) => (f.dir === 'client' ? new Promise(() => undefined) : undefined) }], onConnection: (c, s) => void (c === 1 && (stage = s)) },
    });
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.on('error', () => undefined); // reset when the proxy shuts down, below
    try {
      await new Promise((r) => socket.once('connect', r));
      socket.write('GET /json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('latin1')));
      await waitFor(() => answer.includes('101 Switching Protocols'), 'the 101');
      // 64 MiB of client frames behind the one the hook never answers.
      const frame = buildFrame({ opcode: 2, mask: Buffer.from('37fa213d', 'hex'), payload: Buffer.alloc(60000, 1) });
      // Queued in the client whatever write() says: what the proxy does not read stays here.
      for (let written = 0; written < 64 * 1024 * 1024; written += frame.length) socket.write(frame);
      await waitFor(() => stage !== undefined && stage.full('client'), 'the proxy to stop reading');
      const heldThen = stage!.held('client');
      expect(heldThen).toBeLessThan(HOLD_LIMIT + 4 * 1024 * 1024);
      // It stays bounded: after another connection's whole handshake went through the proxy
      // (time for more to arrive, had the reader not been paused), no more is held.
      const other = net.connect(proxy.port, '127.0.0.1');
      other.on('error', () => undefined);
      let otherAnswer = '';
      other.on('data', (d) => (otherAnswer += d.toString('latin1')));
      other.write('GET /json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      await waitFor(() => otherAnswer.includes('101 Switching Protocols'), 'the other connection');
      other.destroy();
      // Most of the 64 MiB never left the client (kernel buffers hold a few MiB at most).
      expect(socket.writableLength).toBeGreaterThan(32 * 1024 * 1024);
      expect(stage!.held('client')).toBe(heldThen);
      // A paused reader cannot see its client leave (the FIN waits behind the unread
      // bytes), so the connection ends here when the proxy shuts down: reported, freed.
      await proxy.close();
      expect(rec.of('error').map((e) => e.message)).toEqual([expect.stringMatching(/^script onFrame for client frame #0 had not answered when the connection ended; \d+ held client frames were never sent$/)]);
      expect(stage!.held('client')).toBe(0);
    } finally {
      socket.destroy();
      await proxy.close();
      await backend.close();
    }
  });
});

describe('script hooks with permessage-deflate and context takeover (a ws server)', () => {
  it('after a compressed message is changed, later messages still inflate on the receiving side', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
    await new Promise((r) => wss.once('listening', r));
    const received: string[] = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data, isBinary) => {
        received.push(data.toString());
        ws.send(data, { binary: isBinary });
      }),
    );
    const rec = recordingSession();
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`,
      session: rec.session,
      intercept: { deciders: [{ by: 'script', onMessage: (m) => (m.dir === 'client' && m.text === 'second: the words again and again' ? { opcode: 'text', payload: 'CHANGED the words again', compress: true } : undefined) }] },
    });
    try {
      const texts = ['first: the words again and again', 'second: the words again and again', 'third: the words again and again', 'fourth: again and again the words'];
      const out = await python(`ws://127.0.0.1:${proxy.port}/`, [['extensions'], ...texts.flatMap((t) => [['send', t], ['recv']])], true);
      // Context takeover both ways (no *_no_context_takeover in the answer).
      expect(out[0].extensions).toMatch(/^permessage-deflate/);
      expect(out[0].extensions).not.toMatch(/no_context_takeover/);
      const changed = [texts[0], 'CHANGED the words again', texts[2], texts[3]];
      expect(received).toEqual(changed);
      expect(out.slice(1).map((r) => r.recv)).toEqual(changed);
      const intercepts = rec.of('intercept') as InterceptEvent[];
      expect(intercepts.map((e) => [e.dir, e.action, e.by])).toEqual([
        ['client', 'replace', 'script'],
        ['client', 'reencode', 'proxy'],
      ]);
      // What the server got, decoded: every client message inflated, none broken.
      const messages = rec.of('message').filter((m) => m.dir === 'client') as MessageEvent[];
      expect(messages.map((m) => [m.text, m.compressed])).toEqual(changed.map((t) => [t, true]));
      expect(rec.of('error')).toEqual([]);
    } finally {
      killChildren();
      await proxy.close();
      await new Promise((r) => wss.close(r));
    }
  });
});

describe('wsscope proxy --script', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-hooks-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  beforeAll(() => requireBuilt());

  it.each([
    ['missing.js', null, /^wsscope: hooks file .*missing\.js: no such file$/],
    ['syntax.js', 'exports.onFrame = () => undefined;\nconst = 5;\n', /^wsscope: hooks file .*syntax\.js: syntax error at line 2: /],
    ['syntax.ts', 'export const onFrame = () => undefined;\nconst = 5;\n', /^wsscope: hooks file .*syntax\.ts: syntax error at line 2: /],
    ['none.js', 'exports.other = 1;\n', /^wsscope: hooks file .*none\.js: exports neither onFrame nor onMessage$/],
    ['notfn.mjs', 'export const onFrame = 5;\n', /^wsscope: hooks file .*notfn\.mjs: onFrame is number, not a function$/],
    ['throws.cjs', 'throw new Error("no");\n', /^wsscope: hooks file .*throws\.cjs: failed while loading: no$/],
  ])('%s: one clear line and a non-zero exit', async (name, text, pattern) => {
    const file = text === null ? path.join(dir, name) : write(name, text);
    const r = await runCli(['proxy', '--backend', '--listen', '127.0.0.1:0', '--ui', 'json', '--script', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(pattern);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['upper.mjs', 'export function onFrame(f) { if (f.dir === "client" && f.opcode === 1) return { opcode: 1, payload: f.payloadBytes.toString().toUpperCase() }; }\n'],
    [
      'upper.ts',
      'import type { FrameHook } from "wsscope";\nexport const onFrame: FrameHook = (f) => (f.dir === "client" && f.opcode === 1 ? { opcode: "text", payload: f.payloadBytes.toString().toUpperCase() } : undefined);\n',
    ],
  ])('loads %s and the NDJSON has the intercept event', async (name, text) => {
    const cli = spawnCli(['proxy', '--backend', '--listen', '127.0.0.1:0', '--ui', 'json', '--script', write(name, text)]);
    try {
      await waitFor(() => cli.stdout().includes('"listening"'), 'the proxy to listen');
      const port = JSON.parse(cli.stdout().split('\n')[0]).proxy.split(':')[1];
      const out = await python(`ws://127.0.0.1:${port}/json`, [['send', 'quiet'], ['recv']]);
      expect(JSON.parse(out[0].recv!).name).toBe('QUIET');
      await waitFor(() => cli.stdout().includes('"intercept"'), 'the intercept event');
      const line = cli.stdout().split('\n').find((l) => l.includes('"intercept"'))!;
      expect(JSON.parse(line)).toMatchObject({ event: 'intercept', dir: 'client', action: 'replace', by: 'script', hook: 'onFrame' });
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
