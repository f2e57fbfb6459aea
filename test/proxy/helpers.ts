/** Shared helpers of the proxy tests: raw TCP peers, event collection, condition waits. */
import { spawn, type ChildProcess } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { WsEvent } from '../../src/decoder/events';
import { Session } from '../../src/session';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin/wsscope.js');

/**
 * An upgrade request with RFC 6455 §1.3's example key; `extra`: more header lines, each
 * ending in CRLF, after the others.
 */
export function upgradeRequest({ path = '/', host = 'x', extra = '' }: { path?: string; host?: string; extra?: string } = {}): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** The 101 answering upgradeRequest(): the example key's accept value. */
export const UPGRADE_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

/** Polls `cond` until it holds (no fixed sleeps); fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A session that records every event and every raw chunk. */
export function recordingSession(): {
  session: Session;
  events: WsEvent[];
  data: { conn: number; dir: 'client' | 'server'; ts: number; chunk: Buffer }[];
  of: <K extends WsEvent['event']>(kind: K, conn?: number) => Extract<WsEvent, { event: K }>[];
} {
  const session = new Session();
  const events: WsEvent[] = [];
  const data: { conn: number; dir: 'client' | 'server'; ts: number; chunk: Buffer }[] = [];
  session.onEvent((e) => events.push(e));
  session.onData((conn, dir, ts, chunk) => data.push({ conn, dir, ts, chunk: Buffer.from(chunk) }));
  const of = <K extends WsEvent['event']>(kind: K, conn?: number) =>
    events.filter((e) => e.event === kind && (conn === undefined || (e as { conn?: number }).conn === conn)) as Extract<WsEvent, { event: K }>[];
  return { session, events, data, of };
}

export interface RawPeer {
  socket: net.Socket;
  received: Buffer[];
  closed: boolean;
  error: Error | null;
  bytes(): Buffer;
}

function track(socket: net.Socket): RawPeer {
  const peer: RawPeer = {
    socket,
    received: [],
    closed: false,
    error: null,
    bytes: () => Buffer.concat(peer.received),
  };
  socket.on('data', (c) => peer.received.push(c));
  socket.on('error', (e) => (peer.error = e));
  socket.on('close', () => (peer.closed = true));
  return peer;
}

/** A raw TCP server of the test's own; `peers` lists accepted sockets. */
export async function rawServer(onPeer: (peer: RawPeer) => void = () => undefined, options: { allowHalfOpen?: boolean } = {}): Promise<{
  port: number;
  peers: RawPeer[];
  close(): Promise<void>;
}> {
  const peers: RawPeer[] = [];
  const server = net.createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
    const peer = track(socket);
    peers.push(peer);
    onPeer(peer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    peers,
    close: () =>
      new Promise<void>((r) => {
        for (const p of peers) p.socket.destroy();
        server.close(() => r());
      }),
  };
}

export async function rawClient(port: number): Promise<RawPeer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const peer = track(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return peer;
}

/** A port nothing listens on (listened on, then closed). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Resolves once `buf()` contains `needle`. */
export function until(buf: () => Buffer, needle: string | Buffer, what: string): Promise<void> {
  return waitFor(() => buf().includes(needle), what);
}

/** Writes `data` in random-sized pieces, yielding to the event loop between pieces. */
export async function writeChunked(socket: net.Socket, data: Buffer, rand: () => number, maxPiece = 300): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const n = 1 + Math.floor(rand() * maxPiece);
    socket.write(data.subarray(at, at + n));
    at += n;
    if (rand() < 0.3) await new Promise((r) => setImmediate(r));
  }
}

/** The decoder tests' seeded PRNG (mulberry32), so failures reproduce. */
export { prng } from '../decoder/helpers';

// ---------------------------------------------------------------------------------------
// The CLI, spawned as users run it (dist/ must be built: `npm test` builds first).

export function requireBuilt(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
}

export interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  code: number | null | undefined;
}

export function spawnCli(args: string[], options: { cwd?: string } = {}): Cli {
  // env: the test's (jest gives each file its own process.env; spawn's default is the real one),
  // so the child gets test/setup-home.ts's temporary WSSCOPE_HOME.
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const cli: Cli = {
    child,
    stdout: () => out,
    stderr: () => err,
    code: undefined,
    exited: new Promise((resolve) => child.on('close', (code) => resolve((cli.code = code)))),
  };
  return cli;
}

/** Runs the CLI to completion. */
export async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
