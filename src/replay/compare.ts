/**
 * Comparing a message with the recorded one, as `replay --to` and `serve --match content`
 * do: text as text, JSON as values (key order and spacing do not count; RFC 8259 §4:
 * an object is an unordered collection), binary as bytes; `--ignore PATH` skips a JSON
 * path: dotted names and indices (`age`, `user.name`, `items[0].ts`; a leading `$.`
 * allowed; `*` for any name or index).
 */
import type { ScriptMessage } from './script';

/** One segment of an ignore path: an object member name, an array index, or `*`. */
export type PathSegment = string | number;

/** Parses `age`, `user.name`, `items[0].ts`, `$.a[*].b`; throws an Error with one line when malformed. */
export function parseJsonPath(text: string): PathSegment[] {
  const body = text.replace(/^\$\.?/, '');
  const segment = String.raw`\[(?:\d+|\*)\]`;
  if (!new RegExp(String.raw`^(?:[^.[\]]+|${segment})(?:\.[^.[\]]+|${segment})*$`).test(body)) {
    throw new Error(`bad JSON path "${text}": expected names and [indices], e.g. user.name or items[0].ts`);
  }
  return [...body.matchAll(/([^.[\]]+)|\[(\d+|\*)\]/g)].map((m) => (m[1] !== undefined ? m[1] : m[2] === '*' ? '*' : Number(m[2])));
}

/** `$.user.name`, `$.items[0]` for a path as segments. */
export function formatJsonPath(path: PathSegment[]): string {
  return '$' + path.map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('');
}

function ignored(path: PathSegment[], ignore: PathSegment[][]): boolean {
  return ignore.some((p) => p.length === path.length && p.every((s, i) => s === '*' || s === path[i]));
}

/** A value shown in a diff line: JSON, cut at 200 characters. */
export function preview(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The differences between two JSON values, one line each: "$.age: expected 18, got 19". */
export function diffJson(expected: unknown, actual: unknown, ignore: PathSegment[][] = [], path: PathSegment[] = []): string[] {
  if (ignored(path, ignore)) return [];
  const where = formatJsonPath(path);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (i >= actual.length) {
        if (!ignored([...path, i], ignore)) out.push(`${formatJsonPath([...path, i])}: expected ${preview(expected[i])}, got nothing (the array is shorter)`);
      } else if (i >= expected.length) {
        if (!ignored([...path, i], ignore)) out.push(`${formatJsonPath([...path, i])}: not expected, got ${preview(actual[i])}`);
      } else {
        out.push(...diffJson(expected[i], actual[i], ignore, [...path, i]));
      }
    }
    return out;
  }
  if (isObj(expected) && isObj(actual)) {
    const out: string[] = [];
    const keys = [...Object.keys(expected), ...Object.keys(actual).filter((k) => !Object.hasOwn(expected, k))];
    for (const key of keys) {
      const sub = [...path, key];
      if (!Object.hasOwn(actual, key)) {
        if (!ignored(sub, ignore)) out.push(`${formatJsonPath(sub)}: expected ${preview(expected[key])}, got nothing (no such member)`);
      } else if (!Object.hasOwn(expected, key)) {
        if (!ignored(sub, ignore)) out.push(`${formatJsonPath(sub)}: not expected, got ${preview(actual[key])}`);
      } else {
        out.push(...diffJson(expected[key], actual[key], ignore, sub));
      }
    }
    return out;
  }
  return Object.is(expected, actual) || (expected === 0 && actual === 0) ? [] : [`${where}: expected ${preview(expected)}, got ${preview(actual)}`];
}

function parseJson(text: string): { value: unknown } | null {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}

/** Text shown in a diff line: JSON-quoted (so control characters are escapes), cut at 200. */
function quote(bytes: Buffer, opcode: number): string {
  if (opcode !== 1) return `${bytes.length} bytes ${bytes.subarray(0, 64).toString('hex')}${bytes.length > 64 ? '…' : ''}`;
  return preview(bytes.toString('utf8'));
}

/**
 * The differences between a recorded message and the one that came (empty when equal):
 * text and binary compared as bytes, JSON texts as values (when both parse).
 */
export function compareMessages(expected: ScriptMessage, actual: ScriptMessage, ignore: PathSegment[][] = []): string[] {
  const kind = (op: number) => (op === 1 ? 'text' : op === 2 ? 'binary' : `opcode ${op}`);
  if (expected.opcode !== actual.opcode) {
    return [`expected a ${kind(expected.opcode)} message ${quote(expected.bytes, expected.opcode)}, got a ${kind(actual.opcode)} message ${quote(actual.bytes, actual.opcode)}`];
  }
  if (expected.bytes.equals(actual.bytes)) return [];
  if (expected.opcode === 1) {
    const a = parseJson(expected.bytes.toString('utf8'));
    const b = a ? parseJson(actual.bytes.toString('utf8')) : null;
    if (a && b) return diffJson(a.value, b.value, ignore);
    return [`expected ${quote(expected.bytes, 1)}, got ${quote(actual.bytes, 1)}`];
  }
  return [`expected ${quote(expected.bytes, expected.opcode)}, got ${quote(actual.bytes, actual.opcode)}`];
}
