/**
 * Addresses as wsscope reads and writes them: WebSocket URLs (RFC 6455 §3,
 * `ws://host[:port][/path][?query]` and `wss://...`) as the proxy's --target and the raw
 * client's --url (send, demo) take them, one parser so that both accept and reject the
 * same URLs with the same words; and `host:port` as events and messages show it.
 */

/** "host:port", an IPv6 address in brackets ("[::1]:9000"); "?" for what is unknown. */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  const h = host ?? '?';
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? '?'}`;
}
/**
 * An address as formatAddress writes it, made one a client can dial: the wildcard a server
 * listens on for every interface (0.0.0.0, ::) is no place to connect to (browsers refuse
 * http://0.0.0.0/ or reach nothing), so it becomes the loopback address of its family
 * (127.0.0.1, [::1]). Any other address is returned as it is.
 */
export function reachableAddress(address: string): string {
  return address.replace(/^0\.0\.0\.0(?=:)/, '127.0.0.1').replace(/^\[(?:::|0:0:0:0:0:0:0:0)\](?=:)/, '[::1]');
}

export interface WsUrl {
  /** wss: TLS to the server. */
  secure: boolean;
  /** Host name or IP address as net.connect wants it (an IPv6 literal without brackets). */
  host: string;
  port: number;
  /** The request target: path and query, "/" at least. */
  path: string;
  /** The Host header value: host, plus the port unless it is the scheme's default. */
  hostHeader: string;
  /** The URL as normalised by WHATWG URL, e.g. "ws://127.0.0.1:8080/json". */
  href: string;
}

/**
 * Parses a ws:// or wss:// URL; throws an Error with a one-line message naming `what`
 * ("URL", "target URL") and the reason.
 */
export function parseWsUrl(text: string, what = 'URL'): WsUrl {
  const bad = (reason: string) => new Error(`bad ${what} "${text}": ${reason}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('expected ws://HOST:PORT/PATH, e.g. ws://127.0.0.1:8080/json');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw bad(`the scheme must be ws:// or wss://, not ${url.protocol}//`);
  if (!url.hostname) throw bad('no host');
  // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and MUST
  // NOT be used on these URIs."
  if (url.hash) throw bad('a WebSocket URL has no #fragment (RFC 6455 §3)');
  return wsUrlOf(url, url.protocol === 'wss:');
}

/** The parts of a parsed ws:, wss:, http: or https: URL as WsUrl has them; `secure`: TLS. */
export function wsUrlOf(url: URL, secure: boolean): WsUrl {
  return {
    secure,
    // URL keeps the brackets of an IPv6 literal in hostname; net.connect wants them off.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    // ws:, wss:, http: and https: are special schemes: WHATWG URL gives them a pathname of "/" at least.
    path: url.pathname + url.search,
    hostHeader: url.host,
    href: url.href,
  };
}
