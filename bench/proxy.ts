/**
 * The proxy benchmark (`npm run bench`): a `ws` client talking to a `ws` server (each a
 * process of its own, bench/peers.ts), side by side in one run:
 *   - direct;
 *   - through a blind Node `net` relay (bench/hops.js), the practical limit for a Node proxy;
 *   - through wsscope as users run it (the compiled CLI, default settings, every frame
 *     decoded): `wsscope proxy --ui json` with stdout a pipe that this process drains, and
 *     the terminal UI (`--ui tui`) on a 120x40 pseudo-terminal whose screen output is
 *     discarded (bench/onpty.py);
 *   - the floor of `--ui json`: the blind relay writing, for every chunk it relays, as many
 *     bytes of lines to the same kind of pipe as wsscope's NDJSON came to per relayed byte
 *     in the same load and repetition (bench/hops.js).
 * Loads: round trips of 32-byte messages (p50/p99), throughput of 64 KiB messages, rate of
 * 16-byte messages, fan-in (many connections at once, each making round trips in turn).
 * The two bulk loads and the fan-in are each run once untimed at a quarter of their size
 * first (warm-up: the steady state is measured, not V8 compiling the hot paths).
 * The modes are interleaved in each repetition; ratios are taken to the relay of the same
 * repetition (then the median over the repetitions), which is what makes them meaningful on
 * a shared machine. Also: each intermediary's CPU seconds and peak RSS (its whole process:
 * wsscope's output worker included). Then the scale test (bench/scale in this file):
 * thousands of connections, a message every 3 s each.
 */
import { ChildProcess, fork, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { FULL, PHASES, QUICK, type ClientReply, type ClientRequest, type Phase, type PhaseResult, type ScaleResult, type Sizes } from './peers';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'wsscope.js');
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];
const CLK_TCK = 100; // Linux USER_HZ

export type Mode = 'direct' | 'relay' | 'json' | 'floor' | 'tui' | 'basejson' | 'basetui';

/**
 * BENCH_BASE=DIR: another built checkout of wsscope (e.g. `git worktree add DIR <commit>`,
 * then `npm ci` there), whose `--ui json` and terminal UI run as the modes basejson and
 * basetui, interleaved with this checkout's in each repetition: a before/after ratio of
 * two versions on the same loads (issues #10, #11: the relay without hooks, and with no
 * application protocol recognised, as fast as before).
 */
const BASE = process.env.BENCH_BASE ? path.resolve(process.env.BENCH_BASE) : null;

interface Hop {
  port: number;
  /** The intermediary's pid (null: direct). */
  pid: number | null;
  /** Bytes it wrote to its stdout pipe so far (json, floor). */
  readonly out: number;
  /** Floor: output bytes per relayed byte for the next load. */
  setRatio?(ratio: number): void;
  /** Relay, floor: bytes relayed since the last call. */
  relayed?(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A named pipe for an intermediary's stdout, read (and counted) here: a real pipe, as in
 * `wsscope --ui json | jq` (a child's stdio 'pipe' is a socket pair, which behaves
 * differently when full). Returns the write end for the child (close it here after
 * spawning) and the running byte count.
 */
function namedPipe(): { fd: number; bytes: () => number; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-bench-'));
  const fifo = path.join(dir, 'out');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr).trim()}`);
  // The read end first (non-blocking, so this does not wait for a writer), then the write end.
  const reader = new net.Socket({ fd: fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), readable: true, writable: false });
  const fd = fs.openSync(fifo, fs.constants.O_WRONLY);
  let n = 0;
  reader.on('data', (b: Buffer) => (n += b.length));
  reader.on('error', () => undefined);
  return {
    fd,
    bytes: () => n,
    close: () => {
      reader.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a message of the given shape from a child. */
function once<T>(child: ChildProcess, pick: (m: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const v = pick(m);
      if (v === undefined) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(v);
    };
    const onExit = (code: number | null) => reject(new Error(`a benchmark process exited (${code}) early`));
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** CPU seconds (user + system, all threads) of a process so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** A line of /proc/PID/status in MB (VmRSS: now, VmHWM: the peak). */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function startHop(mode: Exclude<Mode, 'direct'>, target: number): Promise<Hop> {
  if (mode === 'relay' || mode === 'floor') {
    const out = mode === 'floor' ? namedPipe() : null;
    const child = fork(path.join(__dirname, 'hops.js'), ['--hop', mode, '--target', String(target)], {
      execArgv: [],
      stdio: ['ignore', out ? out.fd : 'ignore', 'inherit', 'ipc'],
    });
    if (out) fs.closeSync(out.fd);
    const hop: Hop = {
      port: 0,
      pid: child.pid!,
      get out() {
        return out ? out.bytes() : 0;
      },
      setRatio: (ratio) => child.send({ cmd: 'ratio', ratio }),
      relayed: () => {
        const p = once(child, (m) => (m as { bytes?: number }).bytes);
        child.send({ cmd: 'bytes' });
        return p;
      },
      close: async () => {
        child.send({ cmd: 'exit' });
        await exited(child);
        out?.close();
      },
    };
    hop.port = await once(child, (m) => (m as { port?: number }).port);
    return hop;
  }
  // BENCH_NODE_ARGS: options for wsscope's node, e.g. --cpu-prof --cpu-prof-dir=DIR.
  const base = mode === 'basejson' || mode === 'basetui';
  if (base && !BASE) throw new Error(`mode ${mode} needs BENCH_BASE (a built checkout of wsscope)`);
  const cli = base ? path.join(BASE!, 'bin', 'wsscope.js') : CLI;
  const ui = mode === 'basejson' ? 'json' : mode === 'basetui' ? 'tui' : mode;
  const args = [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), cli, 'proxy', '--listen', '127.0.0.1:0', '--target', `ws://127.0.0.1:${target}/`, '--ui', ui];
  // The terminal UI on a pseudo-terminal (120x40) whose output is read and discarded.
  const out = ui === 'json' ? namedPipe() : null;
  const child =
    ui === 'tui'
      ? spawn('/usr/bin/python3', [path.join(__dirname, 'onpty.py'), '120', '40', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(process.execPath, args, { stdio: ['ignore', out!.fd, 'pipe'] });
  if (out) fs.closeSync(out.fd);
  const hop: Hop = {
    port: 0,
    pid: ui === 'tui' ? 0 : child.pid!,
    get out() {
      return out ? out.bytes() : 0;
    },
    close: async () => {
      if (hop.pid) process.kill(hop.pid, 'SIGTERM');
      await exited(child);
      out?.close();
    },
  };
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`wsscope --ui ${mode} exited (${code}): ${stderr.trim()}`)));
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const pid = /^pid (\d+)$/m.exec(stderr);
      if (pid) hop.pid = Number(pid[1]);
      const port = /proxy listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (port && hop.pid) {
        hop.port = Number(port[1]);
        resolve();
      }
    });
  });
  return hop;
}

/** Waits until a hop's output stopped growing (its worker has written the load's NDJSON). */
async function settled(hop: Hop): Promise<void> {
  const deadline = Date.now() + 30000;
  for (let last = -1; hop.out !== last && Date.now() < deadline; ) {
    last = hop.out;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface Peers {
  serverPort: number;
  ask(m: ClientRequest): Promise<ClientReply>;
  close(): Promise<void>;
}

export async function startPeers(): Promise<Peers> {
  const file = path.join(__dirname, 'peers.ts');
  const server = fork(file, ['--role', 'server'], { execArgv: TS_NODE });
  const client = fork(file, ['--role', 'client'], { execArgv: TS_NODE });
  const [serverPort] = await Promise.all([once(server, (m) => (m as { port?: number }).port), once(client, (m) => ((m as { ready?: boolean }).ready ? true : undefined))]);
  return {
    serverPort,
    ask: (m) => {
      const p = once(client, (r) => r as ClientReply);
      client.send(m);
      return p;
    },
    close: async () => {
      client.send({ cmd: 'exit' });
      server.send({ cmd: 'exit' });
      await Promise.all([exited(client), exited(server)]);
    },
  };
}

interface ModeResult extends PhaseResult {
  cpu: number;
  peakMb: number;
  /** Output bytes per relayed byte, per load (json). */
  outPerByte?: Partial<Record<Phase, number>>;
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

const fmt = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

async function runMode(peers: Peers, mode: Mode, sizes: Sizes, ctx: { relayBytes: Partial<Record<Phase, number>>; json?: ModeResult }): Promise<ModeResult> {
  const hop: Hop = mode === 'direct' ? { port: peers.serverPort, pid: null, out: 0, close: async () => undefined } : await startHop(mode, peers.serverPort);
  const result: ModeResult = { cpu: 0, peakMb: NaN, outPerByte: {} };
  try {
    const phases = PHASES.filter((p) => !process.env.BENCH_PHASES || process.env.BENCH_PHASES.split(',').includes(p));
    // Untimed warm-up of the bulk loads and the fan-in, at a quarter of their size, outside
    // the CPU and byte counts: the timed loads take a fraction of a second each (400 × 64 KiB
    // is 0.15 s through the relay, 300 connections at once 0.2-0.3 s), so without it they
    // time V8 compiling the hot paths (the fan-in: the proxy's code that opens connections
    // and decodes handshakes, which no other load runs more than once), not the steady
    // state a debugging session runs in for minutes. Every mode gets the same. The latency
    // load has its own warm-up round trips.
    const warm: Sizes = { ...sizes, bigCount: Math.ceil(sizes.bigCount / 4), smallCount: Math.ceil(sizes.smallCount / 4), faninConns: Math.ceil(sizes.faninConns / 4) };
    for (const phase of phases.filter((p) => p === 'throughput' || p === 'rate' || p === 'fanin')) {
      if (mode === 'floor') hop.setRatio!(ctx.json?.outPerByte?.[phase] ?? 0);
      const reply = await peers.ask({ cmd: phase, port: hop.port, sizes: warm });
      if ('error' in reply) throw new Error(`${mode} ${phase} warm-up: ${reply.error}`);
      if (mode === 'json' || mode === 'floor' || mode === 'basejson') await settled(hop);
      if (hop.relayed) await hop.relayed();
    }
    for (const phase of phases) {
      if (mode === 'floor') hop.setRatio!(ctx.json?.outPerByte?.[phase] ?? 0);
      const out0 = hop.out;
      const cpu0 = hop.pid ? cpuSeconds(hop.pid) : 0;
      const reply = await peers.ask({ cmd: phase, port: hop.port, sizes });
      if ('error' in reply) throw new Error(`${mode} ${phase}: ${reply.error}`);
      if (!('result' in reply)) throw new Error(`${mode} ${phase}: unexpected reply`);
      Object.assign(result, reply.result);
      if (mode === 'json' || mode === 'floor' || mode === 'basejson') await settled(hop);
      if (hop.pid) result.cpu += cpuSeconds(hop.pid) - cpu0;
      if (mode === 'relay') ctx.relayBytes[phase] = await hop.relayed!();
      if (mode === 'json') result.outPerByte![phase] = (hop.out - out0) / (ctx.relayBytes[phase] || 1);
      if (process.env.BENCH_DEBUG) process.stderr.write(`${mode} ${phase} out ${hop.out - out0} relayed ${ctx.relayBytes[phase]} cpu ${result.cpu} ${JSON.stringify(reply.result)}\n`);
    }
    if (hop.pid) result.peakMb = memoryMb(hop.pid, 'VmHWM');
  } finally {
    await hop.close();
  }
  return result;
}

/** The side-by-side loads; prints the table and the ratios. */
export async function sideBySide(quick: boolean): Promise<void> {
  const sizes = quick ? QUICK : FULL;
  const reps = Number(process.env.BENCH_REPS) || (quick ? 1 : 5);
  // BENCH_MODES=relay,json runs some modes only (the floor needs json before it).
  const modes = (process.env.BENCH_MODES?.split(',') ?? ['direct', 'relay', 'json', 'floor', 'tui', ...(BASE ? ['basejson', 'basetui'] : [])]) as Mode[];
  const peers = await startPeers();
  const runs: Record<Mode, ModeResult>[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      const ctx: { relayBytes: Partial<Record<Phase, number>>; json?: ModeResult } = { relayBytes: {} };
      const run = {} as Record<Mode, ModeResult>;
      for (const mode of modes) {
        run[mode] = await runMode(peers, mode, sizes, ctx);
        if (mode === 'json') ctx.json = run[mode];
      }
      runs.push(run);
      process.stderr.write(`  repetition ${rep + 1} of ${reps} done (load average ${os.loadavg()[0].toFixed(2)})\n`);
    }
  } finally {
    await peers.close();
  }

  const load = (s: Sizes) =>
    `${s.latencyRounds} round trips of 32 B; ${s.bigCount} × 64 KiB; ${s.smallCount} × 16 B; fan-in ${s.faninConns} connections × ${s.faninTrips} round trips (bulk loads and fan-in after an untimed warm-up of a quarter of each)`;
  console.log(`proxy: ws client -> [mode] -> ws server on loopback, each a process; ${load(sizes)}; ${reps} interleaved repetition${reps > 1 ? 's' : ''} (medians)`);
  console.log('mode      p50 µs  p99 µs   MiB/s  16B msg/s  fan-in ms  CPU s  peak RSS MB');
  const m = (mode: Mode, key: keyof ModeResult) => median(runs.map((r) => r[mode][key] as number));
  for (const mode of modes) {
    console.log(
      `${mode.padEnd(8)} ${fmt(m(mode, 'p50')).padStart(7)} ${fmt(m(mode, 'p99')).padStart(7)} ${fmt(m(mode, 'mbps'), 1).padStart(7)} ${fmt(m(mode, 'rate')).padStart(10)} ${fmt(m(mode, 'ms')).padStart(10)} ${mode === 'direct' ? '    -' : fmt(m(mode, 'cpu'), 2).padStart(6)} ${fmt(m(mode, 'peakMb')).padStart(12)}`,
    );
  }
  const perByte = (p: Phase) => median(runs.map((r) => r.json?.outPerByte?.[p] ?? NaN));
  console.log(`json NDJSON bytes per relayed byte: ${PHASES.map((p) => `${p} ${fmt(perByte(p), 1)}`).join(', ')} (the floor writes as much)`);

  // Ratios within each repetition, then the median (and the range) over repetitions.
  const ratio = (a: Mode, b: Mode, key: keyof PhaseResult | 'cpu', invert = false) => {
    const xs = runs.map((r) => {
      const x = r[a][key] as number;
      const y = r[b][key] as number;
      return invert ? y / x : x / y;
    });
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return { med: median(xs), range: xs.length > 1 ? `${lo.toFixed(2)}-${hi.toFixed(2)}` : '' };
  };
  const cell = (r: { med: number; range: string }, ok: (x: number) => boolean) =>
    `${fmt(r.med, 2)}${ok(r.med) ? '' : '!'}${r.range ? ` (${r.range})` : ''}`.padEnd(20);
  console.log('ratios (median of per-repetition ratios, range in brackets; ! = target missed):');
  console.log('           p50 RTT (lower)     throughput          16B rate            fan-in time (lower) CPU s             peak RSS MB');
  const rows: [string, Mode, Mode, { p50: number; thr: number; rate: number; fan: number }][] = [
    ['tui/relay', 'tui', 'relay', { p50: 1.1, thr: 0.9, rate: 0.9, fan: 1.15 }],
    ['json/relay', 'json', 'relay', { p50: 1.1, thr: 0.8, rate: 0.9, fan: 1.15 }],
    ['json/floor', 'json', 'floor', { p50: 1.1, thr: 0.9, rate: 0.9, fan: 1.1 }],
    ['floor/relay', 'floor', 'relay', { p50: Infinity, thr: 0, rate: 0, fan: Infinity }],
    // This checkout against BENCH_BASE's (1.00: as fast as before).
    ['json/base', 'json', 'basejson', { p50: Infinity, thr: 0, rate: 0, fan: Infinity }],
    ['tui/base', 'tui', 'basetui', { p50: Infinity, thr: 0, rate: 0, fan: Infinity }],
  ];
  for (const [label, a, b, t] of rows) {
    if (!modes.includes(a) || !modes.includes(b)) continue;
    console.log(
      `${label.padEnd(11)}${cell(ratio(a, b, 'p50'), (x) => x <= t.p50)}${cell(ratio(a, b, 'mbps'), (x) => x >= t.thr)}${cell(ratio(a, b, 'rate'), (x) => x >= t.rate)}${cell(ratio(a, b, 'ms'), (x) => x <= t.fan)}${cell(ratio(a, b, 'cpu'), () => true)}${fmt(m(a, 'peakMb'))} / ${fmt(m(b, 'peakMb'))}`,
    );
  }
  console.log('targets: tui p50 <= 1.10, throughput >= 0.90, rate >= 0.90, fan-in <= 1.15, peak RSS <= 200 MB;');
  console.log('         json the same p50, rate and fan-in, throughput >= 0.80, and within 10% of its floor');
  if (BASE) console.log(`base: ${BASE} (json/base, tui/base: this checkout against it, same loads, same repetitions)`);
}

// ---------------------------------------------------------------------------------------
// Scale

/** Raises this process's soft open-files limit to the hard one (children inherit it). */
export function raiseOpenFiles(): string {
  try {
    const hard = fs.readFileSync(`/proc/${process.pid}/limits`, 'utf8').match(/Max open files\s+(\d+)\s+(\d+)/);
    if (!hard) return 'unknown';
    spawnSyncChecked('prlimit', ['--pid', String(process.pid), `--nofile=${hard[2]}:${hard[2]}`]);
    return hard[2];
  } catch (err) {
    return `not raised (${(err as Error).message})`;
  }
}

function spawnSyncChecked(cmd: string, args: string[]): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const r = require('child_process').spawnSync(cmd, args, { stdio: 'pipe' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd}: ${String(r.stderr).trim()}`);
}

interface ScaleRow extends ScaleResult {
  mode: Mode;
  /** RSS growth per connection, kB. */
  kbPerConn: number;
  /** CPU µs per message (a round trip through the intermediary) during the run. */
  cpuPerMsg: number;
  rssMb: number;
}

export async function scale(quick: boolean): Promise<void> {
  const limit = raiseOpenFiles();
  const sizes = quick ? [100, 1000] : [100, 1000, 9000];
  const seconds = (n: number) => (quick ? 8 : n >= 9000 ? 60 : 20);
  const interval = 3000;
  const peers = await startPeers();
  const rows: ScaleRow[] = [];
  try {
    for (const conns of sizes) {
      for (const mode of ['relay', 'json'] as const) {
        const hop = await startHop(mode, peers.serverPort);
        try {
          // Warmed up first (code loaded and compiled, the output worker running), so that
          // the growth measured is the connections'.
          await peers.ask({ cmd: 'latency', port: hop.port, sizes: QUICK });
          const rss0 = memoryMb(hop.pid!, 'VmRSS');
          const opened = await peers.ask({ cmd: 'scale-open', port: hop.port, conns });
          if ('error' in opened) throw new Error(`scale ${mode} ${conns}: ${opened.error}`);
          const cpu0 = cpuSeconds(hop.pid!);
          const reply = await peers.ask({ cmd: 'scale-run', seconds: seconds(conns), interval });
          const cpu = cpuSeconds(hop.pid!) - cpu0;
          const rss = memoryMb(hop.pid!, 'VmRSS');
          if ('error' in reply) throw new Error(`scale ${mode} ${conns}: ${reply.error}`);
          if (!('scale' in reply)) throw new Error('scale: unexpected reply');
          const r = reply.scale;
          r.openMs = 'ms' in opened ? opened.ms : NaN;
          rows.push({ ...r, mode, kbPerConn: ((rss - rss0) * 1024) / conns, cpuPerMsg: (cpu * 1e6) / Math.max(1, r.sent), rssMb: rss });
          await peers.ask({ cmd: 'scale-close' });
        } finally {
          await hop.close();
        }
      }
    }
  } finally {
    await peers.close();
  }
  console.log(`scale: N connections through the proxy, each a 32-byte round trip every ${interval / 1000} s (${sizes.map((n) => `${n}: ${seconds(n)} s`).join(', ')}); open-files soft limit ${limit}`);
  console.log('conns  mode   sent     lost  p50 ms  p99 ms  max ms  >100ms  open s  RSS MB  kB/conn  CPU µs/msg');
  for (const r of rows) {
    console.log(
      `${String(r.conns).padStart(5)}  ${r.mode.padEnd(5)} ${String(r.sent).padStart(6)} ${String(r.sent - r.received).padStart(6)} ${fmt(r.p50, 2).padStart(7)} ${fmt(r.p99, 2).padStart(7)} ${fmt(r.max, 1).padStart(7)} ${String(r.stalled).padStart(7)} ${fmt(r.openMs / 1000, 1).padStart(7)} ${fmt(r.rssMb).padStart(7)} ${fmt(r.kbPerConn, 1).padStart(8)} ${fmt(r.cpuPerMsg, 0).padStart(11)}`,
    );
  }
  for (const conns of sizes) {
    const rl = rows.find((r) => r.conns === conns && r.mode === 'relay');
    const js = rows.find((r) => r.conns === conns && r.mode === 'json');
    if (!rl || !js) continue;
    console.log(
      `  ${conns} connections: json/relay RSS per connection ${fmt(js.kbPerConn / rl.kbPerConn, 2)} (target <= 1.5), CPU per message ${fmt(js.cpuPerMsg / rl.cpuPerMsg, 2)}, lost ${js.sent - js.received}, round trips over 100 ms ${js.stalled} (relay ${rl.stalled})`,
    );
  }
}

export async function main(quick = false): Promise<void> {
  if (process.env.BENCH_SIDE !== '0') {
    await sideBySide(quick);
    console.log('');
  }
  if (process.env.BENCH_SCALE !== '0') await scale(quick);
}

if (require.main === module) {
  main(process.argv.includes('--quick') || process.env.BENCH_QUICK === '1').catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
