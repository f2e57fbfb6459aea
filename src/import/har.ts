/**
 * HAR files (HAR 1.2, http://www.softwareishard.com/blog/har-12-spec/) with WebSocket
 * messages, as Chrome's and Firefox's DevTools save them: an entry per WebSocket (Chrome
 * marks it `_resourceType: "websocket"`; its URL is ws:// or wss://, its response a 101)
 * whose `_webSocketMessages` lists `{type: "send" | "receive", time, opcode, data}`:
 * `time` in seconds since the epoch, `data` the message's text, or for binary messages
 * (opcode 2) its bytes in base64.
 *
 * A HAR holds messages, not frames: no frame headers, masks, fragmentation or compression
 * (the browser records the message after reassembly and inflation). So an entry becomes:
 * `open` (with a `note` saying so), `handshake` from the recorded request and response
 * headers when the response is a 101 (checked by the same RFC 6455 §4 rules as on the
 * wire; `http` otherwise), one `message` event per recorded message with `source: "har"`,
 * `frames: 0` (not recorded) and `compressed: false` (not known), and `end`, whose byte
 * counts are the messages' payload bytes. No frame event is made up.
 *
 * The messages go through the same application-protocol layer as a decoded connection's
 * (src/protocols AppLayer: detection from the handshake's Sec-WebSocket-Protocol and URL,
 * then the first messages; `--protocol` forces one), so they get `message.app` and the
 * connection its `protocol` event just as a pcap or a wsscope capture of the same traffic.
 *
 * The message and header shapes are the HAR writer's (src/views/har.ts).
 */
import type { HttpRequestHead, HttpResponseHead, MessageEvent, WsEvent } from '../decoder/events';
import { checkRequest, checkResponse, handshakeEvent } from '../decoder/handshake';
import { DEFAULT_MAX_PAYLOAD, opcodeName } from '../decoder';
import { AppLayer, moduleNamed, unknownProtocol, type ProtocolModule } from '../protocols';
import { ImportFormatError, NoConnectionError } from './packets';
import type { HarHeader, HarWebSocketMessage } from '../views/har';

/**
 * What the reader accepts: a HAR as DevTools save it, whose entries may carry more fields or
 * fewer than the HAR 1.2 writer's (src/views/har.ts, whose HarHeader and
 * HarWebSocketMessage are shared here); everything is checked as it is read.
 */
export interface HarInputEntry {
  startedDateTime?: string;
  time?: number;
  request?: { method?: string; url?: string; httpVersion?: string; headers?: HarHeader[]; [k: string]: unknown };
  response?: { status?: number; statusText?: string; httpVersion?: string; headers?: HarHeader[]; [k: string]: unknown };
  _resourceType?: string;
  _webSocketMessages?: HarWebSocketMessage[];
  [k: string]: unknown;
}

export interface HarInput {
  log: { version?: string; creator?: { name: string; version: string }; entries: HarInputEntry[]; [k: string]: unknown };
}

/** The note every HAR connection carries (the views show it). */
export const HAR_NOTE = 'from a HAR file: messages only; frame detail (headers, masking, fragmentation, compression, control frames) is not in a HAR';

/** Largest HAR read (it is JSON, read whole). */
export const MAX_HAR_BYTES = 256 * 1024 * 1024;

/** Does the start of a file look like a HAR (JSON whose first key is "log")? */
export function sniffHar(head: Buffer): boolean {
  return /^\uFEFF?\s*\{\s*"log"\s*:\s*\{/.test(head.subarray(0, 256).toString('utf8'));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function headers(value: unknown): [string, string][] {
  if (!Array.isArray(value)) return [];
  return value.filter((h) => isObject(h) && typeof h.name === 'string').map((h) => [String(h.name), String(h.value ?? '')]);
}

function isWebSocketEntry(e: Record<string, unknown>): boolean {
  if (Array.isArray(e._webSocketMessages) || e._resourceType === 'websocket') return true;
  const url = isObject(e.request) ? e.request.url : undefined;
  if (typeof url === 'string' && /^wss?:\/\//i.test(url)) return true;
  // An upgrade logged under its http(s):// URL: a 101 with Upgrade: websocket.
  const res = isObject(e.response) ? e.response : {};
  return res.status === 101 && headers(res.headers).some(([n, v]) => n.toLowerCase() === 'upgrade' && /websocket/i.test(v));
}

/** The events of a HAR's WebSocket entries, in entry order. Throws ImportFormatError when it is not a HAR. */
export function harEvents(text: string, options: { source?: string; maxPayload?: number; protocol?: string } = {}): WsEvent[] {
  const source = options.source ?? 'HAR';
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const forced = options.protocol === undefined ? null : moduleNamed(options.protocol);
  if (forced === undefined) throw new Error(unknownProtocol(options.protocol!));
  let har: unknown;
  try {
    har = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ImportFormatError(source, `not a readable HAR (invalid JSON: ${(err as Error).message.split('\n')[0]})`);
  }
  if (!isObject(har) || !isObject(har.log) || !Array.isArray(har.log.entries)) {
    throw new ImportFormatError(source, 'not a HAR: no log.entries array');
  }
  const events: WsEvent[] = [];
  let conn = 0;
  for (const entry of har.log.entries) {
    if (!isObject(entry) || !isWebSocketEntry(entry)) continue;
    conn++;
    entryEvents(entry, conn, maxPayload, forced, (e) => events.push(e));
  }
  if (conn === 0) {
    const n = har.log.entries.length;
    throw new NoConnectionError(source, `${n} HAR entr${n === 1 ? 'y' : 'ies'}, none a WebSocket: DevTools saves WebSocket messages as "_webSocketMessages" of a ws:// or wss:// entry`);
  }
  return events;
}

function entryEvents(entry: Record<string, unknown>, conn: number, maxPayload: number, forced: ProtocolModule | null, emit: (event: WsEvent) => void): void {
  const request = isObject(entry.request) ? entry.request : {};
  const response = isObject(entry.response) ? entry.response : {};
  const started = typeof entry.startedDateTime === 'string' ? Date.parse(entry.startedDateTime) : NaN;
  const url = typeof request.url === 'string' ? request.url : '';
  const messages = Array.isArray(entry._webSocketMessages) ? entry._webSocketMessages : [];
  const firstTime = messages.length && isObject(messages[0]) ? toMillis(messages[0].time) : NaN;
  const openTs = Number.isFinite(started) ? started : Number.isFinite(firstTime) ? firstTime : 0;
  emit({ event: 'open', ts: openTs, conn, client: 'browser (HAR)', target: url, note: HAR_NOTE });

  let path = '/';
  try {
    const u = new URL(url);
    path = u.pathname + u.search;
  } catch {
    /* a HAR with an odd URL: keep "/" */
  }
  const req: HttpRequestHead = {
    method: typeof request.method === 'string' ? request.method : 'GET',
    target: path,
    version: typeof request.httpVersion === 'string' && /^HTTP\/\d\.\d$/i.test(request.httpVersion) ? request.httpVersion.toUpperCase() : 'HTTP/1.1',
    headers: headers(request.headers),
  };
  const status = typeof response.status === 'number' ? response.status : 0;
  const res: HttpResponseHead = { status, reason: typeof response.statusText === 'string' ? response.statusText : '', headers: headers(response.headers) };
  // The layer emits the message events itself (with `app` added), as on a decoded connection.
  const layer = new AppLayer(conn, forced, emit);
  let layerStart: ReturnType<AppLayer['start']>;
  if (status === 101) {
    const check = checkResponse(req, res);
    const handshake = handshakeEvent(conn, openTs, req, res, check, [...checkRequest(req), ...check.violations]);
    layerStart = layer.start(handshake);
    emit(handshake);
  } else {
    if (status > 0) emit({ event: 'http', ts: openTs, conn, request: req, response: res });
    layerStart = layer.start(null);
  }
  if (layerStart.after) emit(layerStart.after);

  const bytes = { client: 0, server: 0 };
  let lastTs = openTs;
  for (const m of messages) {
    if (!isObject(m) || (m.type !== 'send' && m.type !== 'receive') || typeof m.data !== 'string') {
      emit({ event: 'error', ts: lastTs, conn, message: 'a _webSocketMessages item without type "send"/"receive" and a data string: skipped' });
      continue;
    }
    const ts = toMillis(m.time);
    if (Number.isFinite(ts)) lastTs = ts;
    const dir = m.type === 'send' ? 'client' : 'server';
    const opcode = typeof m.opcode === 'number' && Number.isInteger(m.opcode) ? m.opcode : 1;
    const message: MessageEvent = { event: 'message', ts: lastTs, conn, dir, opcode, opcodeName: opcodeName(opcode), frames: 0, length: 0, compressed: false, source: 'har', violations: [] };
    const data = opcode === 0x2 ? Buffer.from(m.data, 'base64') : Buffer.from(m.data, 'utf8');
    message.length = data.length;
    if (opcode === 0x2) message.data = data.subarray(0, maxPayload).toString('hex');
    else message.text = data.length > maxPayload ? data.subarray(0, maxPayload).toString('utf8') : m.data;
    if (data.length > maxPayload) message.truncated = true;
    bytes[dir] += message.length;
    // Only data messages carry an application protocol (a HAR may list other opcodes).
    if (layerStart.attach && (opcode === 0x1 || opcode === 0x2)) layer.message(message, data);
    else emit(message);
  }
  emit({ event: 'end', ts: lastTs, conn, reason: 'end of the HAR entry', bytes });
}

/** A message's `time`: seconds since the epoch as DevTools writes it (milliseconds taken as such). */
function toMillis(time: unknown): number {
  if (typeof time !== 'number' || !Number.isFinite(time)) return NaN;
  return time < 1e11 ? time * 1000 : time;
}
