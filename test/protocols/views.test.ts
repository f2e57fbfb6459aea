/** message.app in the views: the TUI (frames list, Payload and Handshake views, filters, search, links) and the text log. */
import * as path from 'path';
import { replayCaptureFile } from '../../src/capture';
import type { WsEvent } from '../../src/decoder/events';
import { appSummary } from '../../src/explain/app';
import { TuiModel, type ScreenOut } from '../../src/tui/model';
import { parseFilter, Store, type FrameFilter } from '../../src/tui/store';
import { plain } from '../../src/tui/text';
import { detailDoc } from '../../src/tui/views';
import type { Doc } from '../../src/tui/text';
import { formatEvent } from '../../src/views/text';

const sample = (name: string) => path.join(__dirname, '..', '..', 'samples', `${name}.capture.ndjson`);

async function events(name: string): Promise<WsEvent[]> {
  const out: WsEvent[] = [];
  await replayCaptureFile(sample(name), (e) => out.push(e));
  return out;
}

async function model(name: string): Promise<{ store: Store; model: TuiModel }> {
  const store = new Store();
  for (const e of await events(name)) store.add(e);
  const m = new TuiModel(store, { now: () => 0, info: () => ({ replay: name }) });
  m.key(undefined, { full: 'tab' }); // to the frames pane
  return { store, model: m };
}

function press(m: TuiModel, ...keys: string[]): void {
  for (const k of keys) {
    if (k === 'enter' || k === 'C-u' || k === 'escape') m.key(undefined, { full: k });
    else for (const ch of k) m.key(ch, { full: ch });
  }
}

const rows = (out: ScreenOut) => out.frames.lines.slice(1).map(plain);
const selected = (out: ScreenOut) => rows(out).find((l) => l.startsWith('▶')) ?? '';

describe('TUI', () => {
  test('the frames list shows each message\'s summary', async () => {
    const { model: m } = await model('app-socketio');
    const list = rows(m.screen(160, 60)).join('\n');
    expect(list).toContain('◆ socket.io EVENT "chat" ["hi"] ack 1');
    expect(list).toContain('◆ socket.io ACK 1 ["got hi"]  (answers client message 1)');
    expect(list).toContain('◆ engine.io ping');
    expect(list).toContain('◆ socket.io BINARY_EVENT "upload" ["f.bin",<5 bytes>] ack 2  [from 2 messages]');
  });

  test('filters by protocol, event, type and topic; the title says the words', async () => {
    const { model: m } = await model('app-socketio');
    press(m, 'f', 'event:chat', 'enter');
    let out = m.screen(160, 60);
    expect(rows(out).filter((r) => r.includes('◆'))).toEqual([expect.stringContaining('EVENT "chat"')]);
    expect(plain(out.frames.title)).toContain('event:chat');
    press(m, 'f', 'C-u', 'engine.io type:ping', 'enter');
    out = m.screen(160, 60);
    expect(rows(out).filter((r) => r.includes('◆')).map((r) => r.replace(/^.*◆ /, '').trimEnd())).toEqual(['engine.io ping']);
    const stomp = await model('app-sockjs-stomp');
    press(stomp.model, 'f', 'stomp topic:/topic/chat', 'enter');
    // SockJS frames carrying STOMP to /topic/chat: SUBSCRIBE and the array of two MESSAGEs.
    expect(rows(stomp.model.screen(200, 60)).filter((r) => r.includes('◆')).length).toBe(2);
    expect(parseFilter('topic:t/1 mqtt')).toMatchObject({ app: [{ key: 'topic', value: 't/1' }, { key: 'protocol', value: 'mqtt' }] });
  });

  test('search finds event names in the summaries; a jumps between a request and its answer', async () => {
    const { model: m } = await model('app-socketio');
    press(m, '/', 'got hi', 'enter');
    expect(selected(m.screen(160, 60))).toContain('ACK 1');
    press(m, 'a');
    expect(selected(m.screen(160, 60))).toContain('EVENT "chat"');
    press(m, 'a');
    expect(selected(m.screen(160, 60))).toContain('ACK 1');
  });

  test('the Payload view shows the decoded tree above the raw bytes; the Handshake view says which protocol and why', async () => {
    const { store, model: m } = await model('app-socketio');
    press(m, '/', 'got hi', 'enter');
    const r = m.selectedFrame()!;
    const conn = store.conns.get(1)!;
    const d = detailDoc('payload', r, conn, 120);
    const text = Array.from({ length: d.length }, (_, i) => plain(d.line(i)));
    const at = (s: string) => text.findIndex((l) => l.includes(s));
    expect(at('Application protocol (server message 2)')).toBeGreaterThan(0);
    expect(text).toContain('  socket.io ACK 1 ["got hi"]  (answers client message 1)');
    expect(text).toContain('      [0]: "got hi"');
    expect(at('This frame\'s payload')).toBeGreaterThan(at('[0]: "got hi"'));
    const h = detailDoc('handshake', r, conn, 120);
    expect(Array.from({ length: h.length }, (_, i) => plain(h.line(i)))).toContain('Application: socket.io (path /socket.io/ with EIO=4 (Socket.IO v5 over Engine.IO v4))');
  });

  const lines = (d: Doc) => Array.from({ length: d.length }, (_, i) => plain(d.line(i)));

  test('a packet reassembled from several messages: the Payload view shows the bytes of all of them', async () => {
    // mqtt-v311: the client's CONNECT arrives as nine messages (as mqtt.js writes it).
    const { store, model: m } = await model('mqtt-v311');
    press(m, 'f', 'type:connect', 'enter', 'g');
    const r = m.selectedFrame()!;
    const text = lines(detailDoc('payload', r, store.conns.get(1)!, 120));
    const at = (s: string) => text.findIndex((l) => l.includes(s));
    expect(text[3]).toMatch(/^ {2}mqtt CONNECT 3\.1\.1 client "c1" .* {2}\[from 9 messages\]$/);
    const head = at('The 9 messages it was reassembled from: client messages 0-8, ');
    expect(head).toBeGreaterThan(3);
    const total = /= (\d+) bytes$/.exec(text[head])![1];
    // CONNECT: fixed header 0x10 and its Remaining Length, then the protocol name "MQTT" (length 4).
    expect(text[head + 1]).toMatch(/^ {2}000000 {2}10 [0-9a-f]{2} 00 04 4d 51 54 54 04 /);
    expect(Number(total)).toBe(2 + parseInt(text[head + 1].slice(13, 15), 16));
    expect(at("This frame's payload")).toBeGreaterThan(head);
    // A packet in one message has no such section.
    press(m, 'f', 'C-u', 'type:subscribe', 'enter', 'g');
    expect(lines(detailDoc('payload', m.selectedFrame()!, store.conns.get(1)!, 120)).some((l) => l.includes('reassembled from'))).toBe(false);
  });

  test('the violations of the packets a message carries: the row is marked, f ! finds it, view 5 names the rule and its own spec', async () => {
    const { store, model: m } = await model('mqtt-violations');
    press(m, 'f', '!', 'enter');
    const listed = rows(m.screen(160, 60)).filter((r) => r.includes('◆'));
    expect(listed.length).toBe(5);
    expect(listed.every((r) => /^.!/.test(r))).toBe(true);
    press(m, '/', 't/#', 'enter');
    const v = lines(detailDoc('violations', m.selectedFrame()!, store.conns.get(1)!, 120));
    expect(v).toContain('! mqtt-topic-wildcard  MQTT 5.0 §3.3.2.1 [MQTT-3.3.2-2]');
    expect(v).toContain('    seen: topic "t/#" has a wildcard');
    // A rule of a protocol whose spec has no sections is not said to be RFC 6455's.
    const sio = await model('app-malformed-socketio');
    press(sio.model, 'f', '!', 'enter');
    const list = sio.store.frames(sio.store.conns.get(1)!, parseFilter('!') as FrameFilter);
    const found = Array.from({ length: list.length }, (_, i) => lines(detailDoc('violations', list.at(i), sio.store.conns.get(1)!, 120))).flat();
    expect(found).toContain('! engine.io-bad-packet-type');
    expect(found).toContain('! socket.io-missing-attachments');
    expect(found.join('\n')).not.toContain('RFC 6455');
  });

  test('a filter that hides the selected frame selects the row it shows: clearing it does not jump back', async () => {
    const { model: m } = await model('app-socketio');
    press(m, '/', 'got hi', 'enter');
    expect(selected(m.screen(160, 60))).toContain('ACK 1');
    press(m, 'f', 'event:chat', 'enter');
    expect(selected(m.screen(160, 60))).toContain('EVENT "chat"');
    press(m, 'f', 'C-u', 'enter');
    expect(selected(m.screen(160, 60))).toContain('EVENT "chat"');
  });
});

describe('text log', () => {
  test('the protocol event and each message\'s summary, also for one-frame messages; the tree with -v', async () => {
    // Each event formatted as it is published, as the live text log does.
    const lines: string[] = [];
    const verbose: string[] = [];
    await replayCaptureFile(sample('app-json-rpc'), (e) => {
      lines.push(...formatEvent(e, { time: () => 'T' }));
      verbose.push(...formatEvent(e, { time: () => 'T', verbose: true }));
    });
    expect(lines).toContain('T #1 protocol json-rpc  (the first messages are JSON-RPC 2.0 objects ("jsonrpc": "2.0" with a method or a result))');
    expect(lines).toContain('T #1 C→S json-rpc request #1 subtract [42,23]');
    expect(lines).toContain('T #1 S→C json-rpc result #1 19  (answers client message 0)');
    expect(lines).toContain('T #1 S→C json-rpc result #"2" 7  (answers client message 2) | json-rpc error #"3" -32601 "Method not found"  (answers client message 2)');
    expect(verbose).toContain('      params:');
  });

  test('terminal escapes inside a packet are shown, never interpreted', () => {
    const summary = appSummary({ protocol: 'socket.io', type: 'EVENT', summary: 'EVENT "\u001b[31mred" []' });
    expect(summary).toBe('socket.io EVENT "\\x1b[31mred" []');
  });
});

test('the TUI store counts decoded packets against its payload budget (by the whole message\'s length)', () => {
  const store = new Store({ maxPayloadChars: 100_000, maxPayload: 1000 });
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'put', params: ['x'.repeat(30_000)] });
  const evs: WsEvent[] = [];
  const { createDecoder } = require('../../src/protocols') as typeof import('../../src/protocols');
  const { buildFrame } = require('../../src/decoder/build') as typeof import('../../src/decoder/build');
  const d = createDecoder({ conn: 1, maxPayload: 1000, start: 'frames', protocol: 'json-rpc', onEvent: (e) => evs.push(e) });
  for (let i = 0; i < 5; i++) d.push('client', buildFrame({ opcode: 1, payload: big, mask: Buffer.from([1, 2, 3, 4]) }), i);
  for (const e of evs) store.add(e);
  // Five 30 KB messages with their packets do not fit 100,000 characters: the oldest go.
  expect(store.droppedFrames).toBeGreaterThan(0);
  expect(store.payloadChars).toBeLessThanOrEqual(100_000);
});
