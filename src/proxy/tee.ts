/**
 * The tee: what a connection hands to the session after the bytes went out. Raw chunks to
 * the capture/pcap writers (session.onData), then the connection's decoder, whose events
 * are published. A view or decoder that throws is reported once and switched off for that
 * connection, never breaking the relay (DESIGN.md: a decoding problem never breaks
 * forwarding).
 */
import type { ConnectionDecoder } from '../decoder';
import { createDecoder } from '../protocols';
import type { Direction, WsEvent } from '../decoder/events';
import type { Session } from '../session';
import { describeError } from './errors';

/**
 * performance.timeOrigin is fixed at start but costs a call into Node each time it is read
 * (1.1 µs against 0.3 µs with it kept, on every chunk relayed: --cpu-prof, issue #13).
 */
const ORIGIN = performance.timeOrigin;

/** Milliseconds since the epoch, fractional (DESIGN.md: `ts`). */
export function now(): number {
  return ORIGIN + performance.now();
}

export class Tee {
  /** Bytes teed per direction (the `end` event's `bytes`). */
  readonly bytes = { client: 0, server: 0 };
  /** Null when not decoding here, or after it failed. An intercept stage joining mid-stream asks it where frames begin. */
  decoder: ConnectionDecoder | null;

  /**
   * decode false: only raw data and the connection's own events go to the session.
   * keepHandshake: an intercept stage may join later and needs the handshake event.
   */
  constructor(
    readonly conn: number,
    private readonly session: Session,
    decode: boolean,
    maxPayload: number | undefined,
    protocol?: string,
    keepHandshake = false,
  ) {
    this.decoder = decode ? createDecoder({ conn, maxPayload, protocol, keepHandshake, immutableChunks: true, onEvent: (e) => this.publish(e) }) : null;
  }

  /** Publishes an event; a view that throws must not break the relay. */
  publish(event: WsEvent): void {
    try {
      this.session.publish(event);
    } catch {
      /* a broken view is the view's problem, never the connection's */
    }
  }

  /** Raw data to capture/pcap writers, then the decoder: after the bytes went out. */
  push(dir: Direction, chunk: Buffer): void {
    const ts = now();
    this.bytes[dir] += chunk.length;
    if (this.session.wantsData) {
      try {
        this.session.publishData(this.conn, dir, ts, chunk);
      } catch {
        /* see publish() */
      }
    }
    if (!this.decoder) return;
    try {
      this.decoder.push(dir, chunk, ts);
    } catch (err) {
      this.decoder = null;
      this.publish({ event: 'error', ts: now(), conn: this.conn, message: `decoder failed, decoding stopped for this connection: ${describeError(err)}` });
    }
  }

  /** The connection is over: the decoder reports what was left unfinished. */
  finish(ts: number): void {
    if (!this.decoder) return;
    try {
      this.decoder.finish(ts);
    } catch (err) {
      this.publish({ event: 'error', ts, conn: this.conn, message: `decoder failed: ${describeError(err)}` });
    }
  }
}
