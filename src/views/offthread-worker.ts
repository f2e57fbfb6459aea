/**
 * The worker side of OffThreadOutput (offthread.ts): re-decodes the proxied traffic with
 * CaptureReplayer and writes the text log or the NDJSON to a file descriptor (not through
 * process.stdout: a worker's process.stdout goes through the main thread).
 */
import * as fs from 'fs';
import { Writable } from 'stream';
import { parentPort, workerData } from 'worker_threads';
import { CaptureReplayer } from '../capture';
import type { WsEvent } from '../decoder/events';
import { Session } from '../session';
import { attachJsonView } from './json';
import { INDEX_STRIDE, type FromWorker, type OffThreadOptions, type ToWorker } from './offthread';
import { attachTextView } from './text';

const options = workerData as OffThreadOptions;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

/**
 * Writes to a file descriptor through libuv's thread pool (so that writing overlaps with
 * decoding), waiting out EAGAIN; the fd stays open (it is stdout, or the caller's file).
 * stdout may be a non-blocking pipe: fs.WriteStream retries EAGAIN only five times in a
 * row, then fails with "write failed", which any reader slower than us for a moment
 * (a busy test runner, `| less`) would cause. Here a full pipe just waits, and the
 * growing writableLength holds the acknowledgements back, and so the proxy.
 */
class FdWriter extends Writable {
  constructor(private readonly fd: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const attempt = (offset: number, delay: number): void => {
      if (offset >= chunk.length) return done();
      fs.write(this.fd, chunk, offset, chunk.length - offset, null, (err, written) => {
        if (err && err.code !== 'EAGAIN') return done(err);
        if (err || written === 0) setTimeout(() => attempt(offset, Math.min(delay * 2, 50)), delay);
        else attempt(offset + written, 1);
      });
    };
    attempt(0, 1);
  }
}

/**
 * A pipe (`wsscope --ui json | jq`) is written through a descriptor of our own, opened
 * anew on /proc/self/fd (Linux): the main thread's process.stdout makes the pipe's
 * descriptor non-blocking, and on a non-blocking pipe every write that finds its 64 KiB
 * buffer full fails with EAGAIN and waits a timer out. Under 64 KiB messages (4 times
 * their size in NDJSON) that kept the worker idle half the time and held the relay back
 * (--cpu-prof of `npm run bench`). Our own descriptor blocks, so a write (in the thread
 * pool, one at a time) continues the moment the reader has read. Anything else, or where
 * /proc is not there: the descriptor as given.
 */
function blockingFd(fd: number): number {
  try {
    if (!fs.fstatSync(fd).isFIFO()) return fd;
    return fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_WRONLY);
  } catch {
    return fd;
  }
}

const out = new FdWriter(blockingFd(options.fd));
let failed = false;
out.on('error', (err) => {
  if (failed) return;
  failed = true;
  send({ t: 'failed', message: err.message });
});
/** Output queued beyond this holds the acknowledgements back, and so the proxy. */
const OUT_HIGH_WATER = 8 * 1024 * 1024;

const session = new Session();
const flush =
  options.ui === 'json'
    ? attachJsonView(session, out)
    : attachTextView(session, out, { verbose: options.verbose });
const replayer = new CaptureReplayer((e) => session.publish(e), { maxPayload: options.maxPayload, protocol: options.protocol });

let processed = 0;
let ackScheduled = false;
let waitingForDrain = false;
function ack(): void {
  if (!failed && out.writableLength > OUT_HIGH_WATER) {
    // Our own output is behind: hold the acknowledgement (and so the proxy) until it drains.
    ackScheduled = true;
    if (!waitingForDrain) {
      waitingForDrain = true;
      out.once('drain', () => {
        waitingForDrain = false;
        ack();
      });
    }
    return;
  }
  ackScheduled = false;
  if (processed === 0) return;
  send({ t: 'ack', bytes: processed });
  processed = 0;
}

function onEvent(e: WsEvent): void {
  if (e.event === 'open') replayer.feed({ kind: 'open', line: 0, event: e });
  else if (e.event === 'end') replayer.feed({ kind: 'end', line: 0, event: e });
  else if (e.event === 'error' && e.conn !== undefined) replayer.feed({ kind: 'error', line: 0, event: e });
  else session.publish(e);
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'batch': {
      const all = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      const { index, events } = m;
      let at = 0;
      let next = 0;
      for (let i = 0; i < index.length; i += INDEX_STRIDE) {
        const conn = index[i];
        if (conn < 0) {
          onEvent(events[next++]);
          continue;
        }
        const length = index[i + 3];
        replayer.feed({ kind: 'data', line: 0, conn, dir: index[i + 1] === 0 ? 'client' : 'server', ts: index[i + 2], bytes: all.subarray(at, at + length) });
        at += length;
      }
      processed += all.length;
      // Acknowledge at least every MiB, so the proxy resumes before the queue runs dry.
      if (processed >= 1024 * 1024 && !ackScheduled) ack();
      else if (!ackScheduled) {
        ackScheduled = true;
        setImmediate(ack);
      }
      return;
    }
    case 'close':
      flush();
      // Everything written (or the output failed): then the main thread may stop us.
      if (failed || out.writableLength === 0) send({ t: 'closed' });
      else out.write('', () => send({ t: 'closed' }));
      return;
  }
});

send({ t: 'ready' });
