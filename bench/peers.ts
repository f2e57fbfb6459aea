/**
 * The benchmark's peers, each a process of its own (as real clients and servers are other
 * programs): `--role server` is a `ws` server (`/echo` answers every message, `/sink`
 * counts binary messages and answers a text message with the count); `--role client` runs
 * one measurement at a time against a port, on the orchestrator's command (IPC), and
 * replies with its result. Loopback only; every loop is bounded in count and time.
 */
import * as net from 'net';
import { WebSocket, WebSocketServer } from 'ws';

export interface Sizes {
  latencyRounds: number;
  latencyWarmup: number;
  bigCount: number;
  smallCount: number;
  faninConns: number;
  faninTrips: number;
}

export const FULL: Sizes = { latencyRounds: 2000, latencyWarmup: 200, bigCount: 400, smallCount: 60000, faninConns: 300, faninTrips: 10 };
export const QUICK: Sizes = { latencyRounds: 500, latencyWarmup: 100, bigCount: 100, smallCount: 15000, faninConns: 100, faninTrips: 5 };
export const BIG = 64 * 1024;

export type Phase = 'latency' | 'throughput' | 'rate' | 'fanin';
export const PHASES: Phase[] = ['latency', 'throughput', 'rate', 'fanin'];

export interface PhaseResult {
  /** latency: p50 and p99 round trip in µs. */
  p50?: number;
  p99?: number;
  /** throughput: MiB/s of 64 KiB messages. */
  mbps?: number;
  /** rate: 16-byte messages per second. */
  rate?: number;
  /** fanin: milliseconds until every connection made all its round trips. */
  ms?: number;
}

export interface ScaleResult {
  conns: number;
  sent: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  /** Round trips over 100 ms. */
  stalled: number;
  /** Milliseconds to open every connection. */
  openMs: number;
}

export type ClientRequest =
  | { cmd: Phase; port: number; sizes: Sizes }
  | { cmd: 'scale-open'; port: number; conns: number }
  | { cmd: 'scale-run'; seconds: number; interval: number }
  | { cmd: 'scale-close' }
  | { cmd: 'exit' };
export type ClientReply = { ready: true } | { result: PhaseResult } | { scale: ScaleResult } | { opened: number; ms: number } | { closed: true } | { error: string };

// ---------------------------------------------------------------------------------------
// Server

function serverMain(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 24, clientTracking: false, backlog: 4096 });
  wss.on('listening', () => process.send!({ port: (wss.address() as net.AddressInfo).port }));
  wss.on('connection', (ws, req) => {
    ws.on('error', () => undefined);
    if (req.url === '/echo') {
      ws.on('message', (m, binary) => ws.send(m, { binary }));
      return;
    }
    let count = 0;
    ws.on('message', (m, binary) => {
      if (binary) count++;
      else ws.send(String(count));
    });
  });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'exit') process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------
// Client

async function connect(port: number, path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false, maxPayload: 1 << 24 });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

async function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((r) => {
    ws.once('close', () => r());
    ws.close();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

const MSG32 = Buffer.alloc(32, 0x61).toString();

async function latency(port: number, s: Sizes): Promise<PhaseResult> {
  const ws = await connect(port, '/echo');
  const times: number[] = [];
  for (let i = 0; i < s.latencyWarmup + s.latencyRounds; i++) {
    const t0 = process.hrtime.bigint();
    ws.send(MSG32);
    await new Promise((r) => ws.once('message', r));
    if (i >= s.latencyWarmup) times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await closeWs(ws);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** Sends `count` binary messages as fast as the socket takes them; resolves with seconds. */
async function blast(port: number, payload: Buffer, count: number): Promise<number> {
  const ws = await connect(port, '/sink');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    ws.send(payload, { binary: true });
    // Keep the client's own queue short, so we measure the path, not ws's buffering.
    while (ws.bufferedAmount > 1 << 20) await new Promise((r) => setImmediate(r));
  }
  ws.send('done');
  const got = await new Promise<string>((r) => ws.once('message', (m) => r(m.toString())));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (Number(got) !== count) throw new Error(`sink received ${got} of ${count} messages`);
  await closeWs(ws);
  return seconds;
}

/** `conns` connections at once, each making `trips` round trips in turn: the wall time. */
async function fanin(port: number, s: Sizes): Promise<PhaseResult> {
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: s.faninConns }, async () => {
      const ws = await connect(port, '/echo');
      for (let i = 0; i < s.faninTrips; i++) {
        ws.send(MSG32);
        await new Promise((r) => ws.once('message', r));
      }
      await closeWs(ws);
    }),
  );
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

async function phase(m: Extract<ClientRequest, { cmd: Phase }>): Promise<PhaseResult> {
  switch (m.cmd) {
    case 'latency':
      return latency(m.port, m.sizes);
    case 'throughput':
      return { mbps: (BIG * m.sizes.bigCount) / (1024 * 1024) / (await blast(m.port, Buffer.alloc(BIG, 0x5a), m.sizes.bigCount)) };
    case 'rate':
      return { rate: m.sizes.smallCount / (await blast(m.port, Buffer.alloc(16, 0x5a), m.sizes.smallCount)) };
    case 'fanin':
      return fanin(m.port, m.sizes);
  }
}

/**
 * The scale test: many connections open at once, each sending a 32-byte message every
 * `interval` ms (spread evenly over the interval) and timing its echo.
 */
class Scale {
  private sockets: WebSocket[] = [];

  async open(port: number, conns: number): Promise<{ opened: number; ms: number }> {
    const t0 = process.hrtime.bigint();
    // At most 64 handshakes at a time: a burst of thousands of SYNs overflows any accept queue.
    let next = 0;
    const worker = async () => {
      while (next < conns) {
        next++;
        const ws = await connect(port, '/echo');
        ws.on('error', () => undefined);
        this.sockets.push(ws);
      }
    };
    await Promise.all(Array.from({ length: Math.min(64, conns) }, worker));
    return { opened: this.sockets.length, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  }

  async run(seconds: number, interval: number): Promise<ScaleResult> {
    const times: number[] = [];
    let sent = 0;
    let received = 0;
    const timers: NodeJS.Timeout[] = [];
    const end = Date.now() + seconds * 1000;
    const n = this.sockets.length;
    await new Promise<void>((resolve) => {
      let running = n;
      this.sockets.forEach((ws, i) => {
        let t0 = 0n;
        let waiting = false;
        ws.on('message', () => {
          if (!waiting) return;
          waiting = false;
          received++;
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        });
        const tick = () => {
          if (Date.now() >= end) {
            if (--running === 0) resolve();
            return;
          }
          if (!waiting && ws.readyState === WebSocket.OPEN) {
            waiting = true;
            sent++;
            t0 = process.hrtime.bigint();
            ws.send(MSG32);
          }
          timers[i] = setTimeout(tick, interval);
        };
        timers[i] = setTimeout(tick, (interval * i) / n);
      });
    });
    // The last echoes: wait until every sent message came back (or 5 s passed).
    const deadline = Date.now() + 5000;
    while (received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    times.sort((a, b) => a - b);
    return {
      conns: n,
      sent,
      received,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: times.length ? times[times.length - 1] : NaN,
      stalled: times.filter((t) => t > 100).length,
      openMs: 0,
    };
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets = [];
  }
}

function clientMain(): void {
  const scale = new Scale();
  const send = (m: ClientReply) => process.send!(m);
  process.on('message', (m: ClientRequest) => {
    const reply = (p: Promise<ClientReply>) => p.then(send, (err) => send({ error: String(err instanceof Error ? err.message : err) }));
    switch (m.cmd) {
      case 'exit':
        void scale.close().then(() => process.exit(0));
        return;
      case 'scale-open':
        return void reply(scale.open(m.port, m.conns));
      case 'scale-run':
        return void reply(scale.run(m.seconds, m.interval).then((r) => ({ scale: r })));
      case 'scale-close':
        return void reply(scale.close().then(() => ({ closed: true as const })));
      default:
        return void reply(phase(m).then((result) => ({ result })));
    }
  });
  send({ ready: true });
}

const role = process.argv[process.argv.indexOf('--role') + 1];
if (require.main === module) {
  if (role === 'server') serverMain();
  else if (role === 'client') clientMain();
}
