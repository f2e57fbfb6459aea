/**
 * Whatever the bytes on the wire, every pane and view renders without throwing and
 * without letting a control character or a live blessed tag reach the terminal.
 * A seeded generator, so a failure is reproducible.
 */
import { Store } from '../../src/tui/store';
import { TuiModel } from '../../src/tui/model';
import { toMarkup, clipLine } from '../../src/tui/text';
import { frameEventFromBytes, handshake, open, T0 } from './fixtures';

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** Random frame bytes with a consistent header: any bits, any length form, hostile payloads. */
function randomFrame(r: () => number): Buffer {
  const b0 = Math.floor(r() * 256);
  const masked = r() < 0.5;
  const form = r();
  const len = Math.floor(r() * (form < 0.8 ? 126 : 400));
  const hostile = ['\x1b[2J\x1b]0;x\x07', '{red-fg}{/}{bold}', '\u202e\u2028\x00\x9b', '很厉害', '\ud83d\ude00'];
  const payload = Buffer.alloc(len);
  for (let i = 0; i < len; i++) payload[i] = Math.floor(r() * 256);
  if (r() < 0.5) Buffer.from(hostile[Math.floor(r() * hostile.length)]).copy(payload);
  const header: number[] = [b0];
  if (form < 0.6 && len < 126) header.push((masked ? 0x80 : 0) | len);
  else if (form < 0.9 || len > 0xffff) header.push((masked ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else header.push((masked ? 0x80 : 0) | 127, 0, 0, 0, 0, 0, 0, len >> 8, len & 0xff);
  if (masked) header.push(...[0, 0, 0, 0].map(() => Math.floor(r() * 256)));
  return Buffer.concat([Buffer.from(header), payload]);
}

test('2,000 random frames: every view renders, no ESC or control byte and no live tag in the markup', () => {
  const r = rng(20261129);
  const store = new Store();
  const model = new TuiModel(store, { now: () => T0 });
  store.add(open(1));
  const hs = handshake(1);
  hs.request.headers.push(['X', '\x1b[31m{red-fg}']);
  store.add(hs);
  for (let i = 0; i < 2000; i++) {
    const ev = frameEventFromBytes(randomFrame(r), { conn: 1, index: i, ts: T0 + i, dir: r() < 0.5 ? 'client' : 'server' });
    if (r() < 0.1) ev.violations = [{ rule: r() < 0.5 ? 'invalid-utf8' : 'made-up-rule', message: 'bad \x1b[0m {bold}' }];
    if (ev.opcode === 8 && r() < 0.5) ev.closeReason = '\x1b]2;title\x07';
    store.add(ev);
    if (r() < 0.2) {
      store.add({ event: 'message', ts: T0, conn: 1, dir: ev.dir, opcode: 1, opcodeName: 'text', frames: 1, length: 5, compressed: r() < 0.5, text: '\x1b[5m{/}', violations: [] });
    }
  }
  const bad: string[] = [];
  let lines = 0;
  const check = (markup: string) => {
    lines++;
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f-\x9f]/.test(markup)) bad.push(markup);
    // Only our own tags: {colour-fg}, {bold}, {underline}, {inverse}, {/}, {open}, {close}.
    for (const tag of markup.match(/\{[^}]*\}/g) ?? []) {
      if (!/^\{(?:[a-z-]+-fg|bold|underline|inverse|\/|open|close)\}$/.test(tag)) bad.push(markup);
    }
  };
  model.key('g', { full: 'g' });
  for (let i = 0; i < 2000; i += 11) {
    for (const view of ['1', '2', '3', '4', '5']) {
      model.key(view, { full: view });
      const out = model.screen(80, 24);
      for (const pane of [out.conns, out.frames, out.detail]) {
        check(toMarkup(clipLine(pane.title, 78), true));
        for (const line of pane.lines) check(toMarkup(clipLine(line, 78), true));
      }
    }
    for (let k = 0; k < 11; k++) model.key('j', { full: 'j' });
  }
  expect(bad).toEqual([]);
  expect(lines).toBeGreaterThan(10_000);
});
