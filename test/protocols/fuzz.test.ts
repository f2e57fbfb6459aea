/**
 * Every registered module fuzzed like the frame decoder: random and mutated messages in
 * both directions never throw (session, sniff, fromHandshake), and memory stays bounded.
 * Seeds: the message payloads of the app-* samples (samples/).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Direction, MessageEvent } from '../../src/decoder/events';
import type { HandshakeEvent } from '../../src/decoder/events';
import { contextOf, MAX_PENDING, MODULES } from '../../src/protocols';
import { replayCaptureFile } from '../../src/capture';
import { prng } from '../decoder/helpers';

const SAMPLES = path.join(__dirname, '..', '..', 'samples');

async function seeds(): Promise<{ dir: Direction; opcode: 1 | 2; bytes: Buffer }[]> {
  const out: { dir: Direction; opcode: 1 | 2; bytes: Buffer }[] = [];
  for (const f of fs.readdirSync(SAMPLES).filter((n) => n.startsWith('app-') && n.endsWith('.capture.ndjson'))) {
    await replayCaptureFile(path.join(SAMPLES, f), (e) => {
      const m = e as MessageEvent;
      if (m.event === 'message') out.push({ dir: m.dir, opcode: m.opcode as 1 | 2, bytes: m.text !== undefined ? Buffer.from(m.text) : Buffer.from(m.data ?? '', 'hex') });
    });
  }
  return out;
}

const handshakeFor = (target: string, protocol: string | null) =>
  ({ request: { method: 'GET', target, version: 'HTTP/1.1', headers: [['Sec-WebSocket-Protocol', protocol ?? '']] }, response: { status: 101, reason: '', headers: [] }, protocol }) as unknown as HandshakeEvent;

describe('fuzz: every module, random and mutated messages', () => {
  let pool: { dir: Direction; opcode: 1 | 2; bytes: Buffer }[] = [];
  beforeAll(async () => {
    pool = await seeds();
  });

  it.each(MODULES.map((m) => m.name))('%s never throws on 2,500 inputs', (name) => {
    const module = MODULES.find((m) => m.name === name)!;
    expect(pool.length).toBeGreaterThan(40);
    const rand = prng(name.length * 7919);
    const int = (n: number) => Math.floor(rand() * n);
    const targets = ['/socket.io/?EIO=4&transport=websocket', '/socket.io/?EIO=3', '/a/123/b/websocket', '/', '/x?EIO=4&transport=websocket'];
    const protocols = [null, 'v12.stomp', 'graphql-ws', 'graphql-transport-ws', 'actioncable-v1-json', 'jsonrpc', '\u0000'];
    const ctx = contextOf(handshakeFor(targets[int(targets.length)], protocols[int(protocols.length)]));
    expect(() => module.fromHandshake?.(ctx)).not.toThrow();
    let session = module.open(ctx);
    for (let n = 0; n < 2500; n++) {
      if (n % 500 === 0) session = module.open(contextOf(handshakeFor(targets[int(targets.length)], protocols[int(protocols.length)])));
      let bytes: Buffer;
      const seed = pool[int(pool.length)];
      if (n % 4 === 0) bytes = Buffer.from(Array.from({ length: int(80) }, () => int(256)));
      else {
        bytes = Buffer.from(seed.bytes);
        for (let e = 0, edits = 1 + int(4); e < edits && bytes.length > 0; e++) {
          const at = int(bytes.length);
          const what = int(5);
          if (what === 0) bytes[at] ^= 1 << int(8);
          else if (what === 1) bytes[at] = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00, 0x0a][int(10)];
          else if (what === 2) bytes = bytes.subarray(0, at);
          else if (what === 3) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(8))]);
          else bytes = Buffer.concat([bytes, bytes.subarray(0, at)]);
        }
      }
      const dir: Direction = rand() < 0.5 ? seed.dir : seed.dir === 'client' ? 'server' : 'client';
      const opcode: 1 | 2 = rand() < 0.85 ? seed.opcode : seed.opcode === 1 ? 2 : 1;
      try {
        module.sniff?.(dir, opcode, bytes, ctx);
        const r = session.message(dir, opcode, bytes);
        // Every result is serialisable (it goes into NDJSON) and has a summary or is partial.
        JSON.stringify(r);
        for (const p of r === null ? [] : Array.isArray(r) ? r : [r]) {
          if (!('partial' in p)) expect(typeof p.summary).toBe('string');
        }
      } catch (err) {
        throw new Error(`${name} threw on ${dir} opcode ${opcode} ${JSON.stringify(bytes.toString('latin1'))}: ${(err as Error).stack}`);
      }
    }
  });

  it('a packet that never ends is dropped at MAX_PENDING (STOMP: a frame without its NUL)', () => {
    const stomp = MODULES.find((m) => m.name === 'stomp')!.open(contextOf(null));
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    expect(stomp.message('client', 1, Buffer.from('SEND\ndestination:/q\n\n'))).toEqual({ protocol: 'stomp', partial: true });
    let dropped = false;
    for (let sent = 0; sent <= MAX_PENDING + chunk.length && !dropped; sent += chunk.length) {
      const r = stomp.message('client', 1, chunk);
      dropped = !('partial' in (r as object));
      if (dropped) expect(r).toMatchObject({ type: 'invalid', violations: [{ rule: 'stomp-too-large' }] });
    }
    expect(dropped).toBe(true);
    // And it starts over cleanly.
    expect(stomp.message('client', 1, Buffer.from('SEND\ndestination:/q\n\nok\0'))).toMatchObject({ type: 'SEND', body: 'ok' });
  });
});
