import { buildFrame } from '../../src/decoder/build';
import { ConnectionDecoder, type Direction, type WsEvent } from '../../src/decoder';
import { RULE_EXAMPLES } from '../../src/decoder/examples';
import { mutate, prng } from './helpers';

/** Valid and invalid seeds to mutate: every rule example, a handshake, compressed frames. */
function seeds(): { dir: Direction; bytes: Buffer; handshake: boolean }[] {
  const out: { dir: Direction; bytes: Buffer; handshake: boolean }[] = [];
  for (const ex of Object.values(RULE_EXAMPLES)) {
    for (const input of [ex.bad, ex.near]) {
      if (input.kind === 'frames') out.push({ dir: input.from, bytes: Buffer.from(input.hex, 'hex').subarray(0, 600), handshake: false });
      else out.push({ dir: 'client', bytes: Buffer.from(input.request + input.response, 'latin1'), handshake: true });
    }
  }
  out.push({ dir: 'client', bytes: Buffer.concat([buildFrame({ opcode: 1, fin: false, payload: 'abc', mask: Buffer.from('01020304', 'hex') }), buildFrame({ opcode: 9, payload: 'p' }), buildFrame({ opcode: 0, payload: 'def' })]), handshake: false });
  return out;
}

describe('fuzz: random and mutated inputs never throw and stay bounded', () => {
  it('30,000 seeded inputs', () => {
    const rand = prng(1129);
    const int = (n: number) => Math.floor(rand() * n);
    const pool = seeds();
    const before = process.memoryUsage().heapUsed;
    let events = 0;
    const bad: WsEvent[] = [];
    for (let n = 0; n < 30000; n++) {
      let bytes: Buffer;
      const seed = pool[int(pool.length)];
      if (n % 4 === 0) {
        bytes = Buffer.from(Array.from({ length: int(64) }, () => int(256)));
      } else {
        bytes = mutate(seed.bytes, int);
      }
      const split = seed.handshake ? seed.bytes.indexOf('HTTP/1.1 101') : -1;
      const d = new ConnectionDecoder({
        conn: n,
        maxPayload: 1 + int(64),
        maxInflate: 4096,
        start: seed.handshake && n % 4 !== 0 ? 'handshake' : 'frames',
        extensions: int(2) ? 'permessage-deflate' : undefined,
        onEvent: (e) => {
          events++;
          if (e.event === 'error' && e.message.includes('internal')) bad.push(e);
          JSON.stringify(e); // every event serialises
        },
      });
      // Feed in random pieces; in handshake mode the server's part goes to the server side.
      const dirFor = (i: number): Direction => (split > 0 && i >= split ? 'server' : seed.dir);
      for (let i = 0; i < bytes.length; ) {
        const k = 1 + int(rand() < 0.5 ? 8 : 200);
        const end = Math.min(bytes.length, i + k, split > i ? split : Infinity);
        d.push(dirFor(i), bytes.subarray(i, end), n);
        i = end;
      }
      d.finish(n);
    }
    expect(bad).toEqual([]);
    expect(events).toBeGreaterThan(30000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
  }, 120_000);
});
