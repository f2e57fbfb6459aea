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
