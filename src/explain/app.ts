/**
 * A message's application-protocol packets explained (`message.app`, src/protocols): the
 * one-line summaries for lists and logs, and a tree of every field for the detail views.
 * Everything from the wire is escaped (escape.ts).
 */
import type { AppInfo, MessageEvent, Violation } from '../decoder/events';
import { escapeForTerminal } from './escape';
import { PROTOCOL_NAMES } from '../protocols/types';
import { violationRows } from './frame';

/** The packets of a message's `app` (none for a partial one). */
export function appPackets(app: MessageEvent['app']): AppInfo[] {
  if (!app) return [];
  const list = Array.isArray(app) ? app : [app];
  return list.filter((p) => !p.partial);
}

/** A packet's inner packets (a protocol carried inside it), as a list. */
function innerOf(p: AppInfo): AppInfo[] {
  return p.inner === undefined ? [] : Array.isArray(p.inner) ? (p.inner as AppInfo[]) : [p.inner as AppInfo];
}

/** How text from the wire is made safe: escapeForTerminal for logs; the TUI passes its own. */
export type Escape = (text: string) => string;

interface Ref {
  dir: string;
  message: number;
}

function isRef(v: unknown): v is Ref {
  return typeof v === 'object' && v !== null && typeof (v as Ref).dir === 'string' && typeof (v as Ref).message === 'number';
}

/** "answers client message 3" / "answered by server message 5". */
function refText(p: AppInfo): string {
  const parts: string[] = [];
  if (isRef(p.replyTo)) parts.push(`answers ${p.replyTo.dir} message ${p.replyTo.message}`);
  if (isRef(p.answeredBy)) parts.push(`answered by ${p.answeredBy.dir} message ${p.answeredBy.message}`);
  return parts.length ? `  (${parts.join('; ')})` : '';
}

/** One packet's line: `socket.io EVENT "chat" ["hi"] ack 3`, escaped. */
export function packetLine(p: AppInfo, esc: Escape = escapeForTerminal): string {
  const from = typeof p.fromMessages === 'number' ? `  [from ${p.fromMessages} messages]` : '';
  const v = Array.isArray(p.violations) && p.violations.length ? `  !${p.violations.length}` : '';
  return `${esc(p.protocol)} ${esc(String(p.summary ?? p.type ?? ''))}${from}${refText(p)}${v}`;
}

/**
 * The one-line summary of a message's app for lists: the packet's line, several joined by
 * " | ", or "<protocol> (partial packet)"; null when the message has no app.
 */
export function appSummary(app: MessageEvent['app'], esc: Escape = escapeForTerminal): string | null {
  if (!app) return null;
  const packets = appPackets(app);
  if (packets.length === 0) {
    const first = Array.isArray(app) ? app[0] : app;
    return first ? `${esc(first.protocol)} (packet continues in the next message)` : null;
  }
  const inner = (p: AppInfo): string => {
    const kids = innerOf(p);
    return kids.length ? ` > ${kids.map((k) => packetLine(k, esc)).join(' | ')}` : '';
  };
  return packets.map((p) => `${packetLine(p, esc)}${inner(p)}`).join(' | ');
}

/** Fields shown in the title line or on their own, not in the tree. */
const TITLE_FIELDS = new Set(['protocol', 'summary', 'violations', 'inner', 'replyTo', 'answeredBy', 'fromMessages']);
/** Tree depth and items per level before "…". */
const MAX_DEPTH = 6;
const MAX_ITEMS = 50;
const MAX_STRING = 200;

function scalar(v: unknown, esc: Escape): string {
  if (typeof v === 'string') {
    const cut = v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v;
    return `"${esc(cut).replace(/"/g, '\\"')}"`;
  }
  return esc(String(v));
}

/** A value as tree rows: `key: value`, objects and arrays indented below their key. */
function treeRows(key: string, v: unknown, indent: string, depth: number, out: string[], esc: Escape): void {
  const k = esc(key);
  if (v === null || typeof v !== 'object') {
    out.push(`${indent}${k}: ${scalar(v, esc)}`);
    return;
  }
  const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x]) : Object.entries(v);
  if (entries.length === 0) {
    out.push(`${indent}${k}: ${Array.isArray(v) ? '[]' : '{}'}`);
    return;
  }
  if (depth >= MAX_DEPTH) {
    out.push(`${indent}${k}: ${Array.isArray(v) ? `[${entries.length} items]` : `{${entries.length} fields}`}`);
    return;
  }
  out.push(`${indent}${k}:`);
  // Headers ([[name, value], ...]) read as `name: value` lines.
  const pairs = Array.isArray(v) && v.every((x) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string');
  if (pairs) {
    for (const [name, value] of (v as [string, string][]).slice(0, MAX_ITEMS)) out.push(`${indent}  ${esc(name)}: ${scalar(value, esc)}`);
    if (entries.length > MAX_ITEMS) out.push(`${indent}  … ${entries.length - MAX_ITEMS} more`);
    return;
  }
  for (const [ck, cv] of entries.slice(0, MAX_ITEMS)) treeRows(ck, cv, `${indent}  `, depth + 1, out, esc);
  if (entries.length > MAX_ITEMS) out.push(`${indent}  … ${entries.length - MAX_ITEMS} more`);
}

/** One packet as rows: its line, its fields as a tree, its inner packets, its violations. */
export function packetRows(p: AppInfo, indent = '', esc: Escape = escapeForTerminal): string[] {
  const out = [`${indent}${packetLine(p, esc)}`];
  for (const [key, value] of Object.entries(p)) {
    if (TITLE_FIELDS.has(key) || value === undefined) continue;
    treeRows(key, value, `${indent}  `, 0, out, esc);
  }
  const kids = innerOf(p);
  for (const kid of kids) {
    out.push(`${indent}  inner:`);
    out.push(...packetRows(kid, `${indent}    `, esc));
  }
  if (Array.isArray(p.violations) && p.violations.length) out.push(...violationRows(p.violations).map((r) => `${indent}  ${r}`));
  return out;
}

/** Every packet of a message's app as rows (the detail views' tree). */
export function appRows(app: MessageEvent['app'], indent = '', esc: Escape = escapeForTerminal): string[] {
  if (!app) return [];
  const packets = appPackets(app);
  if (packets.length === 0) return [`${indent}${appSummary(app, esc)}`];
  return packets.flatMap((p) => packetRows(p, indent, esc));
}

/** Every violation of a message's packets, inner ones included. */
export function appViolations(app: MessageEvent['app']): Violation[] {
  const out: Violation[] = [];
  const walk = (p: AppInfo): void => {
    if (Array.isArray(p.violations)) out.push(...(p.violations as Violation[]));
    const kids = innerOf(p);
    kids.forEach(walk);
  };
  appPackets(app).forEach(walk);
  return out;
}

/**
 * A filter word about what messages carry (the TUI's `f`): `app` (any recognised packet),
 * a protocol name (`mqtt`, `socket.io`), or `type:`, `event:`, `topic:`, `id:`,
 * `protocol:` and a value, matched against every packet of the message and its inner
 * ones (src/protocols/types.ts, field conventions), case-insensitively.
 */
export interface AppWord {
  key: 'any' | 'protocol' | 'type' | 'event' | 'topic' | 'id';
  value: string;
}

const WORD_KEYS = new Set(['protocol', 'type', 'event', 'topic', 'id']);

/** The AppWord of a (lowercased) filter word, or null when it is not one. */
export function parseAppWord(word: string): AppWord | null {
  if (word === 'app') return { key: 'any', value: '' };
  if ((PROTOCOL_NAMES as readonly string[]).includes(word)) return { key: 'protocol', value: word };
  const m = /^([a-z]+):(.+)$/.exec(word);
  if (m && WORD_KEYS.has(m[1])) return { key: m[1] as AppWord['key'], value: m[2] };
  return null;
}

export function appWordText(w: AppWord): string {
  return w.key === 'any' ? 'app' : w.key === 'protocol' ? w.value : `${w.key}:${w.value}`;
}

/** Whether any packet of the message (inner ones included) has the word's field. */
export function appMatches(app: MessageEvent['app'], w: AppWord): boolean {
  if (!app) return false;
  const list = Array.isArray(app) ? app : [app];
  const test = (p: AppInfo): boolean => {
    if (w.key === 'any' || (w.key === 'protocol' && p.protocol === w.value)) return true;
    const v = p[w.key];
    if ((typeof v === 'string' || typeof v === 'number') && String(v).toLowerCase() === w.value) return true;
    const kids = innerOf(p);
    return kids.some(test);
  };
  return list.some(test);
}
