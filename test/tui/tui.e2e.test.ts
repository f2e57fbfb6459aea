/**
 * End to end: the real CLI (`wsscope proxy --backend --ui tui`) in tmux, real WebSocket
 * traffic through the proxy, keys sent with `send-keys`, the screen read with
 * `capture-pane`. Every wait polls the screen for a condition (no fixed sleeps).
 * Needs `npm run build` first (the CLI runs dist/), as `npm test` does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import WebSocket from 'ws';
import { ROOT, tmuxDescribe, tmuxServer } from './tmux';

const maybe = tmuxDescribe('test/tui/tui.e2e.test.ts');

jest.setTimeout(120_000);

const { tmux, screen, waitScreen, start, proxyAddress, close } = tmuxServer('wsscope-tui-e2e');
const clients: WebSocket[] = [];
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-tui-e2e-'));

/** A client through the proxy that sends `messages` and waits for the backend's answers. */
async function talk(address: string, messages: string[]): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${address}/json`);
  clients.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const answers = new Promise<void>((resolve) => {
    let n = 0;
    ws.on('message', () => {
      if (++n === messages.length) resolve();
    });
  });
  for (const m of messages) ws.send(m);
  await answers;
  return ws;
}

afterAll(async () => {
  for (const ws of clients) ws.terminate();
  await close();
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

maybe('terminal UI in tmux (120x40)', () => {
  const HOSTILE = '\x1b[31mRED{red-fg}X';
  let target = '';

  beforeAll(async () => {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    target = await start('main', 120, 40);
    const address = await proxyAddress(target);
    await talk(address, ['Hello', HOSTILE]);
  });

  test('the connection is listed and frames go both ways, distinct at a glance', async () => {
    const text = await waitScreen(
      target,
      (t) => /C ──▶ S {2}text .* Hello/.test(t) && /C ◀── S {2}text .*\{"name":"Hello","age":18/.test(t),
      'client and server text frames',
    );
    expect(text).toMatch(/▶ +1 127\.0\.0\.1:\d+ +open +\d+ fr [\d.]+ (B|KiB) +\d+ fr [\d.]+ (B|KiB) +ws:\/\/127\.0\.0\.1:\d+\/json/);
    expect(text).toContain('Connections (1)');
  });

  test('the hostile payload is shown literally: escape sequence and blessed tags are not interpreted', async () => {
    const text = await waitScreen(target, (t) => t.includes('\\x1b[31mRED{red-fg}X'), 'the escaped hostile payload');
    expect(text).toContain('\\x1b[31mRED{red-fg}X');
    // With the cells' colours: the payload's characters are one run of text; had the
    // terminal interpreted ESC [31m, "RED" would follow an SGR 31 and the "\x1b[31m"
    // characters would not be on screen at all.
    const coloured = await screen(target, true);
    const row = coloured.split('\n').find((l) => l.includes('C ──▶ S') && l.includes('RED'))!;
    expect(row).toContain('\\x1b[31mRED{red-fg}X');
    expect(row).not.toMatch(/\x1b\[[0-9;]*31m(?:\x1b\[[0-9;]*m)*RED/);
  });

  test('the selected frame\'s detail: fields with real bits and XOR, hex, handshake', async () => {
    await tmux('send-keys', '-t', target, '/');
    await waitScreen(target, (t) => /^search:/m.test(t), 'the search prompt'); // capture-pane trims trailing spaces
    await tmux('send-keys', '-t', target, '-l', 'Hello');
    await tmux('send-keys', '-t', target, 'Enter'); // submits the search: selects the client's Hello
    await waitScreen(target, (t) => /^│▶ .*C ──▶ S {2}text .* Hello/m.test(t), 'the Hello frame selected');
    await tmux('send-keys', '-t', target, 'Enter'); // opens its detail full screen
    await waitScreen(target, (t) => !t.includes('Connections (') && t.includes('1 Fields 2 Hex'), 'the full-screen detail');
    await tmux('send-keys', '-t', target, '1');
    // The client's "Hello": masked text frame, 5 bytes; XOR of the first byte gives 'H'.
    let text = await waitScreen(target, (t) => /client frame #0 .* text {2}6-byte header \+ 5-byte payload/.test(t), 'the detail of the client Hello frame');
    expect(text).toContain('|1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|');
    expect(text).toContain('|F|R|R|R|opcode |M| Payload len |');
    expect(text).toMatch(/\[0\] {2}[0-9a-f]{2} [01]{8} ⊕ [0-9a-f]{2} [01]{8} = 48 01001000 'H'/);
    await tmux('send-keys', '-t', target, '2');
    text = await waitScreen(target, (t) => /000000 {2}81 85 /.test(t), 'the hex dump');
    await tmux('send-keys', '-t', target, '4');
    text = await waitScreen(target, (t) => t.includes('Sec-WebSocket-Accept, step by step'), 'the handshake view');
    expect(text).toMatch(/5\. the server sent +\S+ +✓ matches/);
    expect(text).toContain('GET /json HTTP/1.1');
  });

  test('s saves the session as a capture file that holds the traffic (handshake and frames)', async () => {
    const file = path.join(tmpDir, 'saved.capture.ndjson');
    await tmux('send-keys', '-t', target, 's');
    await waitScreen(target, (t) => /^save capture to: /m.test(t), 'the save prompt');
    await tmux('send-keys', '-t', target, 'C-u');
    await tmux('send-keys', '-t', target, '-l', file);
    await tmux('send-keys', '-t', target, 'Enter');
    await waitScreen(target, (t) => t.includes(`saved 1 connection (`), 'the saved message');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ format: 'wsscope-capture', version: 1 });
    expect(lines[1]).toMatchObject({ event: 'open', conn: 1 });
    const client = Buffer.concat(lines.filter((l) => l.event === 'data' && l.dir === 'client').map((l) => Buffer.from(l.bytes, 'hex')));
    expect(client.toString('latin1')).toMatch(/^GET \/json HTTP\/1\.1\r\n/);
    const server = Buffer.concat(lines.filter((l) => l.event === 'data' && l.dir === 'server').map((l) => Buffer.from(l.bytes, 'hex')));
    expect(server.toString('utf8')).toContain('{"name":"Hello","age":18,"description":"Hello很厉害!!!!"}');
  });

  test('Enter closes the full-screen detail, ? shows the help, q quits and restores the terminal', async () => {
    await tmux('send-keys', '-t', target, 'Enter');
    await waitScreen(target, (t) => t.includes('Connections (1)') && t.includes('1 Fields 2 Hex'), 'the panes back');
    await tmux('send-keys', '-t', target, '?');
    await waitScreen(target, (t) => t.includes('Keys (one table for the whole UI)'), 'the help overlay');
    await tmux('send-keys', '-t', target, 'x'); // any key closes the help
    await waitScreen(target, (t) => !t.includes('Keys (one table'), 'the help to close');
    await tmux('send-keys', '-t', target, 'q');
    const text = await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED'), 'the CLI to exit');
    expect(text).toContain('WSSCOPE-EXITED 0');
    // Back on the normal screen: the proxy's start-up lines, no UI left over.
    expect(text).toContain('wsscope: proxy listening on 127.0.0.1:');
    expect(text).not.toContain('┌─');
    // Terminal modes restored: normal screen buffer, cursor shown, keypad mode off.
    expect((await tmux('display-message', '-p', '-t', target, '#{alternate_on} #{cursor_flag} #{keypad_flag}')).trim()).toBe('0 1 0');
  });
});

maybe('terminal UI in tmux at 80x24 with NO_COLOR', () => {
  test('renders at 80x24 without colours, redraws on resize, Ctrl-C quits cleanly', async () => {
    const target = await start('small', 80, 24, { NO_COLOR: '1' });
    const address = await proxyAddress(target);
    await talk(address, ['Hi']);
    let text = await waitScreen(target, (t) => /C ◀── S {2}text .*\{"name":"Hi"/.test(t), 'frames at 80x24');
    expect(text.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    const coloured = await screen(target, true);
    // No foreground or background colour at all (bold and reverse video are allowed).
    expect(coloured).not.toMatch(/\x1b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|38;5;\d+|48;5;\d+)(?:;[0-9;]*)?m/);
    await tmux('resize-window', '-t', 'small', '-x', '100', '-y', '30');
    text = await waitScreen(target, (t) => [...t.split('\n')[0]].length === 100 && t.split('\n').length >= 30, 'a redraw at 100x30');
    expect(text).toMatch(/C ◀── S {2}text .*\{"name":"Hi"/);
    await tmux('send-keys', '-t', target, 'C-c');
    text = await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED'), 'the CLI to exit on Ctrl-C');
    expect(text).toContain('WSSCOPE-EXITED 0');
    expect((await tmux('display-message', '-p', '-t', target, '#{alternate_on}')).trim()).toBe('0');
  });
});

maybe('terminal UI replaying a broken capture', () => {
  test('the format error shows in the UI (not written over it), then on stderr after q; exit 1', async () => {
    const lines = fs.readFileSync(path.join(ROOT, 'samples/fragmentation.capture.ndjson'), 'utf8').split('\n');
    const broken = path.join(tmpDir, 'broken.capture.ndjson');
    fs.writeFileSync(broken, [...lines.slice(0, 3), '{"broken', ...lines.slice(3)].join('\n'));
    const target = await start('replay', 120, 40, {}, `replay "${broken}"`);
    let text = await waitScreen(target, (t) => t.includes(':4: not a JSON line (the replay stopped there)'), 'the error on the message line');
    expect(text).toContain('Connections (1)');
    expect(text).not.toContain('wsscope: '); // nothing written over the UI
    await tmux('send-keys', '-t', target, 'q');
    text = await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED'), 'the CLI to exit');
    expect(text).toContain(`wsscope: ${broken}:4: not a JSON line`);
    expect(text).toContain('WSSCOPE-EXITED 1');
  });
});

maybe('terminal UI replaying a HAR (120x40): a row per message, no frame detail said plainly', () => {
  test('the DevTools sample: messages listed with dir, time, type, length, payload; Fields, Hex, Payload and Handshake say what a HAR holds', async () => {
    const har = path.join(ROOT, 'samples/import/chrome-devtools.har');
    const target = await start('har', 120, 40, {}, `replay "${har}"`);
    let text = await waitScreen(target, (t) => t.includes('Messages of conn 1 4/4') && /closed +3 msg/.test(t), 'the HAR connection and its four messages');
    expect(text).toMatch(/C ──▶ S {2}text {4}- {2}--- {2}- {10}3 {2}Ada/);
    expect(text).toMatch(/C ◀── S {2}text {4}- {2}--- {2}- {9}57 {2}\{"name":"Ada","age":18/);
    expect(text).toMatch(/C ──▶ S {2}binary {2}- {2}--- {2}- {10}5 {2}00 01 02 fe ff/);
    expect(text).not.toContain('wsscope: '); // no fallback line, nothing written over the UI
    // The newest message is selected: its Fields view says there are none to show.
    text = await waitScreen(target, (t) => t.includes('A HAR has no frame detail.'), 'the no-frame-detail explanation');
    expect(text).toMatch(/client message #2 {2}\S+ {2}text {2}130-byte payload {2}\(from a HAR: no frame detail\)/);
    expect(text).toContain('the header fields are absent here');
    await tmux('send-keys', '-t', target, 'Up'); // the binary message
    await tmux('send-keys', '-t', target, '2');
    text = await waitScreen(target, (t) => /^│ {2}000000 {2}00 01 02 fe ff +\.\.\.\.\./m.test(t), 'the payload bytes in the Hex view');
    expect(text).toContain("The message's payload bytes (5):");
    await tmux('send-keys', '-t', target, '3');
    await waitScreen(target, (t) => t.includes("This message's payload (from a HAR: no frame detail): bytes, 5 bytes"), 'the Payload view');
    await tmux('send-keys', '-t', target, '4');
    text = await waitScreen(target, (t) => t.includes('from a HAR file: messages only; frame detail'), 'the HAR note in the Handshake view');
    expect(text).toContain('GET /json HTTP/1.1');
    await tmux('send-keys', '-t', target, 'q');
    text = await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED'), 'the CLI to exit');
    expect(text).toContain('WSSCOPE-EXITED 0');
  });

  test('a Socket.IO session saved as a HAR: the summaries in the list, the app tree in the Payload view', async () => {
    const { decodeFile } = await import('../../src/lib/decode');
    const { HarBuilder } = await import('../../src/views/har');
    const builder = new HarBuilder();
    for (const e of await decodeFile(path.join(ROOT, 'samples/app-socketio.capture.ndjson'))) builder.add(e);
    const har = path.join(tmpDir, 'socketio.har');
    fs.writeFileSync(har, JSON.stringify(builder.har()));
    const target = await start('har-sio', 120, 40, {}, `replay "${har}"`);
    await waitScreen(target, (t) => t.includes('Messages of conn 1 15/15') && t.includes('◆ socket.io DISCONNECT /admin'), 'the Socket.IO messages');
    await tmux('send-keys', '-t', target, '/');
    await waitScreen(target, (t) => /^search:/m.test(t), 'the search prompt');
    await tmux('send-keys', '-t', target, '-l', 'chat');
    await tmux('send-keys', '-t', target, 'Enter');
    await waitScreen(target, (t) => /^│▶ .*C ──▶ S {2}text {4}- {2}--- {2}- +\d+ {2}◆ socket\.io EVENT "chat" \["hi"\] ack 1/m.test(t), 'the chat event selected');
    await tmux('send-keys', '-t', target, '3');
    const text = await waitScreen(target, (t) => t.includes('Application protocol (client message'), 'the app tree');
    expect(text).toMatch(/^│ {2}socket\.io EVENT "chat" \["hi"\] ack 1/m);
    expect(text).toContain('namespace: "/"');
    expect(text).toMatch(/This message's payload \(from a HAR: no frame detail\): text, \d+ bytes/);
    await tmux('send-keys', '-t', target, 'q');
    expect(await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED'), 'the CLI to exit')).toContain('WSSCOPE-EXITED 0');
  });
});

maybe('terminal UI intercepting in tmux (120x40)', () => {
  /** A client whose every answer is collected; `send` does not wait for one. */
  async function client(address: string): Promise<{ ws: WebSocket; got: string[] }> {
    const ws = new WebSocket(`ws://${address}/json`);
    clients.push(ws);
    const got: string[] = [];
    ws.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return { ws, got };
  }
  const waitFor = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('hold a frame, edit its payload, forward: the server answers the edit; drop one; inject one', async () => {
    const target = await start('intercept', 120, 40);
    const address = await proxyAddress(target);
    await tmux('send-keys', '-t', target, 'i');
    await waitScreen(target, (t) => /^intercept \(hold frames like/m.test(t), 'the intercept prompt');
    await tmux('send-keys', '-t', target, '-l', 'client text');
    await tmux('send-keys', '-t', target, 'Enter');
    await waitScreen(target, (t) => t.includes('│ intercept: client text │'), 'the intercept filter in the status bar');

    const { ws, got } = await client(address);
    ws.send('Alice');
    await waitScreen(target, (t) => /HELD +1 C ──▶ S .*"Alice"/.test(t) && t.includes('intercept: client text, 1 held'), 'the held frame');
    expect(got).toEqual([]); // held: the server has not seen it
    await tmux('send-keys', '-t', target, 'e');
    await waitScreen(target, (t) => t.includes('Edit held frame 1 (conn 1, from the client)') && t.includes('breaks no rule'), 'the editor');
    await tmux('send-keys', '-t', target, 'C-u');
    await tmux('send-keys', '-t', target, '-l', 'Mallory');
    await waitScreen(target, (t) => /▶ payload +Mallory/.test(t) && /text FIN masked [0-9a-f]{8} len=7\/7-bit "Mallory"/.test(t), 'the edit decoded live');
    await tmux('send-keys', '-t', target, 'Enter');
    await waitFor(() => got.length === 1, 'the answer to the edited frame');
    expect(JSON.parse(got[0]).name).toBe('Mallory');
    await waitScreen(target, (t) => t.includes('the terminal UI replaced client text frame #0'), 'the intercept line');

    // Drop the next one: no answer; the one after (forwarded with F) is answered.
    ws.send('dropped');
    await waitScreen(target, (t) => /HELD +2 C ──▶ S .*"dropped"/.test(t), 'the second held frame');
    await tmux('send-keys', '-t', target, 'X');
    await waitScreen(target, (t) => t.includes('the terminal UI dropped client text frame #1'), 'the drop');
    ws.send('kept');
    await waitScreen(target, (t) => /HELD +3 C ──▶ S .*"kept"/.test(t), 'the third held frame');
    await tmux('send-keys', '-t', target, 'F');
    await waitFor(() => got.length === 2, 'the answer to the forwarded frame');
    expect(JSON.parse(got[1]).name).toBe('kept');

    // Inject a server frame the client receives.
    await tmux('send-keys', '-t', target, 'I');
    await waitScreen(target, (t) => t.includes('Inject a frame into conn 1'), 'the inject editor');
    await tmux('send-keys', '-t', target, '-l', 'from the proxy');
    await tmux('send-keys', '-t', target, 'Down');
    await tmux('send-keys', '-t', target, 'Down');
    await tmux('send-keys', '-t', target, 'Right');
    await waitScreen(target, (t) => /▶ sent as if by +server/.test(t), 'the sender switched to the server');
    await tmux('send-keys', '-t', target, 'Enter');
    await waitFor(() => got.length === 3, 'the injected frame');
    expect(got[2]).toBe('from the proxy');
    await tmux('send-keys', '-t', target, 'q');
    await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED 0'), 'the CLI to exit');
  });

  test('a filter set while a connection is open holds its next frame; compress deflates the edit for a permessage-deflate server', async () => {
    const target = await start('intercept-deflate', 120, 40, {}, 'proxy --listen 127.0.0.1:0 --backend --backend-listen 127.0.0.1:0 --deflate --ui tui');
    const address = await proxyAddress(target);
    // Open and answered before any intercept filter: the relay has no stage yet.
    const { ws, got } = await client(address);
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    ws.send('before');
    await waitFor(() => got.length === 1, 'the answer before intercepting');
    await tmux('send-keys', '-t', target, 'i');
    await waitScreen(target, (t) => /^intercept \(hold frames like/m.test(t), 'the intercept prompt');
    await tmux('send-keys', '-t', target, '-l', 'client text');
    await tmux('send-keys', '-t', target, 'Enter');
    await waitScreen(target, (t) => t.includes('│ intercept: client text │'), 'the intercept filter in the status bar');

    ws.send('Alice');
    await waitScreen(target, (t) => /HELD +1 C ──▶ S .*"Alice"/.test(t), 'the held frame of the open connection');
    expect(got.length).toBe(1); // held: the server has not seen it
    await tmux('send-keys', '-t', target, 'e');
    await waitScreen(target, (t) => t.includes('Edit held frame 1 (conn 1, from the client)'), 'the editor');
    await tmux('send-keys', '-t', target, 'C-u');
    await tmux('send-keys', '-t', target, '-l', 'Mallory');
    // Up from the payload to the compress field, and on.
    await tmux('send-keys', '-t', target, ...Array(9).fill('Up'), 'Space');
    await waitScreen(target, (t) => /▶ compress +1/.test(t) && /text FIN RSV1 masked [0-9a-f]{8} len=9\/7-bit/.test(t) && t.includes('inflates to 7 bytes "Mallory"') && t.includes('breaks no rule'), 'the compressed edit decoded live');
    await tmux('send-keys', '-t', target, 'Enter');
    await waitFor(() => got.length === 2, 'the answer to the compressed edit');
    // The server inflated it: it answers for the edited name.
    expect(JSON.parse(got[1]).name).toBe('Mallory');
    await waitScreen(target, (t) => t.includes('the terminal UI replaced client text frame #1'), 'the intercept line');
    await tmux('send-keys', '-t', target, 'q');
    await waitScreen(target, (t) => t.includes('WSSCOPE-EXITED 0'), 'the CLI to exit');
  });
});
