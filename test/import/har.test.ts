/**
 * HAR in: a HAR recorded from headless Chromium through CDP (the Network.webSocket* events
 * DevTools builds its HAR from, put in DevTools' form: `_resourceType: "websocket"`,
 * `_webSocketMessages: [{type, time, opcode, data}]`), read back by `wsscope decode`; and
 * the Chrome- and Firefox-style samples in samples/.
 */
import { existsSync } from 'fs';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser } from 'playwright-core';
import { startBackend, type BackendHandle } from '../../src/backend';
import type { WsEvent } from '../../src/decoder';
import { HAR_NOTE, harEvents, type HarInput, type HarInputEntry } from '../../src/import/har';
import type { HarWebSocketMessage } from '../../src/views/har';
import { ROOT, requireBuilt, runCli } from '../proxy/helpers';
import { chromeStyleHar, HAR_KEY } from './har-samples';

const CHROMIUM = '/usr/bin/chromium';
const maybe = existsSync(CHROMIUM) || process.env.CI ? describe : describe.skip;

const strip = (events: WsEvent[]) =>
  events.map((e) => {
    const { ts, ...rest } = e;
    void ts;
    return rest;
  });

describe('HAR files', () => {
  test("Chrome's form: open with the note, the handshake checked, messages with source har and no frames", () => {
    const events = harEvents(JSON.stringify(chromeStyleHar()));
    expect(strip(events)).toEqual([
      { event: 'open', conn: 1, client: 'browser (HAR)', target: 'ws://127.0.0.1:8080/json', note: HAR_NOTE },
      expect.objectContaining({ event: 'handshake', conn: 1, key: HAR_KEY, acceptValid: true, violations: [], request: expect.objectContaining({ method: 'GET', target: '/json' }) }),
      { event: 'message', conn: 1, dir: 'client', opcode: 1, opcodeName: 'text', frames: 0, length: 5, compressed: false, source: 'har', text: 'hello', violations: [] },
      { event: 'message', conn: 1, dir: 'server', opcode: 1, opcodeName: 'text', frames: 0, length: 26, compressed: false, source: 'har', text: '{"name":"hello","age":18}\n', violations: [] },
      { event: 'message', conn: 1, dir: 'client', opcode: 2, opcodeName: 'binary', frames: 0, length: 4, compressed: false, source: 'har', data: '000102ff', violations: [] },
      { event: 'end', conn: 1, reason: 'end of the HAR entry', bytes: { client: 9, server: 26 } },
    ]);
    // Times: startedDateTime for the open, each message's own (seconds → milliseconds).
    expect(events[0].ts).toBe(Date.parse('2026-12-03T12:00:00.000Z'));
    expect(events[2].ts).toBe(1796300400250);
  });

  test('a HAR without WebSocket entries says so; not-a-HAR JSON is a one-line error', () => {
    expect(() => harEvents(JSON.stringify({ log: { version: '1.2', entries: [{ request: { url: 'http://x/' }, response: { status: 200 } }] } }), { source: 'x.har' })).toThrow(
      'no WebSocket connection found in x.har (1 HAR entry, none a WebSocket: DevTools saves WebSocket messages as "_webSocketMessages" of a ws:// or wss:// entry)',
    );
    expect(() => harEvents('{"log": {}}', { source: 'x.har' })).toThrow('x.har: not a HAR: no log.entries array');
  });

  test("our own HAR writer's output (--har) reads back to the messages it was made from", async () => {
    const { HarBuilder } = await import('../../src/views/har');
    const source = harEvents(JSON.stringify(chromeStyleHar()));
    const builder = new HarBuilder();
    for (const e of source) builder.add(e);
    const again = harEvents(JSON.stringify(builder.har()));
    const messages = (events: WsEvent[]) => strip(events.filter((e) => e.event === 'message'));
    expect(messages(again)).toEqual(messages(source));
    expect(again.find((e) => e.event === 'handshake')).toMatchObject({ acceptValid: true });
  });

  test('the samples: Chrome-style and Firefox-style HARs decode to their messages', async () => {
    requireBuilt();
    for (const [name, count] of [['chrome-devtools.har', 4], ['firefox-devtools.har', 3]] as const) {
      const r = await runCli(['decode', path.join(ROOT, 'samples', 'import', name), '--ui', 'json']);
      expect(r.stderr).toBe('');
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(events.filter((e) => e.event === 'message')).toHaveLength(count);
      expect(events.filter((e) => e.event === 'frame')).toEqual([]);
      expect(events[0]).toMatchObject({ event: 'open', note: HAR_NOTE });
      expect(events.find((e) => e.event === 'handshake')).toMatchObject({ acceptValid: true });
    }
  });
});

maybe('a HAR recorded from headless Chromium through CDP', () => {
  let backend: BackendHandle;
  let browser: Browser;
  let pageServer: http.Server;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-har-'));
    backend = await startBackend({ host: '127.0.0.1', port: 0 });
    // A page from another local server, opening a WebSocket to the backend.
    pageServer = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><script>
        const ws = new WebSocket('ws://127.0.0.1:${backend.port}/json');
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => { ws.send('Ada'); ws.send(new Uint8Array([0, 1, 2, 254, 255])); ws.send('Bob'); };
        let got = 0;
        ws.onmessage = () => { if (++got === 2) ws.close(1000, 'done'); };
        ws.onclose = () => { document.title = 'closed'; };
      </script>`);
    });
    await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await backend?.close();
    await new Promise((r) => pageServer?.close(r));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('built as DevTools builds it, read back by wsscope decode: the messages the page exchanged', async () => {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const entry: HarInputEntry & { _webSocketMessages: HarWebSocketMessage[] } = { _resourceType: 'websocket', _webSocketMessages: [] };
    // CDP times are monotonic seconds; the handshake's wallTime turns them into epoch seconds.
    let clock = 0;
    const headerList = (h: Record<string, string>) => Object.entries(h).flatMap(([name, v]) => v.split('\n').map((value) => ({ name, value })));
    cdp.on('Network.webSocketCreated', (e) => {
      entry.request = { method: 'GET', url: e.url, httpVersion: 'HTTP/1.1', headers: [] };
    });
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => {
      clock = e.wallTime - e.timestamp;
      entry.startedDateTime = new Date(e.wallTime * 1000).toISOString();
      entry.request!.headers = headerList(e.request.headers);
    });
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
      entry.response = { status: e.response.status, statusText: e.response.statusText, httpVersion: 'HTTP/1.1', headers: headerList(e.response.headers) };
      if (e.response.requestHeaders) entry.request!.headers = headerList(e.response.requestHeaders);
    });
    const frame = (type: 'send' | 'receive') => (e: { timestamp: number; response: { opcode: number; payloadData: string } }) =>
      entry._webSocketMessages.push({ type, time: e.timestamp + clock, opcode: e.response.opcode, data: e.response.payloadData });
    cdp.on('Network.webSocketFrameSent', frame('send'));
    cdp.on('Network.webSocketFrameReceived', frame('receive'));
    await page.goto(`http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`);
    await page.waitForFunction('document.title === "closed"', undefined, { timeout: 30000 });
    await page.close();

    const har: HarInput = { log: { version: '1.2', creator: { name: 'WebInspector', version: '537.36' }, entries: [entry] } };
    const file = path.join(tmp, 'chromium.har');
    fs.writeFileSync(file, JSON.stringify(har, null, 2));
    const r = await runCli(['decode', file, '--ui', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'open', conn: 1, target: `ws://127.0.0.1:${backend.port}/json`, note: HAR_NOTE });
    expect(events[1]).toMatchObject({ event: 'handshake', acceptValid: true, response: { status: 101 } });
    const messages = events.filter((e) => e.event === 'message').map((m) => [m.dir, m.opcodeName, m.text ?? m.data]);
    const reply = (name: string) => `{"name":"${name}","age":18,"description":"${name}很厉害!!!!"}\n`;
    // Each direction in its order (how the two interleave is the browser's timing).
    expect(messages.filter((m) => m[0] === 'client')).toEqual([
      ['client', 'text', 'Ada'],
      ['client', 'binary', '000102feff'],
      ['client', 'text', 'Bob'],
    ]);
    expect(messages.filter((m) => m[0] === 'server')).toEqual([
      ['server', 'text', reply('Ada')],
      ['server', 'text', reply('Bob')],
    ]);
    // In time order, and within the session.
    const times = events.filter((e) => e.event === 'message').map((m) => m.ts);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[0]).toBeGreaterThanOrEqual(events[0].ts - 1000);
    expect(events[events.length - 1]).toMatchObject({ event: 'end', bytes: { client: 11, server: Buffer.byteLength(reply('Ada') + reply('Bob')) } });
  }, 90000);
});
