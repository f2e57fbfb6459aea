// User errors, and the parsers of option values that raise them: one wording for every
// command.

/**
 * An error the user caused (bad flag, bad address, unreadable file, port in use...).
 * The CLI prints its message as one line on stderr and exits with `exitCode`; never a
 * stack trace.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * A whole-number option value: digits only, a safe integer from `min` (default 0) to
 * `max`; `what` names it in the error, e.g. `bad --max-payload "-1": expected a number of
 * bytes (0 or more)`.
 */
export function parseWholeNumber(flag: string, text: string, range: { min?: number; max?: number; what?: string } = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, what = 'a whole number' } = range;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER ? `(${min} or more)` : `from ${min} to ${max}`;
    throw new CliError(`bad ${flag} "${text}": expected ${what} ${bounds}`);
  }
  return n;
}

/** --max-payload N (DESIGN.md): payload bytes kept per frame/message, 0 or more. */
export function parseMaxPayload(text: string): number {
  return parseWholeNumber('--max-payload', text, { what: 'a number of bytes' });
}

/** A --timeout-like value in milliseconds, 1 or more. */
export function parseMilliseconds(flag: string, text: string): number {
  return parseWholeNumber(flag, text, { min: 1, what: 'milliseconds' });
}

/** `--protocol NAME`: a registered application-protocol module's name (src/protocols/registry.ts). */
export function parseProtocol(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // Required here, not at the top: the CLI's light commands need not load the modules.
  const { moduleNamed, unknownProtocol } = require('../protocols') as typeof import('../protocols');
  if (!moduleNamed(text)) throw new CliError(`bad --protocol: ${unknownProtocol(text)}`);
  return text;
}

/** One of `allowed`, e.g. `bad --ui "tui": expected text or json` otherwise. */
export function parseChoice<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  const choices = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed[0];
  throw new CliError(`bad ${flag} "${text}": expected ${choices}`);
}

/** Parses "HOST:PORT" (or ":PORT", or "PORT") into parts; port 0 means "pick a free one". */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(text.trim());
  if (!m) throw new CliError(`bad address "${text}": expected HOST:PORT, e.g. 127.0.0.1:9000`);
  const host = m[1] ?? (m[2] || defaultHost);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`bad port in "${text}": expected 0-65535`);
  }
  return { host, port };
}

/** Turns any thrown value into one line of text. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
