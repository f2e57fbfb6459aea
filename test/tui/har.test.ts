/**
 * A HAR in the terminal UI: a HAR records messages, not frames (src/import/har.ts), so each
 * message is one row (FrameRecord.messageOnly) whose frame header fields are shown as not
 * known, and whose detail says so; the payload and what it carries are shown as for a frame.
 */
import type { WsEvent } from '../../src/decoder/events';
import { harEvents } from '../../src/import/har';
import { matchesFilter, parseFilter, Store, type FrameFilter, type FrameRecord } from '../../src/tui/store';
import { allLines, plain, type Doc, type Line } from '../../src/tui/text';
import { connectionRow, detailDoc, frameRow, handshakeView, noFrameDetail, preview } from '../../src/tui/views';
import { TuiModel } from '../../src/tui/model';
import { chromeStyleHar } from '../import/har-samples';

const text = (lines: Line[] | Doc) => allLines(lines).map(plain);

function storeOf(events: WsEvent[]) {
  const store = new Store();
  for (const e of events) store.add(e);
  const conn = store.conns.get(1)!;
  const list = store.frames(conn);
  return { store, conn, rows: Array.from({ length: list.length }, (_, i) => list.at(i)) };
}

/** A HAR of a JSON-RPC exchange (detected from its first message) and a binary message. */
function jsonRpcHar() {
  const har = chromeStyleHar();
  har.log.entries[0]._webSocketMessages = [
    { type: 'send', time: 1796300400.25, opcode: 1, data: '{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":7}' },
    { type: 'receive', time: 1796300400.5, opcode: 1, data: '{"jsonrpc":"2.0","result":3,"id":7}' },
    { type: 'send', time: 1796300401, opcode: 2, data: Buffer.from([0, 1, 2, 255]).toString('base64') },
  ];
  return harEvents(JSON.stringify(har));
}

describe('HAR rows in the store', () => {
  test('one row per message, in order, with its sender, opcode, length and message; no frames made up', () => {
    const { store, conn, rows } = storeOf(harEvents(JSON.stringify(chromeStyleHar())));
    expect(rows.map((r) => [r.ev.dir, r.ev.opcode, r.ev.payloadLength, r.messageOnly, r.groupPos, r.messageIndex])).toEqual([
      ['client', 1, 5, true, 'only', 0],
      ['server', 1, 26, true, 'only', 0],
      ['client', 2, 4, true, 'only', 1],
    ]);
    expect(rows.map((r) => r.group?.message?.source)).toEqual(['har', 'har', 'har']);
    expect(conn.messagesOnly).toBe(true);
    expect(conn.state).toBe('closed');
    expect(store.frameCount).toBe(3);
    // The payload as the row's preview: text as text, binary as hex.
    expect(rows.map(preview)).toEqual(['hello', '{"name":"hello","age":18}\n', '00 01 02 ff']);
  });

  test('a message-only row counts against the payload budget; the oldest rows go first', () => {
    const store = new Store({ maxFrames: 2 });
    for (const e of harEvents(JSON.stringify(chromeStyleHar()))) store.add(e);
    const conn = store.conns.get(1)!;
    const list = store.frames(conn);
    expect(list.length).toBe(2);
    expect(list.at(0).ev.dir).toBe('server');
    expect(store.droppedFrames).toBe(1);
    expect(store.payloadChars).toBe(2 * 26 + 2 * 4);
  });

  test('filters and the application protocol: f json-rpc, f client, f binary', () => {
    const { rows } = storeOf(jsonRpcHar());
    const matching = (words: string) => rows.filter((r) => matchesFilter(r, parseFilter(words) as FrameFilter)).map((r) => r.messageIndex);
    // The binary message is on a JSON-RPC connection too (json-rpc-not-json, as the decoder says).
    expect(matching('json-rpc')).toEqual([0, 0, 1]);
    expect(matching('event:sum')).toEqual([0]);
    expect(matching('client')).toEqual([0, 1]);
    expect(matching('binary')).toEqual([1]);
    // Request and answer linked both ways, as on a decoded connection.
    expect(preview(rows[0])).toBe('◆ json-rpc request #7 sum [1,2]  (answered by server message 0)');
    expect(preview(rows[1])).toBe('◆ json-rpc result #7 3  (answers client message 0)');
  });
});

describe('HAR rows in the views', () => {
  test('the frames list: time, direction, type, "-" for the header bits it does not know, length, payload', () => {
    const { conn, rows } = storeOf(harEvents(JSON.stringify(chromeStyleHar())));
    expect(plain(frameRow(rows[0], false))).toMatch(/^ {4}\d\d:\d\d:00\.250 C ──▶ S {2}text {4}- {2}--- {2}- {10}5 {2}hello$/);
    expect(plain(frameRow(rows[2], false))).toMatch(/C ──▶ S {2}binary {2}- {2}--- {2}- {10}4 {2}00 01 02 ff$/);
    // The connection counts messages, not frames.
    expect(plain(connectionRow(conn, false, 120))).toMatch(/closed +2 msg 9 B +1 msg 26 B +ws:\/\/127\.0\.0\.1:8080\/json/);
  });

  test('Fields and Hex say plainly that a HAR has no frame detail; Hex shows the payload bytes', () => {
    const { conn, rows } = storeOf(harEvents(JSON.stringify(chromeStyleHar())));
    const fields = text(detailDoc('fields', rows[2], conn, 100));
    expect(fields).toEqual(text(noFrameDetail(rows[2], 100)));
    expect(fields[0]).toMatch(/^conn 1 {2}C ──▶ S {2}client message #1 {2}\S+ {2}binary {2}4-byte payload {2}\(from a HAR: no frame detail\)$/);
    expect(fields).toContain('A HAR has no frame detail.');
    expect(fields.join(' ')).toContain('the header fields are absent here');
    // No bit diagram, no mask key, no length form: nothing a HAR does not hold.
    expect(fields.join('\n')).not.toMatch(/\|F\|R\|R\|R\||masking key:|7-bit/);
    const hex = text(detailDoc('hex', rows[2], conn, 100));
    expect(hex).toContain('A HAR has no frame detail.');
    expect(hex).toContain("The message's payload bytes (4):");
    expect(hex[hex.length - 1]).toBe('  000000  00 01 02 ff                                      ....');
  });

  test('Payload: what the message carries (its app tree), then the payload', () => {
    const { conn, rows } = storeOf(jsonRpcHar());
    const payload = text(detailDoc('payload', rows[0], conn, 100));
    expect(payload[2]).toBe('Application protocol (client message 0): what the message carries');
    expect(payload[3]).toBe('  json-rpc request #7 sum [1,2]  (answered by server message 0)');
    expect(payload).toContain('    event: "sum"');
    expect(payload).toContain("This message's payload (from a HAR: no frame detail): JSON, 54 bytes");
    expect(payload).toContain('    "method": "sum",');
    const violations = text(detailDoc('violations', rows[1], conn, 100));
    expect(violations).toContain('This message breaks no rule the decoder checks (a HAR has no frames to check).');
  });

  test('Handshake: the recorded headers, with the HAR note first', () => {
    const { conn } = storeOf(harEvents(JSON.stringify(chromeStyleHar())));
    const lines = text(handshakeView(conn, 200));
    expect(lines[1]).toBe('from a HAR file: messages only; frame detail (headers, masking, fragmentation, compression, control frames) is not in a HAR');
    expect(lines).toContain('  GET /json HTTP/1.1');
  });

  test('the model: "Messages of conn 1", search finds a message, a jumps from the request to its answer', () => {
    const { store } = storeOf(jsonRpcHar());
    const model = new TuiModel(store, { now: () => 0, info: () => ({ replay: 'x.har' }) });
    const screen = () => model.screen(120, 40);
    expect(plain(screen().frames.title)).toMatch(/^ Messages of conn 1 3\/3 REPLAY/);
    const keys = (k: string) => {
      for (const ch of k) model.key(ch, { full: ch });
    };
    keys('/sum');
    model.key(undefined, { full: 'enter' });
    expect(model.selectedFrame()?.messageIndex).toBe(0);
    expect(model.selectedFrame()?.ev.dir).toBe('client');
    keys('a');
    const answer: FrameRecord | undefined = model.selectedFrame();
    expect([answer?.ev.dir, answer?.messageIndex]).toEqual(['server', 0]);
  });
});
