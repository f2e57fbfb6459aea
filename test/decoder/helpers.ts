import { ConnectionDecoder, type ConnectionDecoderOptions, type Violation, type WsEvent } from '../../src/decoder';
import type { ExampleInput } from '../../src/decoder/examples';

/** Decodes an example input (frames of one side, or an HTTP request/response pair). */
export function runInput(input: ExampleInput, maxPayload?: number): WsEvent[] {
  const events: WsEvent[] = [];
  const onEvent = (e: WsEvent) => events.push(e);
  if (input.kind === 'frames') {
    const d = new ConnectionDecoder({ conn: 1, start: 'frames', extensions: input.extensions, maxPayload, onEvent });
    d.push(input.from, Buffer.from(input.hex, 'hex'), 1);
    d.finish(2);
  } else {
    const d = new ConnectionDecoder({ conn: 1, maxPayload, onEvent });
    d.push('client', Buffer.from(input.request, 'latin1'), 1);
    d.push('server', Buffer.from(input.response, 'latin1'), 2);
    d.finish(3);
  }
  return events;
}

/** Every violation of every event, in order. */
export function violationsOf(events: WsEvent[]): Violation[] {
  const out: Violation[] = [];
  for (const e of events) if ('violations' in e && e.violations) out.push(...e.violations);
  return out;
}

/** Decodes `chunks` (direction + bytes), in order. */
export function decodeChunks(chunks: [ 'client' | 'server', Buffer][], opts: Partial<ConnectionDecoderOptions> = {}): WsEvent[] {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 1, ...opts, onEvent: (e) => events.push(e) });
  let ts = 0;
  for (const [dir, chunk] of chunks) d.push(dir, chunk, ++ts);
  d.finish(++ts);
  return events;
}

/** Events without their timestamps (which follow the chunking). */
export function withoutTs(events: WsEvent[]): unknown[] {
  return events.map((e) => {
    const { ts, ...rest } = e;
    void ts;
    return rest;
  });
}

/** 1-4 random edits of a copy of `seed` (a bit flipped, a byte replaced, cut short, two bytes inserted), drawn from `int`. */
export function mutate(seed: Buffer, int: (n: number) => number): Buffer {
  let bytes = Buffer.from(seed);
  const edits = 1 + int(4);
  for (let e = 0; e < edits && bytes.length > 0; e++) {
    const at = int(bytes.length);
    const what = int(4);
    if (what === 0) bytes[at] ^= 1 << int(8);
    else if (what === 1) bytes[at] = int(256);
    else if (what === 2) bytes = bytes.subarray(0, at);
    else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([int(256), int(256)]), bytes.subarray(at)]);
  }
  return bytes;
}

/** A small seeded PRNG (mulberry32), so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
