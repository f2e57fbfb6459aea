/**
 * Checking what a hook returned (or what the terminal UI's editor produced) before anything
 * is sent: a hook that returns garbage is reported and its frame goes on unchanged, so every
 * shape is checked here, with one line saying what was wrong.
 */
import { OPCODES } from '../decoder/constants';
import { parseHex } from '../decoder/build';

/** A checked frame spec: the opcode a number, the masking key 4 bytes or absent. */
export interface CheckedSpec {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  /** true/false as asked, or undefined: as the sender's side requires. */
  mask: boolean | undefined;
  maskKey: Buffer | undefined;
  payload: Buffer;
  compress: boolean;
  lengthForm: 7 | 16 | 64 | undefined;
  declaredLength: number | undefined;
}

/** What a hook decided: forward as is, drop, or send these frames instead. */
export type Decision = { action: 'forward' } | { action: 'drop' } | { action: 'replace'; specs: CheckedSpec[] };

const NAMED: Record<string, number> = {
  continuation: OPCODES.CONTINUATION,
  text: OPCODES.TEXT,
  binary: OPCODES.BINARY,
  close: OPCODES.CLOSE,
  ping: OPCODES.PING,
  pong: OPCODES.PONG,
};

const KNOWN_KEYS = new Set(['opcode', 'fin', 'rsv1', 'rsv2', 'rsv3', 'mask', 'maskKey', 'payload', 'compress', 'lengthForm', 'declaredLength']);

/** A short description of any value, for error lines (never the whole of a big value). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (typeof value === 'string') return JSON.stringify(value.length > 30 ? value.slice(0, 30) + '…' : value);
  if (typeof value === 'object') return `an object with keys ${Object.keys(value as object).slice(0, 6).join(', ') || '(none)'}`;
  return `${typeof value} ${String(value)}`;
}

/** Checks one frame spec; a string says what is wrong. */
export function checkSpec(value: unknown): CheckedSpec | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) return `a frame spec must be an object, got ${describeValue(value)}`;
  const s = value as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!KNOWN_KEYS.has(key)) return `unknown frame spec field "${key}"`;
  let opcode: number;
  if (typeof s.opcode === 'string' && s.opcode in NAMED) opcode = NAMED[s.opcode];
  else if (typeof s.opcode === 'number' && Number.isInteger(s.opcode) && s.opcode >= 0 && s.opcode <= 15) opcode = s.opcode;
  else return `opcode must be 0-15 or ${Object.keys(NAMED).join(', ')}, got ${describeValue(s.opcode)}`;
  for (const flag of ['fin', 'rsv1', 'rsv2', 'rsv3', 'mask', 'compress'] as const) {
    if (s[flag] !== undefined && typeof s[flag] !== 'boolean') return `${flag} must be true or false, got ${describeValue(s[flag])}`;
  }
  let payload: Buffer;
  if (s.payload === undefined) payload = Buffer.alloc(0);
  else if (typeof s.payload === 'string') payload = Buffer.from(s.payload, 'utf8');
  else if (Buffer.isBuffer(s.payload)) payload = s.payload;
  else if (s.payload instanceof Uint8Array) payload = Buffer.from(s.payload);
  else return `payload must be a string or a Buffer, got ${describeValue(s.payload)}`;
  let maskKey: Buffer | undefined;
  if (s.maskKey !== undefined) {
    const key = typeof s.maskKey === 'string' ? parseHex(s.maskKey) : Buffer.isBuffer(s.maskKey) ? s.maskKey : null;
    if (!key || key.length !== 4) return `maskKey must be 4 bytes (8 hex digits or a Buffer), got ${describeValue(s.maskKey)}`;
    if (s.mask === false) return 'maskKey given with mask: false';
    maskKey = key;
  }
  let lengthForm: 7 | 16 | 64 | undefined;
  if (s.lengthForm !== undefined) {
    if (s.lengthForm !== 7 && s.lengthForm !== 16 && s.lengthForm !== 64) return `lengthForm must be 7, 16 or 64, got ${describeValue(s.lengthForm)}`;
    lengthForm = s.lengthForm;
  }
  let declaredLength: number | undefined;
  if (s.declaredLength !== undefined) {
    if (typeof s.declaredLength !== 'number' || !Number.isSafeInteger(s.declaredLength) || s.declaredLength < 0) return `declaredLength must be a whole number, got ${describeValue(s.declaredLength)}`;
    declaredLength = s.declaredLength;
  }
  const length = declaredLength ?? payload.length;
  if (lengthForm === 7 && length > 125) return `lengthForm 7 holds at most 125, the length is ${length}`;
  if (lengthForm === 16 && length > 0xffff) return `lengthForm 16 holds at most 65535, the length is ${length}`;
  return {
    opcode,
    fin: s.fin !== false,
    rsv1: s.rsv1 === true,
    rsv2: s.rsv2 === true,
    rsv3: s.rsv3 === true,
    mask: maskKey ? true : (s.mask as boolean | undefined),
    maskKey,
    payload,
    compress: s.compress === true,
    lengthForm,
    declaredLength,
  };
}

const EXPECTED = 'expected undefined, "drop", a frame spec or an array of frame specs';

/** Checks a hook's return value; a string says what is wrong with it. */
export function checkResult(value: unknown): Decision | string {
  if (value === undefined) return { action: 'forward' };
  if (value === 'drop') return { action: 'drop' };
  const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null && !Buffer.isBuffer(value) ? [value] : null;
  if (!list) return `returned ${describeValue(value)}: ${EXPECTED}`;
  if (list.length === 0) return `returned an empty array: ${EXPECTED} (return "drop" to send nothing)`;
  const specs: CheckedSpec[] = [];
  for (let i = 0; i < list.length; i++) {
    const spec = checkSpec(list[i]);
    if (typeof spec === 'string') return `returned a bad frame spec${list.length > 1 ? ` (#${i})` : ''}: ${spec}`;
    specs.push(spec);
  }
  return { action: 'replace', specs };
}

