/**
 * The opening handshake (RFC 6455 §4): HTTP/1.1 heads parsed with headers kept in wire
 * order and case, the checks of §4.1/§4.2, Sec-WebSocket-Accept recomputed, and the
 * negotiated subprotocol and extensions (permessage-deflate parameters, RFC 7692 §7).
 */
import { createHash } from 'node:crypto';
import { WS_GUID, violation } from './constants';
import type { HandshakeEvent, HttpRequestHead, HttpResponseHead, PerMessageDeflateParams, Violation } from './events';

/** §4.2.2: base64(SHA-1(key + GUID)), the key taken as a string (trimmed). */
export function computeAccept(key: string): string {
  return createHash('sha1').update(key.trim() + WS_GUID).digest('base64');
}

/** All values of a header (case-insensitive name), in wire order. */
export function headerValues(headers: [string, string][], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [n, v] of headers) if (n.toLowerCase() === lower) out.push(v);
  return out;
}

/** A header's values joined as one comma-separated list (RFC 7230 §3.2.2), or null. */
export function headerValue(headers: [string, string][], name: string): string | null {
  const values = headerValues(headers, name);
  return values.length ? values.join(', ') : null;
}

/** Comma-separated tokens of a header (all its lines), trimmed and lowercased. */
export function headerTokens(headers: [string, string][], name: string): string[] {
  const v = headerValue(headers, name);
  return v === null ? [] : v.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0);
}

export interface ParsedHead<T> {
  head: T;
  violations: Violation[];
}

/** Splits a head (without the final CRLF CRLF) into its start line and header fields. */
function splitHead(text: string, violations: Violation[], what: string): { start: string; headers: [string, string][] } {
  const lines = text.split(/\r?\n/);
  const start = lines[0];
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0) continue;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      // Obsolete line folding (RFC 7230 §3.2.4): part of the previous value.
      headers[headers.length - 1][1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      violations.push(violation('malformed-http', `${what} header line without a name and colon: ${JSON.stringify(line.slice(0, 80))}`));
      continue;
    }
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { start, headers };
}

/** Parses a request head (bytes before CRLF CRLF, latin1). Null when the start line is not a request line. */
export function parseRequestHead(text: string): ParsedHead<HttpRequestHead> | null {
  const violations: Violation[] = [];
  const { start, headers } = splitHead(text, violations, 'request');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/\d\.\d)$/.exec(start);
  if (!m) return null;
  return { head: { method: m[1], target: m[2], version: m[3], headers }, violations };
}

/** Parses a response head. Null when the start line is not a status line. */
export function parseResponseHead(text: string): ParsedHead<HttpResponseHead> | null {
  const violations: Violation[] = [];
  const { start, headers } = splitHead(text, violations, 'response');
  const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(start);
  if (!m) return null;
  return { head: { version: m[1], status: Number(m[2]), reason: m[3] ?? '', headers }, violations };
}

/** Does the request ask for a WebSocket upgrade (an Upgrade header or a WebSocket key)? */
export function isUpgradeRequest(req: HttpRequestHead): boolean {
  return headerValue(req.headers, 'upgrade') !== null || headerValue(req.headers, 'sec-websocket-key') !== null;
}

/** §4.1 checks of the client's opening handshake. */
export function checkRequest(req: HttpRequestHead): Violation[] {
  const v: Violation[] = [];
  const version = /^HTTP\/(\d)\.(\d)$/.exec(req.version);
  if (req.method !== 'GET') v.push(violation('bad-method', `upgrade request method is ${req.method}, not GET`));
  if (!version || Number(version[1]) * 10 + Number(version[2]) < 11) v.push(violation('bad-method', `upgrade request is ${req.version}, not HTTP/1.1 or later`));
  if (headerValue(req.headers, 'host') === null) v.push(violation('missing-host', 'upgrade request has no Host header'));
  if (!headerTokens(req.headers, 'upgrade').includes('websocket')) v.push(violation('missing-upgrade', 'upgrade request has no "Upgrade: websocket" header'));
  if (!headerTokens(req.headers, 'connection').includes('upgrade')) v.push(violation('missing-connection', 'upgrade request has no Connection header with the "Upgrade" token'));
  const keys = headerValues(req.headers, 'sec-websocket-key');
  if (keys.length !== 1) {
    v.push(violation('bad-key', keys.length === 0 ? 'upgrade request has no Sec-WebSocket-Key' : 'upgrade request has several Sec-WebSocket-Key headers'));
  } else if (!isKey(keys[0])) {
    v.push(violation('bad-key', `Sec-WebSocket-Key ${JSON.stringify(keys[0])} is not the base64 of 16 bytes`));
  }
  const versions = headerValues(req.headers, 'sec-websocket-version');
  if (versions.length !== 1 || versions[0].trim() !== '13') {
    v.push(violation('bad-version', versions.length === 0 ? 'upgrade request has no Sec-WebSocket-Version' : `Sec-WebSocket-Version is ${JSON.stringify(versions.join(', '))}, not 13`));
  }
  return v;
}

/** base64 of exactly 16 bytes: 22 base64 characters and "==". */
function isKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key.trim());
}

/** The handshake event of a 101 exchange: its findings come from `check`; `violations` are all it breaks, in order. */
export function handshakeEvent(conn: number, ts: number, request: HttpRequestHead, response: HttpResponseHead, check: ResponseCheck, violations: Violation[]): HandshakeEvent {
  return {
    event: 'handshake',
    ts,
    conn,
    request,
    response,
    key: check.key,
    accept: check.accept,
    expectedAccept: check.expectedAccept,
    acceptValid: check.acceptValid,
    protocol: check.protocol,
    extensions: check.extensions,
    permessageDeflate: check.permessageDeflate,
    violations,
  };
}

/** The handshake event's findings (events.ts), plus what the frame decoders need to know. */
export interface ResponseCheck extends Pick<HandshakeEvent, 'key' | 'accept' | 'expectedAccept' | 'acceptValid' | 'protocol' | 'extensions' | 'violations'> {
  permessageDeflate: PerMessageDeflateParams | null;
  /** An accepted extension other than permessage-deflate: its RSV use is unknown. */
  unknownExtension: boolean;
}

/** §4.1 (client side) checks of a 101 response against its request. */
export function checkResponse(req: HttpRequestHead, res: HttpResponseHead): ResponseCheck {
  const v: Violation[] = [];
  if (!headerTokens(res.headers, 'upgrade').includes('websocket')) v.push(violation('response-missing-upgrade', '101 response has no "Upgrade: websocket" header'));
  if (!headerTokens(res.headers, 'connection').includes('upgrade')) v.push(violation('response-missing-connection', '101 response has no Connection header with the "Upgrade" token'));
  const keys = headerValues(req.headers, 'sec-websocket-key');
  const key = keys.length ? keys[0].trim() : null;
  const accept = headerValue(res.headers, 'sec-websocket-accept');
  const expectedAccept = key !== null ? computeAccept(key) : null;
  const acceptValid = accept !== null && expectedAccept !== null && accept.trim() === expectedAccept;
  if (!acceptValid) {
    v.push(
      violation(
        'bad-accept',
        accept === null ? 'response has no Sec-WebSocket-Accept' : expectedAccept === null ? 'request had no key to check Sec-WebSocket-Accept against' : `Sec-WebSocket-Accept is ${accept}, expected ${expectedAccept}`,
      ),
    );
  }
  const protocol = headerValue(res.headers, 'sec-websocket-protocol');
  if (protocol !== null) {
    const offered = (headerValue(req.headers, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(protocol.trim())) v.push(violation('unrequested-protocol', `server selected subprotocol "${protocol}" which the client did not offer`));
  }
  const extensions = headerValue(res.headers, 'sec-websocket-extensions');
  let permessageDeflate: PerMessageDeflateParams | null = null;
  let unknownExtension = false;
  if (extensions !== null) {
    const offered = parseExtensions(headerValue(req.headers, 'sec-websocket-extensions') ?? '');
    const offeredNames = new Set(offered.map((e) => e.name));
    const clientOfferedWindowBits = offered.some((o) => o.name === 'permessage-deflate' && o.params.some(([n]) => n === 'client_max_window_bits'));
    for (const ext of parseExtensions(extensions)) {
      if (!offeredNames.has(ext.name)) v.push(violation('unrequested-extension', `server accepted extension "${ext.name}" which the client did not offer`));
      if (ext.name === 'permessage-deflate') {
        if (permessageDeflate !== null) {
          v.push(violation('bad-deflate-params', 'permessage-deflate accepted twice'));
          continue;
        }
        permessageDeflate = deflateParams(ext.params, 'response', v, clientOfferedWindowBits);
      } else {
        unknownExtension = true;
      }
    }
  }
  return { key, accept, expectedAccept, acceptValid, protocol, extensions, permessageDeflate, unknownExtension, violations: v };
}

export interface Extension {
  name: string;
  /** Parameters as [name, value], value null when given without "=value". */
  params: [string, string | null][];
}

/** Parses a Sec-WebSocket-Extensions value (§9.1): "name; param; param=value, name2". */
export function parseExtensions(value: string): Extension[] {
  const out: Extension[] = [];
  for (const item of value.split(',')) {
    const parts = item.split(';').map((p) => p.trim());
    if (!parts[0]) continue;
    const params: [string, string | null][] = [];
    for (const p of parts.slice(1)) {
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) params.push([p.toLowerCase(), null]);
      else params.push([p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')]);
    }
    out.push({ name: parts[0].toLowerCase(), params });
  }
  return out;
}

/**
 * permessage-deflate parameters (RFC 7692 §7.1). In a response, client_max_window_bits
 * needs a value and only when the client offered it (§7.1.2.2); window bits are 8..15
 * without leading zeros (§7.1.2.1).
 */
export function deflateParams(params: [string, string | null][], where: 'response' | 'assumed', v: Violation[], clientOfferedWindowBits = true): PerMessageDeflateParams {
  const out: PerMessageDeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: null, clientMaxWindowBits: null };
  const seen = new Set<string>();
  const bits = (value: string | null): number | null => (value !== null && /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : null);
  for (const [name, value] of params) {
    if (seen.has(name)) v.push(violation('bad-deflate-params', `permessage-deflate parameter ${name} given twice`));
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== null) v.push(violation('bad-deflate-params', `permessage-deflate parameter ${name} takes no value`));
        if (name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const b = bits(value);
        if (b === null) v.push(violation('bad-deflate-params', `server_max_window_bits=${value ?? ''} is not 8..15`));
        else out.serverMaxWindowBits = b;
        break;
      }
      case 'client_max_window_bits': {
        if (value === null && where === 'response') {
          v.push(violation('bad-deflate-params', 'client_max_window_bits in a response needs a value 8..15'));
          out.clientMaxWindowBits = true;
          break;
        }
        if (where === 'response' && !clientOfferedWindowBits) {
          v.push(violation('bad-deflate-params', 'client_max_window_bits in the response, but the client did not offer it'));
        }
        const b = value === null ? true : bits(value);
        if (b === null) v.push(violation('bad-deflate-params', `client_max_window_bits=${value} is not 8..15`));
        else out.clientMaxWindowBits = b;
        break;
      }
      default:
        v.push(violation('bad-deflate-params', `unknown permessage-deflate parameter ${name}`));
    }
  }
  return out;
}
