/**
 * `wsscope encode`: a frame builder for class and for tests. Builds one frame (valid or
 * broken on purpose) with src/decoder/build.ts, prints its bytes as hex, then runs the
 * decoder on them and prints the same explanation as `wsscope decode`, including the rules
 * the frame breaks.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { parseArgs } from 'util';
import { DEFAULT_MAX_PAYLOAD, decodeFrames } from '../decoder';
import { buildFrame, deflateMessage, parseHex, type FrameSpec } from '../decoder/build';
import type { Direction, WsEvent } from '../decoder/events';
import { spacedHex } from '../explain';
import { cannotRead, EventPrinter, parseFrom, stdoutWriter } from './decode';
import { CliError, parseChoice, parseMaxPayload, parseWholeNumber } from './errors';

const HELP = `usage: wsscope encode [TEXT] [OPTIONS]

Builds one WebSocket frame (RFC 6455 §5.2), prints it as hex, then decodes it and explains
it field by field, with the rules it breaks. Invalid frames are built on purpose when asked.
  wsscope encode --opcode text "Hello"     prints 81 05 48 65 6c 6c 6f (RFC 6455 §5.7)

  --opcode OP           text (default), binary, close, ping, pong, continuation, or 0-15
  --no-fin              clear FIN (a fragment that more fragments follow); default: FIN set
  --rsv1, --rsv2, --rsv3  set a reserved bit
  --mask KEY|random     mask with this 4-byte key (8 hex digits) or a random one;
                        default: no mask
  TEXT                  the payload as UTF-8 text, or:
  --hex HEX             the payload as hex
  --file F              the payload from a file (its raw bytes)
  --close-code N        a close payload: the 2-byte code N, then TEXT (or --hex/--file) as
                        the reason; implies --opcode close
  --compress            compress the payload with permessage-deflate (RFC 7692 §7.2.1:
                        DEFLATE, sync flush, the final 00 00 ff ff removed) and set RSV1;
                        decoded as if permessage-deflate was negotiated
  --length-form 7|16|64 write the length in this form, even when not minimal
  --declared-length N   write N as the payload length instead of the real one
  --from client|server  the sender the decoder assumes (which masking rule applies);
                        default: client when masked, server when not
  --extensions VALUE    decode as if this Sec-WebSocket-Extensions was negotiated
  --ui text|json|hex    hex + explanation (default), the NDJSON events, or only the hex
  --hex-only            the same as --ui hex: one line to pipe into decode --hex or send
  --max-payload N       keep at most N payload bytes in the explanation (default 65536)
`;

const OPCODES: Record<string, number> = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** "text", "8", "0x8" → 8; a CliError otherwise. */
function parseOpcode(text: string): number {
  const named = OPCODES[text.toLowerCase()];
  if (named !== undefined) return named;
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 15) {
    throw new CliError(`bad --opcode "${text}": expected ${Object.keys(OPCODES).join(', ')} or a number 0-15`);
  }
  return n;
}

/** "37fa213d" (any separators) or "random" → 4 bytes; a CliError otherwise. */
export function parseMaskKey(text: string, random: () => Buffer = () => randomBytes(4)): Buffer {
  if (text === 'random') return random();
  const key = parseHex(text);
  if (key === null || key.length !== 4) throw new CliError(`bad --mask "${text}": expected 4 bytes as 8 hex digits (e.g. 37fa213d) or "random"`);
  return key;
}

function readPayloadFile(path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw cannotRead(path, err);
  }
}

/** The frame spec the flags describe. */
function specFromArgs(argv: string[], random?: () => Buffer): { spec: FrameSpec; ui: 'text' | 'json' | 'hex'; from?: Direction; extensions?: string; maxPayload: number } | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      opcode: { type: 'string' },
      fin: { type: 'boolean' },
      'no-fin': { type: 'boolean' },
      rsv1: { type: 'boolean', default: false },
      rsv2: { type: 'boolean', default: false },
      rsv3: { type: 'boolean', default: false },
      mask: { type: 'string' },
      hex: { type: 'string' },
      file: { type: 'string' },
      'close-code': { type: 'string' },
      compress: { type: 'boolean', default: false },
      'length-form': { type: 'string' },
      'declared-length': { type: 'string' },
      from: { type: 'string' },
      extensions: { type: 'string' },
      ui: { type: 'string' },
      'hex-only': { type: 'boolean', default: false },
      'max-payload': { type: 'string', default: String(DEFAULT_MAX_PAYLOAD) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.fin && values['no-fin']) throw new CliError('give --fin or --no-fin, not both');
  if (positionals.length > 1) throw new CliError(`encode takes one TEXT payload, got ${positionals.length} arguments (quote the text)`);
  const sources = [positionals.length ? 'TEXT' : '', values.hex !== undefined ? '--hex' : '', values.file !== undefined ? '--file' : ''].filter(Boolean);
  if (sources.length > 1) throw new CliError(`give the payload once: ${sources.join(' and ')} both given`);

  let payload: Buffer = Buffer.alloc(0);
  if (positionals.length) payload = Buffer.from(positionals[0], 'utf8');
  if (values.hex !== undefined) {
    const bytes = parseHex(values.hex);
    if (bytes === null) throw new CliError(`bad --hex: expected pairs of hex digits like "48 65 6c", got "${values.hex.slice(0, 40)}"`);
    payload = bytes;
  }
  if (values.file !== undefined) payload = readPayloadFile(values.file);

  let opcode = values.opcode !== undefined ? parseOpcode(values.opcode) : 1;
  if (values['close-code'] !== undefined) {
    // RFC 6455 §5.5.1: the body of a close frame starts with a 2-byte unsigned code.
    const code = parseWholeNumber('--close-code', values['close-code'], { max: 0xffff });
    const head = Buffer.alloc(2);
    head.writeUInt16BE(code);
    payload = Buffer.concat([head, payload]);
    if (values.opcode === undefined) opcode = 8;
  }

  if (values.compress) payload = deflateMessage(payload);

  let lengthForm: 7 | 16 | 64 | undefined;
  if (values['length-form'] !== undefined) {
    lengthForm = Number(parseChoice('--length-form', values['length-form'], ['7', '16', '64'] as const)) as 7 | 16 | 64;
  }
  const declaredLength = values['declared-length'] !== undefined ? parseWholeNumber('--declared-length', values['declared-length']) : undefined;
  const length = declaredLength ?? payload.length;
  if (lengthForm === 7 && length > 125) throw new CliError(`--length-form 7 holds at most 125, the length is ${length}`);
  if (lengthForm === 16 && length > 0xffff) throw new CliError(`--length-form 16 holds at most 65535, the length is ${length}`);

  const ui = values['hex-only'] ? 'hex' : parseChoice('--ui', (values.ui as string | undefined) ?? 'text', ['text', 'json', 'hex'] as const);
  return {
    spec: {
      opcode,
      fin: !values['no-fin'],
      rsv1: values.rsv1 || values.compress,
      rsv2: values.rsv2,
      rsv3: values.rsv3,
      mask: values.mask !== undefined ? parseMaskKey(values.mask, random) : null,
      payload,
      lengthForm,
      declaredLength,
    },
    ui,
    from: parseFrom(values.from),
    extensions: values.extensions ?? (values.compress ? 'permessage-deflate' : undefined),
    maxPayload: parseMaxPayload(values['max-payload'] as string),
  };
}

/** The rule ids the events report, in order, without repeats. */
function brokenRules(events: WsEvent[]): string[] {
  const rules: string[] = [];
  for (const event of events) {
    const violations = ('violations' in event ? event.violations : undefined) ?? [];
    for (const v of violations) if (!rules.includes(v.rule)) rules.push(v.rule);
  }
  return rules;
}

/** `run` with the output going to `write` (for tests; `random` makes --mask random reproducible). */
export async function encodeMain(argv: string[], write: (text: string) => void, random?: () => Buffer): Promise<number> {
  const parsed = specFromArgs(argv, random);
  if (parsed === 'help') {
    write(HELP);
    return 0;
  }
  const frame = buildFrame(parsed.spec);
  const hex = spacedHex(frame);
  if (parsed.ui === 'hex') {
    write(hex + '\n');
    return 0;
  }
  const from = parsed.from ?? (parsed.spec.mask ? 'client' : 'server');
  // The built frame alone, as a stream of raw frames from `from`.
  const events = decodeFrames(frame, { from, conn: 1, maxPayload: parsed.maxPayload, extensions: parsed.extensions });
  const printer = new EventPrinter(parsed.ui, write, /permessage-deflate/i.test(parsed.extensions ?? ''));
  if (parsed.ui === 'text') write(`${hex}\n\n`);
  for (const event of events) printer.print(event);
  if (parsed.ui === 'text') {
    const rules = brokenRules(events);
    const verdict = rules.length
      ? `breaks ${rules.length} rule${rules.length === 1 ? '' : 's'} (decoded as sent by the ${from}): ${rules.join(', ')}`
      : `breaks no rule (decoded as sent by the ${from})`;
    // A fragment or a frame claiming more bytes than it has is fine on the wire, but
    // incomplete on its own: the decoder said so in an error event above.
    const incomplete = events.some((e) => e.event === 'error') ? ', but is incomplete on its own (see the error above)' : '';
    write(`\n${verdict}${incomplete}\n`);
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  return encodeMain(argv, stdoutWriter());
}
