/**
 * The explainer on hostile input: random and mutated frame streams through the decoder,
 * every event rendered (explanation, one-line summary, text log line). Nothing may throw, and nothing
 * from the wire may reach the terminal as a control or reordering character.
 */
import { buildFrame } from '../../src/decoder/build';
import { decodeFrames } from '../../src/decoder';
import { summarizeFrame, summarizeMessage, TextRenderer } from '../../src/explain';
import { formatEvent } from '../../src/views/text';
import { prng } from '../decoder/helpers';

/** Anything a terminal could interpret: C0 but newline, DEL, C1, bidi controls, separators. */
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('explainer fuzz', () => {
  it('renders 3000 random and mutated streams without throwing or leaking control characters', () => {
    const random = prng(20261129);
    const byte = () => Math.floor(random() * 256);
    // Payloads full of what a terminal would act on.
    const nasty = Buffer.from('\x1b[2J\x1b]0;owned\x07\r\u202e\u2028\x9b31m\x00{"a":"\x1b"}', 'utf8');
    const seeds = [
      buildFrame({ opcode: 1, payload: nasty }),
      buildFrame({ opcode: 1, payload: nasty, mask: Buffer.from('37fa213d', 'hex') }),
      buildFrame({ opcode: 8, payload: Buffer.concat([Buffer.from('03e8', 'hex'), nasty]) }),
      buildFrame({ opcode: 9, payload: nasty.subarray(0, 20) }),
      buildFrame({ opcode: 1, fin: false, payload: nasty.subarray(0, 7) }),
      buildFrame({ opcode: 2, payload: Buffer.alloc(300, 0x1b), lengthForm: 64 }),
    ];
    let rendered = 0;
    for (let round = 0; round < 3000; round++) {
      let bytes: Buffer;
      if (round % 3 === 0) {
        bytes = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, byte));
      } else {
        bytes = Buffer.concat(Array.from({ length: 1 + Math.floor(random() * 4) }, () => seeds[Math.floor(random() * seeds.length)]));
        for (let m = 0; m < 1 + Math.floor(random() * 4); m++) bytes[Math.floor(random() * bytes.length)] = byte();
      }
      const renderer = new TextRenderer();
      const from = random() < 0.5 ? 'client' : 'server';
      for (const event of decodeFrames(bytes, { from, conn: 1, maxPayload: 512, extensions: random() < 0.3 ? 'permessage-deflate' : undefined })) {
        const summary = event.event === 'frame' ? summarizeFrame(event) : event.event === 'message' ? summarizeMessage(event) : '';
        const text = [renderer.render(event), summary, ...formatEvent(event)].join('\n');
        const bad = UNSAFE.exec(text);
        if (bad) throw new Error(`control character U+${bad[0].charCodeAt(0).toString(16)} in the rendering of ${bytes.toString('hex')}`);
        rendered++;
      }
    }
    expect(rendered).toBeGreaterThan(3000);
  });
});
