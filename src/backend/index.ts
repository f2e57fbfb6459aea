/**
 * The built-in User-JSON echo backend: a TypeScript port of the seed's Go server
 * (../shared/seed/websocket-in-go.txt: gin + gorilla/websocket 1.5, WriteBufferSize 1024).
 *
 *   GET /json  WebSocket upgrade (any Origin); every text message p is answered with the
 *              bytes of WriteJSON(User{Name: p, Age: 18, Description: p + "很厉害!!!!"}),
 *              cut into frames as gorilla cuts them; binary messages get no answer.
 *   GET /      a demo page (our addition; the seed has no such route).
 *   else       gin's 404 "404 page not found".
 *
 * We take over the socket at the upgrade (Node's 'upgrade' event, like Go's Hijack) and
 * write every byte of the 101 response and of the frames ourselves: `ws` is not used, so
 * nothing validates or rewrites what the seed would not (gorilla does not check UTF-8 in
 * text messages, and neither do we). See README "The built-in backend" for the differences.
 */
import { readFileSync } from 'fs';
import { createServer, IncomingMessage, ServerResponse } from 'http';
import type { Socket } from 'net';
import { join } from 'path';
import { formatAddress } from '../address';
import { serveConnection } from './connection';
import { goHttpResponse, httpDate, route } from './handshake';

export interface BackendOptions {
  host?: string;
  port?: number;
  deflate?: boolean;
  maxMessageSize?: number;
  /** Optional: where to write one-line log messages (failed upgrades, ended read loops). */
  log?: (line: string) => void;
}

export interface BackendHandle {
  address: string /* "127.0.0.1:PORT" */;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_BACKEND_HOST = '127.0.0.1';
export const DEFAULT_BACKEND_PORT = 8080;
/**
 * Largest message (wire bytes, and inflated bytes with --deflate) the backend reads: 16 MiB.
 * gorilla has no default limit (SetReadLimit is not called in the seed); a bigger message,
 * or a frame that claims a bigger length, is refused with close code 1009 (message too
 * big) before any of its payload is buffered, as gorilla does when a read limit is set.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** The seed's Upgrader HandshakeTimeout; we apply it to receiving the request headers. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

let demoPageCache: Buffer | null = null;
/**
 * The demo page, read once from demo.html next to this module (the build copies it to
 * dist); null if it is missing (a build without the copy step).
 */
export function demoPage(): Buffer | null {
  if (!demoPageCache) {
    try {
      demoPageCache = readFileSync(join(__dirname, 'demo.html'));
    } catch {
      return null;
    }
  }
  return demoPageCache;
}
const DEMO_MISSING = Buffer.from('demo page missing: run `npm run build`\n');


export function startBackend(options: BackendOptions = {}): Promise<BackendHandle> {
  const host = options.host ?? DEFAULT_BACKEND_HOST;
  const requestedPort = options.port ?? DEFAULT_BACKEND_PORT;
  const deflate = options.deflate ?? false;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const log = options.log;
  const sockets = new Set<Socket>();

  const server = createServer({
    // Bounds the wait for a request's headers (Go's server has no such limit; gorilla's
    // HandshakeTimeout only bounds writing the 101), so half-sent handshakes cannot pile up.
    headersTimeout: HANDSHAKE_TIMEOUT_MS,
    requestTimeout: 60_000,
    connectionsCheckingInterval: 1000,
  });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const decision = route(req.method ?? '', req.url ?? '/', req.headersDistinct, { deflate });
    if (decision.kind === 'demo') {
      const page = demoPage();
      if (!page) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(DEMO_MISSING);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': page.length });
      res.end(page);
      return;
    }
    if (decision.kind === 'upgrade') {
      // Node routes every request carrying Connection: upgrade + Upgrade to 'upgrade'; a
      // request that passes gorilla's checks cannot get here. Refuse rather than guess.
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad Request\n');
      return;
    }
    if (decision.log) log?.(decision.log);
    // Go's header order and Date; Node adds its own Connection/Keep-Alive headers.
    res.sendDate = false;
    for (const [name, value] of decision.headers) res.setHeader(name, value);
    res.setHeader('Date', httpDate(new Date()));
    res.setHeader('Content-Length', decision.body.length);
    res.writeHead(decision.status);
    res.end(decision.body);
  };

  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const decision = route(req.method ?? '', req.url ?? '/', req.headersDistinct, { deflate });
    if (decision.kind === 'upgrade') {
      socket.write(decision.response);
      serveConnection(socket, head, { maxMessageSize, deflate: decision.deflate, log });
      return;
    }
    // We own the raw socket now: answer as Go's net/http would, then close.
    if (decision.kind === 'demo') {
      const page = demoPage();
      socket.end(
        page
          ? goHttpResponse(200, [['Content-Type', 'text/html; charset=utf-8']], page)
          : goHttpResponse(500, [['Content-Type', 'text/plain']], DEMO_MISSING),
      );
      return;
    }
    if (decision.log) log?.(decision.log);
    socket.end(goHttpResponse(decision.status, decision.headers, decision.body));
  };

  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Malformed HTTP: Go's net/http answers "HTTP/1.1 " + publicErr + errorHeaders +
  // publicErr and closes (server.go, conn.serve); never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const publicErr =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout' // our handshake timeout (Go would wait forever)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${publicErr}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${publicErr}`);
  });

  return new Promise<BackendHandle>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = formatAddress(host, requestedPort);
      if (err.code === 'EADDRINUSE') reject(new Error(`${where} is already in use`));
      else if (err.code === 'EACCES') reject(new Error(`no permission to listen on ${where}`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new Error(`cannot listen on ${where}: no such local address`));
      else reject(new Error(`cannot listen on ${where}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(requestedPort, host, () => {
      server.off('error', onError);
      server.on('error', (err) => log?.(`server error: ${err.message}`));
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : requestedPort;
      let closed: Promise<void> | null = null;
      resolve({
        address: formatAddress(host, port),
        port,
        close(): Promise<void> {
          if (!closed) {
            closed = new Promise<void>((done) => {
              server.close(() => done());
              for (const socket of sockets) socket.destroy();
            });
          }
          return closed;
        },
      });
    });
  });
}
