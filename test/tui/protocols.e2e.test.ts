/**
 * End to end: what the messages carry (src/protocols) in the terminal UI, with real peers
 * through the real CLI in tmux at 120x40: mqtt.js against aedes over WebSocket, and a
 * socket.io server and client. Keys go in with `send-keys`, the screen comes back with
 * `capture-pane`; every wait polls the screen for a condition (no fixed sleeps).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as mqtt from 'mqtt';
import WebSocket from 'ws';
import { waitFor } from '../proxy/helpers';
import { spawnAedes } from '../protocols/helpers';
import { tmuxDescribe, tmuxServer } from './tmux';

const maybe = tmuxDescribe('test/tui/protocols.e2e.test.ts');

jest.setTimeout(120_000);

const { tmux, screen, waitScreen, start, proxyAddress, close } = tmuxServer('wsscope-tui-proto');
/** Escape sequences and blessed tags in names from the wire: to be shown, never interpreted. */
const HOSTILE = '\x1b[31mRED{red-fg}X';
const SHOWN = '\\x1b[31mRED{red-fg}X';

const keys = async (target: string, ...ks: string[]) => {
  for (const k of ks) await tmux('send-keys', '-t', target, k);
};
const type = (target: string, text: string) => tmux('send-keys', '-t', target, '-l', text);
/** The frames pane's rows that carry a decoded packet (the payload column starts with ◆). */
const appRows = (text: string) => text.split('\n').filter((l) => l.includes('◆'));
/** The selected row of the frames pane (the connections pane's rows have no direction arrow). */
const selectedRow = (text: string) => text.split('\n').find((l) => /^│▶.*C (──▶|◀──) S/.test(l)) ?? '';

/** With the cells' colours: had the terminal taken ESC [31m, "RED" would follow an SGR 31 and the escape's characters would not be on screen. */
async function expectShownLiterally(target: string, rowMatch: string, shown = SHOWN): Promise<void> {
  const coloured = await screen(target, true);
  const row = coloured.split('\n').find((l) => l.includes(rowMatch) && l.includes('RED'))!;
  expect(row).toContain(shown);
  expect(row).not.toMatch(/\x1b\[[0-9;]*31m(?:\x1b\[[0-9;]*m)*RED/);
}

afterAll(async () => {
  await close();
});

maybe('MQTT in the terminal UI: mqtt.js and aedes through the proxy (120x40)', () => {
  let broker: Awaited<ReturnType<typeof spawnAedes>>;
  beforeAll(async () => {
    broker = await spawnAedes();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  test('summary rows, f topic:, the tree with the bytes of the messages a packet came from, a between PUBLISH and PUBACK, the protocol and why, violations', async () => {
    const target = await start('mqtt', 120, 40, {}, `proxy --listen 127.0.0.1:0 --target ws://127.0.0.1:${broker.port}/ --ui tui`);
    const url = `ws://${await proxyAddress(target)}/mqtt`;
    const sub = await mqtt.connectAsync(url, { clientId: 'sub', reconnectPeriod: 0 });
    const got: string[] = [];
    sub.on('message', (topic) => got.push(topic));
    await sub.subscribeAsync('t/#', { qos: 1 });
    // The TUI follows the newest connection: the publisher's.
    const pub = await mqtt.connectAsync(url, { clientId: 'pub', reconnectPeriod: 0 });
    try {
      await pub.publishAsync('t/1', 'one', { qos: 1 });
      await pub.publishAsync('t/2', 'two', { qos: 0 });
      await pub.publishAsync(`t/${HOSTILE}`, 'x', { qos: 0 });
      await waitFor(() => got.length === 3, 'the subscriber to get three messages');

      // mqtt.js writes each packet as several messages: the row that completes one says so.
      let text = await waitScreen(target, (t) => t.includes(`◆ mqtt PUBLISH t/${SHOWN} qos 0 "x"  [from `), 'the PUBLISH with the hostile topic');
      expect(text).toContain('◆ mqtt (packet continues in the next message)');
      await expectShownLiterally(target, 'PUBLISH t/');

      await keys(target, 'f');
      await waitScreen(target, (t) => /^filter \(/m.test(t), 'the filter prompt');
      await type(target, 'topic:t/1');
      await keys(target, 'Enter');
      text = await waitScreen(target, (t) => t.includes('[filter: topic:t/1]') && appRows(t).length === 1, 'the frames filtered by topic');
      const [row] = appRows(text);
      const [, id, from] = /◆ mqtt PUBLISH t\/1 qos 1 id (\d+) "one" {2}\[from (\d+) messages\]/.exec(row)!;
      expect(Number(from)).toBeGreaterThan(1);

      // The Payload view: the tree, then the bytes of the messages the packet came from
      // (PUBLISH QoS 1: 0x32, Remaining Length 10, topic "t/1", packet id, "one").
      await keys(target, 'g', '3', 'Enter');
      text = await waitScreen(target, (t) => t.includes('messages it was reassembled from'), 'the Payload view of the PUBLISH');
      for (const line of ['    type: "PUBLISH"', '    qos: 1', '    topic: "t/1"', `    packetId: ${id}`, '    payload: "one"']) expect(text).toContain(line);
      expect(text).toMatch(new RegExp(`The ${from} messages it was reassembled from: client messages \\d+-\\d+, [\\d +]+ = 12 bytes`));
      const idHex = Number(id).toString(16).padStart(4, '0').replace(/^(..)/, '$1 ');
      expect(text).toContain(`000000  32 0a 00 03 74 2f 31 ${idHex} 6f 6e 65`);
      expect(text.indexOf('reassembled from')).toBeGreaterThan(text.indexOf('    payload: "one"'));

      // Cleared filter: the PUBLISH stays selected; a goes to its PUBACK and back.
      await keys(target, 'Enter', 'f', 'C-u', 'Enter');
      await waitScreen(target, (t) => !t.includes('[filter:') && selectedRow(t).includes('PUBLISH t/1 qos 1'), 'the PUBLISH still selected, unfiltered');
      await keys(target, 'a');
      text = await waitScreen(target, (t) => selectedRow(t).includes(`◆ mqtt PUBACK id ${id}`), 'the PUBACK selected');
      expect(selectedRow(text)).toMatch(/C ◀── S .*PUBACK id \d+ {2}\[from \d+ messages\]/);
      // The row is cut at 120 columns; the Payload view has the whole line, and the link.
      expect(text).toMatch(new RegExp(`^│  mqtt PUBACK id ${id} {2}\\[from \\d+ messages\\] {2}\\(answers client message \\d+\\)`, 'm'));
      await keys(target, 'a');
      await waitScreen(target, (t) => selectedRow(t).includes('PUBLISH t/1 qos 1'), 'back on the PUBLISH');

      await keys(target, '4', 'Enter');
      await waitScreen(target, (t) => t.includes('Application: mqtt (Sec-WebSocket-Protocol: mqtt)'), 'the handshake view naming the protocol and why');
      await keys(target, 'Enter');
    } finally {
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    }

    // A malformed packet (a PUBLISH to a wildcard topic) on a new connection: its row is
    // marked, `f !` finds it, view 5 names the MQTT rule and its section.
    const raw = new WebSocket(url, ['mqtt']);
    await new Promise((resolve, reject) => raw.once('open', resolve).once('error', reject));
    raw.send(Buffer.from([0x30, 0x05, 0x00, 0x03, 0x74, 0x2f, 0x23]));
    await keys(target, 'BTab', 'G'); // the frames pane, following live again: the newest connection
    await waitScreen(target, (t) => t.includes('Frames of conn 3'), 'the third connection followed');
    await keys(target, 'f');
    await waitScreen(target, (t) => /^filter \(/m.test(t), 'the filter prompt');
    await type(target, '!');
    await keys(target, 'Enter', '5');
    const text = await waitScreen(target, (t) => t.includes('! mqtt-topic-wildcard'), 'the violation in view 5');
    expect(appRows(text)).toEqual([expect.stringMatching(/^│▶! .*◆ mqtt PUBLISH t\/# qos 0 "" {2}!1/)]);
    expect(text).toMatch(/! mqtt-topic-wildcard {2}MQTT 5\.0 §3\.3\.2\.1/);
    expect(text).toContain('seen: topic "t/#" has a wildcard');
    raw.terminate();
    await keys(target, 'q');
    await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED 0'), 'the CLI to exit');
  });
});

maybe('Socket.IO in the terminal UI: a socket.io server and client through the proxy (120x40)', () => {
  test('events and acks linked both ways, f event:, a binary event with its attachment, a hostile event name shown literally', async () => {
    const { Server } = await import('socket.io');
    const { io } = await import('socket.io-client');
    const httpServer = http.createServer();
    const server = new Server(httpServer);
    server.on('connection', (socket) => {
      socket.on('chat', (text: string, ack: (r: string) => void) => ack(`got ${text}`));
      socket.on('upload', (_name: string, data: Buffer, ack: (n: number) => void) => ack(data.length));
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const target = await start('sio', 120, 40, {}, `proxy --listen 127.0.0.1:0 --target ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/ --ui tui`);
    const client = io(`http://${await proxyAddress(target)}`, { transports: ['websocket'], forceNew: true });
    try {
      expect(await new Promise((resolve) => client.emit('chat', 'hi', resolve))).toBe('got hi');
      expect(await new Promise((resolve) => client.emit('upload', 'f.bin', Buffer.from([1, 2, 3]), resolve))).toBe(3);
      client.emit(HOSTILE, 1);
      let text = await waitScreen(target, (t) => t.includes('◆ socket.io EVENT "\\u001b[31mRED{red-fg}X" [1]'), 'the event with the hostile name');
      // The list shows the packet's JSON as sent (\u001b), the tree the decoded name (\x1b).
      await expectShownLiterally(target, 'socket.io EVENT', '"\\u001b[31mRED{red-fg}X"');
      expect(text).toContain('◆ socket.io ACK 0 ["got hi"]  (answers client message 1)');
      expect(text).toMatch(/◆ socket\.io BINARY_EVENT "upload" \["f\.bin",<3 bytes>\] ack 1 {2}\[/);

      await keys(target, 'f');
      await waitScreen(target, (t) => /^filter \(/m.test(t), 'the filter prompt');
      await type(target, 'event:chat');
      await keys(target, 'Enter');
      text = await waitScreen(target, (t) => t.includes('[filter: event:chat]') && appRows(t).length === 1, 'the frames filtered by event');
      expect(appRows(text)[0]).toContain('◆ socket.io EVENT "chat" ["hi"] ack 0  (answered by server mes');
      await keys(target, 'g', 'f', 'C-u', 'Enter', 'a');
      await waitScreen(target, (t) => selectedRow(t).includes('◆ socket.io ACK 0 ["got hi"]'), 'the ACK selected');
      await keys(target, 'a');
      await waitScreen(target, (t) => selectedRow(t).includes('◆ socket.io EVENT "chat"'), 'back on the EVENT');

      // The binary event: its tree and both messages' bytes (the placeholder text, the attachment).
      await keys(target, 'f');
      await waitScreen(target, (t) => /^filter \(/m.test(t), 'the filter prompt');
      await type(target, 'type:binary_event');
      await keys(target, 'Enter', 'g', '3', 'Enter');
      text = await waitScreen(target, (t) => t.includes('The 2 messages it was reassembled from'), 'the Payload view of the binary event');
      expect(text).toContain('    event: "upload"');
      expect(text).toContain('        hex: "010203"');
      expect(text).toMatch(/client messages \d+-\d+, \d+ \+ 3 = \d+ bytes/);
      // The event's name, escaped in the tree as everywhere.
      await keys(target, 'Enter', 'f', 'C-u', 'Enter', '/');
      await waitScreen(target, (t) => /^search:/m.test(t), 'the search prompt');
      await type(target, 'RED');
      await keys(target, 'Enter');
      await waitScreen(target, (t) => selectedRow(t).includes('RED'), 'the hostile event selected');
      await keys(target, '3');
      text = await waitScreen(target, (t) => t.includes(`    event: "${SHOWN}"`), 'the hostile event name in the tree');
      await keys(target, 'q');
      await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED 0'), 'the CLI to exit');
    } finally {
      client.close();
      await server.close();
      httpServer.close();
    }
  });
});
