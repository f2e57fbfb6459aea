/**
 * The man-in-the-middle proxy: an I/O shell around the sans-IO decoder. The listener is
 * here; a connection's path is in the files named after its steps: connection.ts (the
 * phases), front.ts (its first bytes), head.ts (the one rewrite), upstream.ts (the dial),
 * relay.ts (bytes both ways, with backpressure), tee.ts (to the session and the decoder),
 * gate.ts (outputs holding the relay back), errors.ts (one-line causes).
 */
import * as net from 'net';
import type { Session } from '../session';
import type { Gate } from './gate';
import type { Decider, Interceptor } from '../intercept/engine';
import { parseTarget } from './head';
import { ProxyConnection, type ConnectionContext } from './connection';
import { ServerCerts } from './certs';
import { ForwardPolicy } from './policy';
import { describeError } from './errors';
import { now } from './tee';
import { formatAddress } from '../address';

export { parseTarget } from './head';
export { describeError } from './errors';
export { now } from './tee';

export interface ProxyOptions {
  listen: { host: string; port: number };
  /** ws://host:port[/path] or wss://... */
  target: string;
  session: Session;
  /** Payload preview cap for frame/message events (default 65536). */
  maxPayload?: number;
  /** `--protocol NAME`: the application protocol of every connection (src/protocols). */
  protocol?: string;
  /** Accept an upstream certificate that does not verify (self-signed). */
  insecure?: boolean;
  /** Milliseconds to wait for the upstream to connect and start answering (default 10000): then 502. */
  upstreamTimeout?: number;
  /**
   * Milliseconds from the accept (and again from a tunnel's 200) to a complete request head
   * (default 30000): then 408, or the connection is closed when it is in a TLS handshake.
   */
  headTimeout?: number;
  /** Milliseconds a client gets to close after the proxy's own answer (400, 403, 408, 431, 502) before it is closed for it (default 5000). */
  closeTimeout?: number;
  /** The most leaf certificates (and TLS contexts) kept for SNI names (default 1000; the oldest goes first). */
  certCacheSize?: number;
  /** Pauses the relay while an output is behind. */
  gate?: Gate;
  /**
   * Decode in this thread (default true). False when the raw data goes elsewhere to be
   * decoded (e.g. an output worker fed by session.onData): then only open, end, error and
   * listening events are published here.
   */
  decode?: boolean;
  /** Extra CA certificates to trust upstream, besides the system's (--upstream-ca). */
  ca?: string | Buffer | (string | Buffer)[];
  /** PEM files of a certificate (chain) and key to serve TLS clients instead of the local CA's (--cert, --key). */
  cert?: string;
  key?: string;
  /** Where the local CA lives (default $WSSCOPE_HOME or ~/.wsscope). */
  home?: string;
  /** Forward requests and tunnels may go anywhere even on a non-loopback listen address (--allow-forward). */
  allowForward?: boolean;
  /** Where forward requests and tunnels may go, HOST[:PORT] with * wildcards (--allow-host); others get 403. */
  allowHosts?: string[];
  /** Tunnels to these hosts are relayed blind, not intercepted (--passthrough). */
  passthrough?: string[];
  /**
   * Script hooks and/or the terminal UI's intercept (src/intercept): every connection's
   * frames go through an intercept stage (with `onDemand`, once `intercept()` was called).
   * Absent: the plain relay, nothing per chunk.
   */
  intercept?: InterceptOptions;
}

export interface InterceptOptions {
  deciders: Decider[];
  /**
   * No stage until ProxyHandle.intercept() is called (the terminal UI without --script:
   * until its intercept filter is first set). Then connections still open get it, each
   * direction at its next frame boundary outside a fragmented message, and new ones from
   * their start. Meanwhile the relay is the plain one.
   */
  onDemand?: boolean;
  /** The largest frame or message held for a hook (default 16 MiB). */
  maxMessageSize?: number;
  /** A connection's stage, for injecting and closing from outside (the terminal UI). */
  onConnection?: (conn: number, stage: Interceptor) => void;
  onConnectionEnd?: (conn: number) => void;
}

export interface ProxyHandle {
  address: string;
  port: number;
  /** What the proxy holds now: open connections, TLS contexts and leaf certificates kept (each at most certCacheSize). */
  stats(): Promise<{ connections: number; tlsContexts: number; leafCerts: number }>;
  /** Stops listening, ends every connection (each gets its `end` event), resolves when done. */
  close(): Promise<void>;
  /** With intercept.onDemand: puts the intercept stage into open connections and all later ones. */
  intercept(): void;
  /** How many open connections have an intercept stage now (for tests and the status bar). */
  intercepting(): number;
}

/** Starts the proxy; rejects with a one-line Error when the target is bad or the port is taken. */
export async function startProxy(options: ProxyOptions): Promise<ProxyHandle> {
  const target = parseTarget(options.target);
  const context: ConnectionContext = {
    target,
    options,
    certs: new ServerCerts({ cert: options.cert, key: options.key, home: options.home, cacheSize: options.certCacheSize }),
    policy: new ForwardPolicy({ listenHost: options.listen.host, allowForward: options.allowForward, allowHosts: options.allowHosts, passthrough: options.passthrough }),
  };
  const connections = new Set<ProxyConnection>();
  let nextConn = 1;
  let allDone: (() => void) | null = null;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const connection = new ProxyConnection(nextConn++, socket, context, () => {
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
    intercept() {
      if (!options.intercept || context.intercepting) return;
      context.intercepting = true;
      for (const c of connections) c.intercept();
    },
    intercepting() {
      let n = 0;
      for (const c of connections) if (c.hasStage) n++;
      return n;
    },
    async stats() {
      const { contexts, leaves } = await context.certs.cached();
      return { connections: connections.size, tlsContexts: contexts, leafCerts: leaves };
    },
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

