/**
 * The first request head of a proxied connection: finding its end (bounded), telling HTTP
 * from anything else early, and the one rewrite the proxy makes before forwarding it.
 *
 * What is rewritten (documented in README.md, "The proxy"): only the first request head of
 * each connection, and in it only
 *   - `Host`: set to the target's host[:port] (RFC 9110 §7.2), added if missing;
 *   - for a WebSocket upgrade whose request-target is exactly `/` while the --target URL
 *     has a path (e.g. `/json`): the request-target becomes that path (and query), so that
 *     `ws://proxy/` reaches the target's endpoint; any other request-target is kept;
 *   - for a request that is not an upgrade: `Connection: close` (replacing any Connection
 *     header), so that each pass-through HTTP connection carries exactly one request:
 *     later requests on a kept-alive connection would reach the target with the old Host.
 * Everything after the head, both ways, is forwarded unchanged.
 */
import type { HttpRequestHead } from '../decoder/events';
import { headerTokens } from '../decoder/handshake';
import { parseWsUrl, wsUrlOf, type WsUrl } from '../address';

/** The largest request head the proxy reads before answering 431 (RFC 6585 §5). */
export const MAX_HEAD_BYTES = 64 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** A request-line (RFC 9112 §3): method SP request-target SP HTTP-version. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/\d\.\d)$/;
/** A prefix of a request-line: token chars, then after a space no control characters. */
const REQUEST_PREFIX = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: [\x21-\x7e\x80-\xff]*(?: [\x21-\x7e]*)?)?$/;

export type HeadScan =
  | { kind: 'more' }
  | { kind: 'complete'; length: number }
  | { kind: 'not-http'; reason: string }
  | { kind: 'too-large' };

/** Looks at the bytes received so far on a new connection. */
export function scanHead(buf: Buffer): HeadScan {
  const end = buf.indexOf(CRLFCRLF);
  if (end >= 0 && end + 4 > MAX_HEAD_BYTES) return { kind: 'too-large' };
  const lineEnd = buf.indexOf('\r\n');
  const firstLine = buf.subarray(0, lineEnd >= 0 ? lineEnd : Math.min(buf.length, MAX_HEAD_BYTES)).toString('latin1');
  if (lineEnd >= 0) {
    if (!REQUEST_LINE.test(firstLine)) return { kind: 'not-http', reason: 'the first line is not an HTTP request-line' };
  } else if (!REQUEST_PREFIX.test(firstLine.replace(/\r$/, ''))) {
    return { kind: 'not-http', reason: 'the bytes do not start an HTTP request-line' };
  }
  if (end >= 0) return { kind: 'complete', length: end + 4 };
  if (buf.length >= MAX_HEAD_BYTES) return { kind: 'too-large' };
  return { kind: 'more' };
}

export interface ParsedHead extends HttpRequestHead {
  /** The raw lines, without CRLF: the request-line first, no final empty line. */
  lines: string[];
  /** The head's bytes as received. */
  raw: Buffer;
}

/** Parses a complete head (as `scanHead` delimited it); null when a header line is malformed. */
export function parseHead(head: Buffer): ParsedHead | null {
  const lines = head.toString('latin1').slice(0, -4).split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  if (!m) return null;
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon))) return null;
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { method: m[1], target: m[2], version: m[3], headers, lines, raw: head };
}

/**
 * An upgrade to WebSocket (RFC 6455 §4.1): `Upgrade` lists `websocket`, by the same rule
 * as the decoder's missing-upgrade check.
 */
function isWebSocketUpgrade(head: HttpRequestHead): boolean {
  return headerTokens(head.headers, 'upgrade').includes('websocket');
}

/** Parses --target; throws an Error with a one-line message when it is not ws[s]://host[:port][/path]. */
export function parseTarget(text: string): WsUrl {
  return parseWsUrl(text, 'target URL');
}

/** Where a forward request or a tunnel goes. */
export interface Destination {
  /** TLS to the server (https:, wss:, or TLS inside a tunnel). */
  secure: boolean;
  /** A host name or IP address as net.connect wants it (an IPv6 literal without brackets). */
  host: string;
  port: number;
  /** The request-target in origin-form (RFC 9112 §3.2.1): path and query, "/" at least. */
  path: string;
  /** host[:port], the port left out when it is the scheme's default. */
  hostHeader: string;
}

/**
 * The authority-form of a CONNECT request-target (RFC 9112 §3.2.3: `host:port`, an IPv6
 * literal in brackets); null when it is not one.
 */
export function parseAuthority(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1].replace(/^\[(.*)\]$/, '$1').toLowerCase(), port };
}

/**
 * The absolute-form of a request-target (RFC 9112 §3.2.2) as a forward proxy gets it:
 * `http://`, `https://`, `ws://` or `wss://` host[:port][/path]; null for anything else.
 */
export function parseAbsoluteTarget(text: string): Destination | null {
  if (!/^(https?|wss?):\/\//i.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!url.hostname || url.username || url.password) return null;
  return wsUrlOf(url, url.protocol === 'https:' || url.protocol === 'wss:');
}

/** host[:port] as a Host header (RFC 9110 §7.2), the port left out when it is the scheme's default. */
export function hostHeaderOf(host: string, port: number, secure: boolean): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === (secure ? 443 : 80) ? h : `${h}:${port}`;
}

/**
 * The head to send upstream (see the rules at the top of this file). `forward`: the
 * request came to us as a forward proxy: the request-target becomes `forward.path`
 * (origin-form) and the Proxy-Connection and Proxy-Authorization fields, meant for us
 * (RFC 9110 §7.6.1, §11.7.2), are not passed on.
 */
export function rewriteHead(head: ParsedHead, target: Pick<WsUrl, 'path' | 'hostHeader'>, forward?: { path: string }): Buffer {
  const upgrade = isWebSocketUpgrade(head);
  const requestTarget = forward ? forward.path : upgrade && head.target === '/' && target.path !== '/' ? target.path : head.target;
  const out = [`${head.method} ${requestTarget} ${head.version}`];
  let sawHost = false;
  let sawConnection = false;
  for (const line of head.lines.slice(1)) {
    const name = line.slice(0, line.indexOf(':'));
    const lower = name.toLowerCase();
    if (lower === 'host') {
      if (!sawHost) out.push(`${name}: ${target.hostHeader}`);
      sawHost = true;
    } else if (forward && (lower === 'proxy-connection' || lower === 'proxy-authorization')) {
      continue;
    } else if (lower === 'connection' && !upgrade) {
      if (!sawConnection) out.push(`${name}: close`);
      sawConnection = true;
    } else {
      out.push(line);
    }
  }
  if (!sawHost) out.push(`Host: ${target.hostHeader}`);
  if (!upgrade && !sawConnection) out.push('Connection: close');
  return Buffer.from(out.join('\r\n') + '\r\n\r\n', 'latin1');
}
