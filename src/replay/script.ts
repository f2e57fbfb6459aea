/**
 * A captured connection as a script to play again: what each side sent, in the order it
 * happened, taken from the decoder's events (so every input `decode` reads can be
 * replayed: captures, and the formats plugged into its input recognition).
 *
 * `replay --to` plays the client's steps against a live server and compares the answers;
 * `serve` plays the server's steps to clients. In both, a step of one side waits for the
 * other side's arrivals that were recorded before it: that is what "as fast as the answers
 * come" means (RFC 6455 gives no other ordering between the two directions).
 */
import { decodeFile } from '../lib/decode';
import type { Direction, HttpRequestHead, HttpResponseHead, PerMessageDeflateParams, WsEvent } from '../decoder/events';

/** Payload bytes kept per event when reading a capture for replay: all of them, in practice. */
export const REPLAY_MAX_PAYLOAD = 256 * 1024 * 1024;

/** One frame as sent (payload unmasked; compressed as on the wire when rsv1 says so). */
export interface ScriptFrame {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  payload: Buffer;
}

/** A complete data message (after reassembly and inflate). */
export interface ScriptMessage {
  opcode: number;
  /** The payload: UTF-8 for text (opcode 1). */
  bytes: Buffer;
}

export type Step =
  | { kind: 'frame'; dir: Direction; ts: number; frame: ScriptFrame }
  | { kind: 'message'; dir: Direction; ts: number; message: ScriptMessage };

export interface ConnectionScript {
  conn: number;
  request: HttpRequestHead;
  response: HttpResponseHead;
  /** The permessage-deflate parameters the recorded server accepted, or null. */
  deflate: PerMessageDeflateParams | null;
  /** When the handshake completed (the recorded time origin for --pace). */
  ts: number;
  steps: Step[];
}

const isControl = (opcode: number) => opcode >= 8;

/**
 * What a side sends, as frames to write: the recorded frames, or (when the input has no
 * frames, e.g. a HAR, or when they were compressed and cannot be sent as they are) one
 * frame per data message, with the control frames in between.
 */
export function framesToSend(script: ConnectionScript, dir: Direction, asMessages: boolean): { frame: ScriptFrame; ts: number; index: number }[] {
  const hasFrames = script.steps.some((s) => s.kind === 'frame' && s.dir === dir);
  const out: { frame: ScriptFrame; ts: number; index: number }[] = [];
  script.steps.forEach((step, index) => {
    if (step.dir !== dir) return;
    if (step.kind === 'frame' && hasFrames && (!asMessages || isControl(step.frame.opcode))) out.push({ frame: step.frame, ts: step.ts, index });
    if (step.kind === 'message' && (!hasFrames || asMessages)) {
      out.push({ frame: { opcode: step.message.opcode, fin: true, rsv1: false, rsv2: false, rsv3: false, payload: step.message.bytes }, ts: step.ts, index });
    }
  });
  return out;
}

/**
 * What a side receives that the other side's next step waits for, in order: complete data
 * messages and control frames. Returns for each step index how many of them were recorded
 * before it.
 */
export function arrivalsBefore(script: ConnectionScript, receiver: Direction): number[] {
  const sender: Direction = receiver === 'client' ? 'server' : 'client';
  const counts: number[] = [];
  let seen = 0;
  for (const step of script.steps) {
    counts.push(seen);
    if (step.dir === sender && isArrival(step)) seen++;
  }
  return counts;
}

/** A step the other side counts as an arrival: a data message, or a control frame. */
export function isArrival(step: Step): boolean {
  return step.kind === 'message' || isControl(step.frame.opcode);
}

/** The recorded data messages one side sent, in order. */
export function messagesOf(script: ConnectionScript, dir: Direction): ScriptMessage[] {
  return script.steps.flatMap((s) => (s.kind === 'message' && s.dir === dir ? [s.message] : []));
}

/** A message event's payload as bytes (its text as UTF-8, or its hex data). */
export function messageBytes(event: { text?: string; data?: string }): Buffer {
  return event.text !== undefined ? Buffer.from(event.text, 'utf8') : Buffer.from(event.data ?? '', 'hex');
}

/** The scripts of every upgraded connection in the events (connections without a 101 are left out). */
export function scriptsFromEvents(events: WsEvent[]): ConnectionScript[] {
  const scripts = new Map<number, ConnectionScript>();
  for (const event of events) {
    if (event.event === 'handshake') {
      if (event.response.status !== 101) continue;
      scripts.set(event.conn, { conn: event.conn, request: event.request, response: event.response, deflate: event.permessageDeflate ?? null, ts: event.ts, steps: [] });
      continue;
    }
    if (event.event !== 'frame' && event.event !== 'message') continue;
    const script = scripts.get(event.conn);
    if (!script) continue;
    if (event.event === 'frame') {
      const { opcode, fin, rsv1, rsv2, rsv3 } = event;
      script.steps.push({ kind: 'frame', dir: event.dir, ts: event.ts, frame: { opcode, fin, rsv1, rsv2, rsv3, payload: Buffer.from(event.payload, 'hex') } });
    } else {
      script.steps.push({ kind: 'message', dir: event.dir, ts: event.ts, message: { opcode: event.opcode, bytes: messageBytes(event) } });
    }
  }
  return [...scripts.values()];
}

/** Reads a capture (or any input `decode` reads) into the scripts of its connections. */
export async function readScripts(path: string): Promise<ConnectionScript[]> {
  return scriptsFromEvents(await decodeFile(path, { maxPayload: REPLAY_MAX_PAYLOAD }));
}
