/**
 * Intercepting in the terminal UI without a terminal: the model, the hold queue and a real
 * intercept stage (sans-IO) together; keys in, screen text and the exact bytes sent out.
 */
import { computeAccept } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import { Interceptor } from '../../src/intercept/engine';
import { HoldQueue } from '../../src/tui/hold';
import { TuiModel } from '../../src/tui/model';
import { Store } from '../../src/tui/store';
import { plain } from '../../src/tui/text';
import { handshake, open, T0 } from './fixtures';

const NAMED = new Set(['up', 'down', 'left', 'right', 'tab', 'S-tab', 'enter', 'escape', 'backspace', 'space', 'C-d', 'C-x', 'C-u']);

function press(model: TuiModel, ...keys: string[]) {
  for (const k of keys) {
    if (NAMED.has(k)) model.key(k === 'space' ? ' ' : undefined, { full: k });
    else for (const ch of k) model.key(ch, { full: ch === ' ' ? 'space' : ch >= 'A' && ch <= 'Z' ? `S-${ch.toLowerCase()}` : ch });
  }
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const MASK = Buffer.from('37fa213d', 'hex');

function setup() {
  const store = new Store();
  const hold = new HoldQueue(() => T0);
  const model = new TuiModel(store, { now: () => T0, hold, info: () => ({ proxy: '127.0.0.1:9000', target: 'ws://127.0.0.1:8080/json' }) });
  const out = { client: [] as Buffer[], server: [] as Buffer[] };
  const stage = new Interceptor({
    conn: 1,
    deciders: [hold.decider],
    write: (dir, b) => out[dir].push(Buffer.from(b)),
    publish: (e) => store.add(e),
    now: () => T0,
    randomKey: () => Buffer.from('01020304', 'hex'),
  });
  hold.register(1, stage);
  store.add(open(1));
  store.add(handshake(1));
  stage.push('client', Buffer.from(`GET /json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
  stage.push('server', Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(KEY)}\r\n\r\n`));
  out.client.length = 0;
  out.server.length = 0;
  const sent = (dir: 'client' | 'server') => Buffer.concat(out[dir]).toString('hex');
  const screen = () => model.screen(120, 40);
  const detail = () => screen().detail.lines.map(plain).join('\n');
  /** Lets settled hook promises run. */
  const settle = () => new Promise((r) => setImmediate(r));
  return { store, hold, model, stage, sent, screen, detail, settle };
}

describe('the TUI holds, edits, drops and injects frames', () => {
  it('i sets the intercept filter; a matching frame is held, shown HELD, and the status bar says so', () => {
    const { model, stage, sent, screen } = setup();
    press(model, 'i', 'client text', 'enter');
    expect(plain(screen().status)).toContain('│ intercept: client text │');
    stage.push('client', buildFrame({ opcode: 9, mask: MASK, payload: 'p' })); // a ping: not held
    stage.push('client', buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' }));
    expect(sent('client')).toBe(buildFrame({ opcode: 9, mask: MASK, payload: 'p' }).toString('hex'));
    const rows = screen().frames.lines.map(plain);
    expect(rows.some((r) => /HELD\s+1 C ──▶ S  client frame #1 text FIN masked 37fa213d len=5\/7-bit "Hello"/.test(r))).toBe(true);
    expect(plain(screen().status)).toContain('intercept: client text, 1 held');
  });

  it('e edits the held frame: decoded live with the rules it would break; Enter sends the edit, re-masked', async () => {
    const { model, stage, sent, detail, settle, store } = setup();
    press(model, 'i', 'text', 'enter');
    stage.push('client', buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' }));
    press(model, 'e');
    expect(detail()).toContain('Edit held frame 1 (conn 1, from the client)');
    expect(detail()).toContain('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    expect(detail()).toContain('breaks no rule');
    press(model, 'C-u', 'EVE');
    expect(detail()).toContain('81 83 37 fa 21 3d 72 ac 64');
    // Up to RSV1 and flip it: the rule it would break is named before sending.
    press(model, 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'space');
    expect(detail()).toMatch(/▶ RSV1\s+1/);
    expect(detail()).toContain('breaks 1 rule:');
    expect(detail()).toContain('rsv-without-extension');
    press(model, 'space');
    expect(detail()).toContain('breaks no rule');
    press(model, 'enter');
    await settle();
    expect(sent('client')).toBe('818337fa213d72ac64');
    expect(model.editor).toBeNull();
    expect(store.intercepts.at(-1)).toBe('conn 1: the terminal UI replaced client text frame #0 with a text frame (3 bytes, masked 37fa213d)');
  });

  it('compress deflates the payload and sets RSV1, decoded live; without permessage-deflate it names the rule', async () => {
    const { model, stage, sent, detail, settle } = setup();
    press(model, 'i', 'text', 'enter');
    stage.push('client', buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' }));
    press(model, 'e', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'space');
    expect(detail()).toMatch(/▶ compress\s+1/);
    // The payload deflated as permessage-deflate sends it (RFC 7692 §7.2.3.1's "Hello"), RSV1 set.
    expect(detail()).toContain('c1 87 37 fa 21 3d c5 b2 ec f4 fe fd 21');
    // This connection negotiated no extension: the receiver would fail it.
    expect(detail()).toContain('rsv-without-extension');
    expect(detail()).not.toContain('inflates to');
    press(model, 'enter');
    await settle();
    expect(sent('client')).toBe('c18737fa213dc5b2ecf4fefd21');
  });

  it('with permessage-deflate negotiated, the compressed frame breaks no rule and its inflated text is shown', () => {
    const { model, stage, detail, store } = setup();
    // The connection's handshake as the store has it: permessage-deflate accepted.
    const conn = store.conns.get(1)!;
    conn.handshake = { ...conn.handshake!, extensions: 'permessage-deflate' };
    press(model, 'i', 'text', 'enter');
    stage.push('client', buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' }));
    press(model, 'e', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'up', 'space');
    expect(detail()).toContain('c1 87 37 fa 21 3d c5 b2 ec f4 fe fd 21');
    expect(detail()).toContain('inflates to 5 bytes "Hello"');
    expect(detail()).toContain('breaks no rule');
  });

  it('every header field can be broken: MASK off, 64-bit length form, a false declared length', async () => {
    const { model, stage, sent, detail, settle } = setup();
    press(model, 'i', 'text', 'enter');
    stage.push('client', buildFrame({ opcode: 1, mask: MASK, payload: 'ab' }));
    press(model, 'e');
    press(model, 'up', 'up'); // declared length
    press(model, '9');
    press(model, 'up', 'right', 'right', 'right'); // length form: auto → 7 → 16 → 64
    press(model, 'up', 'up', 'space'); // MASK off
    const text = detail();
    expect(text).toContain('81 7f 00 00 00 00 00 00 00 09 61 62');
    expect(text).toMatch(/unmasked-client-frame/);
    expect(text).toMatch(/non-minimal-length/);
    expect(text).toContain('incomplete');
    press(model, 'enter');
    await settle();
    expect(sent('client')).toBe('817f00000000000000096162');
  });

  it('X drops the oldest held frame, F forwards one unchanged, A forwards all, Esc keeps it held', async () => {
    const { model, stage, sent, hold, settle } = setup();
    press(model, 'i', 'client', 'enter');
    const a = buildFrame({ opcode: 1, mask: MASK, payload: 'a' });
    const b = buildFrame({ opcode: 1, mask: MASK, payload: 'b' });
    const c = buildFrame({ opcode: 1, mask: MASK, payload: 'c' });
    const d = buildFrame({ opcode: 1, mask: MASK, payload: 'd' });
    stage.push('client', Buffer.concat([a, b]));
    press(model, 'e', 'escape');
    expect(hold.size).toBe(1);
    press(model, 'X');
    await settle();
    press(model, 'F');
    await settle();
    expect(sent('client')).toBe(b.toString('hex'));
    stage.push('client', Buffer.concat([c, d]));
    press(model, 'A');
    await settle();
    press(model, 'A');
    await settle();
    expect(sent('client')).toBe(Buffer.concat([b, c, d]).toString('hex'));
    expect(hold.size).toBe(0);
  });

  it('I injects a new frame into either direction; C-x closes both sides with the chosen code', () => {
    const { model, sent, detail } = setup();
    press(model, 'I');
    expect(detail()).toContain('Inject a frame into conn 1');
    press(model, 'hi');
    // To the first field (the sender) and switch it to the server: unmasked by default.
    press(model, 'down', 'down', 'right');
    expect(detail()).toMatch(/▶ sent as if by\s+server/);
    press(model, 'enter');
    expect(sent('server')).toBe('81026869');
    press(model, 'I', 'down', 'C-u', '4000', 'C-x');
    expect(sent('server')).toBe('81026869' + '88020fa0');
    expect(sent('client')).toBe(buildFrame({ opcode: 8, mask: Buffer.from('01020304', 'hex'), payload: Buffer.from('0fa0', 'hex') }).toString('hex'));
  });

  it('the keys say what they need when nothing is held or intercepting is off', () => {
    const { model, screen } = setup();
    press(model, 'e');
    expect(plain(screen().message)).toContain('nothing is held: press i to set an intercept filter');
    const replay = new TuiModel(new Store(), { now: () => T0 });
    press(replay, 'i');
    expect(plain(replay.screen(120, 40).message)).toContain('intercepting works on a live proxy, not on a replay');
  });
});
