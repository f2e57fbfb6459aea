/**
 * Decoder speed, side by side with ws's own Receiver (lib/receiver.js) on the same bytes:
 *   1. 1,000,000 masked 16-byte text frames
 *   2. 256 MiB of masked 64 KiB binary frames
 *   3. 100,000 permessage-deflate messages (masked, context takeover)
 * (--quick: 200,000 text frames and 20,000 compressed messages, fewer runs)
 * Bytes arrive in 64 KiB chunks, as from a socket. Our decoder runs with the default
 * maxPayload (65536) and builds every frame and message event (payload previews of 4 KiB
 * or more carry their hex as a lazily computed property: this bench does not read it,
 * as a view that does not display it). ws's Receiver unmasks in place, so it gets its
 * own copy of the chunks, made outside the timed region.
 * The row `+app` is our decoder as the proxy makes it (createDecoder: with the
 * application-protocol layer, which recognises nothing in these payloads and detaches):
 * its ratio to the bare decoder is what that layer costs a connection whose protocol is
 * not recognised (issue #11).
 * Run with `npm run bench` (BENCH_CASE=text, binary or deflate runs one case); the numbers
 * depend on the machine and its load.
 */
import { dirname, join } from 'node:path';
import { deflateRawSync, constants } from 'node:zlib';
import { ConnectionDecoder, type ConnectionDecoderOptions } from '../src/decoder';
import { buildFrame } from '../src/decoder/build';
import { createDecoder } from '../src/protocols';

// ws's package.json exports only its entry point: reach lib/ by file path.
const wsLib = (name: string) => join(dirname(require.resolve('ws')), 'lib', name);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Receiver = require(wsLib('receiver.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PerMessageDeflate = require(wsLib('permessage-deflate.js'));

const CHUNK = 64 * 1024;

interface Case {
  name: string;
  frames: number;
  /** Feeds the chunk lists; repeat `reps` times (so 256 MiB need not be in memory at once). */
  chunks: Buffer[];
  reps: number;
  deflate: boolean;
}

function chunked(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += CHUNK) out.push(stream.subarray(i, i + CHUNK));
  return out;
}

const key = (i: number) => Buffer.from([i & 0xff, (i >> 8) & 0xff, 0x5a, 0xa5]);

let TEXT_FRAMES = 1_000_000;
let DEFLATE_MESSAGES = 100_000;

function textCase(): Case {
  const frames: Buffer[] = [];
  for (let i = 0; i < TEXT_FRAMES; i++) frames.push(buildFrame({ opcode: 1, payload: `message #${String(i).padStart(7, '0')}`, mask: key(i) }));
  return { name: `${TEXT_FRAMES.toLocaleString('en-US')} masked 16-byte text frames`, frames: TEXT_FRAMES, chunks: chunked(Buffer.concat(frames)), reps: 1, deflate: false };
}

function binaryCase(): Case {
  // 16 MiB of 64 KiB frames, fed 16 times: 256 MiB, 4096 frames.
  const frames: Buffer[] = [];
  for (let i = 0; i < 256; i++) {
    const payload = Buffer.alloc(64 * 1024, i);
    frames.push(buildFrame({ opcode: 2, payload, mask: key(i) }));
  }
  return { name: '256 MiB of masked 64 KiB binary frames', frames: 4096, chunks: chunked(Buffer.concat(frames)), reps: 16, deflate: false };
}

function deflateCase(): Case {
  // Context takeover: each message compressed with the previous output as its window
  // (a preset dictionary is exactly what a compressor keeping its context refers back to).
  const frames: Buffer[] = [];
  let window = Buffer.alloc(0);
  for (let i = 0; i < DEFLATE_MESSAGES; i++) {
    const text = Buffer.from(JSON.stringify({ name: `user ${i % 977}`, age: 18, description: `user ${i % 977}很厉害!!!!` }) + '\n');
    const opts = { finishFlush: constants.Z_SYNC_FLUSH, ...(window.length ? { dictionary: window } : {}) };
    const compressed = deflateRawSync(text, opts);
    frames.push(buildFrame({ opcode: 1, rsv1: true, payload: compressed.subarray(0, compressed.length - 4), mask: key(i) }));
    window = Buffer.concat([window, text]).subarray(-32768);
  }
  return { name: `${DEFLATE_MESSAGES.toLocaleString('en-US')} permessage-deflate messages`, frames: DEFLATE_MESSAGES, chunks: chunked(Buffer.concat(frames)), reps: 1, deflate: true };
}

/**
 * Our decoder alone, or (app) as the proxy makes it: with the application-protocol layer
 * (src/protocols), which here recognises nothing (issue #11: that must cost nothing).
 */
function ours(c: Case, app = false): number {
  let messages = 0;
  const options: ConnectionDecoderOptions = {
    conn: 1,
    start: 'frames',
    extensions: c.deflate ? 'permessage-deflate' : undefined,
    onEvent: (e) => {
      if (e.event === 'message') messages++;
      else if (e.event === 'error') throw new Error(e.message);
    },
  };
  const d = app ? createDecoder(options) : new ConnectionDecoder(options);
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < c.reps; r++) for (const chunk of c.chunks) d.push('client', chunk, 0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (messages !== c.frames) throw new Error(`ours: ${messages} messages, expected ${c.frames}`);
  return ms;
}

async function theirs(c: Case): Promise<number> {
  let messages = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const extensions: Record<string, unknown> = {};
  if (c.deflate) {
    const pmd = new PerMessageDeflate({ isServer: true, maxPayload: 0 });
    pmd.accept([{}]);
    extensions['permessage-deflate'] = pmd;
  }
  const receiver = new Receiver({ isServer: true, extensions });
  receiver.on('message', () => {
    if (++messages === c.frames) done();
  });
  receiver.on('error', (err: Error) => {
    throw err;
  });
  let ms = 0;
  for (let r = 0; r < c.reps; r++) {
    const copies = c.chunks.map((b) => Buffer.from(b)); // ws unmasks in place
    const t0 = process.hrtime.bigint();
    for (const chunk of copies) receiver.write(chunk);
    if (r === c.reps - 1) await finished;
    ms += Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return ms;
}

function row(label: string, c: Case, ms: number, bytes: number): string {
  const fps = (c.frames / ms) * 1000;
  const mbs = bytes / 1024 / 1024 / (ms / 1000);
  return `  ${label.padEnd(8)} ${ms.toFixed(0).padStart(7)} ms  ${Math.round(fps).toLocaleString('en-US').padStart(12)} frames/s  ${mbs.toFixed(1).padStart(8)} MB/s`;
}

export async function main(quick = false): Promise<void> {
  if (quick) [TEXT_FRAMES, DEFLATE_MESSAGES] = [200_000, 20_000];
  console.log('decoder: wsscope ConnectionDecoder vs ws Receiver (same bytes, 64 KiB chunks, best of several runs)');
  const only = process.env.BENCH_CASE; // text, binary or deflate: run one case
  for (const make of [textCase, binaryCase, deflateCase].filter((f) => !only || f.name.toLowerCase().startsWith(only))) {
    const c = make();
    const bytes = c.chunks.reduce((n, b) => n + b.length, 0) * c.reps;
    // Alternate the two, best of 5 (3 for the big binary case): the machine may be shared.
    let best = { ours: Infinity, app: Infinity, theirs: Infinity };
    for (let run = 0; run < (quick ? 2 : c.reps > 1 ? 3 : 5); run++) {
      // The bare and +app runs swap places every run: the first after ws's run pays for its garbage.
      let bare: number, app: number;
      if (run % 2) [bare, app] = [ours(c), ours(c, true)];
      else [app, bare] = [ours(c, true), ours(c)];
      best = { ours: Math.min(best.ours, bare), app: Math.min(best.app, app), theirs: Math.min(best.theirs, await theirs(c)) };
    }
    console.log(`${c.name} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
    console.log(row('wsscope', c, best.ours, bytes));
    console.log(row('+app', c, best.app, bytes));
    console.log(row('ws', c, best.theirs, bytes));
    console.log(`  ratio (wsscope speed / ws speed): ${(best.theirs / best.ours).toFixed(2)}; with the app layer (nothing recognised) / without: ${(best.ours / best.app).toFixed(2)}`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
