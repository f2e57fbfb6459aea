/**
 * The library's functions (src/index.ts) as a test author calls them: decodeFile gives
 * the events `wsscope decode FILE --ui json` prints, decodeBytes those of `--hex`, and the
 * live servers listen on free loopback ports, record events and fail in one line.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import WebSocket from 'ws';
import { buildFrame, decodeBytes, decodeFile, startBackend, startProxy, type WsEvent } from '../src';
import { decodeMain } from '../src/cli/decode';

const SAMPLES = path.resolve(__dirname, '../samples');

async function cliJson(args: string[]): Promise<unknown[]> {
  let out = '';
  await decodeMain([...args, '--ui', 'json'], (text) => (out += text));
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

describe('decodeFile and decodeBytes', () => {
  it.each(['fragmentation', 'deflate-context-takeover', 'close-client-first'])('%s: the events decode --ui json prints', async (name) => {
    const file = path.join(SAMPLES, `${name}.capture.ndjson`);
    const events = await decodeFile(file);
    expect(JSON.parse(JSON.stringify(events))).toEqual(await cliJson([file]));
    expect(events.some((e) => e.event === 'handshake')).toBe(true);
  });
  it('reads hex text files too (the same input recognition as the CLI)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-lib-')), 'frames.hex');
    fs.writeFileSync(file, '# RFC 6455 §5.7\n81 05 48 65 6c 6c 6f\n');
    const seen: WsEvent[] = [];
    const events = await decodeFile(file, { onEvent: (e) => seen.push(e) });
    expect(events.map((e) => e.event)).toEqual(['frame', 'message']);
    expect(seen).toEqual(events);
    expect(events[1]).toMatchObject({ text: 'Hello', dir: 'server' });
  });
  it('rejects an unreadable file with one line', async () => {
    await expect(decodeFile('/nonexistent/x.capture.ndjson')).rejects.toThrow(/^cannot read \/nonexistent\/x\.capture\.ndjson: no such file$/);
  });
  it('decodeBytes is decode --hex', async () => {
    const bytes = Buffer.concat([buildFrame({ opcode: 1, fin: false, payload: 'Hel', maskKey: '01020304' }), buildFrame({ opcode: 0, payload: 'lo', maskKey: '05060708' })]);
    expect(JSON.parse(JSON.stringify(decodeBytes(bytes)))).toEqual(await cliJson(['--hex', bytes.toString('hex')]));
    expect(decodeBytes(bytes, { from: 'server' })[0]).toMatchObject({ dir: 'server', violations: [expect.objectContaining({ rule: 'masked-server-frame' })] });
  });
});

describe('startBackend and startProxy', () => {
  it('proxy with its own backend on free ports: events recorded, waitFor, close ends everything', async () => {
    const proxy = await startProxy({ backend: true });
    try {
      expect(proxy.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(proxy.port).not.toBe(0);
      expect(proxy.backend!.port).not.toBe(proxy.port);
      expect(proxy.target).toBe(`ws://${proxy.backend!.address}/json`);
      const ws = new WebSocket(proxy.url);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send('Bo');
      const answer = await proxy.waitFor((e) => e.event === 'message' && e.dir === 'server');
      expect(answer).toMatchObject({ text: '{"name":"Bo","age":18,"description":"Bo很厉害!!!!"}\n' });
      await expect(proxy.waitFor((e) => e.event === 'error', 50)).rejects.toThrow('no matching event within 50 ms');
      ws.terminate();
    } finally {
      await proxy.close();
    }
    expect(proxy.events[0]).toMatchObject({ event: 'listening', proxy: proxy.address });
    expect(proxy.events.at(-1)).toMatchObject({ event: 'end' });
    // The backend went with it: nothing listens there any more.
    const refused = new WebSocket(proxy.target);
    await expect(new Promise((_, reject) => refused.once('error', reject))).rejects.toThrow(/ECONNREFUSED/);
  });
  it('fails in one line: a port in use, no target, an unwritable output', async () => {
    const backend = await startBackend();
    try {
      await expect(startBackend({ listen: backend.address })).rejects.toThrow(`${backend.address} is already in use`);
      await expect(startProxy({ listen: backend.address, target: backend.url })).rejects.toThrow(/^cannot listen on 127\.0\.0\.1:\d+: address already in use \(EADDRINUSE\)$/);
      await expect(startProxy({} as never)).rejects.toThrow('startProxy needs a target');
      await expect(startProxy({ target: backend.url, har: '/nonexistent/dir/x.har' })).rejects.toThrow(/^cannot write HAR file "\/nonexistent\/dir\/x\.har": /);
      await expect(startBackend({ listen: 'nonsense' })).rejects.toThrow('bad address "nonsense"');
    } finally {
      await backend.close();
    }
  });
});
