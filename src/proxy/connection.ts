/**
 * One proxied connection, the path it takes: the front reads the first request head
 * (front.ts), it is rewritten (head.ts) and the upstream dialled (upstream.ts), then the
 * relay copies bytes both ways (relay.ts) and the tee hands them to the session and the
 * decoder (tee.ts). This file holds the phases and the ends: timeouts, the proxy's own
 * answers (400, 408, 431, 502), half-close, errors, and the `end` event.
 */
import type * as net from 'net';
import type { Direction } from '../decoder/events';
import { formatAddress, type WsUrl } from '../address';
import { describeError } from './errors';
import { HeadReader, type FrontAnswer } from './front';
import { rewriteHead, type ParsedHead } from './head';
import { Pipe } from './relay';
import { now, Tee } from './tee';
import { UpstreamDial } from './upstream';
import { Interceptor } from '../intercept/engine';
import type { ProxyOptions } from './index';

type Phase = 'head' | 'connecting' | 'waiting' | 'relay' | 'done';

export class ProxyConnection {
  private phase: Phase = 'head';
  private readonly tee: Tee;
  private readonly front: HeadReader;
  private upstream: net.Socket | null = null;
  private reason: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private clientClosed = false;
  private upstreamClosed = true; // until there is an upstream
  /** The client's FIN arrived while connecting to the upstream. */
  private clientEndedEarly = false;
  /** The request head while connecting; recorded with the 502 if it never goes out. */
  private unsent: Buffer | null = null;
  /** The intercept stage, when hooks are loaded (options.intercept): between read and write. */
  private stage: Interceptor | null = null;
  private readonly pipes: Partial<Record<Direction, Pipe>> = {};

  constructor(
    readonly conn: number,
    private readonly client: net.Socket,
    private readonly target: WsUrl,
    private readonly options: ProxyOptions,
    private readonly onDone: () => void,
  ) {
    this.tee = new Tee(conn, options.session, options.decode !== false, options.maxPayload, options.protocol);
    this.tee.publish({
      event: 'open',
      ts: now(),
      conn,
      client: formatAddress(client.remoteAddress, client.remotePort),
      target: target.href,
    });
    this.front = new HeadReader(client, (head, rest) => this.onHead(head, rest), (a) => this.answer(a));
    client.on('error', (err) => this.fail('client', err));
    client.on('close', () => {
      this.clientClosed = true;
      this.maybeDone();
    });
    client.on('end', () => this.onEnd('client'));
    this.timer = setTimeout(() => this.answer({ status: 408, reason: 'Request Timeout', detail: 'no complete request head received in time' }), options.headTimeout ?? 30000);
  }

  private onHead(head: ParsedHead, rest: Buffer): void {
    this.phase = 'connecting';
    this.connect(Buffer.concat([rewriteHead(head, this.target), rest]));
  }

  private connect(first: Buffer): void {
    this.clearTimer();
    this.unsent = first;
    const timeout = this.options.upstreamTimeout ?? 10000;
    this.timer = setTimeout(() => {
      const what = this.phase === 'connecting' ? 'connecting' : 'waiting for the response';
      this.upstreamFailed(`timed out after ${timeout} ms ${what}`);
    }, timeout);
    const dial = new UpstreamDial(this.target, this.options, () => this.onUpstreamConnected(first));
    const upstream = dial.socket;
    this.upstream = upstream;
    this.upstreamClosed = false;
    // The first byte of the answer: from now on the connection is a plain relay. (A once
    // listener: after it, the pipe's is the only data listener left.)
    upstream.once('data', () => {
      this.clearTimer();
      if (this.phase === 'waiting') this.phase = 'relay';
    });
    this.pipes.server = new Pipe(upstream, this.client, 'server', this.tee, this.options.gate);
    this.startStage();
    this.pipes.server.start();
    upstream.pause(); // until the head went out: onUpstreamConnected resumes
    upstream.on('error', (err) => {
      if (this.phase === 'connecting' || this.phase === 'waiting') this.upstreamFailed(dial.cause(err));
      else this.fail('server', err);
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
    this.tee.push('client', first);
    this.stage?.sent('client', first);
    this.pipes.client = new Pipe(this.client, this.upstream!, 'client', this.tee, this.options.gate);
    if (this.stage) this.pipes.client.setStage(this.stagePush('client'));
    this.pipes.client.start();
    this.client.resume();
    this.upstream!.resume();
    if (this.clientEndedEarly) this.upstream!.end();
  }

  /**
   * With hooks (or a terminal UI that may hold frames), both directions go through the
   * intercept stage (src/intercept/engine.ts); without, nothing here runs per chunk.
   */
  private startStage(): void {
    const intercept = this.options.intercept;
    if (!intercept) return;
    const stage = new Interceptor({
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
    this.pipes.server!.setStage(this.stagePush('server'));
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
  private upstreamFailed(cause: string): void {
    if (this.phase !== 'connecting' && this.phase !== 'waiting') return;
    const message = `upstream ${this.target.href}: ${cause}`;
    this.tee.publish({ event: 'error', ts: now(), conn: this.conn, message });
    this.upstream?.destroy();
    this.answer({ status: 502, reason: 'Bad Gateway', detail: message });
  }

  /** Answers the client itself (400, 408, 431, 502) and closes the connection. */
  private answer({ status, reason, detail }: FrontAnswer): void {
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
    this.front.stop();
    this.client.removeAllListeners('data');
    // Unread request bytes are discarded; closing with them unread would send a reset
    // (RFC 9112 §9.6) that could destroy the response before the client reads it.
    this.client.on('data', () => undefined);
    this.client.resume();
    this.client.end(response);
    if (unsent) this.tee.push('client', unsent);
    this.tee.push('server', response);
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
    this.stage?.finish();
    this.options.intercept?.onConnectionEnd?.(this.conn);
    this.tee.finish(ts);
    this.tee.publish({ event: 'end', ts, conn: this.conn, reason: this.reason ?? 'closed', bytes: { ...this.tee.bytes } });
    this.onDone();
  }
}
