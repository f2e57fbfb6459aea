/**
 * The library's live servers (`require('wsscope')`, docs/api.md): the proxy and the
 * built-in backend for tests, listening on 127.0.0.1 and a free port unless told, each
 * resolving to `{address, port, url, close()}`. The proxy keeps its events for the test to
 * look at (`events`, `waitFor`), and can save what it sees as a capture, a pcap or a HAR,
 * as the CLI's `--save`, `--pcap` and `--har` do.
 */
import { formatAddress, reachableAddress } from '../address';
import { startBackend as startEchoBackend } from '../backend';
import { CaptureWriter } from '../capture';
import { parseHostPort } from '../cli/errors';
import type { WsEvent } from '../decoder/events';
import { describeError, startProxy as startRelay } from '../proxy';
import { Session } from '../session';
import { HarWriter } from '../views/har';
import { PcapWriter } from '../views/pcap';

export interface StartBackendOptions {
  /** "HOST:PORT" to listen on; default "127.0.0.1:0" (port 0: a free one). */
  listen?: string;
  /** Accept permessage-deflate (RFC 7692). */
  deflate?: boolean;
  /** Largest message accepted (default 16 MiB); a bigger one is closed with 1009. */
  maxMessageSize?: number;
  /** Where one-line log messages go (failed upgrades, ended read loops). */
  log?: (line: string) => void;
}

export interface LiveServer {
  /** "HOST:PORT" actually listened on ("[::1]:PORT" for IPv6). */
  address: string;
  port: number;
  /** The WebSocket URL to connect to: ws://HOST:PORT/json for the backend, ws://HOST:PORT/ for the proxy. */
  url: string;
  /** Stops listening and ends every connection; resolves when done. */
  close(): Promise<void>;
}

/** Opens an output file now, so that an unwritable path fails with one line before anything starts. */
function openWriter<T>(what: string, path: string, open: (path: string) => T): T {
  try {
    return open(path);
  } catch (err) {
    throw new Error(`cannot write ${what} file "${path}": ${describeError(err)}`);
  }
}

function listenAddress(listen: string | undefined): { host: string; port: number } {
  return parseHostPort(listen ?? '127.0.0.1:0');
}

/** Starts the built-in User-JSON echo backend (`wsscope backend`). */
export async function startBackend(options: StartBackendOptions = {}): Promise<LiveServer> {
  const { host, port } = listenAddress(options.listen);
  const handle = await startEchoBackend({ host, port, deflate: options.deflate, maxMessageSize: options.maxMessageSize, log: options.log });
  return { address: handle.address, port: handle.port, url: `ws://${reachableAddress(handle.address)}/json`, close: () => handle.close() };
}

export interface StartProxyOptions {
  /** "HOST:PORT" to listen on; default "127.0.0.1:0" (port 0: a free one). */
  listen?: string;
  /** The server to forward to, ws[s]://HOST:PORT[/path]; or give `backend`. */
  target?: string;
  /** Also start the built-in backend (these options, or true) and forward to it. */
  backend?: boolean | StartBackendOptions;
  /** Receives every event as it happens (the `--ui json` events). */
  onEvent?: (event: WsEvent) => void;
  /** Keep every event in `events` (default true; a long-running proxy may not want to). */
  keepEvents?: boolean;
  /** Write a capture (`--save`), a pcap (`--pcap`), a HAR 1.2 (`--har`) file; written by close(). */
  save?: string;
  pcap?: string;
  har?: string;
  /** Payload bytes kept per frame/message event (default 65536). */
  maxPayload?: number;
  /** Accept any upstream certificate (a self-signed wss:// test server). */
  insecure?: boolean;
  /** Extra CA certificates (PEM) to trust upstream. */
  ca?: string | Buffer;
  /** Milliseconds to wait for the upstream to connect and answer (default 10000): then 502. */
  upstreamTimeout?: number;
}

export interface LiveProxy extends LiveServer {
  /** The URL forwarded to. */
  target: string;
  /** The built-in backend, when `backend` started one (close() closes it too). */
  backend: LiveServer | null;
  /** Every event so far (unless keepEvents is false), in order. */
  events: WsEvent[];
  /** The session the events are published on, for views of one's own. */
  session: Session;
  /**
   * Resolves with the first event (already seen or still to come) that `test` accepts;
   * rejects after `timeoutMs` (default 5000) without one.
   */
  waitFor(test: (event: WsEvent) => boolean, timeoutMs?: number): Promise<WsEvent>;
}

/** Starts the proxy (`wsscope proxy`): every connection's events are decoded in this thread. */
export async function startProxy(options: StartProxyOptions): Promise<LiveProxy> {
  if (options.target === undefined && !options.backend) throw new Error('startProxy needs a target (ws://HOST:PORT/path) or backend: true');
  if (options.target !== undefined && options.backend) throw new Error('startProxy takes either a target or backend, not both');
  const listen = listenAddress(options.listen);
  const session = new Session();
  const events: WsEvent[] = [];
  const waiters = new Set<(event: WsEvent) => void>();
  session.onEvent((event) => {
    if (options.keepEvents !== false) events.push(event);
    options.onEvent?.(event);
    for (const waiter of [...waiters]) waiter(event);
  });
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const o of opened.splice(0).reverse()) await o.close().catch(() => undefined);
  };
  try {
    let backend: LiveServer | null = null;
    let target = options.target;
    if (options.backend) {
      backend = await startBackend(options.backend === true ? {} : options.backend);
      opened.push(backend);
      session.info.backend = backend.address;
      target = backend.url;
    }
    const writers: { close(): Promise<void> }[] = [];
    if (options.save) writers.push(openWriter('capture', options.save, (p) => new CaptureWriter(p).attach(session)));
    if (options.pcap) writers.push(openWriter('pcap', options.pcap, (p) => new PcapWriter(p).attach(session)));
    if (options.har) writers.push(openWriter('HAR', options.har, (p) => new HarWriter(p).attach(session)));
    opened.push({ close: async () => void (await Promise.all(writers.map((w) => w.close()))) });
    const proxy = await startRelay({
      listen,
      target: target!,
      session,
      maxPayload: options.maxPayload,
      insecure: options.insecure,
      ca: options.ca,
      upstreamTimeout: options.upstreamTimeout,
    });
    const address = formatAddress(proxy.address, proxy.port);
    // Closed first: the proxy's connections end (each publishes its end) before the
    // writers flush and the backend stops.
    opened.push(proxy);
    let closing: Promise<void> | undefined;
    return {
      address,
      port: proxy.port,
      url: `ws://${reachableAddress(address)}/`,
      target: session.info.target ?? target!,
      backend,
      events,
      session,
      waitFor(test, timeoutMs = 5000) {
        const seen = events.find(test);
        if (seen) return Promise.resolve(seen);
        return new Promise<WsEvent>((resolve, reject) => {
          const waiter = (event: WsEvent) => {
            if (!test(event)) return;
            waiters.delete(waiter);
            clearTimeout(timer);
            resolve(event);
          };
          const timer = setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`no matching event within ${timeoutMs} ms`));
          }, timeoutMs);
          waiters.add(waiter);
        });
      },
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
