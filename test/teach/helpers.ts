/**
 * Helpers for the teach tests: run the built CLI (dist/ via bin/wsscope.js, so run
 * `npm run build` first), and tiny raw TCP servers that misbehave on purpose.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as net from 'net';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin/wsscope.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs `wsscope ARGS` to completion (killed after `timeoutMs`, which fails the test). */
export function runCli(args: string[], options: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], options);
}

export function runCommand(
  file: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; cwd?: string; shell?: boolean } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'], shell: options.shell });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${options.timeoutMs ?? 60000} ms; stdout so far:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 60000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Kills whatever runCli started and is still running (for afterAll). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** A TCP server on 127.0.0.1:0 whose connection handler is `onConnection`; tracks sockets to close them. */
export async function rawServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (the proxy tests' helper). */
export { deadPort as closedPort } from '../proxy/helpers';

/** Reads an HTTP request head from the socket, then calls back with its headers. */
export function onRequestHead(socket: net.Socket, handle: (head: string, socket: net.Socket) => void): void {
  let data = '';
  const onData = (chunk: Buffer) => {
    data += chunk.toString('latin1');
    const end = data.indexOf('\r\n\r\n');
    if (end >= 0) {
      socket.off('data', onData);
      handle(data.slice(0, end), socket);
    }
  };
  socket.on('data', onData);
}

/** The 101 answer a correct server gives to `head`. */
export function switchingProtocols(head: string): string {
  const key = /^Sec-WebSocket-Key:\s*(.*)$/im.exec(head)?.[1].trim() ?? '';
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}
