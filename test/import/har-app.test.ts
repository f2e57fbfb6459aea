/**
 * HAR messages through the application-protocol layer (DESIGN.md "Application protocols
 * inside messages"): a HAR of a session gives the same `protocol` events and the same
 * `message.app` as the decoder's own events of that session. The HARs are made by our HAR
 * writer (src/views/har.ts, what `--har` writes) from the golden application-protocol
 * samples, so every protocol of samples/ is covered: Socket.IO, STOMP, SockJS with STOMP
 * inside, GraphQL, MQTT split across messages, WAMP, SignalR, MessagePack, CBOR, wrapped.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { MessageEvent, WsEvent } from '../../src/decoder/events';
import { harEvents } from '../../src/import/har';
import { decodeFile } from '../../src/lib/decode';
import { HarBuilder } from '../../src/views/har';
import { requireBuilt, ROOT, runCli } from '../proxy/helpers';
import { chromeStyleHar } from './har-samples';

const SAMPLES = path.join(ROOT, 'samples');

function harOf(events: WsEvent[]): string {
  const builder = new HarBuilder();
  for (const e of events) builder.add(e);
  return JSON.stringify(builder.har());
}

/** Per connection (in order), its protocol event and each data message's sender and app. */
function appView(events: WsEvent[]): unknown[] {
  const conns = new Map<number, { protocol: string | null; messages: unknown[] }>();
  for (const e of events) {
    if (e.event !== 'protocol' && e.event !== 'message') continue;
    if (!conns.has(e.conn)) conns.set(e.conn, { protocol: null, messages: [] });
    const c = conns.get(e.conn)!;
    if (e.event === 'protocol') c.protocol = `${e.protocol}: ${e.reason}`;
    else c.messages.push([e.dir, e.app ?? null]);
  }
  return [...conns.values()];
}

const appSamples = fs
  .readdirSync(SAMPLES)
  .filter((n) => n.endsWith('.capture.ndjson'))
  .filter((n) => fs.readFileSync(path.join(SAMPLES, n.replace('.capture.ndjson', '.golden.ndjson')), 'utf8').includes('"app":'));

test('the application-protocol samples are there (the comparison below is not empty)', () => {
  for (const name of ['app-socketio', 'app-stomp', 'app-sockjs-stomp', 'mqtt-v311', 'mqtt-v5', 'wamp-msgpack', 'signalr-json', 'msgpack-values', 'wrapped-payloads']) {
    expect(appSamples).toContain(`${name}.capture.ndjson`);
  }
});

describe.each(appSamples)('%s as a HAR', (name) => {
  test('the same protocol events and message.app as the decoded capture', async () => {
    const decoded = await decodeFile(path.join(SAMPLES, name));
    const fromHar = harEvents(harOf(decoded));
    const expected = appView(decoded);
    expect(expected.some((c) => (c as { messages: [string, unknown][] }).messages.some(([, app]) => app !== null))).toBe(true);
    expect(appView(fromHar)).toEqual(expected);
    // Still messages only: no frame is made up on the way.
    expect(fromHar.some((e) => e.event === 'frame')).toBe(false);
    expect((fromHar.filter((e) => e.event === 'message') as MessageEvent[]).every((m) => m.source === 'har')).toBe(true);
  });
});

describe('on the command line', () => {
  let dir: string;
  beforeAll(() => {
    requireBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-har-app-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('decode x.har --ui json gives message.app and the protocol event (MQTT: a CONNECT in nine messages)', async () => {
    const decoded = await decodeFile(path.join(SAMPLES, 'mqtt-v311.capture.ndjson'));
    const file = path.join(dir, 'mqtt.har');
    fs.writeFileSync(file, harOf(decoded));
    const r = await runCli(['decode', file, '--ui', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l)) as WsEvent[];
    expect(events.find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'mqtt', reason: 'Sec-WebSocket-Protocol: mqtt' });
    const connect = (events.filter((e) => e.event === 'message') as MessageEvent[]).find((m) => !Array.isArray(m.app) && m.app?.type === 'CONNECT');
    expect(connect?.app).toMatchObject({ protocol: 'mqtt', fromMessages: 9 });
    // The text explanation and the text log show the summaries too.
    const text = await runCli(['replay', file, '--ui', 'text']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/CONNECT/);
  });

  test('--protocol forces a protocol on a HAR; an unknown one is one line, exit 2', async () => {
    const har = chromeStyleHar();
    har.log.entries[0]._webSocketMessages = [{ type: 'send', time: 1796300400.25, opcode: 1, data: '{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":7}' }, { type: 'receive', time: 1796300400.5, opcode: 1, data: '{"jsonrpc":"2.0","result":3,"id":7}' }];
    const file = path.join(dir, 'forced.har');
    fs.writeFileSync(file, JSON.stringify(har));
    const detected = harEvents(JSON.stringify(har));
    expect(detected.find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'json-rpc' });
    const r = await runCli(['decode', file, '--ui', 'json', '--protocol', 'stomp']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l)) as WsEvent[];
    expect(events.find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'stomp', reason: 'forced by --protocol stomp' });
    const bad = await runCli(['decode', file, '--protocol', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('unknown protocol "nope"');
  });
});
