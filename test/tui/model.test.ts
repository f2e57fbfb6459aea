/**
 * The UI's behaviour without a terminal: keys in (through the one key table), screen
 * contents out. Every key of the issue: arrows/j/k, Tab, Enter, 1-5, /, f, p, s, q, Ctrl-C.
 */
import { KEYS } from '../../src/tui/keys';
import { helpLines, TuiModel, type ScreenOut } from '../../src/tui/model';
import { Store } from '../../src/tui/store';
import { plain, toMarkup } from '../../src/tui/text';
import { frame, handshake, message, open, T0 } from './fixtures';

/** Presses keys the way blessed reports them: (ch, {full}). */
function press(model: TuiModel, ...keys: string[]) {
  let effect = null;
  for (const k of keys) {
    const named = ['up', 'down', 'tab', 'S-tab', 'enter', 'escape', 'backspace', 'C-c', 'pageup', 'pagedown', 'home', 'end', 'C-u'];
    if (named.includes(k)) effect = model.key(undefined, { full: k });
    else for (const ch of k) effect = model.key(ch, { full: ch >= 'A' && ch <= 'Z' ? `S-${ch.toLowerCase()}` : ch });
  }
  return effect;
}

const frameTexts = (out: ScreenOut) => out.frames.lines.slice(1).map(plain);
const selectedRow = (out: ScreenOut) => (frameTexts(out).find((l) => l.startsWith('▶')) ?? '').trimEnd();

function setup(frames = 10) {
  let now = T0;
  const store = new Store();
  const model = new TuiModel(store, { now: () => now, info: () => ({ proxy: '127.0.0.1:9000', target: 'ws://127.0.0.1:8080/json' }) });
  store.add(open(1));
  store.add(handshake(1));
  for (let i = 0; i < frames; i++) {
    store.add(frame({ opcode: 1, payload: `msg ${i}` }, { conn: 1, dir: i % 2 ? 'server' : 'client', index: i, ts: T0 + i }));
  }
  return { store, model, advance: (ms: number) => (now += ms) };
}

describe('following and moving', () => {
  test('follows the newest frame; up stops following (PAUSED), down onto the newest follows again (LIVE)', () => {
    const { store, model } = setup(5);
    let out = model.screen(120, 40);
    expect(selectedRow(out)).toContain('msg 4');
    expect(plain(out.frames.title)).toBe(' Frames of conn 1 5/5 LIVE ');
    press(model, 'k');
    out = model.screen(120, 40);
    expect(selectedRow(out)).toContain('msg 3');
    expect(plain(out.frames.title)).toBe(' Frames of conn 1 4/5 PAUSED ');
    expect(plain(out.status)).toMatch(/^ PAUSED │/);
    store.add(frame({ opcode: 1, payload: 'msg 5' }, { conn: 1, index: 5 }));
    expect(selectedRow(model.screen(120, 40))).toContain('msg 3'); // stays where the user is
    press(model, 'j', 'down');
    out = model.screen(120, 40);
    expect(selectedRow(out)).toContain('msg 5');
    expect(plain(out.status)).toMatch(/^ LIVE │/);
  });

  test('p pauses and resumes; g/G (Home/End) go to the first row and back to live', () => {
    const { store, model } = setup(5);
    press(model, 'p');
    store.add(frame({ opcode: 1, payload: 'new' }, { conn: 1, index: 5 }));
    expect(selectedRow(model.screen(120, 40))).toContain('msg 4');
    press(model, 'p');
    expect(selectedRow(model.screen(120, 40))).toContain('new');
    press(model, 'g');
    expect(selectedRow(model.screen(120, 40))).toContain('msg 0');
    press(model, 'G');
    expect(selectedRow(model.screen(120, 40))).toContain('new');
    expect(model.follow).toBe(true);
  });

  test('only the visible rows are rendered, whatever the store holds', () => {
    const { model } = setup(50_000);
    const out = model.screen(80, 24);
    const sizes = model.layout(24);
    expect(out.frames.lines.length).toBe(sizes.frames - 2); // header + visible rows, inside the border
    expect(sizes.conns + sizes.frames + sizes.detail + 2).toBe(24);
    expect(selectedRow(out)).toContain('msg 49999');
    press(model, 'pageup');
    const paged = model.screen(80, 24);
    expect(paged.frames.lines.length).toBe(sizes.frames - 2);
    expect(selectedRow(paged)).toContain(`msg ${49999 - (sizes.frames - 4)}`);
  });

  test('the selection survives old frames being dropped from the bounded store', () => {
    let now = T0;
    const store = new Store({ maxFrames: 10 });
    const model = new TuiModel(store, { now: () => now });
    store.add(open(1));
    for (let i = 0; i < 10; i++) store.add(frame({ opcode: 1, payload: `m${i}` }, { conn: 1, index: i }));
    model.screen(120, 40);
    press(model, 'k', 'k'); // m7
    for (let i = 10; i < 15; i++) store.add(frame({ opcode: 1, payload: `m${i}` }, { conn: 1, index: i }));
    const out = model.screen(120, 40);
    expect(selectedRow(out)).toMatch(/m7$/);
    expect(plain(out.message)).toMatch(/store 10\/10, 5 dropped$/);
    now++;
  });
});

describe('panes, Enter, views', () => {
  test('Tab cycles the focus; Enter on a frame opens the detail full screen, Esc closes it', () => {
    const { model } = setup(3);
    expect(model.screen(120, 40).frames.focused).toBe(true);
    press(model, 'tab');
    expect(model.screen(120, 40).detail.focused).toBe(true);
    press(model, 'tab');
    expect(model.screen(120, 40).conns.focused).toBe(true);
    press(model, 'enter');
    expect(model.screen(120, 40).frames.focused).toBe(true);
    press(model, 'enter');
    let out = model.screen(120, 40);
    expect(out.detail.height).toBe(38);
    expect(out.frames.height).toBe(0);
    press(model, 'escape');
    out = model.screen(120, 40);
    expect(out.frames.height).toBeGreaterThan(0);
    expect(out.frames.focused).toBe(true);
  });

  test('number keys switch the detail view of the selected frame', () => {
    const { model } = setup(1);
    const view = (k: string) => {
      press(model, k);
      const out = model.screen(120, 60);
      return { title: plain(out.detail.title), lines: out.detail.lines.map(plain) };
    };
    expect(view('1').lines).toContain('      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1');
    expect(view('2').lines[2]).toBe('000000  81 85 37 fa 21 3d 5a 89  46 1d 07                 ..7.!=Z.F..');
    expect(view('3').lines.slice(2, 4)).toEqual(["This frame's payload: text, 5 bytes", '  msg 0']);
    expect(view('4').lines).toContain('  4. base64 of the hash       s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(view('5').lines).toContain('This frame breaks no rule the decoder checks.');
    expect(view('5').title).toBe(' 1 Fields 2 Hex 3 Payload 4 Handshake 5 Violations ');
  });

  test('the detail pane scrolls when focused (j/k, End)', () => {
    const { model } = setup(1);
    press(model, 'tab'); // detail
    const first = model.screen(80, 24).detail.lines.map(plain);
    press(model, 'j', 'j');
    const scrolled = model.screen(80, 24).detail.lines.map(plain);
    expect(scrolled[0]).toBe(first[2]);
    press(model, 'G');
    expect(plain(model.screen(80, 24).detail.title)).toMatch(/\/\d+ $/);
  });
});

describe('connections', () => {
  test('the newest WebSocket connection is followed; moving in the connections pane picks one', () => {
    const { store, model } = setup(2);
    store.add(open(2));
    store.add({ event: 'http', ts: T0, conn: 2, request: { method: 'GET', target: '/favicon.ico', version: 'HTTP/1.1', headers: [] }, response: { status: 404, reason: 'Not Found', headers: [] } });
    expect(model.conn()!.id).toBe(1); // an HTTP pass-through connection is not followed
    store.add(open(3));
    store.add(handshake(3));
    expect(model.conn()!.id).toBe(3);
    store.add({ event: 'end', ts: T0, conn: 2, reason: 'closed', bytes: { client: 0, server: 0 } });
    expect(model.conn()!.id).toBe(3);
    const out = model.screen(120, 40);
    expect(out.conns.lines.map(plain)[2]).toContain('http closed 0 fr 0 B         0 fr 0 B         ws://127.0.0.1:8080/json  GET /favicon.ico → 404');
    press(model, 'S-tab', 'k', 'k');
    expect(model.conn()!.id).toBe(1);
    store.add(open(4));
    store.add(handshake(4));
    expect(model.conn()!.id).toBe(1); // the user's choice sticks
    press(model, 'end');
    expect(model.conn()!.id).toBe(4);
    // Paused: a new connection does not pull the view away; resuming follows it.
    press(model, 'p');
    store.add(open(5));
    expect(model.conn()!.id).toBe(4);
    press(model, 'p');
    expect(model.conn()!.id).toBe(5);
  });

  test('an HTTP pass-through connection picked: its empty frames pane says why and where the exchange is', () => {
    const { store, model } = setup(2);
    store.add(open(2));
    store.add({ event: 'http', ts: T0, conn: 2, request: { method: 'GET', target: '/', version: 'HTTP/1.1', headers: [] }, response: { status: 200, reason: 'OK', headers: [] } });
    press(model, 'S-tab', 'j');
    expect(model.conn()!.id).toBe(2);
    const out = model.screen(120, 40);
    expect(plain(out.frames.title)).toBe(' Frames of conn 2 0/0 LIVE ');
    expect(plain(out.frames.lines[1]).trim()).toBe('no frames: an HTTP exchange without a WebSocket upgrade (4 shows it)');
  });
});

describe('no connection yet', () => {
  const waiting = (info: { proxy?: string; backend?: string; replay?: string }, cols = 120) => {
    const model = new TuiModel(new Store(), { now: () => T0, info: () => info });
    return plain(model.screen(cols, 24).conns.lines[1]).trim();
  };

  test('the empty connections pane says where to connect: the demo page when the backend is built in', () => {
    // The CLI's stderr line with the demo page URL is hidden behind the UI's screen.
    const small = waiting({ proxy: '127.0.0.1:19000', backend: '127.0.0.1:8080' }, 80);
    expect(small).toBe('waiting: demo page http://127.0.0.1:19000/  WebSocket ws://127.0.0.1:19000/');
    expect(2 + small.length).toBeLessThanOrEqual(78); // whole inside the borders at 80 columns
    expect(waiting({ proxy: '127.0.0.1:9000' })).toBe('waiting for a client to connect to ws://127.0.0.1:9000/ ...');
    expect(waiting({ replay: 'x.capture.ndjson' })).toBe('waiting for a client to connect to the proxy...');
  });

  test('listening on every interface (0.0.0.0, ::): the address to connect to is loopback\'s', () => {
    expect(waiting({ proxy: '0.0.0.0:9000', backend: '127.0.0.1:8080' })).toBe('waiting: demo page http://127.0.0.1:9000/  WebSocket ws://127.0.0.1:9000/');
    expect(waiting({ proxy: '[::]:9000' })).toBe('waiting for a client to connect to ws://[::1]:9000/ ...');
    expect(waiting({ proxy: '10.1.2.3:9000' })).toBe('waiting for a client to connect to ws://10.1.2.3:9000/ ...');
  });
});

describe('filter, search, save, help, quit', () => {
  test('f opens a prompt; the filter narrows the list and shows in the title; bad words say why', () => {
    const { model } = setup(6);
    press(model, 'f', 'server', 'enter');
    let out = model.screen(120, 40);
    expect(frameTexts(out).every((l) => l.includes('C ◀── S'))).toBe(true);
    expect(frameTexts(out)).toHaveLength(3);
    expect(plain(out.frames.title)).toBe(' Frames of conn 1 3/3 [filter: server] LIVE ');
    press(model, 'f', 'C-u');
    expect(model.prompt!.text).toBe('');
    press(model, 'bogus', 'enter');
    out = model.screen(120, 40);
    expect(plain(out.message)).toMatch(/^unknown filter word "bogus"/);
    press(model, 'f', 'C-u', 'enter');
    expect(frameTexts(model.screen(120, 40))).toHaveLength(6);
  });

  test('f again shows the current filter and a space: typed words add to it', () => {
    const { model } = setup(6);
    press(model, 'f', 'server', 'enter');
    press(model, 'f');
    expect(model.prompt!.text).toBe('server ');
    press(model, 'text', 'enter');
    expect(plain(model.screen(120, 40).frames.title)).toBe(' Frames of conn 1 3/3 [filter: server text] LIVE ');
  });

  test('/ searches payload text (then n, N); hex works too; no match is said', () => {
    const { model } = setup(6);
    press(model, '/', 'MSG 2', 'enter');
    expect(selectedRow(model.screen(120, 40))).toContain('msg 2');
    press(model, '/', 'C-u', 'msg', 'enter');
    expect(selectedRow(model.screen(120, 40))).toContain('msg 3');
    press(model, 'N');
    expect(selectedRow(model.screen(120, 40))).toContain('msg 2');
    press(model, '/', 'C-u', '6d 73 67 20 35', 'enter'); // "msg 5" in hex
    expect(selectedRow(model.screen(120, 40))).toContain('msg 5');
    press(model, '/', 'C-u', 'nothing like this', 'enter');
    expect(plain(model.screen(120, 40).message)).toMatch(/^no frame of this connection contains "nothing like this" +store 6\/100,000, 0 dropped$/);
  });

  test('s prompts for a file name (default given) and asks the app to save; Esc cancels', () => {
    const { model } = setup(1);
    press(model, 's');
    expect(plain(model.screen(120, 40).message)).toBe('save capture to: wsscope-20260102-120000.capture.ndjson');
    press(model, 'C-u', 'out.ndjson');
    expect(press(model, 'enter')).toEqual({ kind: 'save', path: 'out.ndjson' });
    press(model, 's');
    press(model, 'escape');
    expect(model.prompt).toBeNull();
  });

  test('? shows every key of the one key table; any key closes it', () => {
    const { model } = setup(1);
    press(model, '?');
    const help = model.screen(120, 40).help!.map(plain).join('\n');
    // The main keys with their long help; the frame editor's (context 'editor') packed, short.
    for (const k of KEYS) expect(help).toContain(k.context ? `${k.label} ${k.short.replace(/^editor: /, '')}` : k.help);
    press(model, 'x');
    expect(model.screen(120, 40).help).toBeNull();
    // 80x24: two columns of short texts, still every key.
    const small = helpLines(80, 24).map(plain);
    expect(small.length).toBeLessThanOrEqual(22);
    for (const k of KEYS) expect(small.join('\n')).toContain(k.context ? k.short.replace(/^editor: /, '') : k.short);
  });

  test('q and Ctrl-C quit, also from a prompt (Ctrl-C) and from the help (q)', () => {
    const { model } = setup(1);
    expect(press(model, 'q')).toEqual({ kind: 'quit' });
    press(model, '/');
    expect(press(model, 'C-c')).toEqual({ kind: 'quit' });
    model.prompt = null;
    press(model, '?');
    expect(press(model, 'q')).toEqual({ kind: 'quit' });
  });
});

describe('status bar', () => {
  test('listen and target, connections, rates, live/paused; store fill and drops on the message line', () => {
    const { store, model, advance } = setup(0);
    model.tick();
    for (let i = 0; i < 30; i++) store.add(frame({ opcode: 1, payload: 'x' }, { conn: 1, index: i }));
    store.addData(1, 'client', T0, Buffer.alloc(2048));
    advance(2000);
    model.tick();
    const out = model.screen(120, 40);
    expect(plain(out.status)).toBe(' LIVE │ 1 conn (1 open) │ 15 fr/s 1.0 KiB/s │ 127.0.0.1:9000 → ws://127.0.0.1:8080/json');
    expect(plain(out.message)).toMatch(/store 30\/100,000, 0 dropped$/);
    expect(plain(out.message).length).toBe(120);
  });

  test('a replay says REPLAY, not LIVE, and its byte rate counts the wire bytes of its frames (it relays no chunks)', () => {
    let now = T0;
    const store = new Store();
    const model = new TuiModel(store, { now: () => now, info: () => ({ replay: 'capture.ndjson' }) });
    store.add(open(1));
    store.add(handshake(1));
    model.tick();
    // 20 frames of 2 header bytes + 100 payload bytes: 2,040 bytes in 2 s.
    for (let i = 0; i < 20; i++) store.add(frame({ opcode: 1, payload: 'x'.repeat(100) }, { conn: 1, dir: 'server', index: i }));
    now += 2000;
    model.tick();
    const out = model.screen(120, 40);
    expect(plain(out.status)).toBe(' REPLAY │ 1 conn (1 open) │ 10 fr/s 1020 B/s │ replay capture.ndjson');
    expect(plain(out.frames.title)).toBe(' Frames of conn 1 20/20 REPLAY ');
    press(model, 'up');
    expect(plain(model.screen(120, 40).status)).toMatch(/^ PAUSED │/);
  });

  test('NO_COLOR markup has no colour tags but keeps the selection visible (inverse)', () => {
    const { model } = setup(2);
    const out = model.screen(80, 24);
    const selected = out.frames.lines.find((l) => plain(l).startsWith('▶'))!;
    const mono = toMarkup(selected, false);
    expect(mono).not.toMatch(/-fg\}/);
    expect(mono).toContain('{inverse}');
    expect(toMarkup(selected, true)).toMatch(/\{green-fg\}|\{cyan-fg\}/);
  });
});

test('a message event arriving after its frame updates the open detail', () => {
  const { store, model } = setup(0);
  store.add(frame({ opcode: 1, fin: false, payload: 'a' }, { conn: 1 }));
  store.add(frame({ opcode: 0, payload: 'b' }, { conn: 1 }));
  press(model, '3');
  expect(model.screen(120, 40).detail.lines.map(plain)).toContain('This frame is frame 2 of a fragmented text message (§5.4); the message is not complete yet.');
  store.add(message(1, 'client', 'ab', 2));
  expect(model.screen(120, 40).detail.lines.map(plain)).toContain('  ab');
});
