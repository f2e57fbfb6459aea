/**
 * The man-in-the-middle proxy: an I/O shell around the sans-IO decoder.
 *
 * Per TCP connection: read the first request head (at most 64 KiB), rewrite it (see
 * head.ts), connect to the target (TCP, or TLS with SNI for wss://), forward the head, then
 * relay raw bytes both ways, unchanged, as they arrive. Each chunk is written to the other
 * side first and then teed into the session (raw data for capture/pcap writers) and into the
 * connection's decoder, so forwarding never waits for decoding; a decoder or view that
 * throws is reported once and switched off for that connection, never breaking the relay.
 *
 * Backpressure: a reader is paused while the other side's write buffer is full (as
 * stream.pipe does), and while an output (OutputGate) is behind. So a connection holds at
 * most about one socket buffer per direction, whatever the frame sizes.
 */
import * as net from 'net';
import * as tls from 'tls';
import { ConnectionDecoder } from '../decoder';
import type { Direction, WsEvent } from '../decoder/events';
import type { Session } from '../session';
import type { Gate } from '../views/gate';
import { MAX_HEAD_BYTES, parseHead, parseTarget, rewriteHead, scanHead } from './head';
import { formatAddress, type WsUrl } from '../address';

export { parseTarget } from './head';

const CRLFCRLF = Buffer.from('\r\n\r\n');

export interface ProxyOptions {
  listen: { host: string; port: number };
  /** ws://host:port[/path] or wss://... */
  target: string;
  session: Session;
  /** Payload preview cap for frame/message events (default 65536). */
  maxPayload?: number;
  /** Accept an upstream certificate that does not verify (self-signed). */
  insecure?: boolean;
  /** Milliseconds to wait for the upstream to connect and start answering (default 10000): then 502. */
  upstreamTimeout?: number;
  /** Milliseconds to wait for a complete request head (default 30000): then 408. */
  headTimeout?: number;
  /** Pauses the relay while an output is behind. */
  gate?: Gate;
  /**
   * Decode in this thread (default true). False when the raw data goes elsewhere to be
   * decoded (e.g. an output worker fed by session.onData): then only open, end, error and
   * listening events are published here.
   */
  decode?: boolean;
  /** Extra CA certificates to trust upstream (tests). */
  ca?: string | Buffer;
}

export interface ProxyHandle {
  address: string;
  port: number;
  /** Stops listening, ends every connection (each gets its `end` event), resolves when done. */
  close(): Promise<void>;
}

/** Milliseconds since the epoch, fractional (DESIGN.md: `ts`). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Starts the proxy; rejects with a one-line Error when the target is bad or the port is taken. */
export async function startProxy(options: ProxyOptions): Promise<ProxyHandle> {
  const target = parseTarget(options.target);
  const connections = new Set<ProxyConnection>();
  let nextConn = 1;
  let allDone: (() => void) | null = null;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const connection = new ProxyConnection(nextConn++, socket, target, options, () => {
      connections.delete(connection);
      if (connections.size === 0) allDone?.();
    });
    connections.add(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = formatAddress(options.listen.host, options.listen.port);
      reject(new Error(`cannot listen on ${where}: ${describeError(err)}`));
    });
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  server.on('error', (err) => options.session.publish({ event: 'error', ts: now(), message: `listener: ${describeError(err)}` }));
  const address = server.address() as net.AddressInfo;
  const proxy = formatAddress(address.address, address.port);
  options.session.info.proxy = proxy;
  options.session.info.target = target.href;
  options.session.publish({
    event: 'listening',
    ts: now(),
    proxy,
    ...(options.session.info.backend ? { backend: options.session.info.backend } : {}),
    target: target.href,
  });
  let closing: Promise<void> | undefined;
  return {
    address: address.address,
    port: address.port,
    close() {
      // Resolves once the listener is closed and every connection has published its end.
      closing ??= Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => {
          allDone = resolve;
          if (connections.size === 0) resolve();
          for (const c of [...connections]) c.shutdown('proxy shut down');
        }),
      ]).then(() => undefined);
      return closing;
    },
  };
}

/** One line naming an error's cause, e.g. "connection refused (ECONNREFUSED)". */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'timed out',
    EADDRINUSE: 'address already in use',
    EADDRNOTAVAIL: 'address not available',
    EACCES: 'permission denied',
    EPIPE: 'broken pipe',
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  // OpenSSL's message is a dump ("80...:error:0A00010B:SSL routines:...:ssl3_record.c:350:");
  // its reason is the readable part, e.g. "wrong version number" (a plain server, not TLS).
  if (typeof e?.reason === 'string' && e.reason && code?.startsWith('ERR_SSL')) return `${e.reason} (${code})`;
  const text = (e?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Names a TLS failure (certificate errors carry an OpenSSL code). */
function describeTlsError(err: unknown, insecureHint: boolean): string {
  const e = err as NodeJS.ErrnoException;
  const cert = typeof e?.code === 'string' && /CERT|SELF_SIGNED|ALTNAME|VERIFY|ISSUER/.test(e.code);
  const hint = cert && insecureHint ? '; --insecure accepts it' : '';
  return `TLS ${cert ? 'certificate' : 'handshake'} error: ${describeError(err)}${hint}`;
}

type Phase = 'head' | 'connecting' | 'waiting' | 'relay' | 'done';

class ProxyConnection {
  private phase: Phase = 'head';
  /** The request head so far, in the chunks it came in (joined only to be scanned). */
  private headChunks: Buffer[] = [];
  private headLength = 0;
  /** headLength at the last full scan (scanHead). */
  private headScanned = 0;
  /** The request-line was complete and valid at the last full scan. */
  private requestLineOk = false;
  /** The last 3 bytes received, to find a CRLFCRLF split across chunks. */
  private headTail: Buffer = Buffer.alloc(0);
  private upstream: net.Socket | tls.TLSSocket | null = null;
  private decoder: ConnectionDecoder | null;
  private readonly session: Session;
  private readonly bytes = { client: 0, server: 0 };
  private reason: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private clientClosed = false;
  private upstreamClosed = true; // until there is an upstream
  private tlsConnected = false;
  /** The client's FIN arrived while connecting to the upstream. */
  private clientEndedEarly = false;
  /** The upstream sent its first byte. */
  private answered = false;
  /** The request head while connecting; recorded with the 502 if it never goes out. */
  private unsent: Buffer | null = null;

  constructor(
    readonly conn: number,
    private readonly client: net.Socket,
    private readonly target: WsUrl,
    private readonly options: ProxyOptions,
    private readonly onDone: () => void,
  ) {
    this.session = options.session;
    this.decoder = options.decode === false ? null : new ConnectionDecoder({ conn, maxPayload: options.maxPayload, onEvent: (e) => this.publish(e) });
    this.publish({
      event: 'open',
      ts: now(),
      conn,
      client: formatAddress(client.remoteAddress, client.remotePort),
      target: target.href,
    });
    client.on('data', this.onHeadData);
    client.on('error', (err) => this.fail('client', err));
    client.on('close', () => {
      this.clientClosed = true;
      this.maybeDone();
    });
    client.on('end', () => this.onEnd('client'));
    this.timer = setTimeout(() => this.answer(408, 'Request Timeout', 'no complete request head received in time'), options.headTimeout ?? 30000);
  }

  /** Publishes an event; a view that throws must not break the relay. */
  private publish(event: WsEvent): void {
    try {
      this.session.publish(event);
    } catch {
      /* a broken view is the view's problem, never the connection's */
    }
  }

  /** The client's data listener until the head is complete (then relay() takes over). */
  private readonly onHeadData = (chunk: Buffer): void => {
    this.headChunks.push(chunk);
    this.headLength += chunk.length;
    const window = Buffer.concat([this.headTail, chunk]);
    const ended = window.includes(CRLFCRLF);
    this.headTail = window.subarray(Math.max(0, window.length - 3));
    // Joining and scanning everything received on every chunk would cost O(n²) for a head
    // trickled in tiny pieces (64 KiB a byte at a time: seconds of CPU that stall every
    // other connection). So a full scan happens when the head may have ended, when the
    // request-line may have (a LF), when the limit is reached, and otherwise on every chunk
    // of the first KiB, then each time the head doubled: linear in all. (A non-HTTP byte
    // after 1 KiB of a valid-looking request-line is found at the next doubling, or the
    // head timeout answers 408.)
    const rescan =
      ended ||
      this.headLength >= MAX_HEAD_BYTES ||
      (!this.requestLineOk && (this.headLength <= 1024 || chunk.includes(0x0a) || this.headLength >= 2 * this.headScanned));
    if (!rescan) return;
    const head = this.headChunks.length === 1 ? this.headChunks[0] : Buffer.concat(this.headChunks, this.headLength);
    this.headChunks = [head];
    this.headScanned = this.headLength;
    const scan = scanHead(head);
    if (scan.kind === 'more') {
      this.requestLineOk = head.includes('\r\n'); // scanHead checked the line up to it
      return;
    }
    if (scan.kind === 'too-large') return this.answer(431, 'Request Header Fields Too Large', `the request head is larger than ${MAX_HEAD_BYTES} bytes`);
    if (scan.kind === 'not-http') return this.answer(400, 'Bad Request', `not an HTTP request: ${scan.reason}`);
    const parsed = parseHead(head.subarray(0, scan.length));
    if (!parsed) return this.answer(400, 'Bad Request', 'malformed HTTP request head');
    const rest = head.subarray(scan.length);
    this.headChunks = [];
    this.client.pause();
    // Off for good: left on, it would run for every relayed chunk too (and a second data
    // listener makes every emit copy the listener array).
    this.client.off('data', this.onHeadData);
    this.phase = 'connecting';
    this.connect(Buffer.concat([rewriteHead(parsed, this.target), rest]));
  };

  private connect(first: Buffer): void {
    this.clearTimer();
    this.unsent = first;
    const timeout = this.options.upstreamTimeout ?? 10000;
    this.timer = setTimeout(() => {
      const what = this.phase === 'connecting' ? 'connecting' : 'waiting for the response';
      this.upstreamFailed(`timed out after ${timeout} ms ${what}`);
    }, timeout);
    const { host, port } = this.target;
    let upstream: net.Socket | tls.TLSSocket;
    if (this.target.secure) {
      // allowHalfOpen as for TCP: the server's FIN must not end our side, the client may
      // still send (half-close, RFC 9293 §3.6); without it, its later bytes failed the
      // connection. (tls.connect hands it to the TLSSocket; @types/node does not list it.)
      const tlsOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
        host,
        port,
        // SNI must be a host name, not an IP address (RFC 6066 §3).
        servername: net.isIP(host) ? undefined : host,
        rejectUnauthorized: !this.options.insecure,
        ca: this.options.ca,
        allowHalfOpen: true,
      };
      upstream = tls.connect(tlsOptions);
      upstream.once('secureConnect', () => {
        this.tlsConnected = true;
        this.onUpstreamConnected(first);
      });
    } else {
      upstream = net.connect({ host, port, allowHalfOpen: true });
      upstream.once('connect', () => this.onUpstreamConnected(first));
    }
    upstream.setNoDelay(true);
    this.upstream = upstream;
    this.upstreamClosed = false;
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    upstream.pause(); // until the head went out: onUpstreamConnected resumes
    upstream.on('error', (err) => {
      if (this.phase === 'connecting' || this.phase === 'waiting') {
        const cause = this.target.secure && !this.tlsConnected ? describeTlsError(err, !this.options.insecure) : describeError(err);
        this.upstreamFailed(cause);
      } else {
        this.fail('server', err);
      }
    });
    upstream.on('end', () => {
      if (this.phase === 'waiting') return this.upstreamFailed('closed the connection without answering');
      this.onEnd('server');
    });
    upstream.on('close', () => {
      this.upstreamClosed = true;
      this.maybeDone();
    });
  }

  private onUpstreamConnected(first: Buffer): void {
    if (this.phase !== 'connecting') return;
    this.phase = 'waiting';
    this.upstream!.write(first);
    this.unsent = null;
    this.tee('client', first);
    this.relay(this.client, this.upstream!, 'client');
    this.client.resume();
    this.upstream!.resume();
    if (this.clientEndedEarly) this.upstream!.end();
  }

  private onUpstreamData(chunk: Buffer): void {
    if (!this.answered) {
      // The first byte of the answer: from now on the connection is a plain relay.
      this.answered = true;
      this.clearTimer();
      if (this.phase === 'waiting') this.phase = 'relay';
    }
    this.forward(this.upstream!, this.client, 'server', chunk);
  }

  /** Relays `from` to `to`; called once per direction. */
  private relay(from: net.Socket, to: net.Socket, dir: Direction): void {
    from.on('data', (chunk: Buffer) => this.forward(from, to, dir, chunk));
  }

  private forward(from: net.Socket, to: net.Socket, dir: Direction, chunk: Buffer): void {
    const ok = to.destroyed ? true : to.write(chunk);
    this.tee(dir, chunk);
    const gate = this.options.gate;
    if (!ok || gate?.full) {
      from.pause();
      const resume = () => {
        if (from.destroyed || to.writableNeedDrain) return;
        if (gate?.full) return gate.whenClear(resume);
        from.resume();
      };
      if (!ok) to.once('drain', resume);
      else gate!.whenClear(resume);
    }
  }

  /** Raw data to capture/pcap writers, then the decoder: after the bytes went out. */
  private tee(dir: Direction, chunk: Buffer): void {
    const ts = now();
    this.bytes[dir] += chunk.length;
    if (this.session.wantsData) {
      try {
        this.session.publishData(this.conn, dir, ts, chunk);
      } catch {
        /* see publish() */
      }
    }
    if (!this.decoder) return;
    try {
      this.decoder.push(dir, chunk, ts);
    } catch (err) {
      this.decoder = null;
      this.publish({ event: 'error', ts: now(), conn: this.conn, message: `decoder failed, decoding stopped for this connection: ${describeError(err)}` });
    }
  }

  /** The upstream could not be reached or did not answer: 502 to the client. */
  private upstreamFailed(cause: string): void {
    if (this.phase !== 'connecting' && this.phase !== 'waiting') return;
    const message = `upstream ${this.target.href}: ${cause}`;
    this.publish({ event: 'error', ts: now(), conn: this.conn, message });
    this.upstream?.destroy();
    this.answer(502, 'Bad Gateway', message);
  }

  /** Answers the client itself (400, 408, 431, 502) and closes the connection. */
  private answer(status: number, reason: string, detail: string): void {
    if (this.phase === 'relay' || this.phase === 'done' || this.client.destroyed) return;
    this.clearTimer();
    // A 502 while connecting answers a request the target never got: the decoder, the
    // capture and the pcap get that request too, so they show "GET /json → 502", the
    // exchange the client saw, instead of an answer to nothing.
    const unsent = this.phase === 'connecting' ? this.unsent : null;
    this.phase = 'relay';
    this.reason ??= `${status} ${reason}: ${detail}`;
    const body = `${status} ${reason}: ${detail}\n`;
    const response = Buffer.from(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    this.client.removeAllListeners('data');
    // Unread request bytes are discarded; closing with them unread would send a reset
    // (RFC 9112 §9.6) that could destroy the response before the client reads it.
    this.client.on('data', () => undefined);
    this.client.resume();
    this.client.end(response);
    if (unsent) this.tee('client', unsent);
    this.tee('server', response);
    // The client may never close its side: don't wait for it forever.
    setTimeout(() => this.client.destroy(), 5000).unref();
  }

  private onEnd(side: Direction): void {
    this.reason ??= `${side} closed`;
    if (side === 'client' && this.phase === 'head') {
      // The client left before sending a complete request head.
      this.clearTimer();
      this.client.end();
      return;
    }
    if (side === 'client' && this.phase === 'connecting') {
      // The request and the client's FIN came together: pass the FIN on once connected.
      this.clientEndedEarly = true;
      return;
    }
    // Half-close: pass the FIN on after the bytes already queued (RFC 9293 §3.6).
    const other = side === 'client' ? this.upstream : this.client;
    if (other && !other.destroyed) other.end();
  }

  private fail(side: Direction, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    this.reason ??= code === 'ECONNRESET' ? `${side} reset the connection (ECONNRESET)` : `${side} error: ${describeError(err)}`;
    this.client.destroy();
    this.upstream?.destroy();
  }

  /** Ends the connection from our side (proxy shutdown). */
  shutdown(reason: string): void {
    this.reason ??= reason;
    this.client.destroy();
    this.upstream?.destroy();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private maybeDone(): void {
    if (this.phase === 'done' || !this.clientClosed || !this.upstreamClosed) return;
    this.clearTimer();
    this.upstream?.destroy();
    this.phase = 'done';
    const ts = now();
    if (this.decoder) {
      try {
        this.decoder.finish(ts);
      } catch (err) {
        this.publish({ event: 'error', ts, conn: this.conn, message: `decoder failed: ${describeError(err)}` });
      }
    }
    this.publish({ event: 'end', ts, conn: this.conn, reason: this.reason ?? 'closed', bytes: { ...this.bytes } });
    this.onDone();
  }
}
