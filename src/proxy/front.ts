/**
 * The front: what a new connection's first bytes are (DESIGN.md, "One listening port for
 * every kind of client"). connection.ts strings these together:
 *   - sniff(): a TLS ClientHello or not, by the first byte, put back unread;
 *   - acceptTls(): terminates TLS with a certificate for the name asked for (certs.ts),
 *     offering only http/1.1 in ALPN;
 *   - HeadReader: the first HTTP request head, read (at most MAX_HEAD_BYTES) and parsed,
 *     or the answer the proxy gives itself when there is none (400 not HTTP, 431 too large).
 * What the head then says (CONNECT, absolute-form, origin-form) decides the mode.
 */
import type { Duplex } from 'stream';
import * as tls from 'tls';
import type { TlsInfo } from '../decoder/events';
import type { ServerCerts } from './certs';
import { MAX_HEAD_BYTES, parseHead, scanHead, type ParsedHead } from './head';
import { tlsInfoOf } from './upstream';

/**
 * A TLS connection starts with a record of ContentType handshake (22, RFC 8446 §5.1)
 * carrying the ClientHello; an HTTP request starts with a method's letter.
 */
const TLS_HANDSHAKE = 0x16;

/**
 * Calls `decide` with whether the socket's first bytes are TLS, once they arrive; they are
 * put back (unshift) so that the next reader gets them. Returns a function that cancels.
 */
export function sniff(socket: Duplex, decide: (isTls: boolean) => void): () => void {
  const onData = (chunk: Buffer): void => {
    socket.off('data', onData);
    socket.pause();
    socket.unshift(chunk);
    decide(chunk[0] === TLS_HANDSHAKE);
  };
  socket.on('data', onData);
  socket.resume();
  return () => socket.off('data', onData);
}

/**
 * Only HTTP/1.1 is offered (RFC 7301): a browser that could speak HTTP/2 would otherwise
 * switch to it, and WebSockets over HTTP/2 (RFC 8441) are not what this proxy relays.
 */
const ALPN = ['http/1.1'];

/**
 * Terminates TLS on `socket` (whose first bytes sniff() put back): the certificate is for
 * the SNI name, or for `defaultNames` when the client sent none. `onSecure` once the
 * handshake is done; a failure comes as the TLS socket's `error` event.
 */
export async function acceptTls(socket: Duplex, certs: ServerCerts, defaultNames: string[]): Promise<{ tls: tls.TLSSocket; secure: Promise<TlsInfo> }> {
  const secureContext = await certs.context(defaultNames);
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext,
    ALPNProtocols: ALPN,
    SNICallback: certs.fixed ? undefined : (name, cb) => certs.context([name]).then((ctx) => cb(null, ctx), (err: Error) => cb(err)),
  });
  const secure = new Promise<TlsInfo>((resolve) => tlsSocket.once('secure', () => resolve(tlsInfoOf(tlsSocket, (tlsSocket as { servername?: string | false }).servername || null))));
  return { tls: tlsSocket, secure };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** The proxy answers the client itself (the connection then closes). */
export interface FrontAnswer {
  status: number;
  reason: string;
  detail: string;
}

/**
 * Reads the first request head from `socket`'s data events, then stops listening and
 * pauses the socket: `onHead` gets the parsed head and the bytes after it, or `onAnswer`
 * what to answer.
 */
export class HeadReader {
  /** The request head so far, in the chunks it came in (joined only to be scanned). */
  private headChunks: Buffer[] = [];
  private headLength = 0;
  /** headLength at the last full scan (scanHead). */
  private headScanned = 0;
  /** The request-line was complete and valid at the last full scan. */
  private requestLineOk = false;
  /** The last 3 bytes received, to find a CRLFCRLF split across chunks. */
  private headTail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly socket: Duplex,
    private readonly onHead: (head: ParsedHead, rest: Buffer) => void,
    private readonly onAnswer: (answer: FrontAnswer) => void,
  ) {
    socket.on('data', this.onData);
  }

  /** Stops reading (the connection ended or was answered otherwise). */
  stop(): void {
    this.socket.off('data', this.onData);
    this.headChunks = [];
  }

  private readonly onData = (chunk: Buffer): void => {
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
    if (scan.kind === 'too-large') return this.answer({ status: 431, reason: 'Request Header Fields Too Large', detail: `the request head is larger than ${MAX_HEAD_BYTES} bytes` });
    if (scan.kind === 'not-http') return this.answer({ status: 400, reason: 'Bad Request', detail: `not an HTTP request: ${scan.reason}` });
    const parsed = parseHead(head.subarray(0, scan.length));
    if (!parsed) return this.answer({ status: 400, reason: 'Bad Request', detail: 'malformed HTTP request head' });
    const rest = head.subarray(scan.length);
    this.headChunks = [];
    this.socket.pause();
    // Off for good: left on, it would run for every relayed chunk too (and a second data
    // listener makes every emit copy the listener array).
    this.socket.off('data', this.onData);
    this.onHead(parsed, rest);
  };

  private answer(answer: FrontAnswer): void {
    this.stop();
    this.onAnswer(answer);
  }
}
