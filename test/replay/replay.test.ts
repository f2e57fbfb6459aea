/**
 * `wsscope replay FILE --to URL` and replayCapture(): a session recorded live through the
 * proxy is replayed against the built-in backend (equal, exit 0), against a server that
 * answers differently (a diff naming each message, exit 1; --ignore makes it 0), and
 * against nothing (exit 2). Runs the built CLI: `npm run build` first.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildFrame, dataLines, headerLine, startBackend, type LiveServer } from '../../src';
import { replayCapture } from '../../src/replay/client';
import { closedPort, killChildren, runCli } from '../teach/helpers';
import { harProblems } from './har-schema';
import { differentServer, recordSession, tmpDir } from './helpers';

let dir: string;
let capture: string;
let backend: LiveServer;

beforeAll(async () => {
  dir = tmpDir();
  capture = await recordSession(path.join(dir, 'session.capture.ndjson'), ['Ann', 'Bo']);
  backend = await startBackend();
});

afterAll(async () => {
  killChildren();
  await backend?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('against the built-in backend: equal, exit 0, a readable report', async () => {
  const r = await runCli(['replay', capture, '--to', backend.url]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`conn 1 (GET /json) against ${backend.url}: equal (2 server messages)\nreplay: 1 connection: 1 equal, 0 differ\n`);
  expect(r.code).toBe(0);
});

test('the same as a function, with the live events', async () => {
  const events: string[] = [];
  const report = await replayCapture(capture, { to: backend.url, onEvent: (e) => events.push(e.event === 'message' ? `${e.dir}:${(e.text ?? '').trim()}` : e.event) });
  expect(report.equal).toBe(true);
  expect(report.connections).toEqual([expect.objectContaining({ conn: 1, request: 'GET /json', recorded: 2, received: 2, differences: [] })]);
  expect(events.filter((e) => e.includes(':'))).toEqual([
    'client:Ann',
    'server:{"name":"Ann","age":18,"description":"Ann很厉害!!!!"}',
    'client:Bo',
    'server:{"name":"Bo","age":18,"description":"Bo很厉害!!!!"}',
  ]);
  expect(events[0]).toBe('open');
  expect(events.at(-1)).toBe('end');
});

describe('against a server that answers differently', () => {
  let other: Awaited<ReturnType<typeof differentServer>>;
  beforeAll(async () => {
    other = await differentServer();
  });
  afterAll(() => other.close());

  test('a diff naming each message and JSON path, exit 1; key order and spacing do not count', async () => {
    const r = await runCli(['replay', capture, '--to', other.url]);
    expect(r.stdout).toBe(
      [
        `conn 1 (GET /json) against ${other.url}: differs`,
        '  server message 1:',
        '    $.age: expected 18, got 19',
        '  server message 2:',
        '    $.age: expected 18, got 19',
        'replay: 1 connection: 0 equal, 1 differ',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(1);
  });

  test('--ignore age (or $.age) makes it equal: exit 0', async () => {
    for (const ignore of ['age', '$.age']) {
      const r = await runCli(['replay', capture, '--to', other.url, '--ignore', ignore]);
      expect(r.stdout).toMatch(/: equal \(2 server messages\)\n/);
      expect(r.code).toBe(0);
    }
  });

  test('a fresh handshake with the captured headers: Host and Sec-WebSocket-Key anew, the rest as captured', async () => {
    const before = other.requests.length;
    await replayCapture(capture, { to: other.url, ignore: ['age'] });
    const headers = other.requests[before];
    expect(headers['x-test-run']).toBe('recorded');
    expect(headers.host).toBe(`127.0.0.1:${other.port}`);
    const captured = fs.readFileSync(capture, 'utf8');
    const key = headers['sec-websocket-key'] as string;
    expect(key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    // The captured key is in the capture's hex; the replayed one is not.
    expect(captured.includes(Buffer.from(key).toString('hex'))).toBe(false);
  });
});

test('exit 2 when it cannot run: nothing listening, a bad --ignore path, an unreadable capture, a bad URL', async () => {
  const port = await closedPort();
  const refused = await runCli(['replay', capture, '--to', `ws://127.0.0.1:${port}/json`]);
  expect(refused.stdout).toBe(`conn 1 (GET /json) against ws://127.0.0.1:${port}/json: cannot replay: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)\nreplay: 1 connection: 0 equal, 0 differ, 1 could not be replayed\n`);
  expect(refused.code).toBe(2);
  const badPath = await runCli(['replay', capture, '--to', backend.url, '--ignore', 'a..b']);
  expect(badPath.stderr).toBe('wsscope: bad JSON path "a..b": expected names and [indices], e.g. user.name or items[0].ts\n');
  expect(badPath.code).toBe(2);
  const missing = await runCli(['replay', path.join(dir, 'nope.ndjson'), '--to', backend.url]);
  expect(missing.stderr).toMatch(/^wsscope: cannot read capture ".*nope\.ndjson": .*\n$/);
  expect(missing.code).toBe(2);
  const badUrl = await runCli(['replay', capture, '--to', 'http://127.0.0.1:1/']);
  expect(badUrl.stderr).toBe('wsscope: bad --to URL "http://127.0.0.1:1/": the scheme must be ws:// or wss://, not http://\n');
  expect(badUrl.code).toBe(2);
});

test('--pace keeps the recorded time between the client frames', async () => {
  // A hand-made capture: two messages 400 ms apart, answered at once.
  const file = path.join(dir, 'paced.capture.ndjson');
  const request = 'GET /json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const response = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';
  const answer = (p: string) => buildFrame({ opcode: 1, payload: JSON.stringify({ name: p, age: 18, description: `${p}很厉害!!!!` }) + '\n' });
  fs.writeFileSync(
    file,
    [
      headerLine(),
      JSON.stringify({ event: 'open', ts: 1000, conn: 1, client: '127.0.0.1:1', target: 'ws://x/json' }),
      ...dataLines(1, 'client', 1000, Buffer.from(request)),
      ...dataLines(1, 'server', 1001, Buffer.from(response)),
      ...dataLines(1, 'client', 1002, buildFrame({ opcode: 1, payload: 'a', from: 'client' })),
      ...dataLines(1, 'server', 1003, answer('a')),
      ...dataLines(1, 'client', 1402, buildFrame({ opcode: 1, payload: 'b', from: 'client' })),
      ...dataLines(1, 'server', 1403, answer('b')),
    ].join('\n') + '\n',
  );
  const started = Date.now();
  const report = await replayCapture(file, { to: backend.url, pace: true });
  expect(report.text).toMatch(/equal \(2 server messages\)/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
});

test('--har writes the replayed traffic as HAR 1.2 in DevTools form', async () => {
  const har = path.join(dir, 'replayed.har');
  const r = await runCli(['replay', capture, '--to', backend.url, '--har', har]);
  expect(r.code).toBe(0);
  const doc = JSON.parse(fs.readFileSync(har, 'utf8'));
  expect(harProblems(doc)).toEqual([]);
  expect(doc.log.version).toBe('1.2');
  const [entry] = doc.log.entries;
  expect(entry._resourceType).toBe('websocket');
  expect(entry.request.url).toBe(backend.url);
  expect(entry.response.status).toBe(101);
  expect(entry._webSocketMessages.map((m: { type: string; opcode: number; data: string }) => [m.type, m.opcode, m.data.trim()])).toEqual([
    ['send', 1, 'Ann'],
    ['receive', 1, '{"name":"Ann","age":18,"description":"Ann很厉害!!!!"}'],
    ['send', 1, 'Bo'],
    ['receive', 1, '{"name":"Bo","age":18,"description":"Bo很厉害!!!!"}'],
  ]);
});

test('replay FILE --har OUT without --to converts a capture to HAR offline, read back as the same messages', async () => {
  const har = path.join(dir, 'offline.har');
  const r = await runCli(['replay', capture, '--ui', 'json', '--har', har]);
  expect(r.code).toBe(0);
  const doc = JSON.parse(fs.readFileSync(har, 'utf8'));
  expect(harProblems(doc)).toEqual([]);
  const [entry] = doc.log.entries;
  expect(entry._resourceType).toBe('websocket');
  expect(entry._webSocketMessages.map((m: { type: string; data: string }) => [m.type, m.data.trim()])).toEqual([
    ['send', 'Ann'],
    ['receive', '{"name":"Ann","age":18,"description":"Ann很厉害!!!!"}'],
    ['send', 'Bo'],
    ['receive', '{"name":"Bo","age":18,"description":"Bo很厉害!!!!"}'],
  ]);
  // The HAR decodes to the same messages as the capture it came from.
  const texts = (out: string) =>
    out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'message').map((e) => [e.dir, e.text]);
  const back = await runCli(['decode', har, '--ui', 'json']);
  expect(back.code).toBe(0);
  expect(texts(back.stdout)).toEqual(texts(r.stdout));
  const bad = await runCli(['replay', capture, '--ui', 'json', '--har', path.join(dir, 'missing', 'x.har')]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^wsscope: cannot write HAR file ".*x\.har": /);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
});
