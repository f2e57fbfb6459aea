/**
 * The upstream dial: TCP, or TLS with SNI for wss://, and the one-line cause when it fails
 * (a TLS failure named as such, a certificate error with the --insecure hint).
 */
import * as net from 'net';
import * as tls from 'tls';
import type { WsUrl } from '../address';
import { describeError, describeTlsError } from './errors';

export interface DialOptions {
  /** Accept an upstream certificate that does not verify. */
  insecure?: boolean;
  /** Extra CA certificates to trust. */
  ca?: string | Buffer;
}

export class UpstreamDial {
  readonly socket: net.Socket | tls.TLSSocket;
  private tlsConnected = false;

  /** Dials `target`; `onConnected` once the connection (and its TLS handshake) is up. */
  constructor(
    private readonly target: Pick<WsUrl, 'host' | 'port' | 'secure'>,
    private readonly options: DialOptions,
    onConnected: () => void,
  ) {
    const { host, port } = target;
    if (target.secure) {
      // allowHalfOpen as for TCP: the server's FIN must not end our side, the client may
      // still send (half-close, RFC 9293 §3.6); without it, its later bytes failed the
      // connection. (tls.connect hands it to the TLSSocket; @types/node does not list it.)
      const tlsOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
        host,
        port,
        // SNI must be a host name, not an IP address (RFC 6066 §3).
        servername: net.isIP(host) ? undefined : host,
        rejectUnauthorized: !options.insecure,
        ca: options.ca,
        allowHalfOpen: true,
      };
      this.socket = tls.connect(tlsOptions);
      this.socket.once('secureConnect', () => {
        this.tlsConnected = true;
        onConnected();
      });
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
