/** Feeds a handshake and messages through createDecoder (the layer every view uses) and collects the events; starts peers. */
import { spawn } from 'child_process';
import * as path from 'path';
import { buildFrame } from '../../src/decoder/build';
import type { Direction, MessageEvent, WsEvent } from '../../src/decoder/events';
import { createDecoder } from '../../src/protocols';

export const MASK = Buffer.from([1, 2, 3, 4]);

/** An upgrade exchange for `target` with `protocol` offered and accepted (when given). */
export function handshake(target: string, protocol?: string): { request: Buffer; response: Buffer } {
  const proto = protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '';
  return {
    request: Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${proto}\r\n`),
    response: Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n${proto}\r\n`),
  };
}

/** One message as a frame from `dir` (masked from the client), text unless `binary`. */
export function frame(dir: Direction, payload: string | Buffer, opts: { binary?: boolean; fin?: boolean; continuation?: boolean } = {}): Buffer {
  const opcode = opts.continuation ? 0 : opts.binary || Buffer.isBuffer(payload) ? 2 : 1;
  return buildFrame({ opcode, fin: opts.fin, payload, mask: dir === 'client' ? MASK : null });
}

export type Msg = [Direction, string | Buffer];

/** Decodes a connection: the handshake (unless null), then each message as one frame. */
export function run(target: string | null, protocol: string | undefined, messages: Msg[], opts: { force?: string; maxPayload?: number } = {}): WsEvent[] {
  const events: WsEvent[] = [];
  const decoder = createDecoder({ conn: 1, protocol: opts.force, maxPayload: opts.maxPayload, start: target === null ? 'frames' : 'handshake', onEvent: (e) => events.push(e) });
  if (target !== null) {
    const hs = handshake(target, protocol);
    decoder.push('client', hs.request, 0);
    decoder.push('server', hs.response, 0);
  }
  for (const [dir, payload] of messages) decoder.push(dir, frame(dir, payload), 1);
  decoder.finish(2);
  return events;
}

export function messages(events: WsEvent[]): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.event === 'message');
}

/** The `app` of each message, in order. */
export function apps(events: WsEvent[]): unknown[] {
  return messages(events).map((m) => m.app);
}

/**
 * The aedes MQTT broker over WebSocket (peers/aedes-ws.mjs) in its own process (aedes 1.x
 * is an ES module): resolves once it listens on 127.0.0.1; `stop()` ends it.
 */
export async function spawnAedes(): Promise<{ port: number; stop(): Promise<void> }> {
  const broker = spawn(process.execPath, [path.join(__dirname, 'peers/aedes-ws.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    broker.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    broker.once('exit', (code) => reject(new Error(`aedes exited with ${code}`)));
  });
  return {
    port,
    async stop() {
      broker.stdin!.end();
      if (broker.exitCode === null) await new Promise((r) => broker.once('exit', r));
    },
  };
}
