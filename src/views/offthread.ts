/**
 * The text log and the NDJSON output, decoded and written in a worker thread.
 *
 * With `--ui json` or `--ui text` nothing in the proxy's thread needs the decoder's
 * events, and producing them (a 64 KiB frame becomes 2 × 128 KiB of hex in NDJSON) costs
 * far more than relaying the bytes. So the proxy runs with `decode: false` and this output
 * receives what a capture file would hold (open/end/error events and the raw chunks, in
 * order) and re-runs the decoder in a worker, exactly as `wsscope replay` does with a
 * capture (CaptureReplayer): the events and their ts are the same as if decoded inline.
 *
 * Memory stays bounded: it acts as an OutputGate; while more than OFFTHREAD_HIGH_WATER
 * bytes are on their way to the worker, the proxy stops reading.
 *
 * What the proxy hands over within BATCH_MS (or up to BATCH_BYTES) goes in one message (the
 * chunks copied into one ArrayBuffer, transferred): a message per chunk cost the relay's
 * thread ~3 µs per chunk, as much as relaying a small message.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { WsEvent } from '../decoder/events';
import type { Session } from '../session';

const OFFTHREAD_HIGH_WATER = 8 * 1024 * 1024;

export interface OffThreadOptions {
  ui: 'json' | 'text';
  /** The file descriptor to write to (1: stdout); the worker writes it, never closes it. */
  fd: number;
  verbose?: boolean;
  maxPayload?: number;
  /** `--protocol NAME` (src/protocols). */
  protocol?: string;
}

/**
 * Main thread → worker. A batch holds, in the order the proxy published them, events and
 * raw chunks: `index` has INDEX_STRIDE numbers per item, [conn, dir, ts, length] for a
 * chunk (dir 0 client, 1 server; its bytes the next `length` of `bytes`) or [-1, 0, 0, 0]
 * for the next of `events`. Plain numbers in a typed array, transferred: cloning an object
 * per chunk cost the relay's thread ~1 µs per item in postMessage (--cpu-prof of 300
 * connections at once, issue #13), the largest single cost after the socket writes.
 */
export type ToWorker = { t: 'batch'; events: WsEvent[]; index: Float64Array; bytes: Uint8Array } | { t: 'close' };

export const INDEX_STRIDE = 4;

/** A batch is sent BATCH_MS after its first item, or once it holds BATCH_BYTES. */
const BATCH_BYTES = 1024 * 1024;
/**
 * Waking the worker for every small round trip costs the relay's latency more than the
 * work (on 2 cores the worker's wake-ups compete with the relay); output a few
 * milliseconds later is invisible (LineBatcher waits as long).
 */
const BATCH_MS = 5;

/** Worker → main thread. */
export type FromWorker = { t: 'ready' } | { t: 'ack'; bytes: number } | { t: 'closed' } | { t: 'failed'; message: string };

export class OffThreadOutput {
  private readonly worker: Worker;
  private inflight = 0;
  private waiting: (() => void)[] = [];
  private closed: Promise<void>;
  private failure: string | null = null;
  private detach: (() => void)[] = [];
  private events: WsEvent[] = [];
  /** INDEX_STRIDE numbers per item so far (ToWorker). */
  private index = new Float64Array(1024);
  private indexLength = 0;
  private chunks: Buffer[] = [];
  private batchBytes = 0;
  private batchScheduled = false;
  /** Called once if the worker cannot write (e.g. stdout closed: EPIPE). */
  onFailure: (message: string) => void = () => undefined;
  /**
   * Resolves once the worker has loaded its code and takes data (or has failed). Nothing is
   * lost before: data waits in the worker's queue (gated). From sources (`npm run bench`)
   * the worker compiles TypeScript first, which takes more than a second of CPU: the
   * benchmark waits for this, as the compiled CLI has no such delay.
   */
  readonly ready: Promise<void>;

  constructor(options: OffThreadOptions) {
    this.worker = startWorker(options);
    let markClosed: () => void = () => undefined;
    let markReady: () => void = () => undefined;
    this.closed = new Promise<void>((resolve) => (markClosed = resolve));
    this.ready = new Promise<void>((resolve) => (markReady = resolve));
    this.closed.then(markReady, markReady);
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') {
        markReady();
      } else if (m.t === 'ack') {
        this.inflight -= m.bytes;
        this.check();
      } else if (m.t === 'closed') {
        markClosed();
      } else if (m.t === 'failed' && this.failure === null) {
        this.failure = m.message;
        this.onFailure(m.message);
      }
    });
    this.worker.on('error', (err) => {
      if (this.failure === null) {
        this.failure = err.message;
        this.onFailure(err.message);
      }
      markClosed();
    });
    this.worker.on('exit', () => {
      this.inflight = 0;
      this.check();
      markClosed();
    });
  }

  attach(session: Session): this {
    this.detach.push(
      session.onEvent((e) => {
        this.events.push(e);
        this.add(-1, 0, 0, 0);
      }),
      session.onData((conn, dir, ts, chunk) => {
        this.inflight += chunk.length;
        this.chunks.push(chunk);
        this.batchBytes += chunk.length;
        this.add(conn, dir === 'client' ? 0 : 1, ts, chunk.length);
      }),
    );
    return this;
  }

  private add(conn: number, dir: number, ts: number, length: number): void {
    if (this.indexLength + INDEX_STRIDE > this.index.length) {
      const grown = new Float64Array(this.index.length * 2);
      grown.set(this.index);
      this.index = grown;
    }
    const index = this.index;
    const at = this.indexLength;
    index[at] = conn;
    index[at + 1] = dir;
    index[at + 2] = ts;
    index[at + 3] = length;
    this.indexLength = at + INDEX_STRIDE;
    if (this.batchBytes >= BATCH_BYTES) this.sendBatch();
    else if (!this.batchScheduled) {
      // One timer at a time: a batch sent for its size leaves the timer running, for the
      // items that follow (a reset here started one more timer per MiB of bulk traffic).
      this.batchScheduled = true;
      setTimeout(() => {
        this.batchScheduled = false;
        this.sendBatch();
      }, BATCH_MS);
    }
  }

  private sendBatch(): void {
    if (this.indexLength === 0) return;
    // One copy into a buffer of its own, transferred without a second copy. (Cloning a
    // chunk itself would copy the whole pool or socket buffer it is a view of.)
    const bytes = new Uint8Array(this.batchBytes);
    let at = 0;
    for (const c of this.chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const index = this.index.slice(0, this.indexLength);
    const message: ToWorker = { t: 'batch', events: this.events, index, bytes };
    this.events = [];
    this.indexLength = 0;
    this.chunks = [];
    this.batchBytes = 0;
    this.worker.postMessage(message, [bytes.buffer, index.buffer]);
  }

  /** OutputGate interface: true while too many bytes wait for the worker. */
  get full(): boolean {
    return this.inflight > OFFTHREAD_HIGH_WATER && this.failure === null;
  }

  whenClear(cb: () => void): void {
    if (!this.full) return cb();
    this.waiting.push(cb);
  }

  private check(): void {
    if (this.full || this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb();
  }

  /** Unsubscribes, lets the worker finish and write everything, and stops it. */
  async close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    this.sendBatch();
    this.worker.postMessage({ t: 'close' } satisfies ToWorker);
    await this.closed;
    await this.worker.terminate();
  }
}

/**
 * The worker's young generation, in MB (resourceLimits.maxYoungGenerationSizeMb). V8's
 * default lets its new space grow to 33.6 MB, and a busy worker's did: with 3,000
 * connections that was a third of the proxy's memory growth. The worker's garbage is
 * short-lived events, so the smaller young generation (new space 8.4 MB) costs no CPU
 * measurably: decoding and writing 400 × 64 KiB messages or 64,000 16-byte frames as
 * NDJSON took the same CPU time with V8's semi-space capped at 4 or 16 MB (issue #13).
 */
export const WORKER_YOUNG_MB = 12;

function startWorker(options: OffThreadOptions): Worker {
  const compiled = path.join(__dirname, 'offthread-worker.js');
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_MB };
  if (__filename.endsWith('.js')) return new Worker(compiled, { workerData: options, resourceLimits });
  // Running from TypeScript sources (tests, `npm run bench`): compile the worker on the fly.
  const source = path.join(__dirname, 'offthread-worker.ts');
  return new Worker(`require('ts-node/register/transpile-only'); require(${JSON.stringify(source)});`, {
    eval: true,
    workerData: options,
    resourceLimits,
  });
}
