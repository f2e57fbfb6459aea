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
