/**
 * The proxy benchmark (`npm run bench`): side by side in one run, a `ws` client talking to a
 * `ws` server
 *   - directly,
 *   - through a plain Node TCP relay (a `net` pipe both ways: the practical limit for a
 *     Node proxy),
 *   - through wsscope (startProxy, every chunk decoded, every event written as NDJSON to a
 *     file, as `--ui json > file` does),
 *   - the same with --max-payload 125: every frame still decoded and written, but with at
 *     most 125 payload bytes of hex per event; the difference to the line above is what the
 *     full hex output costs (a 64 KiB message is 2 × 128 KiB of hex),
 * measuring the round-trip latency of 32-byte messages (p50/p99), the throughput of 64 KiB
 * messages and the rate of 16-byte messages, with ratios to the relay, and the CPU time the
 * intermediary's process spent on all three. Loopback only, bounded loops. The client and
 * server run in a child process, the intermediaries here.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { WebSocket, WebSocketServer } from 'ws';
import { startProxy } from '../src/proxy';
import { Session } from '../src/session';
import { OutputGate } from '../src/proxy/gate';
import { attachJsonView } from '../src/views/json';
import { OffThreadOutput } from '../src/views/offthread';

const LATENCY_ROUNDS = 2000;
const LATENCY_WARMUP = 200;
const BIG = 64 * 1024;
const BIG_COUNT = 400; // 25 MiB
const SMALL_COUNT = 60000;

interface Hop {
  port: number;
  close(): Promise<void>;
}

interface Result {
  p50: number;
  p99: number;
  mbps: number;
  rate: number;
  /** CPU seconds of the intermediary's process (all its threads) over the three measurements. */
  cpu?: number;
}

async function server(): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 24 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws, req) => {
    if (req.url === '/echo') {
      ws.on('message', (m, binary) => ws.send(m, { binary }));
      return;
    }
    // A sink: counts messages; a text "done" is answered with the count (messages arrive in order).
    let count = 0;
    ws.on('message', (m, binary) => {
      if (binary) count++;
      else ws.send(String(count));
    });
  });
  return {
    port: (wss.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

async function relay(target: number): Promise<Hop> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    const u = net.connect(target, '127.0.0.1');
    c.setNoDelay(true);
    u.setNoDelay(true);
    for (const s of [c, u]) {
      sockets.add(s);
      s.on('error', () => (c.destroy(), u.destroy()));
      s.on('close', () => sockets.delete(s));
    }
    c.pipe(u);
    u.pipe(c);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** wsscope as `wsscope proxy --ui json [--max-payload N] > file` runs it: decoding and NDJSON in a worker. */
async function wsscope(target: number, file: string, maxPayload?: number): Promise<Hop> {
  const session = new Session();
  const fd = fs.openSync(file, 'w');
  const output = new OffThreadOutput({ ui: 'json', fd, maxPayload }).attach(session);
  // From sources the worker compiles itself first (over a second of CPU); the CLI's does not.
  await output.ready;
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: `ws://127.0.0.1:${target}/`,
    session,
    maxPayload,
    decode: false,
    gate: new OutputGate().addGate(output),
  });
  return {
    port: proxy.port,
    close: async () => {
      await proxy.close();
      await output.close();
      fs.closeSync(fd);
    },
  };
}

/** For comparison: decoding and NDJSON in the proxy's own thread (what the TUI mode does). */
async function wsscopeInline(target: number, file: string): Promise<Hop> {
  const session = new Session();
  const out = fs.createWriteStream(file);
  const detach = attachJsonView(session, out);
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: `ws://127.0.0.1:${target}/`,
    session,
    gate: new OutputGate().add(out),
  });
  return {
    port: proxy.port,
    close: async () => {
      await proxy.close();
      detach();
      await new Promise((r) => out.end(r));
    },
  };
}

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
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latency(port: number): Promise<{ p50: number; p99: number }> {
  const ws = await connect(port, '/echo');
  const msg = Buffer.alloc(32, 0x61).toString();
  const times: number[] = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    ws.send(msg);
    await new Promise((r) => ws.once('message', r));
    if (i >= LATENCY_WARMUP) times.push(Number(process.hrtime.bigint() - t0) / 1000);
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

async function measure(port: number): Promise<Result> {
  const { p50, p99 } = await latency(port);
  const big = await blast(port, Buffer.alloc(BIG, 0x5a), BIG_COUNT);
  const small = await blast(port, Buffer.alloc(16, 0x5a), SMALL_COUNT);
  return { p50, p99, mbps: (BIG * BIG_COUNT) / (1024 * 1024) / big, rate: SMALL_COUNT / small };
}

/**
 * The client and the server run in a child process (as they would in real use: other
 * programs), the intermediaries in this one; so the proxy's own CPU cost shows, and its
 * decoding after forwarding can overlap with the peers' work.
 */
type PeerRequest = { cmd: 'measure'; port: number } | { cmd: 'exit' };
type PeerReply = { ready: number } | { result: Result } | { error: string };

async function peerMain(): Promise<void> {
  const upstream = await server();
  const send = (m: PeerReply) => process.send!(m);
  send({ ready: upstream.port });
  process.on('message', (m: PeerRequest) => {
    if (m.cmd === 'exit') {
      void upstream.close().then(() => process.exit(0));
      return;
    }
    measure(m.port).then(
      (result) => send({ result }),
      (err) => send({ error: String(err instanceof Error ? err.message : err) }),
    );
  });
}

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-bench-'));
  const child = fork(__filename, ['--peer'], { execArgv: process.execArgv.length ? process.execArgv : ['-r', 'ts-node/register/transpile-only'] });
  const replies: PeerReply[] = [];
  let wake: () => void = () => undefined;
  child.on('message', (m: PeerReply) => {
    replies.push(m);
    wake();
  });
  const next = async (): Promise<PeerReply> => {
    while (replies.length === 0) await new Promise<void>((r) => (wake = r));
    return replies.shift()!;
  };
  const results: Record<string, Result> = {};
  try {
    const ready = await next();
    if (!('ready' in ready)) throw new Error('the benchmark peer did not start');
    const upstreamPort = ready.ready;
    const paths: [string, () => Promise<Hop>][] = [
      ['direct', async () => ({ port: upstreamPort, close: async () => undefined })],
      ['relay', () => relay(upstreamPort)],
      ['wsscope', () => wsscope(upstreamPort, path.join(dir, 'events.ndjson'))],
      ['wsscope-125', () => wsscope(upstreamPort, path.join(dir, 'events-125.ndjson'), 125)],
      ['inline', () => wsscopeInline(upstreamPort, path.join(dir, 'inline.ndjson'))],
    ];
    for (const [name, make] of paths) {
      const hop = await make();
      try {
        const cpu0 = process.cpuUsage();
        child.send({ cmd: 'measure', port: hop.port } satisfies PeerRequest);
        const reply = await next();
        const cpu = process.cpuUsage(cpu0);
        if ('error' in reply) throw new Error(`${name}: ${reply.error}`);
        if (!('result' in reply)) throw new Error(`${name}: unexpected reply`);
        results[name] = { ...reply.result, cpu: (cpu.user + cpu.system) / 1e6 };
      } finally {
        await hop.close();
      }
    }
    const ndjson = fs.statSync(path.join(dir, 'events.ndjson')).size;
    console.log('proxy benchmark: ws client -> [path] -> ws server on loopback; client and server in a child process');
    console.log('path         p50 RTT µs  p99 RTT µs  64KiB msgs MiB/s  16B msgs/s  proxy CPU s');
    for (const [name, r] of Object.entries(results)) {
      const cpu = name === 'direct' ? '-' : r.cpu!.toFixed(2);
      console.log(
        `${name.padEnd(12)} ${r.p50.toFixed(0).padStart(10)}  ${r.p99.toFixed(0).padStart(10)}  ${r.mbps.toFixed(1).padStart(16)}  ${r.rate.toFixed(0).padStart(10)}  ${cpu.padStart(11)}`,
      );
    }
    const w = results.wsscope;
    const rl = results.relay;
    console.log(`wsscope decoded every frame and wrote ${(ndjson / (1024 * 1024)).toFixed(1)} MiB of NDJSON (in a worker thread;`);
    console.log('"inline": the same in the proxy\'s own thread, as with the terminal UI)');
    console.log(
      `wsscope / relay: throughput ${(w.mbps / rl.mbps).toFixed(2)} (target >= 0.8), ` +
        `small-message rate ${(w.rate / rl.rate).toFixed(2)} (target >= 0.7), ` +
        `p50 latency ${(w.p50 / rl.p50).toFixed(2)} (target <= 1.3)`,
    );
    const s = results['wsscope-125'];
    console.log(
      `wsscope --max-payload 125 / relay: throughput ${(s.mbps / rl.mbps).toFixed(2)}, small-message rate ${(s.rate / rl.rate).toFixed(2)}, p50 latency ${(s.p50 / rl.p50).toFixed(2)}`,
    );
    const i = results.inline;
    console.log(
      `inline / relay:  throughput ${(i.mbps / rl.mbps).toFixed(2)}, small-message rate ${(i.rate / rl.rate).toFixed(2)}, p50 latency ${(i.p50 / rl.p50).toFixed(2)}`,
    );
  } finally {
    child.send({ cmd: 'exit' } satisfies PeerRequest);
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--peer')) {
  void peerMain();
} else if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
