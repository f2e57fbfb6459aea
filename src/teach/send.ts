/**
 * `wsscope send`: handshake, then the given bytes exactly as given, then whatever the
 * server answers, decoded, until it closes the connection or stays silent for a while.
 * The way to show how a real server reacts to an unmasked client frame (RFC 6455 §5.1:
 * "a server MUST close the connection upon receiving a frame that is not masked") or to a
 * bad close code (§7.4).
 */
import type { WsEvent } from '../decoder/events';
import { spacedHex } from '../explain/payload';
import { openWebSocket, type WsUrl } from './client';
import { EventPrinter, handshakeLines } from './format';

export interface SendOptions {
  url: WsUrl;
  /** The bytes to write, in order; each is one write on the socket. */
  chunks: Buffer[];
  /** Stop after this many ms without data from the server (and for the handshake). */
  timeoutMs: number;
  ui: 'text' | 'json';
  verbose?: boolean;
  key?: string;
  extensions?: string;
  insecure?: boolean;
  maxPayload?: number;
  /** Keep the events in the result (for tests; a long session would grow without bound). */
  keepEvents?: boolean;
}

export interface SendResult {
  /** How it ended: 'closed by the server' or 'timeout'. */
  ending: 'closed by the server' | 'timeout';
  /** The events, when keepEvents was set; else empty. */
  events: WsEvent[];
}

/** Runs one send session, writing lines (text or NDJSON) to `out`. */
export async function runSend(options: SendOptions, out: (line: string) => void): Promise<SendResult> {
  const { url } = options;
  const conn = await openWebSocket(
    { url, key: options.key, extensions: options.extensions, timeoutMs: options.timeoutMs, insecure: options.insecure },
    1,
    options.maxPayload,
  );
  const events: WsEvent[] = [];
  const json = options.ui === 'json';
  const printer = new EventPrinter(out, { verbose: options.verbose });
  const emit = (event: WsEvent) => {
    if (options.keepEvents) events.push(event);
    if (json) out(JSON.stringify(event));
    else printer.print(event);
  };
  if (json) {
    // The handshake event comes from the decoder, like every other event.
    emit({ event: 'open', ts: Date.now(), conn: 1, client: conn.localAddress, target: url.href });
  } else {
    out(`connected to ${url.host}:${url.port}`);
    for (const line of handshakeLines(conn.handshake, options.verbose)) out(line);
  }
  conn.onEvent(emit);
  conn.start();

  for (const [i, chunk] of options.chunks.entries()) {
    if (conn.isClosed) {
      if (!json) out(`the server closed the connection before chunk ${i + 1} of ${options.chunks.length} was sent`);
      break;
    }
    if (!json) out(`sending ${chunk.length} byte${chunk.length === 1 ? '' : 's'}: ${hexPreview(chunk)}`);
    await conn.send(chunk);
  }

  const quiet = await conn.waitQuiet(options.timeoutMs);
  const ending = quiet ? 'timeout' : 'closed by the server';
  if (quiet) {
    if (!json) out(`no data for ${options.timeoutMs} ms: closing the TCP connection`);
    await conn.end(`no data for ${options.timeoutMs} ms`);
  } else {
    await conn.end('closed by the server');
    if (!json) out('the server closed the TCP connection');
  }
  const end: WsEvent = {
    event: 'end',
    ts: Date.now(),
    conn: 1,
    reason: conn.reason,
    bytes: { client: conn.bytesSent, server: conn.bytesReceived },
  };
  if (json) emit(end);
  else out(`sent ${conn.bytesSent} bytes, received ${conn.bytesReceived} bytes after the handshake`);
  return { ending, events };
}

function hexPreview(bytes: Buffer): string {
  const shown = spacedHex(bytes.subarray(0, 32));
  return bytes.length > 32 ? `${shown} …` : shown;
}
