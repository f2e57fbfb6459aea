/**
 * The upstream dial: TCP, or TLS with SNI for wss:// (and for TLS inside a tunnel, over the
 * TCP connection the CONNECT opened), and the one-line cause when it fails (a TLS failure
 * named as such, a certificate error with the --insecure hint).
 *
 * TLS verifies the server against the system's CAs plus the extra ones given
 * (--upstream-ca); --insecure accepts anything. Only http/1.1 is offered in ALPN: the
 * relay speaks HTTP/1.1 upgrades (RFC 6455 §4), not RFC 8441 over HTTP/2.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { TlsInfo } from '../decoder/events';
import { describeError, describeTlsError } from './errors';

export interface DialOptions {
  /** Accept an upstream certificate that does not verify. */
  insecure?: boolean;
  /** Extra CA certificates to trust, besides the system's. */
  ca?: string | Buffer | (string | Buffer)[];
}

export interface DialTarget {
  host: string;
  port: number;
  secure: boolean;
  /** The SNI to send (default: the host, unless it is an IP address: RFC 6066 §3). */
  servername?: string;
  /** A TCP connection already open to host:port (a tunnel's). */
  socket?: net.Socket;
}

/** One side's TLS session as events show it. */
export function tlsInfoOf(socket: tls.TLSSocket, sni: string | null): TlsInfo {
  return {
    sni,
    alpn: socket.alpnProtocol || null,
    version: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.name ?? 'unknown',
  };
}

let trusted: { extra: unknown; list: (string | Buffer)[] } | null = null;
/** The system's CAs plus `extra` (tls.connect's `ca` replaces the default list; so both). */
function trustedCas(extra: string | Buffer | (string | Buffer)[]): (string | Buffer)[] {
  if (trusted?.extra !== extra) trusted = { extra, list: [...tls.rootCertificates, ...(Array.isArray(extra) ? extra : [extra])] };
  return trusted.list;
}

export class UpstreamDial {
  readonly socket: net.Socket | tls.TLSSocket;
  private tlsConnected = false;
  /** The TLS session once connected (null for plain). */
  tls: TlsInfo | null = null;

  /** Dials `target`; `onConnected` once the connection (and its TLS handshake) is up. */
  constructor(
    private readonly target: DialTarget,
    private readonly options: DialOptions,
    onConnected: () => void,
  ) {
    const { host, port } = target;
    if (target.secure) {
      const servername = target.servername ?? (net.isIP(host) ? undefined : host);
      // allowHalfOpen as for TCP: the server's FIN must not end our side, the client may
      // still send (half-close, RFC 9293 §3.6); without it, its later bytes failed the
      // connection. (tls.connect hands it to the TLSSocket; @types/node does not list it.)
      const tlsOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
        host,
        port,
        socket: target.socket,
        // SNI must be a host name, not an IP address (RFC 6066 §3).
        servername,
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: !options.insecure,
        ca: options.ca === undefined ? undefined : trustedCas(options.ca),
        allowHalfOpen: true,
      };
      const socket = tls.connect(tlsOptions);
      this.socket = socket;
      socket.once('secureConnect', () => {
        this.tlsConnected = true;
        this.tls = tlsInfoOf(socket, servername ?? null);
        onConnected();
      });
    } else if (target.socket) {
      this.socket = target.socket;
      // Already connected: after the caller has put its listeners on.
      queueMicrotask(onConnected);
    } else {
      this.socket = net.connect({ host, port, allowHalfOpen: true });
      this.socket.once('connect', onConnected);
    }
    this.socket.setNoDelay(true);
  }

  /** Why the dial failed, in one line. */
  cause(err: unknown): string {
    return this.target.secure && !this.tlsConnected ? describeTlsError(err, !this.options.insecure) : describeError(err);
  }
}
