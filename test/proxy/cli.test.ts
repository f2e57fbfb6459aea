/**
 * The proxy, start and replay commands as users run them: `node bin/wsscope.js ...` (dist/
 * must be built; `npm test` builds first). A `ws` client goes through the proxy to the
 * built-in backend; the NDJSON, the capture replayed, and the pcap read by tshark must agree.
 */
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { WebSocket } from 'ws';
import type { FrameEvent, MessageEvent, WsEvent } from '../../src/decoder/events';
import { requireBuilt, runCli, spawnCli, waitFor, type Cli } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-cli-'));
const running: Cli[] = [];
beforeAll(() => requireBuilt());
afterAll(() => {
  for (const cli of running) if (cli.code === undefined) cli.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function start(args: string[]): Cli {
  const cli = spawnCli(args);
  running.push(cli);
  return cli;
}

function jsonLines(text: string): WsEvent[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as WsEvent);
}

function expectOneLineError(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^wsscope: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
}

/** Sends a text, a 70000-byte binary (64-bit length), a ping, a 300-byte text (16-bit), then closes. */
async function talk(url: string): Promise<string[]> {
  const ws = new WebSocket(url);
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('open', () => {
      ws.send('wsscope');
      ws.send(Buffer.alloc(70000, 1));
      ws.ping('p');
      ws.send('x'.repeat(300));
    });
    ws.on('message', (m) => {
      got.push(m.toString());
      if (got.length === 2) ws.close(1000, 'bye');
    });
    ws.on('close', () => resolve());
  });
  return got;
}

describe('errors: one line on stderr, non-zero exit, no stack trace', () => {
  test('no --target', async () => expectOneLineError(await runCli(['proxy']), /--target ws:\/\/HOST:PORT\[\/path\] is required/));
  test('a bad target URL', async () => {
    expectOneLineError(await runCli(['proxy', '--target', 'http://127.0.0.1:1/']), /the scheme must be ws:\/\/ or wss:\/\/, not http:\/\//);
    expectOneLineError(await runCli(['proxy', '--target', 'not a url']), /bad target URL "not a url"/);
  });
  test('a bad port, ui or number', async () => {
    expectOneLineError(await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--listen', '127.0.0.1:99999']), /bad port in "127.0.0.1:99999"/);
    expectOneLineError(await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--ui', 'fancy']), /bad --ui "fancy"/);
    expectOneLineError(await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--max-payload', '12k']), /bad --max-payload "12k"/);
    expectOneLineError(await runCli(['proxy', '--bogus']), /bogus/);
  });
  test('--allow-host / --passthrough with a port outside 1-65535 or not a number: refused, exit 2', async () => {
    const cases = [['--allow-host', 'localhost:99999', '99999'], ['--allow-host', '127.0.0.1:0', '0'], ['--allow-host', 'localhost:http', 'http'], ['--allow-host', '[::1]:', ''], ['--passthrough', 'example.test:65536', '65536']];
    const results = await Promise.all(cases.map(([flag, value]) => runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--listen', '127.0.0.1:0', flag, value])));
    cases.forEach(([flag, value, port], i) => {
      expectOneLineError(results[i], new RegExp(`^wsscope: bad ${flag} "${value.replace(/[.[\]]/g, '\\$&')}": the port must be 1-65535 or \\*, not "${port}"\n$`));
      expect(results[i].code).toBe(2);
    });
  });
  test('--deflate without --backend: the target server decides its own extensions', async () => {
    expectOneLineError(await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--deflate']), /--deflate is for the built-in backend: add --backend/);
  });
  test('the port is in use', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expectOneLineError(
        await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--listen', `127.0.0.1:${port}`, '--ui', 'json']),
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use \\(EADDRINUSE\\); --listen H:P picks another`),
      );
      // The built-in backend's port (8080 is often taken by a dev server): the option that moves it.
      expectOneLineError(
        await runCli(['proxy', '--backend', '--backend-listen', `127.0.0.1:${port}`, '--listen', '127.0.0.1:0', '--ui', 'json']),
        new RegExp(`cannot start the built-in backend: 127\\.0\\.0\\.1:${port} is already in use; --backend-listen H:P picks another`),
      );
    } finally {
      server.close();
    }
  });
  test('an unwritable --save or --pcap file', async () => {
    const bad = path.join(tmp, 'no-such-dir', 'x');
    expectOneLineError(await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--listen', '127.0.0.1:0', '--save', bad]), /cannot write capture file ".*x": .*ENOENT/);
    expectOneLineError(await runCli(['proxy', '--target', 'ws://127.0.0.1:1/', '--listen', '127.0.0.1:0', '--pcap', bad]), /cannot write pcap file/);
  });
  test('replay: a missing file, a malformed capture', async () => {
    expectOneLineError(await runCli(['replay', path.join(tmp, 'missing.ndjson')]), /cannot read capture ".*missing\.ndjson": .*ENOENT/);
    const bad = path.join(tmp, 'bad.ndjson');
    fs.writeFileSync(bad, '{"format":"wsscope-capture","version":1}\n{"event":"data","conn":1,"dir":"client","ts":1,"bytes":"0g"}\n');
    expectOneLineError(await runCli(['replay', bad, '--ui', 'json']), /bad\.ndjson:2: data line whose "bytes" is not hex$/m);
    fs.writeFileSync(bad, '\x89PNG\r\n');
    expectOneLineError(await runCli(['replay', bad, '--ui', 'text']), /bad\.ndjson:1: not a wsscope capture/);
    const sample = path.join(__dirname, '../../samples/close-empty.capture.ndjson');
    expectOneLineError(await runCli(['replay', sample, '--pcap', path.join(tmp, 'no-such-dir', 'x.pcap')]), /cannot write pcap file ".*x\.pcap": .*ENOENT/);
  });
});

describe('proxy --backend --ui json --save --pcap, then replay and tshark', () => {
  const capture = path.join(tmp, 'live.ndjson');
  const pcap = path.join(tmp, 'live.pcap');
  let live: WsEvent[] = [];
  let replies: string[] = [];
  let exitCode: number | null = null;
  let stderr = '';

  beforeAll(async () => {
    const cli = start(['proxy', '--backend', '--listen', '127.0.0.1:0', '--ui', 'json', '--save', capture, '--pcap', pcap]);
    await waitFor(() => cli.stdout().includes('\n') || cli.code !== undefined, 'the listening event');
    const listening = JSON.parse(cli.stdout().split('\n')[0]);
    replies = await talk(`ws://${listening.proxy}/json`);
    // A plain HTTP request through the proxy too: the demo page.
    const page = await new Promise<string>((resolve, reject) => {
      http.get(`http://${listening.proxy}/`, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(page).toMatch(/<html/i);
    await waitFor(() => jsonLines(cli.stdout()).filter((e) => e.event === 'end').length === 2, 'both end events');
    cli.child.kill('SIGTERM');
    exitCode = await cli.exited;
    live = jsonLines(cli.stdout());
    stderr = cli.stderr();
  }, 60000);

  test('stdout is exactly the NDJSON events, listening first; SIGTERM exits 0', () => {
    expect(exitCode).toBe(0);
    expect(live[0]).toMatchObject({ event: 'listening', backend: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(replies[0]).toBe('{"name":"wsscope","age":18,"description":"wsscope很厉害!!!!"}\n');
    const kinds = live.map((e) => e.event);
    expect(kinds.filter((k) => k === 'open')).toHaveLength(2);
    expect(kinds).toContain('handshake');
    expect(kinds).toContain('http');
    const frames = live.filter((e): e is FrameEvent => e.event === 'frame');
    expect(frames.filter((f) => f.dir === 'client').map((f) => [f.opcode, f.payloadLength, f.lengthForm])).toEqual([
      [1, 7, 7],
      [2, 70000, 64],
      [9, 1, 7],
      [1, 300, 16],
      [8, 5, 7],
    ]);
    expect(stderr).toMatch(/proxy listening on 127\.0\.0\.1:\d+/);
  });

  test('replay of the capture yields the same events, ts included', async () => {
    const r = await runCli(['replay', capture, '--ui', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual(live.filter((e) => e.event !== 'listening'));
  });

  test('replay --pcap writes the pcap the live proxy wrote, byte for byte; the events are unchanged', async () => {
    const replayed = path.join(tmp, 'replayed.pcap');
    const r = await runCli(['replay', capture, '--ui', 'json', '--pcap', replayed]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual(live.filter((e) => e.event !== 'listening'));
    // Same chunks, same ts, same open and end events: the same records.
    expect(fs.readFileSync(replayed).equals(fs.readFileSync(pcap))).toBe(true);
  });

  test('replay --ui text prints one line per frame', async () => {
    const r = await runCli(['replay', capture, '--ui', 'text']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => / #1 (C→S|S→C) /.test(l) && !/ message /.test(l))).toHaveLength(live.filter((e) => e.event === 'frame').length);
    expect(lines.some((l) => /#2 http  GET \/ → 200 OK/.test(l))).toBe(true);
  });

  const tsharkMissing = !fs.existsSync('/usr/bin/tshark') && !process.env.CI;
  (tsharkMissing ? test.skip : test)('tshark dissects the pcap as WebSocket: the same frames as the NDJSON', async () => {
    const fields = ['tcp.srcport', 'websocket.fin', 'websocket.opcode', 'websocket.mask', 'websocket.payload_length', 'websocket.payload_length_ext_16', 'websocket.payload_length_ext_64'];
    const out = await new Promise<string>((resolve, reject) =>
      execFile('tshark', ['-r', pcap, '-Y', 'websocket', '-T', 'fields', '-E', 'separator=;', ...fields.flatMap((f) => ['-e', f])], (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const seen: string[] = [];
    const ext16: number[] = [];
    const ext64: number[] = [];
    for (const line of out.trim().split('\n')) {
      const [port, fin, opcode, mask, len, e16, e64] = line.split(';').map((v) => (v === '' ? [] : v.split(',')));
      opcode.forEach((op, i) => seen.push(`${port[0] === '80' ? 'server' : 'client'} ${fin[i]} ${op} ${mask[i]} ${len[i]}`));
      ext16.push(...e16.map(Number));
      ext64.push(...e64.map(Number));
    }
    const frames = live.filter((e): e is FrameEvent => e.event === 'frame');
    const len7 = (f: FrameEvent) => (f.lengthForm === 7 ? f.payloadLength : f.lengthForm === 16 ? 126 : 127);
    expect(seen).toEqual(frames.map((f) => `${f.dir} ${f.fin ? 1 : 0} ${f.opcode} ${f.masked ? 1 : 0} ${len7(f)}`));
    expect(ext16).toEqual(frames.filter((f) => f.lengthForm === 16).map((f) => f.payloadLength));
    expect(ext64).toEqual(frames.filter((f) => f.lengthForm === 64).map((f) => f.payloadLength));
  }, 60000);
});

test('wsscope with no command: backend + proxy, the demo page loads through the proxy, SIGINT exits 0', async () => {
  const cli = start(['--listen', '127.0.0.1:0', '--backend-listen', '127.0.0.1:0', '--ui', 'text']);
  await waitFor(() => /proxy listening on (\S+), forwarding/.test(cli.stdout()) || cli.code !== undefined, 'the listening line');
  const proxy = /proxy listening on (\S+), forwarding to ws:\/\/127\.0\.0\.1:\d+\/json/.exec(cli.stdout())![1];
  await waitFor(() => cli.stderr().includes(`http://${proxy}/`), 'the demo page URL');
  const status = await new Promise<number>((resolve, reject) => {
    http.get(`http://${proxy}/`, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  expect(status).toBe(200);
  await waitFor(() => / #1 http  GET \/ → 200 OK/.test(cli.stdout()) && / #1 end /.test(cli.stdout()), 'the http and end lines');
  cli.child.kill('SIGINT');
  expect(await cli.exited).toBe(0);
}, 60000);

test.each([
  ['0.0.0.0:0', '127.0.0.1'],
  ['[::]:0', '[::1]'],
])('--listen %s: the demo page URL printed is one a browser can open (%s), and it loads', async (listen, reachable) => {
  const cli = start(['--listen', listen, '--backend-listen', '127.0.0.1:0', '--ui', 'json']);
  await waitFor(() => (cli.stderr().includes('open the demo page') && cli.stdout().includes('\n')) || cli.code !== undefined, 'the demo page line and the listening event');
  const listening = JSON.parse(cli.stdout().split('\n')[0]) as { proxy: string };
  const port = /:(\d+)$/.exec(listening.proxy)![1];
  expect(listening.proxy).toBe(`${listen.replace(/:0$/, '')}:${port}`); // where it listens, as it is
  expect(cli.stderr()).toContain(`wsscope: open the demo page through the proxy: http://${reachable}:${port}/\n`);
  const status = await new Promise<number>((resolve, reject) => {
    http.get(`http://${reachable}:${port}/`, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  expect(status).toBe(200);
  cli.child.kill('SIGINT');
  expect(await cli.exited).toBe(0);
}, 60000);

test('proxy --backend --deflate: the built-in backend accepts permessage-deflate, and the messages are compressed', async () => {
  const cli = start(['proxy', '--backend', '--deflate', '--listen', '127.0.0.1:0', '--ui', 'json']);
  await waitFor(() => cli.stdout().includes('\n') || cli.code !== undefined, 'the listening event');
  const listening = JSON.parse(cli.stdout().split('\n')[0]);
  // ws offers permessage-deflate by default; threshold 0 compresses even a short message.
  const ws = new WebSocket(`ws://${listening.proxy}/json`, { perMessageDeflate: { threshold: 0 } });
  const reply = new Promise<string>((resolve, reject) => {
    ws.once('message', (m) => resolve(m.toString()));
    ws.once('error', reject);
  });
  ws.once('open', () => ws.send('squeeze me'));
  expect(await reply).toMatch(/^\{"name":"squeeze me"/);
  expect(ws.extensions).toMatch(/^permessage-deflate/);
  ws.close(1000);
  await waitFor(() => cli.stdout().includes('"event":"end"') || cli.code !== undefined, 'the end event');
  cli.child.kill('SIGTERM');
  expect(await cli.exited).toBe(0);
  const events = jsonLines(cli.stdout());
  const hs = events.find((e) => e.event === 'handshake');
  expect(hs).toMatchObject({ extensions: expect.stringMatching(/^permessage-deflate/) });
  const messages = events.filter((e): e is MessageEvent => e.event === 'message');
  expect(messages.map((m) => [m.dir, m.compressed])).toEqual([
    ['client', true],
    ['server', true],
  ]);
  expect(events.filter((e): e is FrameEvent => e.event === 'frame').flatMap((f) => f.violations)).toEqual([]);
}, 60000);

test('--ui json into a pipe whose reader stalls: output waits for the reader, nothing is lost, the proxy keeps running', async () => {
  // stdout is a non-blocking pipe here; a reader that stops for a while makes writes fail
  // with EAGAIN, which fs.WriteStream gave up on after five immediate retries.
  const cli = start(['proxy', '--backend', '--listen', '127.0.0.1:0', '--ui', 'json']);
  await waitFor(() => cli.stdout().includes('\n') || cli.code !== undefined, 'the listening event');
  const listening = JSON.parse(cli.stdout().split('\n')[0]);
  cli.child.stdout!.pause();
  const ws = new WebSocket(`ws://${listening.proxy}/json`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
  // About 11 MB of NDJSON for a pipe that holds 64 KiB.
  for (let i = 0; i < 40; i++) ws.send(Buffer.alloc(70000, i));
  ws.send('done');
  expect(await reply).toMatch(/^\{"name":"done"/);
  expect(cli.code).toBeUndefined();
  cli.child.stdout!.resume();
  ws.close(1000);
  await waitFor(() => cli.stdout().includes('"event":"end"') || cli.code !== undefined, 'the end event');
  cli.child.kill('SIGTERM');
  expect(await cli.exited).toBe(0);
  expect(cli.stderr()).not.toMatch(/cannot write/);
  const frames = jsonLines(cli.stdout()).filter((e): e is FrameEvent => e.event === 'frame' && e.dir === 'client');
  expect(frames.map((f) => f.payloadLength)).toEqual([...Array(40).fill(70000), 4, 2]);
}, 60000);

test('--ui json into a named pipe (as `| jq`) whose reader stalls: nothing is lost', async () => {
  // A real pipe, not the socket pair of stdio 'pipe': the output worker writes it through a
  // blocking descriptor of its own (views/offthread-worker.ts blockingFd).
  const fifo = path.join(tmp, 'out.fifo');
  await new Promise<void>((resolve, reject) => execFile('mkfifo', [fifo], (err) => (err ? reject(err) : resolve())));
  const reader = new net.Socket({ fd: fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), readable: true, writable: false });
  let out = '';
  reader.on('data', (b) => (out += b));
  const writeEnd = fs.openSync(fifo, fs.constants.O_WRONLY);
  const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'wsscope.js'), 'proxy', '--backend', '--listen', '127.0.0.1:0', '--ui', 'json'], { stdio: ['ignore', writeEnd, 'pipe'] });
  fs.closeSync(writeEnd);
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitFor(() => out.includes('\n'), 'the listening event');
    const listening = JSON.parse(out.split('\n')[0]);
    reader.pause();
    const ws = new WebSocket(`ws://${listening.proxy}/json`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
    for (let i = 0; i < 20; i++) ws.send(Buffer.alloc(70000, i));
    ws.send('done');
    expect(await reply).toMatch(/^\{"name":"done"/);
    reader.resume();
    ws.close(1000);
    await waitFor(() => out.includes('"event":"end"'), 'the end event');
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  reader.destroy();
  expect(stderr).not.toMatch(/cannot write/);
  const frames = jsonLines(out).filter((e): e is FrameEvent => e.event === 'frame' && e.dir === 'client');
  expect(frames.map((f) => f.payloadLength)).toEqual([...Array(20).fill(70000), 4, 2]);
  expect(frames[3].payload).toBe('03'.repeat(65536)); // the --max-payload preview
}, 60000);
