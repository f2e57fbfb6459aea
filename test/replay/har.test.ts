/**
 * `--har FILE` (proxy; replay --to has its own test) and startProxy({har}): HAR 1.2 in
 * Chrome DevTools' WebSocket form, checked against the HAR 1.2 schema (har-schema.ts,
 * which is itself checked here to reject what the spec does not allow).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import { decodeFile, replayCapture, startBackend, startProxy } from '../../src';
import { BIN } from '../teach/helpers';
import { harProblems } from './har-schema';
import { closed, nextMessages, opened, tmpDir } from './helpers';

let dir: string;
beforeAll(() => (dir = tmpDir()));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Message = { type: string; opcode: number; data: string; time: number };

test('the schema check rejects what HAR 1.2 does not allow', () => {
  const good = {
    log: {
      version: '1.2',
      creator: { name: 'x', version: '1' },
      entries: [
        {
          startedDateTime: '2026-01-02T03:04:05.678Z',
          time: 1,
          request: { method: 'GET', url: 'ws://h/p', httpVersion: 'HTTP/1.1', cookies: [], headers: [], queryString: [], headersSize: -1, bodySize: 0 },
          response: { status: 101, statusText: 'Switching Protocols', httpVersion: 'HTTP/1.1', cookies: [], headers: [], content: { size: 0, mimeType: 'x-unknown' }, redirectURL: '', headersSize: -1, bodySize: 0 },
          cache: {},
          timings: { send: 0, wait: 0, receive: 0 },
          _resourceType: 'websocket',
          _webSocketMessages: [{ type: 'send', time: 1.5, opcode: 1, data: 'hi' }],
        },
      ],
    },
  };
  expect(harProblems(good)).toEqual([]);
  const broken = JSON.parse(JSON.stringify(good));
  const e = broken.log.entries[0];
  delete e.response.content.mimeType;
  e.timings.send = -1;
  e.startedDateTime = 'yesterday';
  e.request.url = '/relative';
  e.extra = 1;
  e._webSocketMessages[0].type = 'sent';
  expect(harProblems(broken)).toEqual([
    'har.log.entries[0].startedDateTime: expected an ISO 8601 date-time, got "yesterday"',
    'har.log.entries[0].request.url: not an absolute URL: /relative',
    'har.log.entries[0].response.content.mimeType: missing',
    'har.log.entries[0].timings.send: expected a number >= 0, got -1',
    'har.log.entries[0].extra: not a HAR 1.2 field (custom fields start with "_")',
    'har.log.entries[0]._webSocketMessages[0].type: expected one of send, receive, got "sent"',
  ]);
});

test('wsscope proxy --har with the NDJSON output (decoded off-thread): the HAR of the session, written at shutdown', async () => {
  const har = path.join(dir, 'proxy.har');
  const child = spawn(process.execPath, [BIN, 'proxy', '--backend', '--listen', '127.0.0.1:0', '--ui', 'json', '--har', har], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const proxy = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        const m = /"event":"listening".*?"proxy":"([^"]+)"/.exec(text);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`proxy exited ${code}`)));
    });
    const ws = new WebSocket(`ws://${proxy}/json?room=1`, { headers: { Cookie: 'a=1; b=2' } });
    await opened(ws);
    const answer = nextMessages(ws, 1);
    ws.send('Ann');
    await answer;
    ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    ws.close(1000);
    await closed(ws);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
  const doc = JSON.parse(fs.readFileSync(har, 'utf8'));
  expect(harProblems(doc)).toEqual([]);
  expect(doc.log.creator.name).toBe('wsscope');
  const [entry] = doc.log.entries;
  expect(entry.request.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/json\?room=1$/);
  expect(entry.request.queryString).toEqual([{ name: 'room', value: '1' }]);
  expect(entry.request.cookies).toEqual([{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
  expect(entry.response.status).toBe(101);
  expect(entry.response.headers).toContainEqual({ name: 'Upgrade', value: 'websocket' });
  const messages: Message[] = entry._webSocketMessages;
  expect(messages.map(({ type, opcode, data }) => [type, opcode, data])).toEqual([
    ['send', 1, 'Ann'],
    ['receive', 1, '{"name":"Ann","age":18,"description":"Ann很厉害!!!!"}\n'],
    ['send', 2, Buffer.from([0, 1, 2, 255]).toString('base64')],
  ]);
  // Seconds since the epoch, as Chrome writes them, in order.
  expect(Math.abs(messages[0].time - Date.now() / 1000)).toBeLessThan(600);
  expect(messages[1].time).toBeGreaterThanOrEqual(messages[0].time);
  expect(Date.parse(entry.startedDateTime) / 1000).toBeLessThanOrEqual(messages[0].time);
});

test('our HAR reads back (the HAR reader of decode, src/import) into the same messages, and replays against the backend', async () => {
  const har = path.join(dir, 'readback.har');
  const proxy = await startProxy({ backend: true, har });
  const backend = await startBackend();
  try {
    const ws = new WebSocket(proxy.url);
    await opened(ws);
    for (const text of ['Ann', 'Bo']) {
      const answer = nextMessages(ws, 1);
      ws.send(text);
      await answer;
    }
    ws.close(1000);
    await closed(ws);
    await proxy.waitFor((e) => e.event === 'end');
    await proxy.close();
    const recorded = proxy.events.filter((e) => e.event === 'message').map((e) => e.event === 'message' && [e.dir, e.opcode, e.text]);
    const events = await decodeFile(har);
    expect(events.filter((e) => e.event === 'message').map((e) => e.event === 'message' && [e.dir, e.opcode, e.text])).toEqual(recorded);
    expect(events.find((e) => e.event === 'handshake')).toMatchObject({ request: { method: 'GET', target: '/json' }, response: { status: 101 } });
    // A HAR has messages only: replay sends each as one frame.
    const report = await replayCapture(har, { to: backend.url });
    expect(report.text).toBe(`conn 1 (GET /json) against ${backend.url}: equal (2 server messages)\nreplay: 1 connection: 1 equal, 0 differ\n`);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test('startProxy({har}) with permessage-deflate: the messages as the application sent them (inflated)', async () => {
  const har = path.join(dir, 'deflate.har');
  const proxy = await startProxy({ backend: { deflate: true }, har });
  try {
    const ws = new WebSocket(proxy.url, { perMessageDeflate: { threshold: 0 } });
    await opened(ws);
    const answer = nextMessages(ws, 1);
    ws.send('compressed '.repeat(20));
    await answer;
    ws.close(1000);
    await closed(ws);
    await proxy.waitFor((e) => e.event === 'end');
    const compressed = proxy.events.filter((e) => e.event === 'message' && e.compressed);
    expect(compressed).toHaveLength(2);
  } finally {
    await proxy.close();
  }
  const doc = JSON.parse(fs.readFileSync(har, 'utf8'));
  expect(harProblems(doc)).toEqual([]);
  const messages: Message[] = doc.log.entries[0]._webSocketMessages;
  expect(messages.map((m) => m.data)).toEqual(['compressed '.repeat(20), `{"name":"${'compressed '.repeat(20)}","age":18,"description":"${'compressed '.repeat(20)}很厉害!!!!"}\n`]);
  expect(doc.log.entries[0].response.headers.find((h: { name: string }) => /extensions/i.test(h.name)).value).toMatch(/permessage-deflate/);
});
