/**
 * Helpers shared by the protocol modules: strict JSON parsing of payloads, short previews
 * for summaries, violations with the protocol's prefix.
 */
import type { Violation } from '../decoder/events';

/** Longest JSON text a preview shows before "…". */
const PREVIEW_CHARS = 60;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON.parse, strict (RFC 8259), without throwing: undefined when the text is not JSON. */
export function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** A payload's UTF-8 text, or null when it is not valid UTF-8 (a binary payload, or broken text). */
export function utf8Text(payload: Buffer): string | null {
  const text = payload.toString('utf8');
  // U+FFFD in the text while the bytes have no EF BF BD: the bytes were not valid UTF-8.
  if (text.includes('\ufffd') && !payload.includes(REPLACEMENT)) return null;
  return text;
}
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

export function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON value as short text for a summary (JSON, cut at PREVIEW_CHARS). */
export function preview(value: unknown, max = PREVIEW_CHARS): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return clip(text, max);
}

/** Text cut to max characters with "…". */
export function clip(text: string, max = PREVIEW_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A violation whose rule id carries the protocol's prefix (DESIGN.md: `mqtt-bad-remaining-length`). */
export function appViolation(protocol: string, rule: string, message: string, section?: string): Violation {
  return section ? { rule: `${protocol}-${rule}`, message, section } : { rule: `${protocol}-${rule}`, message };
}
