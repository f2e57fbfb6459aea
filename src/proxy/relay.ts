/**
 * The relay: bytes read from one side are written to the other, unchanged, as they arrive,
 * then teed (tee.ts). One Pipe per direction.
 *
 * Backpressure: the reader is paused while the other side's write buffer is full (as
 * stream.pipe does), and while an output (gate.ts) is behind. So a connection holds at most
 * about one socket buffer per direction, whatever the frame sizes.
 *
 * A stage (e.g. script hooks that hold, replace, drop or inject frames) can sit between
 * "bytes read" and "bytes written" of one direction: setStage(push) makes the reader's
 * chunks go to `push` instead, and the stage writes what it wants sent with `pipe.write`
 * (which still tees and applies backpressure to the reader). With no stage, the reader's
 * data listener is `write` itself: no extra work per chunk.
 */
import type { Duplex } from 'stream';
import type { Direction } from '../decoder/events';
import type { Gate } from './gate';
import type { Tee } from './tee';

export class Pipe {
  private listener: (chunk: Buffer) => void;
  private started = false;

  constructor(
    readonly from: Duplex,
    readonly to: Duplex,
    readonly dir: Direction,
    private readonly tee: Tee,
    private readonly gate?: Gate,
  ) {
    // A bound method rather than an arrow-function field: the arrow took a closure and a
    // context per pipe (two pipes per connection, ~100 bytes; issue #13).
    this.write = this.relay.bind(this);
    this.listener = this.write;
  }

  /** Starts reading `from` (its data events); the caller resumes it when it should flow. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.from.on('data', this.listener);
  }

  /** Writes bytes to the other side, tees them, and pauses the reader while either is behind. */
  readonly write: (chunk: Buffer) => void;

  private relay(chunk: Buffer): void {
    const { from, to } = this;
    const ok = to.destroyed ? true : to.write(chunk);
    this.tee.push(this.dir, chunk);
    const gate = this.gate;
    if (!ok || gate?.full) {
      from.pause();
      const resume = () => {
        if (from.destroyed || to.writableNeedDrain) return;
        if (gate?.full) return gate.whenClear(resume);
        from.resume();
      };
      if (!ok) to.once('drain', resume);
      else gate!.whenClear(resume);
    }
  }

  /** Routes what is read through a stage (null: straight to `write` again). */
  setStage(push: ((chunk: Buffer) => void) | null): void {
    const next = push ?? this.write;
    if (this.started) {
      this.from.off('data', this.listener);
      this.from.on('data', next);
    }
    this.listener = next;
  }
}
