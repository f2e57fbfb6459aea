/**
 * One proxied connection, the path it takes: the front tells what the first bytes are
 * (front.ts: TLS or not, then the request head) and so the mode (reverse to --target,
 * forward for an absolute-form request, tunnel for CONNECT, whose inside goes through the
 * front again); the head is rewritten (head.ts) and the upstream dialled (upstream.ts);
 * then the relay copies bytes both ways (relay.ts) and the tee hands them to the session
 * and the decoder (tee.ts). This file holds the phases and the ends: timeouts, the
 * proxy's own answers (400, 403, 408, 431, 502), half-close, errors, and the `open` and
 * `end` events.
 *
 * `open` is published once the front has decided and the upstream answered the dial (so
 * it carries both sides' TLS), or when the proxy answers itself; always before any data.
 */
import * as net from 'net';
import type { Duplex } from 'stream';
import type * as tls from 'tls';
import type { Direction, HandshakeEvent, ProxyMode, TlsInfo } from '../decoder/events';
import { formatAddress, type WsUrl } from '../address';
import type { ServerCerts } from './certs';
import { describeError } from './errors';
import { acceptTls, HeadReader, sniff, type FrontAnswer } from './front';
import { hostHeaderOf, parseAbsoluteTarget, parseAuthority, rewriteHead, type ParsedHead } from './head';
import type { ForwardPolicy } from './policy';
import { Pipe } from './relay';
import { now, Tee } from './tee';
import { UpstreamDial, type DialTarget } from './upstream';
import { Interceptor } from '../intercept/engine';
import type { ProxyOptions } from './index';

type Phase = 'head' | 'connecting' | 'waiting' | 'relay' | 'done';

/** What the listener shares with its connections. */
export interface ConnectionContext {
  target: WsUrl;
  options: ProxyOptions;
  certs: ServerCerts;
  policy: ForwardPolicy;
  /** ProxyHandle.intercept() was called: new connections get the stage from their start. */
  intercepting?: boolean;
}

/** A CONNECT tunnel, once the proxy answered 200: where it goes, over which TCP connection. */
interface Tunnel {
  host: string;
  port: number;
  tcp: net.Socket;
}

/** Counts a --passthrough tunnel's bytes and nothing else: they are TLS nobody can decode. */
class CountingTee extends Tee {
  override push(dir: Direction, chunk: Buffer): void {
    this.bytes[dir] += chunk.length;
  }
}

/** Most often a client that does not trust the certificate: it just hangs up (TLS 1.3). */
const CLOSED_IN_TLS = 'TLS handshake with the client failed: the client closed the connection (does it trust the certificate? see wsscope ca)';

const CONNECTED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n');

export class ProxyConnection {
  private phase: Phase = 'head';
  private tee: Tee;
  private readonly options: ProxyOptions;
  private readonly target: WsUrl;
  /** The socket the client's HTTP comes on: the accepted one, or TLS over it. */
  private client: Duplex;
  private front: HeadReader | null = null;
  private cancelSniff: (() => void) | null = null;
  private upstream: Duplex | null = null;
  /** The upstream's dial, until its answer begins. */
  private dial: UpstreamDial | null = null;
  private tunnel: Tunnel | null = null;
  private reason: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private clientClosed = false;
  private upstreamClosed = true; // until there is an upstream
  /** The client's FIN arrived while connecting to the upstream. */
  private clientEndedEarly = false;
  /** The request head while connecting; recorded with the proxy's answer if it never goes out. */
  private unsent: Buffer | null = null;
  /** A TLS handshake with the client is under way (a 408 in plain text would be noise in it). */
  private inTls = false;
  private aborted = false;
  // What the `open` event says.
  private opened = false;
  private mode: ProxyMode = 'reverse';
  private clientTls: TlsInfo | null = null;
  private upstreamUrl: string | null = null;
  /**
   * Where a forward request or CONNECT asked to go (`ws[s]://authority/path`, `tcp://host:port`):
   * `open.target` when nothing was dialled (refused, unreachable), instead of the --target URL
   * that such a connection never goes to.
   */
  private asked: string | null = null;
  private upstreamTls: TlsInfo | null = null;
  private passthrough = false;
  /** The intercept stage, when hooks are loaded (options.intercept): between read and write. */
  private stage: Interceptor | null = null;
  /** The stage was asked for mid-connection: each direction joins at its next frame boundary. */
  private joining = false;
  private readonly pipes: Partial<Record<Direction, Pipe>> = {};

  constructor(
    readonly conn: number,
    private readonly raw: net.Socket,
    private readonly context: ConnectionContext,
    private readonly onDone: () => void,
  ) {
    this.options = context.options;
    this.target = context.target;
    this.client = raw;
    // With the stage on demand, intercept() may join this connection later: it needs the handshake then.
    this.tee = new Tee(conn, this.options.session, this.options.decode !== false, this.options.maxPayload, this.options.protocol, this.options.intercept?.onDemand === true);
    raw.on('error', (err) => this.fail('client', err));
    raw.on('close', this.onClientClose);
    raw.on('end', this.onClientEnd);
    this.timer = setTimeout(() => this.frontTimedOut(), this.options.headTimeout ?? 30000);
    this.sniff(raw);
  }

  private readonly onClientClose = (): void => {
    if (this.inTls && this.phase === 'head') this.abort(CLOSED_IN_TLS);
    // Gone before its tunnel was used: the tunnel's TCP connection goes too.
    if (this.phase === 'head') this.tunnel?.tcp.destroy();
    this.clientClosed = true;
    this.maybeDone();
  };

  private readonly onClientEnd = (): void => this.onEnd('client');

  /** Publishes `open` once: with what is known when the front decided or gave up. */
  private publishOpen(): void {
    if (this.opened) return;
    this.opened = true;
    const upstream = this.upstreamUrl;
    this.tee.publish({
      event: 'open',
      ts: now(),
      conn: this.conn,
      client: formatAddress(this.raw.remoteAddress, this.raw.remotePort),
      target: this.mode === 'reverse' ? this.target.href : (upstream ?? this.asked ?? this.target.href),
      mode: this.mode,
      tls: this.clientTls,
      upstream,
      upstreamTls: this.upstreamTls,
      ...(this.passthrough ? { passthrough: true } : {}),
    });
  }

  // ---- the front ----------------------------------------------------------------------

  /** The first bytes of `socket` (the accepted one, or a tunnel's inside): TLS or HTTP. */
  private sniff(socket: Duplex): void {
    this.cancelSniff = sniff(socket, (isTls) => {
      this.cancelSniff = null;
      if (isTls && this.clientTls === null && this.client === this.raw) void this.startTls(socket);
      else this.readHead(this.client);
    });
  }

  private async startTls(socket: Duplex): Promise<void> {
    this.inTls = true;
    // Without SNI: a certificate for the tunnel's host, or for the address the client
    // dialled (DESIGN.md: IP SANs for 127.0.0.1 and ::1, DNS SAN localhost).
    const local = (this.raw.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const names = this.tunnel ? [this.tunnel.host] : [local, '127.0.0.1', '::1', 'localhost'];
    let accepted: Awaited<ReturnType<typeof acceptTls>>;
    try {
      accepted = await acceptTls(socket, this.context.certs, names);
    } catch (err) {
      return this.abort(`no certificate to serve: ${(err as Error).message}`);
    }
    if (this.phase !== 'head') return; // ended while the certificate was made
    const tlsSocket = accepted.tls;
    this.client = tlsSocket;
    socket.off('end', this.onClientEnd);
    tlsSocket.on('end', this.onClientEnd);
    tlsSocket.on('close', this.onClientClose);
    tlsSocket.on('error', (err) => {
      if (this.inTls) this.abort(`TLS handshake with the client failed: ${describeError(err)}`);
      else this.fail('client', err);
    });
    this.clientTls = await accepted.secure;
    this.inTls = false;
    if (this.phase !== 'head') return;
    this.readHead(tlsSocket);
  }

  private readHead(socket: Duplex): void {
    this.front = new HeadReader(socket, (head, rest) => this.onHead(head, rest), (a) => this.answer(a));
    socket.resume();
  }

  private onHead(head: ParsedHead, rest: Buffer): void {
    this.front = null;
    if (this.tunnel) {
      // Inside a tunnel: to the CONNECT's host, TLS when the client spoke TLS.
      const { host, port, tcp } = this.tunnel;
      const secure = this.clientTls !== null;
      const path = /^\//.test(head.target) ? head.target : '/';
      const hostHeader = hostHeaderOf(host, port, secure);
      return this.connect(Buffer.concat([rewriteHead(head, { path: '/', hostHeader }), rest]), 'tunnel', `${secure ? 'wss' : 'ws'}://${hostHeader}${path}`, {
        host,
        port,
        secure,
        servername: this.clientTls?.sni ?? undefined,
        socket: tcp,
      });
    }
    if (head.method === 'CONNECT') return this.onConnect(head, rest);
    const absolute = parseAbsoluteTarget(head.target);
    if (absolute) {
      this.mode = 'forward';
      this.asked = `${absolute.secure ? 'wss' : 'ws'}://${absolute.hostHeader}${absolute.path}`;
      const refused = this.context.policy.refuse(absolute.host, absolute.port);
      this.unsent = Buffer.concat([head.raw, rest]);
      if (refused) return this.answer({ status: 403, reason: 'Forbidden', detail: refused });
      return this.connect(Buffer.concat([rewriteHead(head, absolute, { path: absolute.path }), rest]), 'forward', `${absolute.secure ? 'wss' : 'ws'}://${absolute.hostHeader}${absolute.path}`, absolute);
    }
    this.connect(Buffer.concat([rewriteHead(head, this.target), rest]), 'reverse', this.target.href, this.target);
  }

  /** CONNECT host:port (RFC 9110 §9.3.6): dial first, so a refusal is a 502 the client sees. */
  private onConnect(head: ParsedHead, rest: Buffer): void {
    this.mode = 'tunnel';
    this.unsent = Buffer.concat([head.raw, rest]);
    const authority = parseAuthority(head.target);
    if (!authority) return this.answer({ status: 400, reason: 'Bad Request', detail: `CONNECT needs host:port, not "${head.target}"` });
    const { host, port } = authority;
    const where = formatAddress(host, port);
    this.asked = `tcp://${where}`;
    const refused = this.context.policy.refuse(host, port);
    if (refused) return this.answer({ status: 403, reason: 'Forbidden', detail: refused });
    this.passthrough = this.context.policy.passthrough(host, port);
    this.upstreamUrl = this.passthrough ? `tcp://${where}` : null;
    this.phase = 'connecting';
    this.clearTimer();
    const timeout = this.options.upstreamTimeout ?? 10000;
    this.timer = setTimeout(() => this.upstreamFailed(`timed out after ${timeout} ms connecting`, where), timeout);
    const tcp = net.connect({ host, port, allowHalfOpen: true });
    tcp.setNoDelay(true);
    this.upstream = tcp;
    this.upstreamClosed = false;
    const onError = (err: Error) => this.upstreamFailed(describeError(err), where);
    tcp.on('error', onError);
    tcp.on('close', this.onUpstreamClose);
    tcp.once('connect', () => {
      if (this.phase !== 'connecting') return;
      this.clearTimer();
      this.raw.write(CONNECTED);
      if (this.passthrough) return this.startBlind(tcp, rest);
      // The inside is a new stream: it goes through the front again.
      tcp.off('error', onError);
      tcp.on('error', (err) => (this.phase === 'head' ? this.abort(`upstream ${where}: ${describeError(err)}`) : undefined));
      tcp.pause();
      this.tunnel = { host, port, tcp };
      this.upstream = null;
      this.unsent = null;
      this.phase = 'head';
      this.timer = setTimeout(() => this.frontTimedOut(), this.options.headTimeout ?? 30000);
      if (rest.length) this.raw.unshift(rest);
      this.sniff(this.raw);
    });
  }

  /** A --passthrough tunnel: both ways as they come, counted, not decoded. */
  private startBlind(tcp: net.Socket, rest: Buffer): void {
    this.tee = new CountingTee(this.conn, this.options.session, false, undefined);
    this.unsent = null;
    this.phase = 'relay';
    this.publishOpen();
    tcp.on('error', (err) => this.fail('server', err));
    tcp.on('end', () => this.onEnd('server'));
    if (rest.length) tcp.write(rest);
    this.tee.push('client', rest);
    new Pipe(tcp, this.raw, 'server', this.tee, this.options.gate).start();
    new Pipe(this.raw, tcp, 'client', this.tee, this.options.gate).start();
    this.raw.resume();
    if (this.clientEndedEarly) tcp.end();
  }

  private frontTimedOut(): void {
    if (this.inTls) return this.abort('no TLS handshake completed in time');
    this.answer({ status: 408, reason: 'Request Timeout', detail: 'no complete request head received in time' });
  }

  // ---- the upstream -------------------------------------------------------------------

  private connect(first: Buffer, mode: ProxyMode, url: string, dest: DialTarget): void {
    this.mode = mode;
    this.upstreamUrl = url;
    this.phase = 'connecting';
    this.clearTimer();
    this.unsent = first;
    const timeout = this.options.upstreamTimeout ?? 10000;
    this.timer = setTimeout(() => {
      const what = this.phase === 'connecting' ? 'connecting' : 'waiting for the response';
      this.upstreamFailed(`timed out after ${timeout} ms ${what}`);
    }, timeout);
    // The closures made here share one context for the connection's life (the error
    // listener keeps it): `first` must not be in it, or every connection keeps its request
    // head, and the 8 KiB pool slab that holds it, after sending it (issue #13). The head
    // waits in `unsent` instead.
    // The dial is kept only until the answer begins (its `cause` names a failure until
    // then), in a field: in this context the error listener would keep it for good.
    const dial = (this.dial = new UpstreamDial(dest, this.options, () => {
      this.upstreamTls = this.dial!.tls;
      this.onUpstreamConnected();
    }));
    const upstream = dial.socket;
    this.upstream = upstream;
    this.upstreamClosed = false;
    // The first byte of the answer: from now on the connection is a plain relay. (A once
    // listener: after it, the pipe's is the only data listener left.)
    upstream.once('data', () => {
      this.clearTimer();
      if (this.phase === 'waiting') this.phase = 'relay';
      this.dial = null;
    });
    this.pipes.server = new Pipe(upstream, this.client, 'server', this.tee, this.options.gate);
    this.startStage();
    this.pipes.server.start();
    upstream.pause(); // until the head went out: onUpstreamConnected resumes
    upstream.on('error', (err) => {
      if (this.phase === 'connecting' || this.phase === 'waiting') this.upstreamFailed(this.dial?.cause(err) ?? describeError(err));
      else this.fail('server', err);
    });
    upstream.on('end', () => {
      if (this.phase === 'waiting') return this.upstreamFailed('closed the connection without answering');
      this.onEnd('server');
    });
    if (upstream !== dest.socket) upstream.on('close', this.onUpstreamClose);
    else if (upstream.destroyed) this.upstreamFailed('closed the connection before the client sent its request');
    if (this.tunnel && upstream !== this.tunnel.tcp) this.tunnel.tcp.on('close', () => upstream.destroy());
  }

  private readonly onUpstreamClose = (): void => {
    this.upstreamClosed = true;
    this.maybeDone();
  };

  private onUpstreamConnected(): void {
    if (this.phase !== 'connecting') return;
    const first = this.unsent!;
    this.phase = 'waiting';
    this.publishOpen();
    this.upstream!.write(first);
    this.unsent = null;
    this.tee.push('client', first);
    this.stage?.sent('client', first);
    this.pipes.client = new Pipe(this.client, this.upstream!, 'client', this.tee, this.options.gate);
    if (this.stage) this.pipes.client.setStage(this.stagePush('client'));
    this.pipes.client.start();
    this.client.resume();
    this.upstream!.resume();
    if (this.clientEndedEarly) this.upstream!.end();
  }

  /** This connection's frames go through an intercept stage (or are joining one). */
  get hasStage(): boolean {
    return this.stage !== null || this.joining;
  }

  /**
   * ProxyHandle.intercept() while this connection is open (the terminal UI set its first
   * intercept filter). Before the head went upstream the stage starts as it would have from
   * the beginning. Later it joins each direction at its next frame boundary outside a
   * fragmented message, which the tee's decoder finds (it has seen every byte that went
   * by): nothing already relayed is held back or cut again, and what comes is cut at the
   * frames the receiver will see. Without a decoder here (decode false) it never joins.
   */
  intercept(): void {
    if (this.stage || this.joining || !this.options.intercept) return;
    if (this.phase === 'head') return; // connect() starts it: context.intercepting is set
    if (this.phase === 'connecting' && this.pipes.server && !this.pipes.client) return this.startStage();
    if (this.phase === 'done' || !this.pipes.server) return;
    this.joining = true;
    for (const dir of ['client', 'server'] as const) this.pipes[dir]?.setStage(this.joinPush(dir));
  }

  /**
   * Relays `dir` as before until the tee's decoder says a frame starts outside any
   * fragmented message; from that byte on the stage has the direction. The bytes before go
   * out in pieces that end where the decoder needs to be asked again.
   */
  private joinPush(dir: Direction): (chunk: Buffer) => void {
    const pipe = this.pipes[dir]!;
    return (chunk) => {
      for (let rest = chunk; ; ) {
        const n = this.tee.decoder?.bytesToJoin(dir, rest) ?? null;
        if (n === null || n >= rest.length) return pipe.write(rest);
        if (n > 0) {
          pipe.write(rest.subarray(0, n));
          rest = rest.subarray(n);
          continue;
        }
        if (!this.stage) this.startStage({ handshake: this.tee.decoder!.handshake });
        this.stage!.join(dir, this.tee.decoder!.joinPoint(dir)!);
        const push = this.stagePush(dir);
        pipe.setStage(push);
        return push(rest);
      }
    };
  }

  /**
   * With hooks (or a terminal UI holding frames), both directions go through the intercept
   * stage (src/intercept/engine.ts); without, nothing here runs per chunk. `joining`: the
   * stage joins a connection past its handshake (see intercept()); the pipes are routed
   * to it as each direction joins.
   */
  private startStage(joining?: { handshake: HandshakeEvent | null }): void {
    const intercept = this.options.intercept;
    if (!intercept) return;
    if (!joining && intercept.onDemand && !this.context.intercepting) return;
    const stage = new Interceptor({
      joining,
      conn: this.conn,
      deciders: intercept.deciders,
      maxHeld: intercept.maxMessageSize,
      maxPayload: this.options.maxPayload,
      write: (dir, bytes) => this.pipes[dir]?.write(bytes),
      publish: (event) => this.tee.publish(event),
      resume: (dir) => {
        const pipe = this.pipes[dir];
        if (pipe && !pipe.from.destroyed && !pipe.to.writableNeedDrain && !this.options.gate?.full) pipe.from.resume();
      },
      now,
    });
    this.stage = stage;
    if (!joining) this.pipes.server!.setStage(this.stagePush('server'));
    intercept.onConnection?.(this.conn, stage);
  }

  private stagePush(dir: Direction): (chunk: Buffer) => void {
    const stage = this.stage!;
    return (chunk) => {
      stage.push(dir, chunk);
      if (stage.full(dir)) this.pipes[dir]!.from.pause();
    };
  }

  /** The upstream could not be reached or did not answer: 502 to the client. */
  private upstreamFailed(cause: string, where = this.upstreamUrl ?? this.target.href): void {
    if (this.phase !== 'connecting' && this.phase !== 'waiting') return;
    const message = `upstream ${where}: ${cause}`;
    this.publishOpen();
    this.tee.publish({ event: 'error', ts: now(), conn: this.conn, message });
    this.upstream?.destroy();
    this.answer({ status: 502, reason: 'Bad Gateway', detail: message });
  }

  // ---- the ends -----------------------------------------------------------------------

  /** Answers the client itself (400, 403, 408, 431, 502) and closes the connection. */
  private answer({ status, reason, detail }: FrontAnswer): void {
    if (this.phase === 'relay' || this.phase === 'done' || this.client.destroyed) return;
    this.clearTimer();
    this.publishOpen();
    // An answer to a request the target never got (502 while connecting, 403): the
    // decoder, the capture and the pcap get that request too, so they show
    // "GET /json → 502", the exchange the client saw, instead of an answer to nothing.
    const unsent = this.phase === 'connecting' || status === 403 || status === 400 ? this.unsent : null;
    this.phase = 'relay';
    this.reason ??= `${status} ${reason}: ${detail}`;
    const body = `${status} ${reason}: ${detail}\n`;
    const response = Buffer.from(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    this.front?.stop();
    this.cancelSniff?.();
    this.tunnel?.tcp.destroy();
    this.client.removeAllListeners('data');
    // Unread request bytes are discarded; closing with them unread would send a reset
    // (RFC 9112 §9.6) that could destroy the response before the client reads it.
    this.client.on('data', () => undefined);
    this.client.resume();
    this.client.end(response);
    if (unsent) this.tee.push('client', unsent);
    this.tee.push('server', response);
    // The client may never close its side: don't wait for it forever.
    setTimeout(() => this.destroyAll(), this.options.closeTimeout ?? 5000).unref();
  }

  /** Gives up on a connection where no HTTP answer fits (TLS failed, no certificate). */
  private abort(cause: string): void {
    if (this.phase === 'done' || this.aborted) return;
    this.aborted = true;
    this.clearTimer();
    this.publishOpen();
    this.reason ??= cause;
    this.tee.publish({ event: 'error', ts: now(), conn: this.conn, message: cause });
    this.destroyAll();
  }

  private onEnd(side: Direction): void {
    if (side === 'client' && this.phase === 'head' && this.inTls) return this.abort(CLOSED_IN_TLS);
    // Its frames wait on a hook that has not answered: what it sent can no longer go on in
    // order before its FIN, and a hook that never answers would keep both sockets open
    // until the other side closed. Both close now; the stage reports what it held (finish).
    const waiting = this.stage?.waitingOn(side);
    if (waiting) {
      this.reason ??= `${side} closed while its frames waited for ${waiting}`;
      return this.destroyAll();
    }
    this.reason ??= `${side} closed`;
    if (side === 'client' && this.phase === 'head') {
      // The client left before sending a complete request head.
      this.clearTimer();
      this.publishOpen();
      if (this.inTls) this.destroyAll();
      else this.client.end();
      this.tunnel?.tcp.destroy();
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
    this.destroyAll();
  }

  private destroyAll(): void {
    this.client.destroy();
    this.raw.destroy();
    this.upstream?.destroy();
    this.tunnel?.tcp.destroy();
  }

  /** Ends the connection from our side (proxy shutdown). */
  shutdown(reason: string): void {
    this.reason ??= reason;
    this.destroyAll();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private maybeDone(): void {
    if (this.phase === 'done' || !this.clientClosed || !this.upstreamClosed) return;
    this.clearTimer();
    this.upstream?.destroy();
    this.tunnel?.tcp.destroy();
    this.phase = 'done';
    this.publishOpen();
    const ts = now();
    this.stage?.finish();
    this.options.intercept?.onConnectionEnd?.(this.conn);
    this.tee.finish(ts);
    this.tee.publish({ event: 'end', ts, conn: this.conn, reason: this.reason ?? 'closed', bytes: { ...this.tee.bytes } });
    this.onDone();
  }
}
