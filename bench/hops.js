/**
 * The benchmark's reference intermediaries, each run as a process of its own, as wsscope is:
 *   - `relay`: a blind Node `net` relay (a pipe both ways, no decoding): the practical
 *     limit for a Node proxy;
 *   - `floor`: the same relay, and for every chunk it relays it writes a line of
 *     `ratio × chunk length` bytes to stdout (the pipe wsscope's NDJSON goes to), through
 *     the thread pool as wsscope's output worker does, batched the same way, pausing the
 *     relay when more than 8 MiB wait (wsscope's gate). The orchestrator sets the ratio
 *     before each measurement to what wsscope's NDJSON was per relayed byte in the same
 *     load: the cost of writing that much output, with nothing decoded.
 * Both count the bytes they relayed (`{cmd: 'bytes'}` over IPC answers and resets).
 * Usage: `node bench/hops.js --hop relay|floor --target PORT` (forked, with IPC).
 */
'use strict';
// Plain JavaScript (no ts-node): its memory and CPU are the relay's own.
const fs = require('fs');
const net = require('net');

const argv = process.argv;
const hop = argv[argv.indexOf('--hop') + 1];
const target = Number(argv[argv.indexOf('--target') + 1]);
const HIGH_WATER = 8 * 1024 * 1024;
const BATCH = 256 * 1024;
const BATCH_MS = 5;

let relayed = 0;
let ratio = 0;

/** Output in the floor: lines batched, written by the thread pool, the relay paused while too much waits. */
class FloorOutput {
  pending = [];
  pendingBytes = 0;
  queued = 0;
  writing = false;
  queue = [];
  scheduled = false;
  waiters = [];
  filler = Buffer.alloc(0);

  get full() {
    return this.queued > HIGH_WATER;
  }

  whenClear(cb) {
    if (!this.full) cb();
    else this.waiters.push(cb);
  }

  line(n) {
    if (n <= 0) return;
    if (this.filler.length < n) {
      this.filler = Buffer.alloc(Math.max(n, 2 * this.filler.length), 0x61);
      this.filler[this.filler.length - 1] = 0x0a;
    }
    // A line of n bytes, its last one a newline (a view of one reused buffer: the bytes
    // need not differ, only their count matters).
    this.pending.push(this.filler.subarray(this.filler.length - n));
    this.pendingBytes += n;
    this.queued += n;
    if (this.pendingBytes >= BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.flush();
      }, BATCH_MS);
    }
  }

  flush() {
    if (this.pending.length === 0) return;
    this.queue.push(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.writing) this.next();
  }

  next() {
    const buf = this.queue.shift();
    if (!buf) {
      this.writing = false;
      return;
    }
    this.writing = true;
    const attempt = (offset) => {
      if (offset >= buf.length) {
        this.queued -= buf.length;
        if (!this.full) for (const w of this.waiters.splice(0)) w();
        return this.next();
      }
      fs.write(1, buf, offset, buf.length - offset, null, (err, written) => {
        if (err && err.code !== 'EAGAIN') process.exit(1);
        if (err || written === 0) setTimeout(() => attempt(offset), 1);
        else attempt(offset + written);
      });
    };
    attempt(0);
  }
}

const output = hop === 'floor' ? new FloorOutput() : null;

function pipe(from, to) {
  from.on('data', (chunk) => {
    relayed += chunk.length;
    const ok = to.write(chunk);
    if (output) output.line(Math.round(ratio * chunk.length));
    if (!ok || output?.full) {
      from.pause();
      const resume = () => {
        if (to.writableNeedDrain) return;
        if (output?.full) return output.whenClear(resume);
        from.resume();
      };
      if (!ok) to.once('drain', resume);
      else output.whenClear(resume);
    }
  });
  from.on('end', () => to.end());
}

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => {
  const u = net.connect({ port: target, host: '127.0.0.1', allowHalfOpen: true });
  u.setNoDelay(true);
  const kill = () => (c.destroy(), u.destroy());
  c.on('error', kill);
  u.on('error', kill);
  c.on('close', kill);
  u.on('close', kill);
  pipe(c, u);
  pipe(u, c);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send({ port: server.address().port }));

process.on('message', (m) => {
  if (m.cmd === 'ratio') ratio = m.ratio ?? 0;
  else if (m.cmd === 'bytes') {
    process.send({ bytes: relayed });
    relayed = 0;
  } else if (m.cmd === 'exit') process.exit(0);
});
