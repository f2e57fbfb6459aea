/**
 * `--har FILE` (proxy, replay --to): the session as a HAR 1.2 file (the HTTP Archive
 * format, http://www.softwareishard.com/blog/har-12-spec/) in the form Chrome DevTools
 * saves WebSocket connections: one entry per upgraded connection, with
 * `_resourceType: "websocket"` and `_webSocketMessages: [{type: "send"|"receive", time,
 * opcode, data}]` (time in seconds since the epoch; data the text, or base64 for binary),
 * so DevTools' network panel and other HAR viewers open it.
 *
 * HarBuilder is pure (events in, a HAR object out); HarWriter holds one for a session and
 * writes the file when closed (HAR is one JSON document). Messages are data messages after
 * reassembly and inflate, as DevTools shows them; control frames are not in a HAR. Memory is
 * bounded: past MAX_HAR_DATA characters of message data, messages are counted, not kept.
 */
import * as fs from 'fs';
import { CaptureReplayer } from '../capture';
import type { HandshakeEvent, HttpRequestHead, HttpResponseHead, MessageEvent, OpenEvent, WsEvent } from '../decoder/events';
import type { Session } from '../session';

/** Message data kept in a HAR (characters, text or base64): 64 Mi. */
export const MAX_HAR_DATA = 64 * 1024 * 1024;

export interface HarHeader {
  name: string;
  value: string;
}

export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  /** Seconds since the epoch, fractional (as Chrome writes it). */
  time: number;
  /** 1 text, 2 binary (RFC 6455 §5.2). */
  opcode: number;
  /** The text, or the bytes in base64 for a binary message. */
  data: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: { name: string; value: string }[];
    headers: HarHeader[];
    queryString: { name: string; value: string }[];
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: { name: string; value: string }[];
    headers: HarHeader[];
    content: { size: number; mimeType: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { blocked: number; dns: number; connect: number; ssl: number; send: number; wait: number; receive: number };
  serverIPAddress?: string;
  connection?: string;
  comment?: string;
  _resourceType: 'websocket';
  _webSocketMessages: HarWebSocketMessage[];
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    pages: never[];
    entries: HarEntry[];
  };
}

interface Pending {
  open?: OpenEvent;
  handshake?: HandshakeEvent;
  messages: HarWebSocketMessage[];
  dropped: number;
  endTs?: number;
}

/** The size of an HTTP head as sent: its first line, the header lines, the blank line. */
function headSize(firstLine: string, headers: [string, string][]): number {
  return Buffer.byteLength(firstLine + '\r\n' + headers.map(([n, v]) => `${n}: ${v}\r\n`).join('') + '\r\n', 'latin1');
}

function harHeaders(headers: [string, string][]): HarHeader[] {
  return headers.map(([name, value]) => ({ name, value }));
}

/** Cookie: a=1; b=2 → [{a, 1}, {b, 2}] (RFC 6265 §5.4). */
function requestCookies(headers: [string, string][]): { name: string; value: string }[] {
  return headers
    .filter(([n]) => n.toLowerCase() === 'cookie')
    .flatMap(([, v]) => v.split(';'))
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? { name: pair, value: '' } : { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
    });
}

/**
 * The URL the request went to: an absolute-form target as it is, else the request target
 * on the origin the connection was made to (the `upstream` the front dialled, or `target`).
 */
function requestUrl(open: OpenEvent | undefined, request: HttpRequestHead): string {
  const base = (open as (OpenEvent & { upstream?: string }) | undefined)?.upstream ?? open?.target ?? 'ws://unknown/';
  try {
    return new URL(request.target, base).href;
  } catch {
    return base;
  }
}

function addressOf(url: string): { ip?: string; port?: string } {
  try {
    const u = new URL(url);
    return { ip: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port || (u.protocol === 'wss:' ? '443' : '80') };
  } catch {
    return {};
  }
}

/** A message's data as DevTools keeps it: the text, or base64 of the bytes. */
function messageData(event: MessageEvent): string {
  if (event.text !== undefined) return event.text;
  return Buffer.from(event.data ?? '', 'hex').toString('base64');
}

/** Builds a HAR from events (any number of connections, in any interleaving). */
export class HarBuilder {
  private readonly connections = new Map<number, Pending>();
  private readonly order: number[] = [];
  private dataChars = 0;

  constructor(private readonly creator = { name: 'wsscope', version: '0' }) {}

  private pending(conn: number): Pending {
    let p = this.connections.get(conn);
    if (!p) {
      p = { messages: [], dropped: 0 };
      this.connections.set(conn, p);
      this.order.push(conn);
    }
    return p;
  }

  add(event: WsEvent): void {
    switch (event.event) {
      case 'open':
        this.pending(event.conn).open = event;
        return;
      case 'handshake':
        this.pending(event.conn).handshake = event;
        return;
      case 'message': {
        const p = this.pending(event.conn);
        const data = messageData(event);
        if (this.dataChars + data.length > MAX_HAR_DATA) {
          p.dropped++;
          return;
        }
        this.dataChars += data.length;
        p.messages.push({ type: event.dir === 'client' ? 'send' : 'receive', time: event.ts / 1000, opcode: event.opcode, data });
        return;
      }
      case 'end':
        this.pending(event.conn).endTs = event.ts;
        return;
      default:
        return;
    }
  }

  /** The HAR of every upgraded connection so far (connections without a 101 are left out). */
  har(): Har {
    const entries: HarEntry[] = [];
    for (const conn of this.order) {
      const p = this.connections.get(conn)!;
      const hs = p.handshake;
      if (!hs || hs.response.status !== 101) continue;
      const startTs = p.open?.ts ?? hs.ts;
      const lastMessage = p.messages.at(-1);
      const endTs = p.endTs ?? (lastMessage ? lastMessage.time * 1000 : startTs);
      const url = requestUrl(p.open, hs.request);
      const query = (() => {
        try {
          return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
        } catch {
          return [];
        }
      })();
      const { ip, port } = addressOf(url);
      const response: HttpResponseHead = hs.response;
      entries.push({
        startedDateTime: new Date(startTs).toISOString(),
        time: Math.max(0, endTs - startTs),
        request: {
          method: hs.request.method,
          url,
          httpVersion: hs.request.version,
          cookies: requestCookies(hs.request.headers),
          headers: harHeaders(hs.request.headers),
          queryString: query,
          headersSize: headSize(`${hs.request.method} ${hs.request.target} ${hs.request.version}`, hs.request.headers),
          bodySize: 0,
        },
        response: {
          status: response.status,
          statusText: response.reason,
          httpVersion: response.version ?? 'HTTP/1.1',
          cookies: [],
          headers: harHeaders(response.headers),
          content: { size: 0, mimeType: 'x-unknown' },
          redirectURL: '',
          headersSize: headSize(`${response.version ?? 'HTTP/1.1'} ${response.status} ${response.reason}`, response.headers),
          bodySize: 0,
        },
        cache: {},
        // HAR 1.2: -1 for what does not apply; the wait is until the 101 arrived.
        timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: Math.max(0, hs.ts - startTs), receive: 0 },
        ...(ip ? { serverIPAddress: ip } : {}),
        ...(port ? { connection: port } : {}),
        ...(p.dropped ? { comment: `${p.dropped} messages not recorded: a HAR from wsscope holds at most ${MAX_HAR_DATA} characters of message data` } : {}),
        _resourceType: 'websocket',
        _webSocketMessages: p.messages,
      });
    }
    return { log: { version: '1.2', creator: this.creator, pages: [], entries } };
  }
}

function packageVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return '0';
  }
}

/**
 * Writes a session's HAR to `path` when closed. The file is opened at once, so that an
 * unwritable path fails before the session starts (the caller makes it one line).
 */
export class HarWriter {
  private readonly builder = new HarBuilder({ name: 'wsscope', version: packageVersion() });
  private readonly fd: number;
  private detach: (() => void)[] = [];
  private closed = false;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'w');
  }

  /** Adds one event (for sources other than a Session, e.g. replay --to). */
  add(event: WsEvent): void {
    this.builder.add(event);
  }

  /**
   * Subscribes to a session. `decoded`: the session publishes the decoder's events (the
   * proxy with decode on, the TUI); otherwise (decoding happens in an output worker) the
   * writer decodes the raw chunks itself.
   */
  attach(session: Session, decoded = true): this {
    if (decoded) {
      this.detach.push(session.onEvent((event) => this.builder.add(event)));
      return this;
    }
    const replayer = new CaptureReplayer((event) => this.builder.add(event));
    this.detach.push(
      session.onEvent((event) => {
        if (event.event === 'open') replayer.feed({ kind: 'open', line: 0, event });
        if (event.event === 'end') replayer.feed({ kind: 'end', line: 0, event });
      }),
      session.onData((conn, dir, ts, bytes) => replayer.feed({ kind: 'data', line: 0, conn, dir, ts, bytes })),
    );
    return this;
  }

  har(): Har {
    return this.builder.har();
  }

  /** Unsubscribes and writes the file. */
  async close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    if (this.closed) return;
    this.closed = true;
    const text = JSON.stringify(this.builder.har(), null, 2) + '\n';
    await new Promise<void>((resolve, reject) => {
      fs.writeFile(this.fd, text, (err) => {
        fs.close(this.fd, () => (err ? reject(err) : resolve()));
      });
    });
  }
}
