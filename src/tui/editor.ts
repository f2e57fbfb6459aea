/**
 * The frame editor of the terminal UI (pure: keys in, lines out). It edits a held frame or
 * a new one to inject: every header field (FIN, RSV1-3, opcode, MASK, masking key, the
 * 7/16/64-bit length form, even a false declared length) and the payload as text or hex.
 * Under the fields, the frame as it would go out, built by buildFrame and decoded by the
 * decoder, as `wsscope encode` does: its bytes, one line about it, and the rules it would
 * break, named before anything is sent.
 */
import { decodeFrames, opcodeName, type Direction, type FrameEvent, type MessageEvent, type WsEvent } from '../decoder';
import { buildFrame, deflateMessage, parseHex } from '../decoder/build';
import { spacedHex, summarizeFrame, utf8OrNull } from '../explain';
import type { HookFrame, HookFrameSpec } from '../intercept/types';
import { actionFor, type KeyPress } from './keys';
import { seg, type Line } from './text';

export type FieldId = 'dir' | 'fin' | 'rsv1' | 'compress' | 'rsv2' | 'rsv3' | 'opcode' | 'mask' | 'maskKey' | 'lengthForm' | 'declaredLength' | 'payloadAs' | 'payload' | 'closeCode';

interface Field {
  id: FieldId;
  label: string;
  kind: 'toggle' | 'choice' | 'text';
  help: string;
}

const FIELDS: Field[] = [
  { id: 'dir', label: 'sent as if by', kind: 'choice', help: 'the sender it goes out as (inject only): client or server' },
  { id: 'fin', label: 'FIN', kind: 'toggle', help: '1: the last frame of its message (§5.2)' },
  { id: 'rsv1', label: 'RSV1', kind: 'toggle', help: 'must be 0 unless an extension defines it (permessage-deflate: compressed)' },
  { id: 'compress', label: 'compress', kind: 'toggle', help: '1: deflate the payload and set RSV1 (permessage-deflate, RFC 7692 §7.2.1)' },
  { id: 'rsv2', label: 'RSV2', kind: 'toggle', help: 'must be 0 unless an extension defines it' },
  { id: 'rsv3', label: 'RSV3', kind: 'toggle', help: 'must be 0 unless an extension defines it' },
  { id: 'opcode', label: 'opcode', kind: 'text', help: '0-15 or text, binary, close, ping, pong, continuation (§5.2)' },
  { id: 'mask', label: 'MASK', kind: 'toggle', help: 'a client must mask every frame, a server none (§5.1)' },
  { id: 'maskKey', label: 'masking key', kind: 'text', help: '8 hex digits; empty: the original key (client) or a fresh one' },
  { id: 'lengthForm', label: 'length form', kind: 'choice', help: 'auto (the minimal one), or 7, 16, 64 bits even when not minimal (§5.2)' },
  { id: 'declaredLength', label: 'declared length', kind: 'text', help: 'empty: the real length; a number: written in the header instead' },
  { id: 'payloadAs', label: 'payload as', kind: 'choice', help: 'type the payload as UTF-8 text or as hex' },
  { id: 'payload', label: 'payload', kind: 'text', help: 'the payload, unmasked' },
  { id: 'closeCode', label: 'close code', kind: 'text', help: 'C-x closes both sides of the connection with this code' },
];

const LENGTH_FORMS = ['auto', '7', '16', '64'] as const;
const OPCODE_NAMES: Record<string, number> = { continuation: 0, cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

export interface EditorValues {
  dir: Direction;
  fin: boolean;
  rsv1: boolean;
  /** Deflate the payload (RFC 7692 §7.2.1) and set RSV1, as `wsscope encode --compress`. */
  compress: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: string;
  mask: boolean;
  maskKey: string;
  lengthForm: (typeof LENGTH_FORMS)[number];
  declaredLength: string;
  payloadAs: 'text' | 'hex';
  payload: string;
  closeCode: string;
}

/** What the editor asks the UI to do. */
export type EditorResult =
  | { kind: 'send'; spec: HookFrameSpec | null } // null: the held frame unchanged
  | { kind: 'drop' }
  | { kind: 'close'; code: number }
  | { kind: 'back' }
  | { kind: 'error'; message: string };

export class FrameEditor {
  values: EditorValues;
  field = 0;
  private readonly original: string;

  /**
   * @param heldId the held frame being edited, or null for a new frame to inject
   * @param extensions the connection's Sec-WebSocket-Extensions (for the rules RSV1 breaks)
   */
  constructor(
    readonly conn: number,
    readonly heldId: number | null,
    from: HookFrame | null,
    dir: Direction,
    private readonly extensions?: string,
  ) {
    const text = from ? utf8OrNull(from.payloadBytes) : '';
    const printable = text !== null && !/[\x00-\x08\x0b-\x1f\x7f]/.test(text);
    this.values = {
      dir: from?.dir ?? dir,
      fin: from?.fin ?? true,
      rsv1: from?.rsv1 ?? false,
      compress: false,
      rsv2: from?.rsv2 ?? false,
      rsv3: from?.rsv3 ?? false,
      opcode: from ? String(from.opcode) : '1',
      mask: from ? from.masked : dir === 'client',
      maskKey: from?.maskKey ?? '',
      lengthForm: 'auto',
      declaredLength: '',
      payloadAs: printable ? 'text' : 'hex',
      payload: from ? (printable ? text! : from.payloadBytes.toString('hex')) : '',
      closeCode: '1000',
    };
    this.original = JSON.stringify(this.values);
    // Start on the payload: what one edits most.
    this.field = FIELDS.findIndex((f) => f.id === 'payload');
  }

  get title(): string {
    return this.heldId === null ? `Inject a frame into conn ${this.conn}` : `Edit held frame ${this.heldId} (conn ${this.conn}, from the ${this.values.dir})`;
  }

  private get current(): Field {
    return FIELDS[this.field];
  }

  /** One key (the editor's bindings of the key table, else typed text): what the UI must do, or null. */
  key(ch: string | undefined, key: KeyPress): EditorResult | null {
    const f = this.current;
    switch (actionFor(ch, key, 'editor')) {
      case 'edBack':
        return { kind: 'back' };
      case 'edPrev':
        this.move(-1);
        return null;
      case 'edNext':
        this.move(1);
        return null;
      case 'edSend': {
        const built = this.spec();
        if (typeof built === 'string') return { kind: 'error', message: `not sent: ${built}` };
        return { kind: 'send', spec: this.heldId !== null && JSON.stringify(this.values) === this.original ? null : built };
      }
      case 'edDrop':
        return this.heldId === null ? { kind: 'error', message: 'nothing held to drop: this is a new frame (Esc leaves)' } : { kind: 'drop' };
      case 'edClose': {
        const code = Number(this.values.closeCode);
        if (!/^\d+$/.test(this.values.closeCode) || code > 0xffff) return { kind: 'error', message: `close code "${this.values.closeCode}" is not a number 0-65535` };
        return { kind: 'close', code };
      }
      case 'edClear':
        if (f.kind === 'text') this.set(f.id, '');
        return null;
      case 'edErase':
        if (f.kind === 'text') this.set(f.id, String(this.values[f.id]).slice(0, -1));
        return null;
      case 'edToggle':
        // Space in a text field is a space.
        if (f.kind !== 'text' || key.full !== 'space') {
          this.cycle(f, key.full === 'left' ? -1 : 1);
          return null;
        }
    }
    if (f.kind === 'text' && ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f') {
      const value = String(this.values[f.id]);
      if (value.length < 4096) this.set(f.id, value + ch);
    }
    return null;
  }

  private move(delta: number): void {
    do {
      this.field = (this.field + delta + FIELDS.length) % FIELDS.length;
    } while (FIELDS[this.field].id === 'dir' && this.heldId !== null);
  }

  private set(id: FieldId, value: string): void {
    (this.values as unknown as Record<string, unknown>)[id] = value;
  }

  private cycle(f: Field, delta: number): void {
    const v = this.values;
    if (f.kind === 'toggle') {
      const id = f.id as 'fin' | 'rsv1' | 'compress' | 'rsv2' | 'rsv3' | 'mask';
      v[id] = !v[id];
    } else if (f.id === 'dir' && this.heldId === null) {
      v.dir = v.dir === 'client' ? 'server' : 'client';
      v.mask = v.dir === 'client';
    } else if (f.id === 'lengthForm') {
      v.lengthForm = LENGTH_FORMS[(LENGTH_FORMS.indexOf(v.lengthForm) + delta + LENGTH_FORMS.length) % LENGTH_FORMS.length];
    } else if (f.id === 'payloadAs') {
      // The same bytes, shown the other way (hex → text only when they are text).
      const bytes = this.payloadBytes();
      if (v.payloadAs === 'text') {
        v.payloadAs = 'hex';
        v.payload = bytes ? bytes.toString('hex') : v.payload;
      } else {
        const text = bytes ? utf8OrNull(bytes) : null;
        if (text !== null) {
          v.payloadAs = 'text';
          v.payload = text;
        }
      }
    }
  }

  private payloadBytes(): Buffer | null {
    return this.values.payloadAs === 'text' ? Buffer.from(this.values.payload, 'utf8') : parseHex(this.values.payload);
  }

  /** The frame spec the fields describe, or what is wrong with them. */
  spec(): HookFrameSpec | string {
    const v = this.values;
    const opText = v.opcode.trim().toLowerCase();
    const opcode = opText in OPCODE_NAMES ? OPCODE_NAMES[opText] : /^(0x[0-9a-f]+|\d+)$/.test(opText) ? Number(opText) : NaN;
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) return `opcode "${v.opcode}": expected 0-15 or text, binary, close, ping, pong, continuation`;
    const payload = this.payloadBytes();
    if (!payload) return 'the payload is not hex (pairs of 0-9 a-f)';
    let maskKey: string | undefined;
    if (v.mask && v.maskKey.trim()) {
      const key = parseHex(v.maskKey);
      if (!key || key.length !== 4) return `masking key "${v.maskKey}": expected 8 hex digits`;
      maskKey = key.toString('hex');
    }
    let declaredLength: number | undefined;
    if (v.declaredLength.trim()) {
      if (!/^\d+$/.test(v.declaredLength.trim()) || !Number.isSafeInteger(Number(v.declaredLength))) return `declared length "${v.declaredLength}" is not a whole number`;
      declaredLength = Number(v.declaredLength);
    }
    const lengthForm = v.lengthForm === 'auto' ? undefined : (Number(v.lengthForm) as 7 | 16 | 64);
    // The length limits apply to what goes out: the deflated payload when compressing.
    const length = declaredLength ?? (v.compress ? deflateMessage(payload).length : payload.length);
    if (lengthForm === 7 && length > 125) return `the 7-bit length form holds at most 125, the length is ${length}`;
    if (lengthForm === 16 && length > 0xffff) return `the 16-bit length form holds at most 65535, the length is ${length}`;
    return { opcode, fin: v.fin, rsv1: v.rsv1 || v.compress, rsv2: v.rsv2, rsv3: v.rsv3, mask: v.mask, ...(maskKey ? { maskKey } : {}), payload, ...(v.compress ? { compress: true } : {}), lengthForm, declaredLength };
  }

  /** The frame as it would go out, decoded: bytes, summary, rules broken; or the error. */
  preview(): { hex: string; summary: string; rules: { rule: string; message: string }[]; incomplete: boolean } | { error: string } {
    const spec = this.spec();
    if (typeof spec === 'string') return { error: spec };
    // An empty key field: the stage keeps the client's own key; shown with the original or 00000000.
    const key = (spec.maskKey as string | undefined) ?? (spec.mask ? this.values.maskKey.trim() || "00000000" : undefined);
    const bytes = buildFrame({ ...spec, opcode: spec.opcode as number, mask: spec.mask ? Buffer.from(key!, 'hex') : false, maskKey: undefined });
    let events: WsEvent[] = decodeFrames(bytes, { from: this.values.dir, conn: this.conn, extensions: this.extensions });
    const frame = events.find((e): e is FrameEvent => e.event === 'frame');
    const missing = (spec.declaredLength ?? 0) - (spec.payload as Buffer).length;
    if (!frame && missing > 0 && missing <= 65536) {
      // The header claims more than the payload: its rules, as if the rest followed (zeros).
      events = decodeFrames(Buffer.concat([bytes, Buffer.alloc(missing)]), { from: this.values.dir, conn: this.conn, extensions: this.extensions });
    }
    const rules: { rule: string; message: string }[] = [];
    for (const e of events) for (const v of 'violations' in e ? e.violations ?? [] : []) if (!rules.some((r) => r.rule === v.rule)) rules.push({ rule: v.rule, message: v.message });
    const shown = bytes.length > 64 ? `${spacedHex(bytes.subarray(0, 64))} … (${bytes.length} bytes)` : spacedHex(bytes);
    // Compressed: what the receiver's inflater makes of it (the message event), too.
    const message = spec.compress ? events.find((e): e is MessageEvent => e.event === 'message' && e.compressed) : undefined;
    const inflated = message ? `; inflates to ${message.length} bytes${message.text !== undefined ? ` ${JSON.stringify(message.text.slice(0, 40))}` : ''}` : '';
    return {
      hex: shown,
      summary: frame ? summarizeFrame(frame) + inflated : `${opcodeName(spec.opcode as number)} frame, incomplete on its own (the declared length is more than the payload)`,
      rules,
      incomplete: !frame || events.some((e) => e.event === 'error'),
    };
  }

  /** The editor's lines (the detail pane while it is open). */
  lines(): Line[] {
    const out: Line[] = [[seg(` ${this.title}`, 'yellow', { bold: true })], []];
    FIELDS.forEach((f, i) => {
      if (f.id === 'dir' && this.heldId !== null) return;
      const on = i === this.field;
      const v = this.values[f.id];
      let shown = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
      if (f.id === 'opcode') {
        const n = Number(shown);
        if (Number.isInteger(n) && n >= 0 && n <= 15) shown = `${shown} (${opcodeName(n)})`;
      }
      if (f.id === 'declaredLength' && !shown) shown = '(the real length)';
      if (f.id === 'maskKey' && !shown) shown = this.values.mask ? '(the original key, or a fresh one)' : '(none)';
      out.push([
        seg(on ? ' ▶ ' : '   ', 'yellow', { bold: true }),
        seg(f.label.padEnd(16), on ? 'yellow' : undefined, { bold: on }),
        seg(shown || ' ', undefined, { inverse: on }),
        seg(on ? `   ${f.help}` : ''),
      ]);
    });
    out.push([], [seg(' As it would go out (decoded as `wsscope encode` does):', undefined, { bold: true })]);
    const p = this.preview();
    if ('error' in p) out.push([seg(`   cannot build it: ${p.error}`, 'red', { bold: true })]);
    else {
      out.push([seg(`   ${p.hex}`)], [seg(`   ${p.summary}`)]);
      if (p.rules.length === 0) out.push([seg(`   breaks no rule${p.incomplete ? ' (but is incomplete on its own)' : ''}`, 'green')]);
      else {
        out.push([seg(`   breaks ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}:`, 'red', { bold: true })]);
        for (const r of p.rules) out.push([seg(`     ${r.rule}`, 'red'), seg(`  ${r.message}`)]);
      }
    }
    out.push(
      [],
      [
        seg(' ↑↓', 'yellow', { bold: true }),
        seg(' field  '),
        seg('Space ←→', 'yellow', { bold: true }),
        seg(' toggle  '),
        seg('Enter', 'yellow', { bold: true }),
        seg(this.heldId === null ? ' inject  ' : ' send  '),
        ...(this.heldId === null ? [] : [seg('C-d', 'yellow', { bold: true }), seg(' drop  ')]),
        seg('C-x', 'yellow', { bold: true }),
        seg(' close with the code  '),
        seg('Esc', 'yellow', { bold: true }),
        seg(this.heldId === null ? ' cancel' : ' back (stays held)'),
      ],
    );
    return out;
  }
}
