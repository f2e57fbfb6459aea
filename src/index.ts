/**
 * The wsscope library: `require('wsscope')` or `import ... from 'wsscope'` (docs/api.md).
 * A plain list of exports; each module documents its own.
 */
export { decodeFile, decodeBytes, type DecodeFileOptions } from './lib/decode';
export { startProxy, startBackend, type StartProxyOptions, type StartBackendOptions, type LiveProxy, type LiveServer } from './lib/live';
export { ConnectionDecoder, decodeFrames, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_INFLATE, RULES, OPCODES, CLOSE_CODES, closeCodeName, opcodeName, computeAccept, type ConnectionDecoderOptions, type RuleId } from './decoder';
export type * from './decoder/events';
// The types of a --script hooks module: import type { FrameHook } from 'wsscope' (docs/design.md, "Intercepting").
export type { FrameHook, MessageHook, HookFrame, HookMessage, HookFrameSpec, HookResult, HookApi, Hooks } from './intercept/types';
export { buildFrame, deflateMessage, parseHex, type FrameSpec } from './decoder/build';
export { readCapture, replayCaptureFile, parseCaptureLine, CaptureReplayer, CaptureWriter, CaptureFormatError, headerLine, dataLines, CAPTURE_FORMAT, CAPTURE_VERSION, type CaptureRecord } from './capture';
export { Session, type EventListener, type DataListener } from './session';
export { HarBuilder, HarWriter, type Har, type HarEntry, type HarWebSocketMessage } from './views/har';
export { replayCapture, type ReplayOptions, type ReplayReport, type ConnectionResult, type MessageDifference } from './replay/client';
export { serveCapture, type ServeOptions, type MockServer } from './replay/serve';
export { compareMessages, diffJson, parseJsonPath } from './replay/compare';
