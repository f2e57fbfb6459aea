/**
 * A raw WebSocket client for teaching and poking servers: it performs the opening
 * handshake itself (RFC 6455 §4.1) over net or tls, then writes bytes exactly as given
 * (no masking or framing added) and feeds both directions to the decoder, so that what
 * the server answers is shown field by field.
 *
 * Library WebSocket clients (ws, browsers) refuse to send an unmasked frame, a reserved
 * opcode or a ping between two fragments; this one sends whatever bytes it is handed.
 */
import * as crypto from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import { ConnectionDecoder } from '../decoder';
import { checkResponse, parseResponseHead } from '../decoder/handshake';
import type { HttpRequestHead, HttpResponseHead, WsEvent } from '../decoder/events';
import { formatAddress, type WsUrl } from '../address';
import { describeCertificateError } from '../proxy/errors';

/** An error the user caused or can fix (closed port, non-101 answer...): one line. */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

export { parseWsUrl, type WsUrl } from '../address';

export interface OpenOptions {
  url: WsUrl;
  /** Sec-WebSocket-Key to send (base64 of 16 bytes); default: 16 random bytes (§4.1). */
  key?: string;
  /** A Sec-WebSocket-Extensions offer, e.g. "permessage-deflate". */
  extensions?: string;
  /** Give up when the handshake answer has not arrived within this many ms. */
  timeoutMs: number;
  /** wss: accept any certificate (for self-signed test servers). */
  insecure?: boolean;
  /**
   * The request's headers, in order, instead of the minimal set (`replay --to`: the
   * captured request's): Host and Sec-WebSocket-Key are set anew (to `url` and the key),
   * and `extensions` is not added.
   */
  headers?: [string, string][];
}

export interface Handshake {
  request: HttpRequestHead;
  response: HttpResponseHead;
  key: string;
  accept: string | null;
  expectedAccept: string;
  acceptValid: boolean;
  protocol: string | null;
  extensions: string | null;
  /** The server accepted permessage-deflate (RFC 7692), as the decoder reads its answer. */
  deflate: boolean;
  /** The bytes of the request and of the response head (up to its empty line), as on the wire. */
  raw: { request: Buffer; response: Buffer };
}

/** The handshake answer head is small; a server that sends more is not speaking HTTP. */
const MAX_HEAD = 16 * 1024;

/** The one line for a failed connect. */
export function describeConnectError(err: NodeJS.ErrnoException, url: WsUrl): string {
  const where = `${url.host}:${url.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${where}: connection refused (is the server running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot resolve host "${url.host}"`;
    case 'ECONNRESET':
      return `${where} reset the connection during the handshake`;
    default: {
      // OpenSSL's message is a dump; its reason is the readable part (see describeError).
      const reason = (err as { reason?: unknown }).reason;
      if (typeof reason === 'string' && reason && err.code?.startsWith('ERR_SSL')) return `cannot connect to ${where}: TLS handshake failed: ${reason} (${err.code})`;
      return `cannot connect to ${where}: ${err.message}`;
    }
  }
}

/**
 * A WebSocket connection after a successful handshake, with the raw socket exposed
 * through `send`. Both directions go through one ConnectionDecoder, from the handshake
 * on (as in the proxy), so the decoder checks the handshake too and negotiates the
 * extensions itself; its events reach `onEvent`.
 */
export class RawConnection {
  readonly decoder: ConnectionDecoder;
  private readonly listeners: ((event: WsEvent) => void)[] = [];
  private lastServerData = Date.now();
  private closedFlag = false;
  private endReason = 'open';
  readonly closed: Promise<void>;
  bytesSent = 0;
  bytesReceived = 0;

  constructor(
    private readonly socket: net.Socket,
    readonly handshake: Handshake,
    readonly conn: number,
    private rest: Buffer,
    maxPayload?: number,
  ) {
    this.decoder = new ConnectionDecoder({
      conn,
      maxPayload,
      start: 'handshake',
      onEvent: (event) => {
        for (const listener of [...this.listeners]) listener(event);
      },
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closedFlag = true;
        if (this.endReason === 'open') this.endReason = 'closed by the server';
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      if (this.endReason === 'open') this.endReason = 'closed by the server';
      // Half-close answered: we have nothing more to say once the server is done.
      socket.end();
    });
    socket.on('error', (err) => {
      if (this.endReason === 'open') this.endReason = `connection error: ${err.message}`;
    });
  }

  /**
   * Starts reading: first the bytes that arrived with the handshake answer, then the
   * socket. Call it after subscribing with onEvent, so that no event is missed.
   */
  start(): void {
    const rest = this.rest;
    this.rest = Buffer.alloc(0);
    const now = Date.now();
    this.decoder.push('client', this.handshake.raw.request, now);
    this.decoder.push('server', this.handshake.raw.response, now);
    if (rest.length) this.receive(rest);
    this.socket.resume();
  }

  /** Subscribes to the decoder's events (both directions); returns an unsubscribe function. */
  onEvent(listener: (event: WsEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get reason(): string {
    return this.endReason;
  }

  private receive(chunk: Buffer): void {
    this.lastServerData = Date.now();
    this.bytesReceived += chunk.length;
    this.decoder.push('server', chunk, Date.now());
  }

  /** Writes bytes as they are and shows them to the decoder as the client's. */
  async send(bytes: Buffer): Promise<void> {
    if (this.closedFlag) throw new ClientError('the connection is closed');
    this.bytesSent += bytes.length;
    this.decoder.push('client', bytes, Date.now());
    await new Promise<void>((resolve) => {
      // Resolve on error too: the 'close' handler records what happened.
      this.socket.write(bytes, () => resolve());
    });
  }

  /**
   * Resolves once an event matching `test` arrives (true), or when the connection closes
   * or `timeoutMs` passes without one (false).
   */
  waitFor(test: (event: WsEvent) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (value: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const unsubscribe = this.onEvent((event) => {
        if (test(event)) finish(true);
      });
      void this.closed.then(() => finish(false));
    });
  }

  /**
   * Resolves when the server has sent nothing for `quietMs` (true) or when the
   * connection closes (false); with `maxMs`, also after that long in any case (true), so
   * that a server that never stops talking cannot keep us waiting.
   */
  waitQuiet(quietMs: number, maxMs = Infinity): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closedFlag) return resolve(false);
      let timer: NodeJS.Timeout;
      const deadline = Date.now() + maxMs;
      const check = () => {
        const idle = Date.now() - this.lastServerData;
        if (idle >= quietMs || Date.now() >= deadline) {
          resolve(!this.closedFlag);
        } else {
          timer = setTimeout(check, Math.min(quietMs - idle, deadline - Date.now()));
        }
      };
      this.lastServerData = Math.max(this.lastServerData, Date.now());
      timer = setTimeout(check, quietMs);
      void this.closed.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  /** Closes the TCP connection (without a close frame: the caller sends that if wanted). */
  async end(reason: string): Promise<void> {
    if (this.endReason === 'open') this.endReason = reason;
    if (!this.closedFlag) {
      this.socket.end();
      // A server that never closes its side must not keep us waiting.
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      await this.closed;
      clearTimeout(timer);
    }
    this.decoder.finish(Date.now());
  }

  /** Our end of the connection, "ip:port" (the `client` of the open event). */
  get localAddress(): string {
    return formatAddress(this.socket.localAddress, this.socket.localPort);
  }

  /** Drops the TCP connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Given headers with Host and Sec-WebSocket-Key replaced in place (added when missing). */
function requestHeaders(given: [string, string][], host: string, key: string): [string, string][] {
  const fresh: Record<string, string> = { host, 'sec-websocket-key': key };
  const headers = given.map(([n, v]): [string, string] => [n, fresh[n.toLowerCase()] ?? v]);
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has('host')) headers.unshift(['Host', host]);
  if (!has('sec-websocket-key')) headers.push(['Sec-WebSocket-Key', key]);
  return headers;
}

/**
 * Connects, sends the opening handshake (§4.1) and reads the answer. Resolves once a
 * 101 answer with the right Sec-WebSocket-Accept arrived; throws ClientError otherwise.
 */
export async function openWebSocket(options: OpenOptions, conn = 1, maxPayload?: number): Promise<RawConnection> {
  const { url } = options;
  const key = options.key ?? crypto.randomBytes(16).toString('base64');
  const headers: [string, string][] = options.headers
    ? requestHeaders(options.headers, url.hostHeader, key)
    : [
        ['Host', url.hostHeader],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', key],
        ['Sec-WebSocket-Version', '13'],
      ];
  if (options.extensions && !options.headers) headers.push(['Sec-WebSocket-Extensions', options.extensions]);
  const request: HttpRequestHead = { method: 'GET', target: url.path, version: 'HTTP/1.1', headers };
  const requestText =
    `GET ${url.path} HTTP/1.1\r\n` + headers.map(([n, v]) => `${n}: ${v}\r\n`).join('') + '\r\n';

  const socket: net.Socket = url.secure
    ? tls.connect({ host: url.host, port: url.port, servername: net.isIP(url.host) ? undefined : url.host, rejectUnauthorized: !options.insecure })
    : net.connect({ host: url.host, port: url.port });

  const { head, rest } = await new Promise<{ head: string; rest: Buffer }>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const fail = (message: string) => {
      cleanup();
      socket.destroy();
      reject(new ClientError(message));
    };
    const timer = setTimeout(
      () => fail(`no handshake answer from ${url.host}:${url.port} within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    const onConnect = () => socket.write(requestText);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end >= 0) {
        cleanup();
        // Keep what follows the head in the socket's stead: it is already frames.
        socket.pause();
        resolve({ head: received.subarray(0, end + 4).toString('latin1'), rest: received.subarray(end + 4) });
      } else if (received.length > MAX_HEAD) {
        fail(`${url.host}:${url.port} sent more than ${MAX_HEAD} bytes without ending its HTTP answer`);
      }
    };
    const onError = (err: NodeJS.ErrnoException) => fail(url.secure && !err.code?.startsWith('E')
      ? `TLS handshake with ${url.host}:${url.port} failed: ${describeCertificateError(err) ?? err.message}`
      : describeConnectError(err, url));
    const onClose = () => fail(`${url.host}:${url.port} closed the connection before answering the handshake`);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(url.secure ? 'secureConnect' : 'connect', onConnect);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.on(url.secure ? 'secureConnect' : 'connect', onConnect);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });

  // The decoder's parser: a malformed header line is a violation it reports on the
  // handshake event, not a reason to give up here.
  const response = parseResponseHead(head.slice(0, -4))?.head;
  if (!response) {
    socket.destroy();
    const firstLine = head.split('\r\n')[0].slice(0, 80);
    throw new ClientError(`${url.host}:${url.port} did not answer with HTTP: ${JSON.stringify(firstLine)}`);
  }
  if (response.status !== 101) {
    socket.destroy();
    throw new ClientError(
      `the server answered ${response.status} ${response.reason}, not 101 Switching Protocols: no WebSocket at ${url.href}`,
    );
  }
  // The decoder's §4.1 check of the answer, the one its handshake event reports.
  const { accept, expectedAccept, acceptValid, protocol, extensions, permessageDeflate } = checkResponse(request, response);
  const handshake: Handshake = {
    request,
    response,
    key,
    accept,
    expectedAccept: expectedAccept!, // not null: the request has a key
    acceptValid,
    protocol,
    extensions,
    deflate: permessageDeflate !== null,
    raw: { request: Buffer.from(requestText, 'latin1'), response: Buffer.from(head, 'latin1') },
  };
  if (!handshake.acceptValid) {
    // §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or the
    // |Sec-WebSocket-Accept| contains a value other than [the expected one] ... the
    // client MUST _Fail the WebSocket Connection_."
    socket.destroy();
    throw new ClientError(
      `bad Sec-WebSocket-Accept from the server: ${accept === null ? 'missing' : JSON.stringify(accept)}, expected ${expectedAccept}`,
    );
  }
  socket.setNoDelay(true);
  return new RawConnection(socket, handshake, conn, rest, maxPayload);
}
