/**
 * The types of a hooks module (`wsscope proxy --script FILE`; DESIGN.md "Intercepting:
 * script hooks"), importable from the package: `import type { FrameHook } from 'wsscope'`.
 *
 *   import type { FrameHook } from 'wsscope';
 *   export const onFrame: FrameHook = (frame) =>
 *     frame.opcode === 9 ? 'drop' : undefined;   // no ping reaches the other side
 */
import type { Direction, FrameEvent, MessageEvent } from '../decoder/events';

/** A frame as a hook sees it: the NDJSON frame event plus the whole unmasked payload. */
export type HookFrame = FrameEvent & { payloadBytes: Buffer };

/** A complete data message (reassembled, inflated): the message event plus its bytes. */
export type HookMessage = MessageEvent & { bytes: Buffer };

/**
 * A frame to send: defaults fin true, rsv false, masked as the sender's side requires (a
 * client frame replacing one keeps that frame's key, else a fresh one), the minimal length
 * form. `compress` deflates the payload with permessage-deflate (RFC 7692; only when
 * negotiated) and sets RSV1. `lengthForm` and `declaredLength` break the header on purpose.
 */
export interface HookFrameSpec {
  /** 0-15, or text, binary, continuation, close, ping, pong. */
  opcode: number | 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong';
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Set the MASK bit (default: true for client frames, false for server frames). */
  mask?: boolean;
  /** The 4-byte masking key, as 8 hex digits or a Buffer (implies mask). */
  maskKey?: string | Buffer;
  payload?: Buffer | string;
  compress?: boolean;
  lengthForm?: 7 | 16 | 64;
  declaredLength?: number;
}

/** undefined: forward as is; "drop": nothing goes on; a spec or specs: sent instead. */
export type HookResult = undefined | void | 'drop' | HookFrameSpec | HookFrameSpec[];

export interface HookApi {
  /** The connection number of the events. */
  readonly conn: number;
  /** Sends a frame as if `dir` had sent it: it travels to the other side, at once. */
  send(dir: Direction, spec: HookFrameSpec): void;
  /** Closes both sides with close frames (code, reason); later frames of both are dropped. */
  close(code?: number, reason?: string): void;
}

export type FrameHook = (frame: HookFrame, api: HookApi) => HookResult | Promise<HookResult>;
export type MessageHook = (message: HookMessage, api: HookApi) => HookResult | Promise<HookResult>;

/** What a hooks module exports (any of them). */
export interface Hooks {
  onFrame?: FrameHook;
  onMessage?: MessageHook;
}
