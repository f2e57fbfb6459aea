/**
 * The HTTP side of the seed: gin's router (one route, GET /json) and gorilla/websocket
 * 1.5.0's Upgrader.Upgrade (server.go) with `CheckOrigin: func(r) bool { return true }`.
 * Pure functions from request headers to a decision, so both the plain-request path and
 * the upgrade path of index.ts share them.
 */
// gorilla's computeAcceptKey is the same base64(SHA-1(key + GUID)) as the decoder's check
// (RFC 6455 §4.2.2 item 5.4); Node's HTTP parser trims the key as Go's does.
import { STATUS_CODES } from 'http';
import { computeAccept } from '../decoder/handshake';

/** RFC 7230 §3.2.6 tchar (gorilla util.go isTokenOctet). */
function isTokenOctet(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))
  );
}

/** gorilla util.go isSpaceOctet: space, tab, CR, LF. */
function isSpaceOctet(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * gorilla util.go tokenListContainsValue: does any value of the header hold `value` as a
 * comma-separated token (ASCII case-insensitive)? Parsing one value stops at the first
 * thing that is not "token [spaces] [, ...]" (so "Upgrade;x" does not count).
 */
export function tokenListContainsValue(values: readonly string[] | undefined, value: string): boolean {
  for (const header of values ?? []) {
    let i = 0;
    for (;;) {
      while (i < header.length && isSpaceOctet(header.charCodeAt(i))) i++;
      const start = i;
      while (i < header.length && isTokenOctet(header.charCodeAt(i))) i++;
      const token = header.slice(start, i);
      if (token === '') break;
      while (i < header.length && isSpaceOctet(header.charCodeAt(i))) i++;
      if (i < header.length && header[i] !== ',') break;
      if (token.toLowerCase() === value.toLowerCase()) return true;
      if (i >= header.length) break;
      i++; // the comma
    }
  }
  return false;
}

/** gorilla util.go parseExtensions, reduced to the extension names (the "" key). */
export function extensionNames(values: readonly string[] | undefined): string[] {
  const names: string[] = [];
  for (const header of values ?? []) {
    for (const ext of header.split(',')) {
      const name = ext.split(';')[0].trim();
      if (name) names.push(name);
    }
  }
  return names;
}

/** Request headers as arrays of values per lower-case name (Node's req.headersDistinct). */
export type HeaderValues = Record<string, string[] | undefined>;

export type RouteDecision =
  | { kind: 'demo' }
  /** A plain HTTP answer: status, headers in Go's order, body. */
  | { kind: 'respond'; status: number; headers: [string, string][]; body: Buffer; log?: string }
  /** Upgrade: the 101 response bytes and whether permessage-deflate was negotiated. */
  | { kind: 'upgrade'; response: Buffer; deflate: boolean };

/** Go's html.EscapeString as http.Redirect uses it (htmlReplacer). */
function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] ?? c);
}

/** gin's default 404 (gin.go default404Body, serveError with mimePlain "text/plain"). */
function notFound(): RouteDecision {
  return {
    kind: 'respond',
    status: 404,
    headers: [['Content-Type', 'text/plain']],
    body: Buffer.from('404 page not found'),
  };
}

/**
 * gorilla's returnError without a custom Error handler (server.go):
 *   w.Header().Set("Sec-Websocket-Version", "13")
 *   http.Error(w, http.StatusText(status), status)
 * http.Error sets Content-Type "text/plain; charset=utf-8" and X-Content-Type-Options
 * "nosniff" and writes the text plus "\n" (fmt.Fprintln). The body is only the status text:
 * the reason goes into the error Upgrade returns, which the seed prints (panic, caught and
 * logged by gin's Recovery); we put it in the backend's log.
 * Go writes the handler's headers sorted by name (Header.WriteSubset).
 */
function handshakeError(status: number, reason: string): RouteDecision {
  return {
    kind: 'respond',
    status,
    headers: [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Sec-Websocket-Version', '13'],
      ['X-Content-Type-Options', 'nosniff'],
    ],
    body: Buffer.from(`${STATUS_CODES[status]}\n`),
    log: `[Error] failed to get a connection! ${reason}`,
  };
}

/**
 * Routes one request: GET / is our demo page (not in the seed, where it would be a 404);
 * GET /json goes through gorilla's Upgrade checks; anything else is gin's 404 (gin answers
 * 404, not 405, for other methods: HandleMethodNotAllowed is off by default).
 */
export function route(method: string, url: string, headers: HeaderValues, options: { deflate: boolean }): RouteDecision {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (method === 'GET' && path === '/') return { kind: 'demo' };
  if (method === 'GET' && path === '/json/') {
    // gin's RedirectTrailingSlash (on by default): GET -> 301 to the path without the
    // slash, via Go's http.Redirect, which writes a small HTML body for GET.
    const location = '/json' + (query < 0 ? '' : url.slice(query));
    return {
      kind: 'respond',
      status: 301,
      headers: [
        ['Content-Type', 'text/html; charset=utf-8'],
        ['Location', location],
      ],
      body: Buffer.from(`<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n`),
    };
  }
  if (method !== 'GET' || path !== '/json') return notFound();

  // server.go Upgrade, gorilla 1.5.0, in its order.
  const badHandshake = 'websocket: the client is not using the websocket protocol: ';
  if (!tokenListContainsValue(headers['connection'], 'upgrade')) {
    return handshakeError(400, `${badHandshake}'upgrade' token not found in 'Connection' header`);
  }
  if (!tokenListContainsValue(headers['upgrade'], 'websocket')) {
    return handshakeError(400, `${badHandshake}'websocket' token not found in 'Upgrade' header`);
  }
  // (r.Method != GET -> 405: cannot happen here, gin only routes GET to the handler.)
  if (!tokenListContainsValue(headers['sec-websocket-version'], '13')) {
    return handshakeError(400, "websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header");
  }
  // CheckOrigin always returns true in the seed: any Origin is accepted.
  const challengeKey = headers['sec-websocket-key']?.[0] ?? '';
  if (challengeKey === '') {
    // (gorilla 1.5.0's text, with its backquote; 1.5.1 also checks the key is 16 bytes of base64.)
    return handshakeError(400, "websocket: not a websocket handshake: `Sec-WebSocket-Key' header is missing or blank");
  }
  // Negotiate PMCE: with EnableCompression (our --deflate), any offer of
  // permessage-deflate is accepted, whatever its parameters, and answered with both
  // no_context_takeover parameters (gorilla supports only those modes).
  const deflate = options.deflate && extensionNames(headers['sec-websocket-extensions']).includes('permessage-deflate');
  let response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' +
    computeAccept(challengeKey) +
    '\r\n';
  if (deflate) {
    response += 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n';
  }
  response += '\r\n';
  return { kind: 'upgrade', response: Buffer.from(response, 'latin1'), deflate };
}

/**
 * Go's http.TimeFormat "Mon, 02 Jan 2006 15:04:05 GMT" (= IMF-fixdate, RFC 7231 §7.1.1.1),
 * which is exactly what ECMAScript specifies for Date.prototype.toUTCString.
 */
export function httpDate(d: Date): string {
  return d.toUTCString();
}

/**
 * The raw bytes Go's net/http writes for a small complete response (server.go
 * chunkWriter.writeHeader): status line, the handler's headers (sorted), then Date and
 * Content-Length. Used where we own the socket (requests that arrived as upgrades).
 * Node's STATUS_CODES words the statuses used here (301, 400, 404) as Go's StatusText does.
 */
export function goHttpResponse(status: number, headers: [string, string][], body: Buffer, now = new Date()): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += `Date: ${httpDate(now)}\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
