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

/** A short name for an opcode, for when an event does not carry one. */
export function opcodeShortName(opcode: number): string {
  const names: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
  return names[opcode] ?? `reserved-${opcode.toString(16)}`;
}

/** RFC 6455 §7.4.1 and the IANA "WebSocket Close Code Number Registry" (§11.7). */
const CLOSE_CODES: Record<number, string> = {
  1000: 'Normal Closure',
  1001: 'Going Away',
  1002: 'Protocol Error',
  1003: 'Unsupported Data',
  1004: 'Reserved',
  1005: 'No Status Received (must not be sent)',
  1006: 'Abnormal Closure (must not be sent)',
  1007: 'Invalid Frame Payload Data',
  1008: 'Policy Violation',
  1009: 'Message Too Big',
  1010: 'Mandatory Extension',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
  1014: 'Bad Gateway',
  1015: 'TLS Handshake Failure (must not be sent)',
};

/** The name of a close code, or the range it falls in (RFC 6455 §7.4.2). */
export function closeCodeName(code: number): string {
  const name = CLOSE_CODES[code];
  if (name) return name;
  if (code < 1000) return 'not used (0-999)';
  if (code < 3000) return 'reserved for this protocol and its extensions (1000-2999), unassigned';
  if (code < 4000) return 'registered with IANA for libraries and frameworks (3000-3999)';
  if (code < 5000) return 'private use (4000-4999)';
  return 'out of range (above 4999)';
}
