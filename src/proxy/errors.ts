/** One-line causes for what goes wrong on a proxied connection (502 bodies, `error` events, end reasons). */

/** One line naming an error's cause, e.g. "connection refused (ECONNREFUSED)". */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'timed out',
    EADDRINUSE: 'address already in use',
    EADDRNOTAVAIL: 'address not available',
    EACCES: 'permission denied',
    EPIPE: 'broken pipe',
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  // OpenSSL's message is a dump ("80...:error:0A00010B:SSL routines:...:ssl3_record.c:350:");
  // its reason is the readable part, e.g. "wrong version number" (a plain server, not TLS).
  if (typeof e?.reason === 'string' && e.reason && code?.startsWith('ERR_SSL')) return `${e.reason} (${code})`;
  const text = (e?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Names a TLS failure (certificate errors carry an OpenSSL code). */
export function describeTlsError(err: unknown, insecureHint: boolean): string {
  const e = err as NodeJS.ErrnoException;
  const cert = typeof e?.code === 'string' && /CERT|SELF_SIGNED|ALTNAME|VERIFY|ISSUER/.test(e.code);
  const hint = cert && insecureHint ? '; --insecure accepts it' : '';
  return `TLS ${cert ? 'certificate' : 'handshake'} error: ${describeError(err)}${hint}`;
}
