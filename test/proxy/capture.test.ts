import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import {
  CaptureFormatError,
  CaptureWriter,
  MAX_DATA_BYTES,
  parseCaptureLine,
  readCapture,
  type CaptureRecord,
} from '../../src/capture';
import { Session } from '../../src/session';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-capture-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function collect(input: string | NodeJS.ReadableStream): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCapture(input, 'cap')) out.push(r);
  return out;
}

async function readError(text: string): Promise<string> {
  try {
    await collect(Readable.from([Buffer.from(text)]));
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureFormatError);
    return (err as Error).message;
  }
  throw new Error('expected a CaptureFormatError');
}

test('the writer streams open, data (split at 64 KiB) and end lines that the reader gives back byte for byte', async () => {
  const file = path.join(tmp, 'a.ndjson');
  const session = new Session();
  const writer = new CaptureWriter(file).attach(session);
  const big = Buffer.alloc(MAX_DATA_BYTES * 2 + 7, 0xab);
  session.publish({ event: 'open', ts: 1.5, conn: 1, client: '127.0.0.1:5000', target: 'ws://127.0.0.1:8080/json' });
  session.publishData(1, 'client', 2.25, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  session.publishData(1, 'server', 3, big);
  // Decoder events are not captured: replay derives them from the bytes.
  session.publish({ event: 'error', ts: 3.5, message: 'not for a connection' });
  session.publish({ event: 'error', ts: 3.75, conn: 1, message: 'upstream refused' });
  session.publish({ event: 'end', ts: 4, conn: 1, reason: 'client closed', bytes: { client: 18, server: big.length } });
  await writer.close();

  const lines = fs.readFileSync(file, 'utf8').split('\n');
  expect(lines[0]).toBe('{"format":"wsscope-capture","version":1}');
  expect(lines[lines.length - 1]).toBe('');
  const records = await collect(file);
  expect(records.map((r) => r.kind)).toEqual(['header', 'open', 'data', 'data', 'data', 'data', 'error', 'end']);
  const server = records.filter((r): r is Extract<CaptureRecord, { kind: 'data' }> => r.kind === 'data' && r.dir === 'server');
  expect(server.map((r) => r.bytes.length)).toEqual([MAX_DATA_BYTES, MAX_DATA_BYTES, 7]);
  expect(Buffer.concat(server.map((r) => r.bytes)).equals(big)).toBe(true);
  expect(server.every((r) => r.ts === 3 && r.conn === 1)).toBe(true);
  const first = records[2] as Extract<CaptureRecord, { kind: 'data' }>;
  expect(first.bytes.toString()).toBe('GET / HTTP/1.1\r\n\r\n');
  expect(records[1]).toMatchObject({ kind: 'open', event: { conn: 1, client: '127.0.0.1:5000', ts: 1.5 } });
  expect(records[7]).toMatchObject({ kind: 'end', event: { reason: 'client closed', bytes: { client: 18 } } });
});

test('malformed captures fail with one line naming the line', async () => {
  const head = '{"format":"wsscope-capture","version":1}\n';
  expect(await readError('hello\n')).toBe('cap:1: not a wsscope capture (the first line is not JSON)');
  expect(await readError('{"format":"pcap"}\n')).toMatch(/^cap:1: not a wsscope capture/);
  expect(await readError('{"event":"open","ts":0,"conn":1}\n')).toBe(
    'cap:1: decoded events (a golden file or --ui json output), not a capture: use the .capture.ndjson that --save writes',
  );
  expect(await readError('{"format":"wsscope-capture","version":2}\n')).toBe('cap:1: unsupported capture version 2 (this wsscope reads version 1)');
  expect(await readError('')).toBe('cap:1: empty file: not a wsscope capture');
  expect(await readError(head + '\n{"event":"data","conn":1,"dir":"client","ts":1,"bytes":"zz"}\n')).toBe(
    'cap:3: data line whose "bytes" is not hex',
  );
  expect(await readError(head + '{"event":"data","conn":1,"dir":"up","ts":1,"bytes":""}')).toMatch(/^cap:2: data line with "dir"/);
  expect(await readError(head + '{"event":"end","conn":1,"ts":1,"reason":"x"}')).toMatch(/^cap:2: end line without "bytes"/);
  expect(await readError(head + '{"event":"open","conn":-1,"ts":1}')).toMatch(/^cap:2: open line without a non-negative integer "conn"/);
  expect(await readError(head + '[1,2]')).toBe('cap:2: not a JSON object');
  expect(await readError(head + '{"event":"data"')).toBe('cap:2: not a JSON line');
  expect(await readError(head + 'x'.repeat(1024 * 1024 + 10))).toMatch(/^cap:2: line longer than/);
});

test('unknown events and blank lines are skipped; a final line without newline is read', async () => {
  const text =
    '\n{"format":"wsscope-capture","version":1}\n{"event":"listening","ts":1,"proxy":"x"}\n\n' +
    '{"event":"data","conn":2,"dir":"server","ts":5,"bytes":"8100"}';
  const records = await collect(Readable.from([Buffer.from(text)]));
  expect(records.map((r) => r.kind)).toEqual(['header', 'data']);
  expect(records[1]).toMatchObject({ line: 5, conn: 2, dir: 'server', ts: 5 });
  expect(parseCaptureLine('   ', 3)).toBeNull();
});

test('a capture split inside a multi-byte character still reads', async () => {
  const text = Buffer.from(
    '{"format":"wsscope-capture","version":1}\n{"event":"open","conn":1,"ts":1,"client":"c","target":"ws://ü/"}\n',
  );
  const cut = text.indexOf(Buffer.from('ü')) + 1;
  const records = await collect(Readable.from([text.subarray(0, cut), text.subarray(cut)]));
  expect(records[1]).toMatchObject({ kind: 'open', event: { target: 'ws://ü/' } });
});

test('an unwritable capture path fails at once', () => {
  expect(() => new CaptureWriter(path.join(tmp, 'no-such-dir', 'x.ndjson'))).toThrow(/ENOENT/);
});

test('replaying a live capture (permessage-deflate, fragments, ping, close) yields the live events, ts included', async () => {
  const { startBackend } = require('../../src/backend') as typeof import('../../src/backend');
  const { startProxy } = await import('../../src/proxy');
  const { replayCaptureFile } = await import('../../src/capture');
  const { WebSocket } = await import('ws');
  const { waitFor } = await import('./helpers');
  const backend = await startBackend({ host: '127.0.0.1', port: 0, deflate: true });
  const session = new Session();
  const live: import('../../src/decoder/events').WsEvent[] = [];
  session.onEvent((e) => live.push(e));
  const file = path.join(tmp, 'live.ndjson');
  const writer = new CaptureWriter(file).attach(session);
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${backend.port}/json`, session });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/json`, { perMessageDeflate: true });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    let got = 0;
    ws.on('message', () => got++);
    ws.send('first');
    ws.ping('p');
    ws.send('x'.repeat(3000)); // answered in several frames
    ws.send(Buffer.from([1, 2, 3]), { fin: false });
    ws.send(Buffer.from([4, 5]), { fin: true });
    await waitFor(() => got === 2, 'two answers');
    ws.close(1000, 'bye');
    await waitFor(() => live.some((e) => e.event === 'end'), 'the end event');
  } finally {
    await proxy.close();
    await backend.close();
    await writer.close();
  }
  const replayed: typeof live = [];
  await replayCaptureFile(file, (e) => replayed.push(e));
  const withoutListening = live.filter((e) => e.event !== 'listening');
  expect(withoutListening.some((e) => e.event === 'message' && e.compressed)).toBe(true);
  expect(JSON.parse(JSON.stringify(replayed))).toEqual(JSON.parse(JSON.stringify(withoutListening)));
});
