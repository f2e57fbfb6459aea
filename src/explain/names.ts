/**
 * The words the explainer uses for opcodes and close codes (RFC 6455 §5.2, §7.4).
 */

/** What each opcode means, as a teacher would say it (RFC 6455 §5.2, §11.8). */
export function opcodeMeaning(opcode: number): string {
  switch (opcode) {
    case 0x0:
      return 'continuation frame: carries the next fragment of the current message';
    case 0x1:
      return 'text frame: the message is UTF-8 text';
    case 0x2:
      return 'binary frame: the message is arbitrary bytes';
    case 0x8:
      return 'close frame: starts or answers the closing handshake';
    case 0x9:
      return 'ping frame: the other side must answer with a pong';
    case 0xa:
      return 'pong frame: answers a ping (or is a heartbeat)';
    default:
      return opcode < 0x8 ? 'reserved for further non-control frames' : 'reserved for further control frames';
  }
}

/** The name of a close code, or the range it falls in (RFC 6455 §7.4.1, §7.4.2): the decoder's table. */
export { closeCodeName } from '../decoder/constants';

/** One side's TLS in a few words: "TLSv1.3 TLS_AES_256_GCM_SHA384, ALPN http/1.1, SNI example.test". */
export function tlsSummary(tls: { sni: string | null; alpn: string | null; version: string; cipher: string } | null | undefined): string {
  if (!tls) return 'plain TCP (no TLS)';
  return `${tls.version} ${tls.cipher}, ALPN ${tls.alpn ?? 'none'}, SNI ${tls.sni ?? 'none'}`;
}

/**
 * How a connection reached the proxy, short (the connections pane and the text log):
 * "tunnel wss localhost", "forward", "reverse wss"; "" for plain reverse (the default,
 * what every connection was before the one-port front) and for open events without a mode.
 */
export function modeSummary(open: { mode?: string; tls?: { sni: string | null } | null; passthrough?: boolean } | undefined): string {
  if (!open?.mode || (open.mode === 'reverse' && !open.tls)) return '';
  const tls = open.tls ? ` wss${open.tls.sni ? ` ${open.tls.sni}` : ''}` : '';
  return `${open.mode}${open.passthrough ? ' blind' : ''}${tls}`;
}
