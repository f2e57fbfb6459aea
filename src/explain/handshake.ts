/**
 * The HTTP upgrade explained (RFC 6455 §4): the request and response heads as sent, the
 * key and the accept value recomputed from it, the subprotocol and the extensions.
 */
import { WS_GUID } from '../decoder/constants';
import type { HandshakeEvent, HttpEvent, HttpRequestHead, HttpResponseHead, PerMessageDeflateParams } from '../decoder/events';
import { escapeForTerminal } from './escape';
import { label, violationRows } from './frame';

const esc = (text: string) => escapeForTerminal(text);

export function requestRows(request: HttpRequestHead): string[] {
  return [
    `${label('request')}${esc(request.method)} ${esc(request.target)} ${esc(request.version)}`,
    ...request.headers.map(([name, value]) => `    ${esc(name)}: ${esc(value)}`),
  ];
}

export function responseRows(response: HttpResponseHead): string[] {
  return [
    `${label('response')}${esc(response.version ?? 'HTTP/1.1')} ${response.status} ${esc(response.reason)}`,
    ...response.headers.map(([name, value]) => `    ${esc(name)}: ${esc(value)}`),
  ];
}

function deflateRows(params: PerMessageDeflateParams): string[] {
  const bits = (v: number | true | null) => (v === null ? 'not given (15)' : v === true ? 'offered, no value (15)' : String(v));
  return [
    `    permessage-deflate (RFC 7692): messages with RSV1 set are compressed`,
    `      server_no_context_takeover  ${params.serverNoContextTakeover ? 'yes: the server resets its compressor after each message' : 'no: the server keeps its window between messages'}`,
    `      client_no_context_takeover  ${params.clientNoContextTakeover ? 'yes: the client resets its compressor after each message' : 'no: the client keeps its window between messages'}`,
    `      server_max_window_bits      ${bits(params.serverMaxWindowBits)}`,
    `      client_max_window_bits      ${bits(params.clientMaxWindowBits)}`,
  ];
}

/** The whole explanation of a handshake, lines joined with "\n". */
export function explainHandshake(hs: HandshakeEvent): string {
  const lines = [`handshake  conn ${hs.conn}`, ...requestRows(hs.request), ...responseRows(hs.response)];
  lines.push(`${label('key')}${hs.key === null ? '(missing)' : esc(hs.key)}`);
  if (hs.expectedAccept !== null) {
    lines.push(`${label('expected')}${esc(hs.expectedAccept)} = base64(SHA-1(key + "${WS_GUID}")) (RFC 6455 §4.2.2)`);
  }
  const verdict = hs.acceptValid ? 'matches' : 'does NOT match';
  lines.push(`${label('accept')}${hs.accept === null ? '(missing)' : esc(hs.accept)}: ${verdict} the expected value`);
  lines.push(`${label('subprotocol')}${hs.protocol === null ? 'none' : esc(hs.protocol)}`);
  lines.push(`${label('extensions')}${hs.extensions === null ? 'none' : esc(hs.extensions)}`);
  if (hs.app) lines.push(`${label('application')}${esc(hs.app.protocol)} (${esc(hs.app.reason)})`);
  if (hs.permessageDeflate) lines.push(...deflateRows(hs.permessageDeflate));
  lines.push(...violationRows(hs.violations));
  return lines.join('\n');
}

/** A non-upgrade HTTP exchange (e.g. the demo page) seen on a connection. */
export function explainHttp(http: HttpEvent): string {
  const lines = [`http  conn ${http.conn}`, ...requestRows(http.request)];
  if (http.response) lines.push(...responseRows(http.response));
  else lines.push(`${label('response')}(none)`);
  lines.push(...violationRows(http.violations ?? []));
  return lines.join('\n');
}
