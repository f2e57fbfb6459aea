/**
 * The explainer: pure text rendering of decoder events (no colours, no I/O), as a teacher
 * would explain them. Views reuse the pieces: bit rows, length form, unmasking, payload.
 */
export { escapeForTerminal, quoteForTerminal, type EscapeOptions } from './escape';
export { opcodeMeaning } from './names';
export { hexDump, prettyJson, showPayload, spacedHex, utf8OrNull, type PayloadView } from './payload';
export {
  exactPayloadLength,
  explainFrame,
  extendedLengthRows,
  frameTitle,
  headerBitRows,
  lengthExplanation,
  maskingRows,
  payloadRows,
  violationRows,
  type ExplainOptions,
} from './frame';
export { explainHandshake, explainHttp, requestRows, responseRows } from './handshake';
export { explainMessage } from './message';
export { summarizeFrame, summarizeMessage } from './summary';
export { TextRenderer, type TextRendererOptions } from './render';
