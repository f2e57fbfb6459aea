/**
 * `wsscope replay FILE --to ws[s]://H:P/path` and `replayCapture()`: plays the client side
 * of each captured connection against a live server and compares what it answers with
 * what was recorded, message by message (src/replay/compare.ts).
 *
 * Per connection, one after another: a fresh opening handshake with the captured
 * request's headers (Host and Sec-WebSocket-Key anew, RFC 6455 §4.1; the path of --to, or
 * the captured one when --to has none), then the client's frames in order, each masked
 * with a fresh key (§5.3), each sent once the server's messages and control frames that
 * were recorded before it have arrived (or `timeoutMs` passed); `pace` also keeps the
 * recorded gaps. Frames compressed with permessage-deflate are sent as they are when the
 * live server accepted the same parameters, else each message goes uncompressed in one
 * frame (RFC 7692 §6: a message need not be compressed). A capture whose client did not
 * close is closed with 1000 at the end.
 */
import { isDeepStrictEqual } from 'util';
import { parseWsUrl, type WsUrl } from '../address';
import { buildFrame } from '../decoder/build';
import type { HandshakeEvent, WsEvent } from '../decoder/events';
import { openWebSocket, type RawConnection } from '../teach/client';
import { HarWriter } from '../views/har';
import { compareMessages, parseJsonPath, preview, type PathSegment } from './compare';
import { arrivalsBefore, framesToSend, isArrival, messageBytes, messagesOf, readScripts, REPLAY_MAX_PAYLOAD, type ConnectionScript, type ScriptMessage } from './script';

export interface ReplayOptions {
  /** The live server: ws[s]://HOST:PORT[/path]. */
  to: string;
  /** JSON paths to leave out of the comparison (`age`, `user.name`, `items[0].ts`, `$.a`). */
  ignore?: string[];
  /** Keep the recorded time between the client's frames (default: as fast as the answers come). */
  pace?: boolean;
  /** Milliseconds to wait for each expected answer (default 5000). */
  timeoutMs?: number;
  /** wss: accept any certificate. */
  insecure?: boolean;
  /** Also write the replayed traffic as a HAR 1.2 file. */
  har?: string;
  /** Receives the live connections' decoded events. */
  onEvent?: (event: WsEvent) => void;
}

export interface MessageDifference {
  /** The server's message number in the connection, from 1. */
  message: number;
  lines: string[];
}

export interface ConnectionResult {
  /** The connection number in the capture. */
  conn: number;
  /** "GET /json". */
  request: string;
  /** The URL replayed against. */
  url: string;
  /** How many server messages were recorded and how many came. */
  recorded: number;
  received: number;
  differences: MessageDifference[];
  /** Set when the connection could not be replayed (refused, not 101, ...). */
  error?: string;
}

export interface ReplayReport {
  /** Every connection ran and every answer matched. */
  equal: boolean;
  /** Some connection could not run (the CLI's exit 2). */
  failed: boolean;
  connections: ConnectionResult[];
  /** The readable report `wsscope replay --to` prints. */
  text: string;
}

/** The path to request: --to's, or the captured request's when --to has none (just "/"). */
function livePath(url: WsUrl, to: string, script: ConnectionScript): string {
  if (url.path !== '/' || /^wss?:\/\/[^/]+\/[^/]/i.test(to)) return url.path;
  try {
    const u = new URL(script.request.target, 'ws://captured');
    return u.pathname + u.search;
  } catch {
    return url.path;
  }
}

/** Plays one connection; resolves with what the server answered. */
async function playConnection(script: ConnectionScript, url: WsUrl, options: ReplayOptions, conn: number, har: HarWriter | null): Promise<ScriptMessage[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const raw: RawConnection = await openWebSocket({ url, headers: script.request.headers, timeoutMs, insecure: options.insecure }, conn, REPLAY_MAX_PAYLOAD);
  const received: ScriptMessage[] = [];
  let arrivals = 0;
  let handshake: HandshakeEvent | undefined;
  const openedAt = Date.now();
  const publish = (event: WsEvent) => {
    har?.add(event);
    options.onEvent?.(event);
  };
  publish({ event: 'open', ts: openedAt, conn, client: raw.localAddress, target: url.href });
  raw.onEvent((event) => {
    publish(event);
    if (event.event === 'handshake') handshake = event;
    if (event.event === 'message' && event.dir === 'server') received.push({ opcode: event.opcode, bytes: messageBytes(event) });
    if ((event.event === 'message' || (event.event === 'frame' && event.opcode >= 8)) && event.dir === 'server') arrivals++;
  });
  raw.start();
  const until = async (done: () => boolean) => done() || (await raw.waitFor(done, timeoutMs));
  try {
    // Recorded compressed frames are valid only under the same parameters (RFC 7692 §7.1).
    const asMessages = script.deflate !== null && !isDeepStrictEqual(script.deflate, handshake?.permessageDeflate ?? null);
    const need = arrivalsBefore(script, 'client');
    const sends = framesToSend(script, 'client', asMessages);
    const startedAt = Date.now();
    for (const send of sends) {
      await until(() => arrivals >= need[send.index]);
      if (options.pace) {
        const wait = startedAt + (send.ts - script.ts) - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      if (raw.isClosed) break;
      await raw.send(buildFrame({ ...send.frame, from: 'client' }));
    }
    const expected = script.steps.filter((s) => s.dir === 'server' && isArrival(s)).length;
    await until(() => arrivals >= expected);
    if (!raw.isClosed && !sends.some((s) => s.frame.opcode === 8)) {
      await raw.send(buildFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]), from: 'client' }));
    }
    // The close handshake (§7.1.1): the server answers and closes; do not wait forever.
    await Promise.race([raw.closed, new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 2000)).unref())]);
  } finally {
    await raw.end('replay done');
    publish({ event: 'end', ts: Date.now(), conn, reason: raw.reason, bytes: { client: raw.bytesSent, server: raw.bytesReceived } });
  }
  return received;
}

function differences(recorded: ScriptMessage[], received: ScriptMessage[], ignore: PathSegment[][], timeoutMs: number): MessageDifference[] {
  const out: MessageDifference[] = [];
  for (let i = 0; i < Math.max(recorded.length, received.length); i++) {
    const message = i + 1;
    if (i >= received.length) {
      const text = recorded[i].opcode === 1 ? preview(recorded[i].bytes.toString('utf8')) : `${recorded[i].bytes.length} bytes`;
      out.push({ message, lines: [`expected ${text}, got nothing (no answer within ${timeoutMs} ms, or the connection closed)`] });
    } else if (i >= recorded.length) {
      const text = received[i].opcode === 1 ? preview(received[i].bytes.toString('utf8')) : `${received[i].bytes.length} bytes`;
      out.push({ message, lines: [`not in the capture: got ${text}`] });
    } else {
      const lines = compareMessages(recorded[i], received[i], ignore);
      if (lines.length) out.push({ message, lines });
    }
  }
  return out;
}

function reportText(results: ConnectionResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const head = `conn ${r.conn} (${r.request}) against ${r.url}`;
    if (r.error) {
      lines.push(`${head}: cannot replay: ${r.error}`);
    } else if (r.differences.length === 0) {
      lines.push(`${head}: equal (${r.recorded} server message${r.recorded === 1 ? '' : 's'})`);
    } else {
      lines.push(`${head}: differs`);
      for (const d of r.differences) {
        lines.push(`  server message ${d.message}:`);
        for (const line of d.lines) lines.push(`    ${line}`);
      }
    }
  }
  const differ = results.filter((r) => !r.error && r.differences.length).length;
  const failed = results.filter((r) => r.error).length;
  const summary = results.length === 0
    ? 'no WebSocket connection in the capture'
    : `${results.length} connection${results.length === 1 ? '' : 's'}: ${results.length - differ - failed} equal, ${differ} differ${failed ? `, ${failed} could not be replayed` : ''}`;
  lines.push(`replay: ${summary}`);
  return lines.join('\n') + '\n';
}

/**
 * Replays every WebSocket connection of a capture (or any file `decode` reads) against
 * `options.to`. Rejects with a one-line Error only when nothing can run (a bad URL or
 * --ignore path, an unreadable capture); a connection that fails is in the report.
 */
export async function replayCapture(file: string, options: ReplayOptions): Promise<ReplayReport> {
  const url = parseWsUrl(options.to, '--to URL');
  const ignore = (options.ignore ?? []).map(parseJsonPath);
  const scripts = await readScripts(file);
  let har: HarWriter | null = null;
  if (options.har) {
    try {
      har = new HarWriter(options.har);
    } catch (err) {
      throw new Error(`cannot write HAR file "${options.har}": ${(err as Error).message}`);
    }
  }
  const results: ConnectionResult[] = [];
  try {
    for (const [i, script] of scripts.entries()) {
      const live = { ...url, path: livePath(url, options.to, script) };
      live.href = `${url.secure ? 'wss' : 'ws'}://${url.hostHeader}${live.path}`;
      const recorded = messagesOf(script, 'server');
      const result: ConnectionResult = { conn: script.conn, request: `${script.request.method} ${script.request.target}`, url: live.href, recorded: recorded.length, received: 0, differences: [] };
      try {
        const received = await playConnection(script, live, options, i + 1, har);
        result.received = received.length;
        result.differences = differences(recorded, received, ignore, options.timeoutMs ?? 5000);
      } catch (err) {
        result.error = (err as Error).message;
      }
      results.push(result);
    }
  } finally {
    await har?.close();
  }
  const failed = results.some((r) => r.error) || results.length === 0;
  return { equal: !failed && results.every((r) => r.differences.length === 0), failed, connections: results, text: reportText(results) };
}
