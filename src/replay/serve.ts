/**
 * `wsscope serve FILE` and `serveCapture()`: a mock WebSocket server made from a capture.
 * Each client that connects is given one recorded connection (the next one recorded for
 * its request path, in turn; any, in turn, when none was recorded for the path) and
 * gets that connection's server side: the recorded frames, each sent once the client's
 * messages and control frames recorded before it have arrived (matched in order: the
 * next recorded one of the same opcode; with `match: 'content'` only when also equal to
 * it, src/replay/compare.ts). What
 * the client sends beyond or besides the recording is reported; an unrecorded ping still
 * gets its pong and an unrecorded close its close (RFC 6455 §5.5.2, §5.5.1). Clients may
 * come one after another or at once: each has its own script.
 *
 * The 101 answer carries the recorded response's headers, with Sec-WebSocket-Accept
 * computed for this client's key (§4.2.2) and Sec-WebSocket-Protocol only when the client
 * offered the recorded protocol. permessage-deflate is never accepted: recorded
 * compressed messages go out uncompressed, one frame each (RFC 7692 §6 allows any message
 * to be uncompressed), so that any client can take them.
 */
import * as net from 'net';
import { formatAddress } from '../address';
import { parseHostPort } from '../cli/errors';
import { ConnectionDecoder } from '../decoder';
import { buildFrame } from '../decoder/build';
import type { HttpRequestHead, WsEvent } from '../decoder/events';
import { computeAccept, headerTokens, headerValue, isUpgradeRequest, parseRequestHead } from '../decoder/handshake';
import { compareMessages, parseJsonPath, preview, type PathSegment } from './compare';
import { arrivalsBefore, framesToSend, isArrival, messageBytes, readScripts, REPLAY_MAX_PAYLOAD, type ConnectionScript, type ScriptMessage, type Step } from './script';

export interface ServeOptions {
  /** "HOST:PORT" (default "127.0.0.1:0": a free port). */
  listen?: string;
  /** 'order' (default): the client's messages count in order; 'content': only when equal to the recorded one. */
  match?: 'order' | 'content';
  /** With match 'content': JSON paths left out of the comparison. */
  ignore?: string[];
  /** Milliseconds to wait for a client's recorded close after the script ends (default 5000). */
  closeTimeoutMs?: number;
  /** Receives one line per thing worth saying (a client came, a message was not recorded, ...). */
  onReport?: (line: string) => void;
}

export interface MockServer {
  address: string;
  port: number;
  /** ws://HOST:PORT/ plus the first recorded path. */
  url: string;
  /** Every report line so far. */
  reports: string[];
  /** Resolves when `count` clients have finished (their connection closed). */
  clientsDone(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const MAX_HEAD = 64 * 1024;

/** The recorded request path (path and query) of a script, for choosing one per client. */
function pathOf(request: HttpRequestHead): string {
  try {
    const u = new URL(request.target, 'ws://recorded');
    return u.pathname + u.search;
  } catch {
    return request.target;
  }
}

/** The 101 response: the recorded headers, the accept for this key, the protocol if offered. */
function switchingProtocols(script: ConnectionScript, request: HttpRequestHead): string {
  const key = headerValue(request.headers, 'sec-websocket-key') ?? '';
  const offered = headerTokens(request.headers, 'sec-websocket-protocol');
  const lines: string[] = [];
  let hasAccept = false;
  for (const [name, value] of script.response.headers) {
    const lower = name.toLowerCase();
    if (lower === 'sec-websocket-extensions' || lower === 'content-length') continue;
    if (lower === 'sec-websocket-protocol' && !offered.includes(value.trim())) continue;
    if (lower === 'sec-websocket-accept') {
      hasAccept = true;
      lines.push(`${name}: ${computeAccept(key)}`);
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  if (!hasAccept) lines.push(`Sec-WebSocket-Accept: ${computeAccept(key)}`);
  return `HTTP/1.1 101 Switching Protocols\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A step's message (the client's), as the comparison takes it. */
function expectedArrival(step: Step): ScriptMessage {
  return step.kind === 'message' ? step.message : { opcode: step.frame.opcode, bytes: step.frame.payload };
}

/** Plays one recorded connection's server side to one client. */
class MockConnection {
  private readonly decoder: ConnectionDecoder;
  private readonly sends: ReturnType<typeof framesToSend>;
  private readonly need: number[];
  /** The client's recorded arrivals, in order, and how many have been matched. */
  private readonly expected: Step[];
  private matched = 0;
  private nextSend = 0;
  private unrecorded = 0;
  private closeSent = false;

  constructor(
    private readonly id: number,
    private readonly socket: net.Socket,
    private readonly script: ConnectionScript,
    private readonly options: ServeOptions,
    private readonly ignore: PathSegment[][],
    private readonly report: (line: string) => void,
    request: Buffer,
    response: string,
  ) {
    this.sends = framesToSend(script, 'server', script.deflate !== null);
    this.need = arrivalsBefore(script, 'server');
    this.expected = script.steps.filter((s) => s.dir === 'client' && isArrival(s));
    this.decoder = new ConnectionDecoder({ conn: id, maxPayload: REPLAY_MAX_PAYLOAD, onEvent: (e) => this.onEvent(e) });
    // The decoder follows the handshake too, so that it knows no extension was agreed.
    this.decoder.push('client', request, Date.now());
    this.decoder.push('server', Buffer.from(response, 'latin1'), Date.now());
    socket.write(response);
    this.pump();
  }

  receive(chunk: Buffer): void {
    this.decoder.push('client', chunk, Date.now());
  }

  private onEvent(event: WsEvent): void {
    if (event.event === 'error') this.report(`client ${this.id}: ${event.message}`);
    if (event.event !== 'message' && !(event.event === 'frame' && event.opcode >= 8)) return;
    if (event.dir !== 'client') return;
    const arrived: ScriptMessage = event.event === 'message' ? { opcode: event.opcode, bytes: messageBytes(event) } : { opcode: event.opcode, bytes: Buffer.from(event.payload, 'hex') };
    const next = this.expected[this.matched];
    // In order: the next recorded arrival of the same kind (text, binary, ping, close...);
    // by content: also equal to it.
    const expected = next === undefined ? undefined : expectedArrival(next);
    const counts = expected !== undefined && expected.opcode === arrived.opcode && (this.options.match !== 'content' || compareMessages(expected, arrived, this.ignore).length === 0);
    if (counts) {
      this.matched++;
      this.pump();
      return;
    }
    this.unrecorded++;
    const what = arrived.opcode === 1 ? `text ${preview(arrived.bytes.toString('utf8'))}` : arrived.opcode === 2 ? `binary, ${arrived.bytes.length} bytes` : event.event === 'frame' ? `${event.opcodeName} frame` : `opcode ${arrived.opcode}`;
    this.report(`client ${this.id}: not in the recording: ${what}${next === undefined ? ' (after all recorded messages)' : ''}`);
    // Control frames still get what RFC 6455 requires (§5.5.2 pong, §5.5.1 close).
    if (arrived.opcode === 9) this.write(buildFrame({ opcode: 10, payload: arrived.bytes }));
    if (arrived.opcode === 8 && !this.closeSent) {
      this.closeSent = true;
      this.write(buildFrame({ opcode: 8, payload: arrived.bytes.subarray(0, 2) }));
      this.socket.end();
    }
  }

  private write(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Sends every recorded frame whose recorded predecessors from the client have arrived. */
  private pump(): void {
    while (this.nextSend < this.sends.length && this.matched >= this.need[this.sends[this.nextSend].index]) {
      const { frame } = this.sends[this.nextSend++];
      if (this.closeSent) return;
      this.write(buildFrame({ ...frame, mask: false }));
      if (frame.opcode === 8) {
        this.closeSent = true;
        // §7.1.1: the server closes the TCP connection first, after the close handshake;
        // a client that never answers is not waited for.
        const timer = setTimeout(() => this.socket.destroy(), this.options.closeTimeoutMs ?? 5000);
        timer.unref();
      }
    }
    if (this.nextSend === this.sends.length && this.closeSent && this.matched >= this.expected.length) this.socket.end();
  }

  finish(): string {
    this.decoder.finish(Date.now());
    const sent = this.nextSend;
    return `client ${this.id}: done: ${sent} of ${this.sends.length} recorded frames sent, ${this.matched} of ${this.expected.length} recorded client messages matched, ${this.unrecorded} not in the recording`;
  }
}

/** Starts a mock server playing the capture's recorded server side (see the top of this file). */
export async function serveCapture(file: string, options: ServeOptions = {}): Promise<MockServer> {
  const { host, port } = parseHostPort(options.listen ?? '127.0.0.1:0');
  const ignore = (options.ignore ?? []).map(parseJsonPath);
  const scripts = await readScripts(file);
  if (scripts.length === 0) throw new Error(`no WebSocket connection in ${file}: nothing to serve`);
  const reports: string[] = [];
  const report = (line: string) => {
    reports.push(line);
    options.onReport?.(line);
  };
  const turns = new Map<string, number>();
  /** The next recorded connection for a path: those recorded for it in turn, else any in turn. */
  const choose = (path: string): ConnectionScript => {
    const candidates = scripts.filter((s) => pathOf(s.request) === path);
    const pool = candidates.length ? candidates : scripts;
    const key = candidates.length ? path : '';
    const turn = turns.get(key) ?? 0;
    turns.set(key, turn + 1);
    return pool[turn % pool.length];
  };
  let nextId = 1;
  let finished = 0;
  const finishWaiters = new Set<() => void>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    const id = nextId++;
    sockets.add(socket);
    let head = Buffer.alloc(0);
    let connection: MockConnection | null = null;
    const refuse = (status: string, why: string) => {
      report(`client ${id}: ${status}: ${why}`);
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${why}\n`);
    };
    socket.on('data', (chunk: Buffer) => {
      if (connection) return connection.receive(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) refuse('431 Request Header Fields Too Large', `no end of the request head in ${MAX_HEAD} bytes`);
        return;
      }
      const parsed = parseRequestHead(head.subarray(0, end).toString('latin1'));
      if (!parsed || !isUpgradeRequest(parsed.head) || !headerValue(parsed.head.headers, 'sec-websocket-key')) {
        return refuse('400 Bad Request', 'this is a mock WebSocket server (wsscope serve): only WebSocket upgrades are answered');
      }
      const script = choose(pathOf(parsed.head));
      report(`client ${id} (${formatAddress(socket.remoteAddress, socket.remotePort)}) ${parsed.head.method} ${parsed.head.target}: plays recorded connection ${script.conn}`);
      const response = switchingProtocols(script, parsed.head);
      connection = new MockConnection(id, socket, script, options, ignore, report, head.subarray(0, end + 4), response);
      const rest = head.subarray(end + 4);
      if (rest.length) connection.receive(rest);
    });
    socket.on('error', () => undefined); // a reset client is reported by 'close' below
    socket.on('close', () => {
      sockets.delete(socket);
      if (connection) report(connection.finish());
      finished++;
      for (const waiter of [...finishWaiters]) waiter();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${formatAddress(host, port)}: ${err.code === 'EADDRINUSE' ? 'address already in use (EADDRINUSE)' : err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const where = formatAddress(address.address, address.port);
  let closing: Promise<void> | undefined;
  return {
    address: where,
    port: address.port,
    url: `ws://${where}${pathOf(scripts[0].request)}`,
    reports,
    clientsDone(count, timeoutMs = 10000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (finished < count) return;
          finishWaiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          finishWaiters.delete(check);
          reject(new Error(`${finished} of ${count} clients finished within ${timeoutMs} ms`));
        }, timeoutMs);
        finishWaiters.add(check);
        check();
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
